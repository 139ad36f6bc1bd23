"""The BVB functions inside both headless evaluators equal the direct calls."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.registry import invoke
from buildbuy.workbook.backend import BACKENDS, called_functions, evaluate

from .excel_cases import ASSUMPTIONS, CASES, RANGE_TABLES, RD, RU, A, assert_same

#: Where the book holds each ranges table.
RANGE_REFS = {RD: "Ranges!$A$1:$E$1", RU: "Ranges!$A$2:$E$2"}

SPELLINGS = {
    "Plain": "{name}",                       # classic xlwings
    "OfficeJs": "_xldudf_XLWINGS_{name}",    # Office.js custom function as saved in a file
    "Dev": "XLWINGS_DEV.{name}",             # as typed against a development add-in
}


def _literal(v, ref_style):
    if v is A:
        return "assumptions" if ref_style else "Inputs!$A$1:$B$7"
    if v is RD or v is RU:
        return RANGE_REFS[v]
    if v is None:
        return "Ranges!$Z$99"  # a blank cell: an argument left to its default
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(float(v)).replace("e+", "E+")


def _direct(name, args):
    out = invoke(name, *[ASSUMPTIONS if a is A else RANGE_TABLES[a] if a is RD or a is RU else a for a in args])
    return out if isinstance(out, list) else [[out]]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("headless") / "bvb.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    for i, (k, v) in enumerate(ASSUMPTIONS, 1):
        ws.cell(i, 1, k)
        ws.cell(i, 2, v)
    wb.defined_names["assumptions"] = DefinedName("assumptions", attr_text="Inputs!$A$1:$B$7")
    wb.defined_names["users"] = DefinedName("users", attr_text="Inputs!$B$1")
    ranges = wb.create_sheet("Ranges")
    for table, ref in RANGE_REFS.items():
        row = int(ref.rsplit("$", 1)[1])
        for j, v in enumerate(RANGE_TABLES[table][0], 1):
            ranges.cell(row, j, v)
    layout = {}
    for sheet, pattern in SPELLINGS.items():
        sh = wb.create_sheet(sheet)
        row = 1
        for i, (name, args, _, _) in enumerate(CASES):
            direct = _direct(name, args)
            formula = "=" + pattern.format(name=name) + "(" + ",".join(
                _literal(a, sheet == "Plain") for a in args) + ")"
            rows, cols = len(direct), len(direct[0])
            if rows * cols > 1:
                from openpyxl.utils import get_column_letter
                ref = f"A{row}:{get_column_letter(cols)}{row + rows - 1}"
                sh[f"A{row}"] = ArrayFormula(ref, formula)
            else:
                sh[f"A{row}"] = formula
            layout[(sheet, i)] = (row, direct)
            row += rows + 1
    mix = wb.create_sheet("Mixed")
    mix["A1"] = "=BVB_API_COST(users*Inputs!B2,400,100,10,10)/365"   # defined name + native arithmetic
    tl_row = layout[("Plain", [c[0] for c in CASES].index("BVB_TIMELINE"))][0]
    mix["A2"] = f"=SUM(Plain!A{tl_row}:A{tl_row + 2})"                # a native function over a BVB array
    mix["A3"] = '=IF(BVB_RECOMMEND(assumptions)="FINE-TUNE",1,0)'
    mix["A4"] = "=BVB_API_COST(-5,400,100,10,10)"                     # an engine error
    mix["A5"] = "=BVB_API_COST(1/0,400,100,10,10)"                    # an error in an input propagates
    mix["A6"] = '=IFERROR(BVB_BREAKEVEN_MONTH(assumptions,"API","FINE-TUNE"),"never")'
    wb.save(path)
    return path, layout


@pytest.fixture(scope="module", params=BACKENDS)
def evaluated(request, book):
    path, layout = book
    return request.param, evaluate(path, request.param), layout


@pytest.mark.parametrize("sheet", sorted(SPELLINGS))
@pytest.mark.parametrize("index", range(len(CASES)))
def test_case_equals_direct_call(evaluated, sheet, index):
    backend, ev, layout = evaluated
    row, direct = layout[(sheet, index)]
    name, args, expected, why = CASES[index]
    from openpyxl.utils import get_column_letter
    got = [[ev.values[(sheet, f"{get_column_letter(c + 1)}{row + r}")] for c in range(len(direct[0]))]
           for r in range(len(direct))]
    assert_same(got, direct)
    if isinstance(expected, str) and expected.startswith("#"):
        assert got[0][0] == XlError(expected)
    elif expected is not None:
        assert_same(got if isinstance(expected, list) else got[0][0], expected)


def test_mixed_with_native_formulas(evaluated):
    backend, ev, layout = evaluated
    v = ev.values
    assert v[("Mixed", "A1")] == pytest.approx(250.0)          # article: $250/day
    assert v[("Mixed", "A3")] == 1
    assert v[("Mixed", "A4")] == XlError("#VALUE!")
    assert v[("Mixed", "A5")] == XlError("#DIV/0!")
    assert v[("Mixed", "A6")] == "never"
    assert "requests_per_day must be a number >= 0, got -5" in ev.message_for("=BVB_API_COST(-5,400,100,10,10)")


def test_sum_over_a_bvb_array(evaluated):
    backend, ev, layout = evaluated
    # BVB_TIMELINE("API", assumptions, 3) gives three months of $91,250 / 12 = $7,604.17.
    assert ev.values[("Mixed", "A2")] == pytest.approx(91_250 / 4)


def test_called_functions_knows_every_spelling():
    assert called_functions("=_xldudf_XLWINGS_BVB_TCO(1)+xlwings.bvb_npv(2)*BVB_TCO(3)") == ["BVB_TCO", "BVB_NPV"]


def test_formualizer_spills_dynamic_arrays(tmp_path):
    wb = Workbook()
    wb.active.title = "S"
    wb.active["A1"] = '=BVB_TIMELINE("API",X1:Y2,2)'
    wb.active["C1"] = "=SUM(A1:A2)"
    path = tmp_path / "spill.xlsx"
    wb.save(path)
    ev = evaluate(path, "formualizer")
    # A blank assumptions range means all defaults: $91,250/year -> 7,604.17 a month.
    assert ev.values[("S", "A2")] == pytest.approx(91_250 / 12)
    assert ev.values[("S", "C1")] == pytest.approx(91_250 / 6)
