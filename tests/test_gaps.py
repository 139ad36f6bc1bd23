"""Lint and --check name the constructs each backend computes differently from Excel (found on Excel-saved
workbooks: their cached values are the ground truth), and leave alone what it computes as Excel does."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from buildbuy.workbook.lint import lint

#: formula -> (flagged by formualizer, flagged by formulas). Excel's results in the comments.
CASES = {
    "=LEFT(TRUE,2)": (True, False),                  # Excel "TR"; formualizer "tr"
    "=RIGHT(C1,2)": (True, False),                   # C1 holds TRUE: Excel "UE"
    '=LEFT("abc",2)': (False, False),                # "ab" everywhere
    "=EDATE(TRUE,1)": (True, False),                 # Excel #VALUE!; formualizer 32
    "=YEARFRAC(44985,45350,1)": (False, True),       # Excel and formualizer 1; formulas 0.99863
    "=YEARFRAC(44985,45350,3)": (False, False),      # actual/365: same everywhere
    '=TEXT(5,"[>3]""big"";""small""")': (True, True),  # Excel "big"; formualizer "5"
    '=TEXT(-5,"0;(0)")': (False, True),              # Excel "(5)"; formulas "-(5)"
    '=TEXT(1234.5,"#,##0")': (False, True),          # Excel "1,235"; formulas rounds the half to even
    "=LOOKUP(2,{1,2;3,4})": (True, True),            # array form
    "=IPMT(0.05,2,10,1000,0,1)": (True, False),      # Excel -43.83; formualizer -46.02
    "=CEILING(-2.5,-2)": (True, False),              # Excel -4; formualizer -2
    "=ISEVEN(C1)": (True, False),                    # Excel #VALUE! for a boolean
    "=N(C1)": (False, True),                         # Excel 1; formulas TRUE
    "=DATE(-1,1,1)": (True, False),                  # Excel #NUM!; formualizer a number
    "=INDEX(LINEST(A2:A4,B2:B4,,TRUE),1)": (True, True),  # empty const: Excel's default TRUE, backends FALSE
    "=IF(C1,,2)": (False, False),                    # empty = 0 in Excel too
    "=ROUND(2.5,0)+SUM(1,2)": (False, False),
}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws["C1"] = True
    for r, (x, y) in enumerate([(1, 2), (2, 4.1), (3, 5.9)], 2):
        ws[f"A{r}"], ws[f"B{r}"] = y, x
    for i, formula in enumerate(CASES, 1):
        ws[f"E{i}"] = formula
    path = tmp_path_factory.mktemp("gaps") / "gaps.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("backend", ["formualizer", "formulas"])
def test_each_construct_is_flagged_by_the_backend_that_gets_it_wrong(book, backend):
    flagged = {f.ref for f in lint(book, backend) if f.code in ("NOT-FAITHFUL", "OMITTED-ARGUMENT")}
    for i, (formula, expected) in enumerate(CASES.items(), 1):
        want = expected[0] if backend == "formualizer" else expected[1]
        assert (f"E{i}" in flagged) == want, (backend, formula)
