"""The template's compiled plan (``workbook/fast.py``) against the general path (formualizer) and Excel's rules.

The general path is an independent evaluator of the same formulas (formualizer's Rust engine with the BVB
functions registered), so "every cell equal" is a real cross-check of the plan's translation and of the Excel
semantics in ``workbook/xlfast.py``. The helper cases are Excel's documented results.
"""

from __future__ import annotations

import math
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from buildbuy.engine import read_scenarios, resolve
from buildbuy.engine.scenario import read_uncertain_scenarios
from buildbuy.udfs.conventions import XlError
from buildbuy.workbook import xlfast as x
from buildbuy.workbook.cached import cached_values
from buildbuy.workbook.fast import PLAN_BACKEND, PLAN_PATH, recalc_fast
from buildbuy.workbook.fastcompile import CompileError, Parser, plan_text, tokens
from buildbuy.workbook.fill import fill
from buildbuy.workbook.recalc import recalc
from buildbuy.workbook.template import TEMPLATE_PATH
from buildbuy.workbook.xlsx import Package, sheet_formula_cells

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def values_of(path: Path) -> dict:
    with Package(path) as pkg:
        cells = []
        for s in pkg.sheets():
            cells += sheet_formula_cells(pkg.xml(s.part), s.name)
        return cached_values(pkg, cells)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def assert_same_books(general: Path, planned: Path) -> None:
    a, b = values_of(general), values_of(planned)
    assert a.keys() == b.keys()
    diff = [(k, a[k], b[k]) for k in a if not same(a[k], b[k])]
    assert not diff, diff[:10]


def test_the_shipped_plan_is_the_translation_of_the_committed_template():
    assert PLAN_PATH.read_text(encoding="utf-8") == plan_text(TEMPLATE_PATH), \
        "run python -m buildbuy.workbook.template.build"


@pytest.mark.parametrize("example", ["regulated-saas", "prepmf-startup", "data-platform", "uncertain-growth"])
def test_plan_gives_every_cell_the_general_paths_value(tmp_path, example):
    book = tmp_path / "filled.xlsx"
    fill(read_uncertain_scenarios(EXAMPLES / f"{example}.toml")[0], book)
    general = recalc(book, tmp_path / "general.xlsx", plan=False)
    planned = recalc(book, tmp_path / "planned.xlsx")
    assert general.backend == "formualizer" and planned.backend == PLAN_BACKEND
    assert planned.formula_cells == general.formula_cells == planned.values_written
    assert planned.check_total == general.check_total == 0
    assert planned.named.keys() == general.named.keys()
    assert_same_books(tmp_path / "general.xlsx", tmp_path / "planned.xlsx")


@pytest.mark.parametrize("changes", [
    {"gpu_ownership": "buy", "requests_per_day": 3_000_000.0},
    {"gpu_ownership": "reserved", "monthly_growth_rate": 0.08, "horizon_months": 60},
    {"data_residency_required": False, "api_price_change_per_year": -0.3, "requests_per_day": 20_000.0},
    {"horizon_months": 48, "serving_gpus": 6},
])
def test_plan_matches_across_ownership_volume_and_horizon(tmp_path, changes):
    base = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    raw = {k: base[k] for k in base.given}
    if "requests_per_day" in changes:
        raw.pop("daily_active_users", None)
    a = resolve(dict(raw, **changes, name="varied"))
    book = tmp_path / "filled.xlsx"
    fill(a, book)
    recalc(book, tmp_path / "general.xlsx", plan=False)
    planned = recalc(book, tmp_path / "planned.xlsx")
    assert planned.backend == PLAN_BACKEND
    assert_same_books(tmp_path / "general.xlsx", tmp_path / "planned.xlsx")


def test_one_pass_fill_and_recalc_uses_the_plan(tmp_path):
    from buildbuy.workbook.fill import fill_many

    scenarios = read_scenarios(EXAMPLES / "regulated-saas.toml") + read_scenarios(EXAMPLES / "prepmf-startup.toml")
    results = fill_many(scenarios, tmp_path / "out", recalc_backend="formualizer", workers=1, progress=False)
    for r in results:
        assert r.recalc[0] == 0 and not r.recalc[1]
        book = tmp_path / "again.xlsx"
        shutil.copyfile(r.path, book)
        recalc(book, plan=False)
        assert_same_books(book, r.path)


def _edit(src: Path, dst: Path, part_pattern: str, old: str, new: str) -> None:
    edited = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if re.fullmatch(part_pattern, info.filename) and old in data.decode():
                data = data.decode().replace(old, new, 1).encode()
                edited += 1
            zout.writestr(info, data)
    assert edited == 1


