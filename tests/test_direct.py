"""BVB cells computed straight from the engine give exactly what the backend gives when it calls each one."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName

import buildbuy.workbook.recalc as recalc_module
from buildbuy.engine import read_scenarios
from buildbuy.workbook.fill import fill
from buildbuy.workbook.recalc import recalc

from .test_cli import EXAMPLES


def _all_values(path):
    wb = load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}


@pytest.mark.parametrize("example", ["regulated-saas.toml", "data-platform.toml", "prepmf-startup.toml"])
def test_direct_path_equals_the_backend_on_every_cell_of_the_template(tmp_path, monkeypatch, example):
    book = tmp_path / "filled.xlsx"
    fill(read_scenarios(EXAMPLES / example)[0], book)
    fast = recalc(book, tmp_path / "fast.xlsx")
    monkeypatch.setattr(recalc_module, "_direct", lambda *args, **kw: None)
    slow = recalc(book, tmp_path / "slow.xlsx")
    assert fast.ok and slow.ok
    a, b = _all_values(tmp_path / "fast.xlsx"), _all_values(tmp_path / "slow.xlsx")
    assert a.keys() == b.keys()
    for key, v in a.items():
        w = b[key]
        if isinstance(v, float) and isinstance(w, float):
            assert v == pytest.approx(w, rel=1e-12, abs=1e-9), key
        else:
            assert v == w, key


def test_which_cells_are_computed_directly(tmp_path):
    from buildbuy.workbook.cached import shared_strings
    from buildbuy.workbook.direct import direct_values
    from buildbuy.workbook.xlsx import Package

    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"], ws["A2"] = 1000, "=A1*2"
    ws["B1"] = "=BVB_API_COST(A1,400,100,10,10)"          # constants only: direct
    ws["B2"] = "=BVB_API_COST(A2,400,100,10,10)"          # a plain arithmetic formula argument: folded, direct
    ws["B3"] = "=BVB_API_COST(SUM(A1),400,100,10,10)"     # a nested call: left to the backend
    ws["B4"] = "=BVB_API_COST(A1,400,,10,10)"             # an empty argument: left to the backend (and lint)
    ws["B5"] = "=1+BVB_API_COST(A1,400,100,10,10)"        # inside a native formula: left to the backend
    ws["B6"] = "=BVB_API_COST(-5,400,100,10,10)"          # an error: left to the backend, which reports it
    ws["B7"] = "=BVB_API_COST(users,400,100,10,10)"       # a defined name over a constant cell: direct
    wb.defined_names["users"] = DefinedName("users", attr_text="S!$A$1")
    path = tmp_path / "d.xlsx"
    wb.save(path)
    from buildbuy.workbook.recalc import read_formulas

    with Package(path) as pkg:
        roots, cells = read_formulas(pkg)
        got = direct_values(cells, roots, lambda: shared_strings(pkg), pkg.defined_names())
    # 1,000 requests/day x (400 x $10 + 100 x $10) per million tokens = $5/day, x 365 = $1,825/year.
    assert got == {("S", "B1"): pytest.approx(1825.0), ("S", "B2"): pytest.approx(3650.0),
                   ("S", "B7"): pytest.approx(1825.0)}


def test_folding_stays_out_of_anything_doubtful():
    from buildbuy.workbook.direct import _NOT_CONSTANT, _fold

    class Book:
        def constant(self, sheet, ref):
            return {"A1": 3.0, "A2": "text", "A3": None}.get(ref, _NOT_CONSTANT)

        def name_value(self, name):
            return 2.0 if name == "rate" else _NOT_CONSTANT

    book = Book()
    assert _fold("=COLUMN()-COLUMN($D$7)", "S", "E7", book) == 1.0
    assert _fold("=ROW()-ROW($A$22)", "S", "A30", book) == 8.0
    assert _fold("=rate^(A1-1)*-2", "S", "B1", book) == -8.0          # ^ before unary minus of a factor
    assert _fold("=(A1+1)/4", "S", "B1", book) == 1.0
    assert _fold("=-A1^2", "S", "B1", book) == 9.0                   # Excel (and LibreOffice): -3^2 = 9
    for doubtful in ("=A1/0", "=A2*2", "=A3+1", "=SUM(A1)", "=A1&\"x\"", "=A1>2", "=missing*2", "=0^0"):
        assert _fold(doubtful, "S", "B1", book) is _NOT_CONSTANT, doubtful


def test_one_pass_fill_and_recalc_equals_fill_then_recalc(tmp_path):
    from buildbuy.workbook.fill import fill_many
    from buildbuy.workbook.template import TEMPLATE_PATH

    scenario = read_scenarios(EXAMPLES / "data-platform.toml")[0]
    two = tmp_path / "two.xlsx"
    fill(scenario, two)
    recalc(two, two)
    [result] = fill_many([scenario], tmp_path / "one.xlsx", recalc_backend="formualizer", workers=1,
                         progress=False)
    assert result.recalc[0] == 0 and not result.recalc[1]
    a, b = _all_values(tmp_path / "one.xlsx"), _all_values(two)
    assert a == b
    formulas = load_workbook(tmp_path / "one.xlsx")
    assert formulas["Outputs"]["C4"].value == "=BVB_RECOMMEND(assumptions)"
    assert load_workbook(TEMPLATE_PATH, data_only=True)["Inputs"]["B5"].value != "changed"  # template untouched
