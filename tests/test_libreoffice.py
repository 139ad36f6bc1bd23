"""Cross-checks by an independent spreadsheet application: LibreOffice, headless.

Default settings: LibreOffice shows the cached values we wrote. Forced recalculation on load: its own results
for the native formulas equal ours (it cannot compute BVB_* functions, so cells that depend on them are left
out). The Outputs sheet renders to PNG. CI installs LibreOffice (.ci/run); elsewhere these tests skip.
"""

from __future__ import annotations

import os

import pytest
from openpyxl import Workbook, load_workbook

from buildbuy.engine import read_scenarios
from buildbuy.workbook.backend import evaluate
from buildbuy.workbook.fill import fill
from buildbuy.workbook.libreoffice import cell, sheet_values, soffice
from buildbuy.workbook.recalc import recalc

from .test_cli import EXAMPLES

if soffice() is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must have LibreOffice: .ci/run installs libreoffice-calc-nogui")
    pytest.skip("LibreOffice is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("lo") / "data-platform.xlsx"
    fill(read_scenarios(EXAMPLES / "data-platform.toml")[0], path)
    recalc(path)
    return path


@pytest.fixture(scope="module")
def ours(book):
    return load_workbook(book, data_only=True)


def _num(text):
    try:
        return float(text)
    except ValueError:
        return text


def _same(lo_text, value):
    got = _num(lo_text)
    if isinstance(value, bool):
        return got in (value, str(value).upper(), float(value))
    if isinstance(value, (int, float)):
        return isinstance(got, float) and got == pytest.approx(value, rel=1e-12, abs=1e-9)
    return got == ("" if value is None else value)


def test_default_settings_show_our_cached_values(book, ours):
    lo = sheet_values(book, recalc=False)
    compared = 0
    for sheet in ("Outputs", "Checks", "Calculations", "Sensitivity", "Prices"):
        ws = ours[sheet]
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                assert _same(cell(lo, sheet, c.coordinate), c.value), (sheet, c.coordinate, c.value,
                                                                      cell(lo, sheet, c.coordinate))
                compared += 1
    assert compared > 3000
    assert cell(lo, "Outputs", "C4") == "TRAIN"


def test_forced_recalculation_agrees_on_native_formulas(book, ours):
    from buildbuy.workbook.lint import bvb_dependent_cells

    lo = sheet_values(book, recalc=True)
    engine_cells = bvb_dependent_cells(book)
    formulas_wb = load_workbook(book)
    formula_refs = {ws.title: {c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"}
                    for ws in formulas_wb.worksheets}
    compared = 0
    for sheet in ("Calculations", "Checks", "Sensitivity", "Cover"):
        for row in ours[sheet].iter_rows():
            for c in row:
                mine = c.value
                theirs = cell(lo, sheet, c.coordinate)
                if (sheet, c.coordinate) in engine_cells or c.data_type == "s" or mine is None:
                    continue  # LibreOffice has no BVB functions; text labels are not computed
                if c.coordinate not in formula_refs[sheet]:
                    continue
                assert _num(theirs) == pytest.approx(mine, rel=1e-9, abs=1e-9), (sheet, c.coordinate)
                compared += 1
    # The native recomputations in Checks (API cost, GPUs, pre-training compute) are among them.
    for ref in ("C5", "C6", "C7"):
        assert _num(cell(lo, "Checks", ref)) == pytest.approx(ours["Checks"][ref].value, rel=1e-12)
    assert compared > 200


ROUND_CASES = ["=ROUND(1.005,2)", "=ROUND(2.675,2)", "=ROUND(-1.005,2)", "=ROUND(1234.5,-2)",
               "=ROUNDUP(0.1+0.2,1)", "=ROUNDDOWN(-2.5,0)", "=ROUND(2.5,0)", "=ROUND(1E6/3,2)", "=1E6+1",
               "=2.5E3*2"]


@pytest.mark.parametrize("backend", ["formualizer", "formulas"])
def test_divergences_corrected_at_the_adapter_match_libreoffice(tmp_path, backend):
    # formulas 1.3.4 alone gives ROUND(1.005,2) = 1.00 and rejects 1E6; the adapter corrects both.
    wb = Workbook()
    wb.active.title = "S"
    for i, f in enumerate(ROUND_CASES, 1):
        wb.active[f"A{i}"] = f
    path = tmp_path / "round.xlsx"
    wb.save(path)
    lo = sheet_values(path, recalc=True)
    ev = evaluate(path, backend)
    for i, f in enumerate(ROUND_CASES, 1):
        assert ev.values[("S", f"A{i}")] == pytest.approx(float(cell(lo, "S", f"A{i}")), rel=1e-15), f


def test_outputs_render_to_png(book, tmp_path):
    from buildbuy.workbook.render import render_sheet

    png = render_sheet(book, "Outputs", tmp_path / "outputs.png", dpi=60)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