def test_an_edited_formula_takes_the_general_path(tmp_path):
    book, edited = tmp_path / "filled.xlsx", tmp_path / "edited.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], book)
    _edit(book, edited, r"xl/worksheets/sheet\d+\.xml", "<f>SUM(E15:E15)</f>", "<f>SUM(E15:E15)*2</f>")
    assert recalc_fast(edited, tmp_path / "out.xlsx") is None
    assert not (tmp_path / "out.xlsx").exists()
    report = recalc(edited, tmp_path / "out.xlsx")
    assert report.backend == "formualizer"


def test_a_renamed_defined_name_takes_the_general_path(tmp_path):
    book, edited = tmp_path / "filled.xlsx", tmp_path / "edited.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], book)
    _edit(book, edited, r"xl/workbook\.xml", "Inputs!$B$5:$C$137", "Inputs!$B$5:$C$136")
    assert recalc_fast(edited) is None


def test_a_bad_input_is_left_to_the_general_path_and_its_message(tmp_path):
    a = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    book = tmp_path / "filled.xlsx"
    fill(a, book)
    with Package(book) as pkg:
        from buildbuy.workbook.fill import input_cells

        sheet, ref = input_cells(pkg)["gpu_utilization"]
    from buildbuy.workbook.xlsx import set_cells, to_bytes, write_package

    with Package(book) as pkg:
        part = next(s.part for s in pkg.sheets() if s.name == sheet)
        root = pkg.xml(part)
        set_cells(root, {ref: 7.0}, as_input=True)
        write_package(pkg, tmp_path / "bad.xlsx", {part: to_bytes(root)})
    assert recalc_fast(tmp_path / "bad.xlsx", tmp_path / "out.xlsx") is None
    report = recalc(tmp_path / "bad.xlsx", tmp_path / "out.xlsx")
    assert report.backend == "formualizer"
    assert any("gpu_utilization" in e.message for e in report.introduced)


# --- the translator ------------------------------------------------------------------------------------------


def test_precedence_follows_excel():
    # Excel: -2^2 = 4 (negation first), 2^3^2 = 64 (left to right), 1+2&3 = "33" (& after +), 1=1&"" compares
    assert Parser(tokens("=-2^2")).parse() == ("bin", "^", ("neg", ("num", 2.0)), ("num", 2.0))
    assert Parser(tokens("=2^3^2")).parse()[2][0] == "bin"
    node = Parser(tokens("=1+2&3")).parse()
    assert node[:2] == ("bin", "&") and node[2][1] == "+"


def test_unknown_functions_and_empty_arguments_are_refused():
    from buildbuy.workbook.fastcompile import Compiler

    comp = Compiler(["S"], [], [], {("S", "A1"): "=VLOOKUP(1,B1:C2,2)", ("S", "A2"): "=IF(B1,,2)"})
    with pytest.raises(CompileError, match="VLOOKUP"):
        comp.translate()
    comp = Compiler(["S"], [], [], {("S", "A2"): "=IF(B1,,2)"})
    with pytest.raises(CompileError, match="empty argument"):
        comp.translate()


# --- Excel's rules, from Excel's documentation -----------------------------------------------------------------


def test_arithmetic_and_errors():
    assert x.add(None, 2.0) == 2.0 and x.mul(True, 3.0) == 3.0  # a blank is 0, TRUE is 1
    assert x.div(1.0, 0.0).code == "#DIV/0!"
    assert x.power(0.0, 0.0).code == "#NUM!" and x.power(-8.0, 1 / 3).code == "#NUM!"
    assert x.power(-2.0, 3.0) == -8.0
    assert x.add(XlError("#N/A"), 1.0).code == "#N/A"
    with pytest.raises(x.Bail):
        x.add("12", 1.0)  # text that reads as a number: left to the general path


