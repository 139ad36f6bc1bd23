"""Headless recalculation: values written into the sheet XML, every other part unchanged, errors reported."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from buildbuy.engine import read_scenarios
from buildbuy.workbook.cli import main
from buildbuy.workbook.fill import fill
from buildbuy.workbook.recalc import recalc

from .test_cli import EXAMPLES

BACKENDS = ["formualizer", "formulas"]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("recalc") / "regulated.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], path)
    return path


def _add_parts(path, parts: dict[str, bytes]):
    """Add raw parts to a package (as another application would leave them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        for name, data in parts.items():
            dst.writestr(name, data)
    path.write_bytes(buf.getvalue())


@pytest.mark.parametrize("backend", BACKENDS)
def test_recalculated_template_reads_back_and_checks_pass(filled, tmp_path, backend):
    out = tmp_path / f"{backend}.xlsx"
    report = recalc(filled, out, backend=backend)
    assert report.ok and report.check_total == 0 and report.errors == []
    wb = load_workbook(out, data_only=True)
    assert wb["Outputs"]["C4"].value == "FINE-TUNE"
    # The article's worked example volume: $91,250 a year on the API.
    assert wb["Outputs"]["D10"].value == pytest.approx(91_250)
    assert report.named["out_recommendation"] == "FINE-TUNE"
    # Formulas are still formulas.
    assert load_workbook(out)["Outputs"]["C4"].value == "=BVB_RECOMMEND(assumptions)"


def test_backends_agree_on_every_cell(filled, tmp_path):
    a = load_workbook(recalc(filled, tmp_path / "a.xlsx", backend="formualizer").path, data_only=True)
    b = load_workbook(recalc(filled, tmp_path / "b.xlsx", backend="formulas").path, data_only=True)
    compared = 0
    for ws in a.worksheets:
        for row in ws.iter_rows():
            for c in row:
                other = b[ws.title][c.coordinate].value
                if isinstance(c.value, float) or isinstance(other, float):
                    assert float(c.value) == pytest.approx(float(other), rel=1e-9, abs=1e-9), (ws.title, c.coordinate)
                else:
                    assert c.value == other, (ws.title, c.coordinate)
                compared += 1
    assert compared > 3000


def test_only_cell_values_change(filled, tmp_path):
    out = recalc(filled, tmp_path / "r.xlsx").path
    src, dst = zipfile.ZipFile(filled), zipfile.ZipFile(out)
    assert src.namelist() == dst.namelist()
    for name in src.namelist():
        if not name.startswith("xl/worksheets/sheet"):
            assert src.read(name) == dst.read(name), name
    # Formulas, styles and sheet structure survive: strip the values and the sheets are the same.
    from lxml import etree

    from buildbuy.workbook.xlsx import M

    def skeleton(data):
        root = etree.fromstring(data)
        for c in root.iter(f"{M}c"):
            for tag in ("v", "is"):
                for el in c.findall(f"{M}{tag}"):
                    c.remove(el)
            c.attrib.pop("t", None)
        return etree.tostring(root)

    for name in src.namelist():
        if name.startswith("xl/worksheets/sheet"):
            assert skeleton(src.read(name)) == skeleton(dst.read(name)), name


def test_recalc_twice_is_stable(filled, tmp_path):
    path = tmp_path / "twice.xlsx"
    shutil.copy(filled, path)
    recalc(path)
    first = zipfile.ZipFile(path).read("xl/worksheets/sheet5.xml")
    report = recalc(path)
    assert report.ok
    assert zipfile.ZipFile(path).read("xl/worksheets/sheet5.xml") == first


def _user_book(tmp_path, name="user.xlsx"):
    """A user's own workbook: a few BVB calls among native formulas, with parts openpyxl would drop."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Model"
    ws["A1"] = "users"
    ws["B1"] = 1000
    ws["A2"] = "requests_per_user_per_day"
    ws["B2"] = 50
    ws["D1"] = "=BVB_API_COST(B1*B2,400,100,10,10)"
    ws["D2"] = "=D1/365"
    ws["D3"] = '=BVB_TCO("API",A2:B2)'
    ws["D4"] = "=ROUND(1.005,2)"
    path = tmp_path / name
    wb.save(path)
    _add_parts(path, {"customXml/item1.xml": b"<?xml version='1.0'?><data xmlns='urn:x'>keep me</data>",
                      "xl/vbaProject.bin": bytes(range(256)) * 4,
                      "xl/media/image1.png": b"\x89PNG\r\n\x1a\nnot really a png but bytes to keep"})
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_users_own_workbook_keeps_every_part(tmp_path, backend):
    path = _user_book(tmp_path)
    before = {n: zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist()}
    report = recalc(path, backend=backend)
    assert report.ok
    after = zipfile.ZipFile(path)
    for name, data in before.items():
        if name != "xl/worksheets/sheet1.xml":
            assert after.read(name) == data, name
    wb = load_workbook(path, data_only=True)
    assert wb["Model"]["D1"].value == pytest.approx(91_250)
    assert wb["Model"]["D2"].value == pytest.approx(250)
    # TCO over the 36-month default horizon, 50 requests x 1000 default users: $91,250 x 3.
    assert wb["Model"]["D3"].value == pytest.approx(273_750)
    assert wb["Model"]["D4"].value == 1.01


def test_shared_formulas_get_their_values(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for r in range(1, 5):
        ws[f"A{r}"] = r * 1000
    path = tmp_path / "shared.xlsx"
    wb.save(path)
    # Rewrite B1:B4 as one shared formula, the way Excel saves a filled-down column.
    data = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    cells = ['<c r="B1"><f t="shared" ref="B1:B4" si="0">BVB_API_COST(A1,400,100,10,10)</f></c>'] + [
        f'<c r="B{r}"><f t="shared" si="0"/></c>' for r in range(2, 5)]
    for r in range(1, 5):
        data = data.replace(f'<c r="A{r}" t="n"><v>{r * 1000}</v></c>',
                            f'<c r="A{r}" t="n"><v>{r * 1000}</v></c>{cells[r - 1]}')
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, data.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    path.write_bytes(buf.getvalue())
    report = recalc(path)
    assert report.formula_cells == 4
    values = load_workbook(path, data_only=True)["S"]
    # r x 1000 requests/day x $0.005 x 365 = r x 1,825
    assert [values[f"B{r}"].value for r in range(1, 5)] == pytest.approx([1825, 3650, 5475, 7300])


def test_check_flag_lists_error_cells(tmp_path, capsys):
    wb = Workbook()
    wb.active["A1"] = "=BVB_API_COST(-5,400,100,10,10)"
    wb.active["A2"] = "=1+1"
    path = tmp_path / "err.xlsx"
    wb.save(path)
    assert main(["recalc", str(path), "--check"]) == 1
    captured = capsys.readouterr()
    # Grouped by the engine's message, then the cells that carry it.
    assert "error: requests_per_day must be a number >= 0, got -5 (1 cell(s)):\n" \
           "error:   Sheet!A1 #VALUE! =BVB_API_COST(-5,400,100,10,10)\n" in captured.err
    assert main(["recalc", str(path)]) == 0


def test_check_flag_fails_on_a_nonzero_checks_total(filled, tmp_path, capsys):
    # Break a check on purpose: a tolerance of -1 makes every comparison fail.
    from buildbuy.workbook.xlsx import Package, set_cells, to_bytes, write_package

    broken = tmp_path / "broken.xlsx"
    with Package(filled) as pkg:
        part = [s.part for s in pkg.sheets() if s.name == "Inputs"][0]
        root = pkg.xml(part)
        row = next(int(c.get("r")[1:]) for c in root.iter() if c.tag.endswith("}c") and c.get("r", "").startswith("A")
                   and "".join(c.itertext()) == "check_tolerance")
        set_cells(root, {f"B{row}": -1.0}, as_input=True)
        write_package(pkg, broken, {part: to_bytes(root)})
    assert main(["recalc", str(broken), "--check"]) == 1
    assert "Checks total is" in capsys.readouterr().err


def test_json_prints_named_outputs(filled, tmp_path, capsys):
    out = tmp_path / "j.xlsx"
    assert main(["recalc", str(filled), "-o", str(out), "--json", "--check"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["named"]["out_recommendation"] == "FINE-TUNE"
    assert rep["named"]["out_annual_cost_usd_api"] == pytest.approx(91_250)
    assert rep["check_total"] == 0


def _expect_clean_failure(tmp_path, path, message, capsys):
    target = tmp_path / "existing.xlsx"
    target.write_bytes(b"the user's existing file")
    code = main(["recalc", str(path), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert target.read_bytes() == b"the user's existing file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".existing")] == []


def test_not_a_zip(tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    _expect_clean_failure(tmp_path, bad, "not an .xlsx/.xlsm file", capsys)


def test_truncated_zip(filled, tmp_path, capsys):
    bad = tmp_path / "cut.xlsx"
    bad.write_bytes(filled.read_bytes()[: len(filled.read_bytes()) // 2])
    _expect_clean_failure(tmp_path, bad, "error", capsys)


def test_entity_expansion(tmp_path, capsys):
    path = _user_book(tmp_path, "bomb.xlsx")
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="str"><f>1+1</f><v>&lol2;</v></c></row></sheetData></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, lol if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    path.write_bytes(buf.getvalue())
    _expect_clean_failure(tmp_path, path, "DTD or entity declarations", capsys)


def test_zip_bomb(tmp_path, capsys):
    path = _user_book(tmp_path, "zbomb.xlsx")
    _add_parts(path, {"xl/media/huge.bin": b"\0" * (64 << 20)})
    _expect_clean_failure(tmp_path, path, "zip bomb", capsys)


def test_formula_the_backend_cannot_parse(tmp_path, capsys):
    wb = Workbook()
    wb.active["A1"] = "=SUM(1,"  # broken on purpose
    path = tmp_path / "unparsable.xlsx"
    wb.save(path)
    for engine in BACKENDS:
        target = tmp_path / "existing.xlsx"
        target.write_bytes(b"keep")
        code = main(["recalc", str(path), "-o", str(target), "--engine", engine])
        captured = capsys.readouterr()
        assert code == 2, engine  # in both backends: one line naming the cell, as the README says
        assert "Sheet!A1: the formula =SUM(1, cannot be parsed" in captured.err
        assert "Traceback" not in captured.err and len(captured.err.splitlines()) == 1
        assert target.read_bytes() == b"keep"


def test_whole_command_never_prints_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "buildbuy.workbook.cli", "recalc", str(tmp_path / "nope.xlsx")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f"buildbuy recalc: error: {tmp_path / 'nope.xlsx'} does not exist")


def test_failed_write_leaves_the_existing_file(filled, tmp_path, monkeypatch):
    import buildbuy.workbook.xlsx as xlsx

    target = tmp_path / "mine.xlsx"
    shutil.copy(filled, target)
    before = target.read_bytes()

    real = xlsx._write_zip

    def boom(src, fh, replaced):
        if isinstance(fh, io.BytesIO):  # an in-memory copy for the backend, not the user's file
            return real(src, fh, replaced)
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "_write_zip", boom)
    with pytest.raises(xlsx.WorkbookFileError, match=r"cannot write .*mine\.xlsx: disk full$"):
        recalc(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine.xlsx"]


def test_timeout_is_a_clean_message(tmp_path, capsys, monkeypatch):
    import time

    import buildbuy.workbook.recalc as rc

    monkeypatch.setattr(rc, "_evaluate", lambda *a, **k: time.sleep(5))
    path = _user_book(tmp_path)
    assert main(["recalc", str(path), "--timeout", "0.5"]) == 2
    assert "stopped after 0.5 s (--timeout)" in capsys.readouterr().err


def test_xlsm_keeps_vba(tmp_path):
    path = _user_book(tmp_path, "macro.xlsm")
    vba = zipfile.ZipFile(path).read("xl/vbaProject.bin")
    recalc(path)
    assert zipfile.ZipFile(path).read("xl/vbaProject.bin") == vba
