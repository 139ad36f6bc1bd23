"""What `recalc --check` says: errors the file already held apart from those the recalculation introduced,
cells not evaluated faithfully (and what reads them), a bad input named with its cell, the LibreOffice fallback."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from buildbuy.engine import read_scenarios
from buildbuy.workbook.cli import main
from buildbuy.workbook.fill import fill, input_cells
from buildbuy.workbook.libreoffice import soffice
from buildbuy.workbook.recalc import recalc
from buildbuy.workbook.xlsx import Package, set_cells, sheet_formula_cells, to_bytes, write_cached, write_package

from .test_cli import EXAMPLES
from .test_recalc import BACKENDS


def _with_cached(path, values: dict[str, object]) -> None:
    """Store cached values for formula cells of the first sheet, as the application that saved it would."""
    with Package(path) as pkg:
        sheet = pkg.sheets()[0]
        root = pkg.xml(sheet.part)
        for c in sheet_formula_cells(root, sheet.name):
            if c.ref in values:
                write_cached(c.element, values[c.ref])
        data = to_bytes(root)
        tmp = path.with_suffix(".tmp.xlsx")
        write_package(pkg, tmp, {sheet.part: data})
    tmp.replace(path)


class _Err:
    def __init__(self, code: str) -> None:
        self.code = code


@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_already_in_the_file_do_not_fail_the_check(tmp_path, capsys, backend):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "=1/0"          # Excel showed #DIV/0! here too: pre-existing
    ws["A2"] = "=A1+1"         # ... and here (it reads A1)
    ws["A3"] = "=2+2"
    path = tmp_path / "had-errors.xlsx"
    wb.save(path)
    _with_cached(path, {"A1": _Err("#DIV/0!"), "A2": _Err("#DIV/0!"), "A3": 4.0})
    report = recalc(path, tmp_path / "out.xlsx", backend=backend)
    assert [(e.ref, e.preexisting) for e in report.errors] == [("A1", True), ("A2", True)]
    assert report.introduced == [] and report.ok
    assert main(["recalc", str(path), "-o", str(tmp_path / "o2.xlsx"), "--check", "--engine", backend]) == 0
    out = capsys.readouterr().out
    assert "0 error cell(s) introduced, 2 already in the file" in out


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_error_where_the_file_held_a_value_fails_the_check(tmp_path, capsys, backend):
    wb = Workbook()
    ws = wb.active
    ws["B1"] = 0
    ws["A1"] = "=10/B1"        # cached 5 (B1 was 2 when saved); now B1 is 0: #DIV/0! is new
    path = tmp_path / "new-error.xlsx"
    wb.save(path)
    _with_cached(path, {"A1": 5.0})
    report = recalc(path, tmp_path / "out.xlsx", backend=backend)
    assert [(e.ref, e.code, e.preexisting) for e in report.introduced] == [("A1", "#DIV/0!", False)]
    assert main(["recalc", str(path), "-o", str(tmp_path / "o2.xlsx"), "--check", "--engine", backend]) == 1
    assert "Sheet!A1 #DIV/0! =10/B1" in capsys.readouterr().err


def test_a_bad_input_lists_the_cells_with_the_engine_message(tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], good)
    bad = tmp_path / "bad.xlsx"
    with Package(good) as pkg:
        sheet, ref = input_cells(pkg)["gpu_utilization"]
        part = next(s.part for s in pkg.sheets() if s.name == sheet)
        root = pkg.xml(part)
        set_cells(root, {ref: 7.0}, as_input=True)   # a utilisation of 700%
        write_package(pkg, bad, {part: to_bytes(root)})
    code = main(["recalc", str(bad), "-o", str(tmp_path / "out.xlsx"), "--check"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith("error: gpu_utilization must be a number in (0, 1], got 7 "
                            f"[input {sheet}!{ref}]"), first
    assert "=BVB_" in err.splitlines()[1]
    assert "Checks total is #VALUE!, not 0" in err
    # JSON: every introduced error with its message, none hidden.
    assert main(["recalc", str(bad), "-o", str(tmp_path / "out2.xlsx"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] is False and rep["preexisting_errors"] == []
    assert any("got 7" in e["message"] for e in rep["errors"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_omitted_argument_is_reported_with_what_reads_it(tmp_path, capsys, backend):
    wb = Workbook()
    ws = wb.active
    for r, (x, y) in enumerate([(1, 2), (2, 4.1), (3, 5.9)], 1):
        ws[f"A{r}"], ws[f"B{r}"] = x, y
    # Excel reads the empty const of LINEST as its default (TRUE); a backend reads 0 (FALSE).
    ws["D1"] = "=INDEX(LINEST(B1:B3,A1:A3,,TRUE),1)"
    ws["D2"] = "=D1*2"
    ws["D3"] = "=SUM(A1:A3)"
    path = tmp_path / "omitted.xlsx"
    wb.save(path)
    report = recalc(path, tmp_path / "out.xlsx", backend=backend)
    flagged = {u.ref: u.reason for u in report.unfaithful}
    assert "LINEST" in flagged["D1"] and "empty argument" in flagged["D1"]
    assert flagged["D2"] == "reads a cell that was not evaluated faithfully"
    assert "D3" not in flagged and not report.ok
    assert main(["recalc", str(path), "-o", str(tmp_path / "o2.xlsx"), "--check", "--engine", backend]) == 1
    assert "Sheet!D1 =INDEX(LINEST(B1:B3,A1:A3,,TRUE),1): not evaluated faithfully" in capsys.readouterr().err


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_arguments_excel_reads_as_zero_are_not_flagged(tmp_path, backend):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = 5
    ws["B1"] = "=IF(A1>1,,2)"                    # Excel and LibreOffice: 0
    ws["B2"] = "=VLOOKUP(2.5,{1,10;2,20;3,30},2,)"  # empty range_lookup = FALSE: exact match, #N/A
    ws["B3"] = "=PMT(0.05,10,1000,,1)"           # empty fv = 0: -123.3376904 (LibreOffice)
    path = tmp_path / "zero.xlsx"
    wb.save(path)
    report = recalc(path, tmp_path / "out.xlsx", backend=backend)
    assert report.unfaithful == []
    from openpyxl import load_workbook

    v = load_workbook(tmp_path / "out.xlsx", data_only=True).active
    assert v["B1"].value == 0 and v["B2"].value == "#N/A"
    assert v["B3"].value == pytest.approx(-123.3376904, rel=1e-9)


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_fallback_takes_libreoffice_values_for_flagged_cells_without_bvb(tmp_path, capsys):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = 7
    ws["B1"] = "=SUM(OFFSET(A1,0,0,,))"         # empty height/width: the reference's size, so 7 (LibreOffice)
    ws["B2"] = "=B1+1"                          # reads it: 8
    ws["B3"] = "=BVB_API_COST(1000,400,100,10,10)*0+SUM(OFFSET(A1,0,0,,))"  # calls a BVB function: stays ours
    path = tmp_path / "fallback.xlsx"
    wb.save(path)
    report = recalc(path, tmp_path / "out.xlsx", fallback="libreoffice")
    assert sorted(report.fallback_cells) == ["Sheet!B1", "Sheet!B2"]
    assert [u.ref for u in report.unfaithful] == ["B3"]
    from openpyxl import load_workbook

    v = load_workbook(tmp_path / "out.xlsx", data_only=True).active
    assert (v["B1"].value, v["B2"].value) == (7, 8)
    assert main(["recalc", str(path), "-o", str(tmp_path / "o2.xlsx"), "--fallback", "libreoffice"]) == 0
    assert "2 cell(s) taken from libreoffice" in capsys.readouterr().out


def test_a_failing_cell_in_formulas_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    wb = Workbook()
    wb.active["A1"] = "XYZZY"
    wb.active["B1"] = "=ISEVEN(A1)"   # formulas' ISEVEN raises on text; schedula logs the traceback
    path = tmp_path / "iseven.xlsx"
    wb.save(path)
    proc = subprocess.run([sys.executable, "-m", "buildbuy.workbook.cli", "recalc", str(path), "-o",
                           str(tmp_path / "out.xlsx"), "--engine", "formulas"], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


def test_each_cell_carries_its_own_engine_message(tmp_path, capsys):
    wb = Workbook()
    wb.active["A1"] = "=BVB_API_COST(-5,400,100,10,10)"
    wb.active["A2"] = "=BVB_API_COST(5,-400,100,10,10)"
    path = tmp_path / "two.xlsx"
    wb.save(path)
    report = recalc(path, tmp_path / "out.xlsx")
    assert {e.ref: e.message for e in report.introduced} == {
        "A1": "requests_per_day must be a number >= 0, got -5",
        "A2": "input_tokens_per_request must be a number >= 0, got -400"}


def test_a_legacy_array_formualizer_does_not_fill_is_reported(tmp_path):
    from openpyxl.worksheet.formula import ArrayFormula

    wb = Workbook()
    ws = wb.active
    ws["B1"] = ArrayFormula("B1:B3", "=ROW(A1:A3)")   # Excel fills 1, 2, 3; formualizer computes one value
    path = tmp_path / "cse.xlsx"
    wb.save(path)
    report = recalc(path, tmp_path / "out.xlsx")
    flagged = {u.ref: u.reason for u in report.unfaithful}
    if "B2" in flagged:  # formualizer kept one value: the other cells say so instead of staying blank
        assert "legacy array formula" in flagged["B2"] and "B3" in flagged and not report.ok
    else:  # a formualizer that fills the range gives Excel's values
        from openpyxl import load_workbook

        v = load_workbook(tmp_path / "out.xlsx", data_only=True).active
        assert [v[f"B{r}"].value for r in (1, 2, 3)] == [1, 2, 3]


def test_an_empty_formula_element_keeps_its_cached_value(tmp_path):
    import zipfile

    wb = Workbook()
    wb.active["A1"] = "=1+1"
    path = tmp_path / "empty-f.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'<c r="A1">', b'<c r="A2"><f ca="1"/><v>12</v></c><c r="A1">', 1)
    parts[sheet] = parts[sheet].replace(b'<row r="1"', b'<row r="1"', 1)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    # Excel writes <f ca="1"/> with no text in some cells: nothing to compute, the book is not refused.
    report = recalc(path, tmp_path / "out.xlsx")
    assert report.formula_cells == 1 and report.ok


def test_a_legacy_array_of_a_plain_reference_shows_zero_for_blank_cells(tmp_path):
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    wb = Workbook()
    data = wb.active
    data.title = "Data"
    data["A1"], data["B1"] = 1, 2                    # C1:E1 are blank
    out = wb.create_sheet("S")
    out["A1"] = ArrayFormula("A1:E1", "=Data!A1:E1")
    path = tmp_path / "ref.xlsx"
    wb.save(path)
    recalc(path, tmp_path / "out.xlsx")
    v = load_workbook(tmp_path / "out.xlsx", data_only=True)["S"]
    # Excel (and LibreOffice): a blank cell read through an array formula shows 0.
    assert [v[f"{c}1"].value for c in "ABCDE"] == [1, 2, 0, 0, 0]