def test_functions_documented_results():
    assert x.MOD(-3.0, 2.0) == 1.0 and x.MOD(3.0, -2.0) == -1.0  # MOD takes the divisor's sign
    assert x.INT(-2.5) == -3.0
    assert x.CEILING(2.1, 1.0) == 3.0 and x.CEILING(-2.5, 1.0) == -2.0 and x.CEILING(2.5, -1.0).code == "#NUM!"
    assert x.ROUND(2.5, 0.0) == 3.0 and x.ROUND(-2.5, 0.0) == -3.0  # half away from zero
    assert x.FIXED(1234567.4, 0.0) == "1,234,567" and x.FIXED(1234567.4, 0.0, True) == "1234567"
    assert x.LOG(8.0, 2.0) == pytest.approx(3.0) and x.LOG(100.0) == pytest.approx(2.0)
    assert x.LOG(0.0).code == "#NUM!"
    assert x.NPV(0.1, [100.0, None, "x", 100.0]) == pytest.approx(100 / 1.1 + 100 / 1.21)  # blanks, text skipped
    assert x.SUM(([1.0, "a", None, True], 2.0), (True, False)) == 3.0  # in a range only numbers count
    assert x.SUM_RANGE([1.0, "a", None, True, 2.0]) == 3.0 and x.SUM_RANGE([1.0, XlError("#N/A")]).code == "#N/A"
    assert x.MAX(([], ), (True,)) == 0.0
    assert x.INDEX([1.0, 2.0, 3.0], 1, 3, 2.0) == 2.0 and x.INDEX([1.0, 2.0], 1, 2, 3.0).code == "#REF!"
    assert x.SUMIFS([1.0, 2.0, 4.0], [1.0, 5.0, 9.0], "<5") == 1.0
    assert x.SUMIFS([1.0, 2.0, 4.0], [1.0, 5.0, "5"], 5.0) == 2.0  # text "5" does not equal the number 5
    assert x.SUMIFS([1.0, 2.0, 4.0], [1.0, 1.0, 2.0], 1.0, [3.0, 9.0, 3.0], ">=3") == 3.0  # every pair must hold
    assert x.SUMIFS([1.0, 2.0], [1.0], 1.0).code == "#VALUE!"  # ranges of different sizes
    assert x.SUMPRODUCT([1.0, 2.0, "a"], [3.0, 4.0, 5.0]) == 11.0
    assert x.ISNA(XlError("#N/A")) and not x.ISNA(XlError("#VALUE!")) and x.ISERROR(XlError("#VALUE!"))
    assert x.IFERROR(XlError("#N/A"), "never") == "never"


def test_comparison_and_text_rules():
    assert x.eq("Rent", "rent") is True  # text compares without case
    assert x.lt(1.0, "a") is True and x.gt(True, "z") is True  # numbers < text < logicals
    assert x.eq(None, 0.0) is True and x.eq(None, "") is True  # a blank is 0 or ""
    assert x.concat("<", 5.0) == "<5" and x.concat("x", 0.1) == "x0.1" and x.concat(True, "") == "TRUE"
    assert x.truth(2.0) is True and x.truth(None) is False
    with pytest.raises(x.Bail):
        x.truth("yes")


def test_workers_never_share_the_parents_open_template(tmp_path):
    # A batch in this process keeps the template open; forked workers must open their own (a shared file offset
    # between processes reads each other's bytes: "invalid distance too far back").
    from buildbuy.workbook.fill import fill_many

    scenarios = read_scenarios(EXAMPLES / "regulated-saas.toml") + read_scenarios(EXAMPLES / "prepmf-startup.toml")
    fill_many(scenarios, tmp_path / "one", recalc_backend="formualizer", workers=1, progress=False)
    many = [resolve(dict({k: scenarios[0][k] for k in scenarios[0].given}, name=f"s{i}")) for i in range(12)]
    results = fill_many(many, tmp_path / "two", recalc_backend="formualizer", workers=2, progress=False)
    assert all(r.recalc[0] == 0 and not r.recalc[1] for r in results)


def test_a_forked_process_opens_its_own_template():
    import os

    from buildbuy.workbook.fill import _open_template

    pkg = _open_template(str(TEMPLATE_PATH))
    assert _open_template(str(TEMPLATE_PATH)) is pkg  # kept open in this process
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not read through the parent's file offset
        os.write(w, b"1" if _open_template(str(TEMPLATE_PATH)) is not pkg else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"


from hypothesis import HealthCheck, given, settings  # noqa: E402

from .strategies import scenarios_v2  # noqa: E402


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=scenarios_v2())
def test_plan_equals_the_backend_on_generated_scenarios(tmp_path, raw):
    """When the plan answers, every cell is the backend's value; it declines only a book that holds an error
    value somewhere (which the backend reports with the engine's message)."""
    a = resolve(dict(raw, name="generated"))
    book = tmp_path / "filled.xlsx"
    fill(a, book)
    general = recalc(book, tmp_path / "general.xlsx", plan=False)
    planned = recalc_fast(book, tmp_path / "planned.xlsx")
    if planned is None:
        assert general.errors, "the plan declined a book the backend computed without an error value"
        return
    assert planned.check_total == general.check_total
    assert [e.__dict__ for e in planned.errors] == [e.__dict__ for e in general.errors]
    assert planned.ok == general.ok
    assert_same_books(tmp_path / "general.xlsx", tmp_path / "planned.xlsx")


def test_an_engine_error_is_reported_as_the_backend_reports_it(tmp_path):
    # Nothing feasible: residency rules out the API and PHASED, and a $1 budget every other option, so
    # BVB_CHEAPEST shows #N/A (Outputs!C5). The plan writes it and reports it with the engine's message.
    base = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    a = resolve(dict({k: base[k] for k in base.given}, available_budget_usd=1.0, name="none-feasible"))
    book = tmp_path / "filled.xlsx"
    fill(a, book)
    general = recalc(book, tmp_path / "general.xlsx", plan=False)
    planned = recalc(book, tmp_path / "planned.xlsx")
    assert planned.backend == PLAN_BACKEND
    assert [e.__dict__ for e in planned.errors] == [e.__dict__ for e in general.errors]
    assert any(e.code == "#N/A" and e.message for e in planned.errors)
    assert_same_books(tmp_path / "general.xlsx", tmp_path / "planned.xlsx")
    again = recalc(tmp_path / "planned.xlsx", tmp_path / "again.xlsx")  # the file now holds the error already
    assert again.errors and all(e.preexisting for e in again.errors) and not again.introduced


def test_inputs_written_in_one_pass_read_back_as_fill_writes_them(tmp_path):
    # fill --recalc writes the input cells into the sheet text directly; the same scenario filled by fill()
    # (lxml, set_cells) must read back identically, cell by cell, text with markup characters and spaces included.
    from openpyxl import load_workbook

    from buildbuy.workbook.fill import fill_many

    base = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    a = resolve(dict({k: base[k] for k in base.given}, gpu_ownership="buy", product_market_fit=False,
                     name=" R&D <pilot> "))
    fill(a, tmp_path / "filled.xlsx")
    (done,) = fill_many([a], tmp_path / "one.xlsx", recalc_backend="formualizer", workers=1, progress=False)
    assert done.recalc[0] == 0
    for sheet in ("Inputs", "Risk"):
        want = list(load_workbook(tmp_path / "filled.xlsx")[sheet].iter_rows(values_only=True))
        got_ws = load_workbook(done.path)[sheet]
        got = list(got_ws.iter_rows(values_only=True))
        formulas = {c.coordinate for row in got_ws.iter_rows() for c in row if c.data_type == "f"}
        assert len(got) == len(want)
        for r, (w_row, g_row) in enumerate(zip(want, got, strict=True), 1):
            for c, (w, g) in enumerate(zip(w_row, g_row, strict=True), 1):
                from openpyxl.utils import get_column_letter

                if f"{get_column_letter(c)}{r}" not in formulas:
                    assert type(w) is type(g) and w == g, (sheet, r, c, w, g)


def test_helpers_agree_with_formualizer_on_float_boundaries():
    # The plan must give what the general path (formualizer) gives where float rounding decides the answer,
    # e.g. a GPU count CEILING(2.0000000000000004, 1) = 3 (Excel itself rounds to 15 digits first: a known gap
    # of both, listed in the README).
    import formualizer as fz

    cases = [("=CEILING(0.1*3*10,1)", lambda: x.CEILING(x.mul(x.mul(0.1, 3.0), 10.0), 1.0)),
             ("=CEILING(2.0000000000000004,1)", lambda: x.CEILING(2.0000000000000004, 1.0)),
             ("=INT(2.9999999999999996)", lambda: x.INT(2.9999999999999996)),
             ("=MOD(0.3,0.1)", lambda: x.MOD(0.3, 0.1)),
             ("=CEILING(LOG(4,2),1)", lambda: x.CEILING(x.LOG(4.0, 2.0), 1.0)),
             ("=CEILING(LOG(1000,10),1)", lambda: x.CEILING(x.LOG(1000.0, 10.0), 1.0)),
             ("=2^CEILING(LOG(3.0000000000000004,2),1)",
              lambda: x.power(2.0, x.CEILING(x.LOG(3.0000000000000004, 2.0), 1.0))),
             ("=(0.1+0.2)=0.3", lambda: x.eq(x.add(0.1, 0.2), 0.3)),
             ("=CEILING(3*1.1,1.1)", lambda: x.CEILING(x.mul(3.0, 1.1), 1.1)),
             ("=NPV(0.05,1,2,3)", lambda: x.NPV(0.05, [1.0, 2.0, 3.0]))]
    wb = fz.Workbook()
    wb.add_sheet("S")
    for i, (formula, _) in enumerate(cases, 1):
        wb.set_formula("S", i, 1, formula)
    wb.evaluate_all()
    for i, (formula, mine) in enumerate(cases, 1):
        assert wb.get_value("S", i, 1) == mine(), formula


# --- the registry's helpers for the plan: fast where they should be, equal to one call per cell -----------------


def _rows(a):
    from buildbuy.workbook.fill import input_values

    return [[k, v] for k, v in input_values(a).items()]


@pytest.mark.parametrize("key, values", [
    ("requests_per_day", [1_000.0, 50_000.0, 2_000_000.0]),
    ("daily_active_users", [10.0, 5_000.0, 80_000.0]),  # the volume follows the users
    ("requests_per_user_per_day", [0.5, 3.0, 40.0]),
    ("api_price_factor", [0.25, 1.0, 4.0]),
    ("gpu_usd_per_hour", [0.5, 2.5, 9.0]),
])
def test_sensitivity_many_equals_one_call_per_cell(key, values):
    from buildbuy.udfs import registry

    rows = _rows(read_scenarios(EXAMPLES / "regulated-saas.toml")[0])
    pairs = [(o, v) for o in ("API", "FINE-TUNE", "TRAIN", "PHASED") for v in values]
    got = registry.sensitivity_many(rows, key, pairs)
    want = [registry.invoke("BVB_SENSITIVITY", o, rows, key, v) for o, v in pairs]
    assert got == want


def test_sensitivity_many_keeps_each_bad_cells_message():
    from buildbuy.udfs import registry

    rows = _rows(read_scenarios(EXAMPLES / "regulated-saas.toml")[0])
    got = registry.sensitivity_many(rows, "api_price_factor", [("API", 1.0), ("API", -1.0), ("NOPE", 1.0)])
    assert got[0] == registry.invoke("BVB_SENSITIVITY", "API", rows, "api_price_factor", 1.0)
    assert got[1].code == "#VALUE!" and "api_price_factor" in got[1].message
    assert got[2].code == "#VALUE!" and "NOPE" in got[2].message


def test_the_plan_takes_its_fast_routes(monkeypatch, tmp_path):
    # Risk cells read one Monte Carlo's tables, sensitivity cells one resolve per input, timeline cells one
    # BVB_LINE_ITEMS per option: none of those cells may fall back to one registry call each.
    from buildbuy.udfs import registry

    calls: dict[str, int] = {}
    real = registry.invoke

    def counting(name, *args, **kw):
        calls[name] = calls.get(name, 0) + 1
        return real(name, *args, **kw)

    monkeypatch.setattr(registry, "invoke", counting)
    book = tmp_path / "filled.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], book)
    assert recalc_fast(book, tmp_path / "out.xlsx") is not None
    assert calls.get("BVB_RISK_CELL", 0) == 0
    assert calls.get("BVB_LINE_ITEM", 0) == 0 and calls.get("BVB_LINE_ITEMS", 0) <= 8
    assert calls.get("BVB_SENSITIVITY", 0) <= 2  # the Checks sheet's two calls inside IF(ISNA(...))


def test_cache_keys_tell_true_from_one():
    # TRUE == 1 in Python, but not as an input: a cached answer for one must never be served for the other.
    from buildbuy.udfs.registry import SharedArg, _key, _types

    a, b = SharedArg({"product_market_fit": True}), SharedArg({"product_market_fit": 1})
    assert _key(a) != _key(b) and _types(a) != _types(b)
    assert _key(a) == _key({"product_market_fit": True})  # the same key as the plain reading of the range
    assert _types(a) == _types({"product_market_fit": True})


def test_a_risk_run_is_kept_apart_for_inputs_that_only_compare_equal():
    from buildbuy.udfs import registry

    rows = _rows(read_scenarios(EXAMPLES / "regulated-saas.toml")[0])
    as_bool = [[k, v == "yes" if v in ("yes", "no") else v] for k, v in rows]
    as_number = [[k, float(v == "yes") if v in ("yes", "no") else v] for k, v in rows]  # TRUE == 1 in Python
    registry.clear_caches()
    registry.invoke("BVB_RISK", as_bool, None, "base_recommendation")
    registry.invoke("BVB_RISK", as_number, None, "base_recommendation")
    assert registry._risk_cached.cache_info().currsize == 2


@pytest.mark.parametrize("base, month, horizon", [(36, 1, 60), (36, 60, 60), (36, 61, 120), (120, 5, 120),
                                                  (60, 60, 60), (72, 119, 120)])
def test_timeline_horizon(base, month, horizon):
    # BVB_LINE_ITEM computes month m over max(horizon, m rounded up to whole 60-month blocks): worked by hand.
    from buildbuy.udfs.registry import timeline_horizon

    assert timeline_horizon(base, month) == horizon
