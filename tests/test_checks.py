"""The Checks sheet is independent of the engine: a wrong engine line item moves the master check off 0."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from buildbuy.engine import model, read_scenarios, resolve
from buildbuy.udfs import registry
from buildbuy.workbook.fill import fill
from buildbuy.workbook.recalc import recalc

from .test_cli import EXAMPLES


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("checks") / "regulated-saas.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], path)
    return path


@pytest.fixture(scope="module")
def bought(tmp_path_factory):
    """Bought GPUs replaced every 12 months over 60 months of growing traffic: purchases, replacements and
    depreciation all non-zero."""
    path = tmp_path_factory.mktemp("checks") / "buy.xlsx"
    fill(resolve(name="buy", gpu_ownership="buy", gpu_useful_life_months=12, daily_active_users=20_000,
                 monthly_growth_rate=0.05, horizon_months=60), path)
    return path


def _recalc_with(monkeypatch, filled, tmp_path, item, factor):
    """Recalculate the filled template with the engine's ``item`` line item scaled by ``factor``."""
    real = model.line_items

    def skewed(option, a):
        items = dict(real(option, a))
        items[item] = items[item] * factor
        return items

    monkeypatch.setattr(model, "line_items", skewed)
    registry.clear_caches()
    try:
        return recalc(filled, tmp_path / f"{item}.xlsx", backend="formualizer")
    finally:
        monkeypatch.undo()
        registry.clear_caches()


def test_the_unchanged_engine_passes(monkeypatch, filled, tmp_path):
    assert _recalc_with(monkeypatch, filled, tmp_path, "api_usage", 1.0).check_total == 0


def test_the_unchanged_engine_passes_with_bought_gpus(monkeypatch, bought, tmp_path):
    report = _recalc_with(monkeypatch, bought, tmp_path, "hardware_purchase", 1.0)
    assert report.check_total == 0
    ws = load_workbook(report.path, data_only=True)["Checks"]
    capex = next(r for r in range(5, ws.max_row + 1) if "capex" in str(ws[f"A{r}"].value))
    assert ws[f"B{capex}"].value > 0 and ws[f"C{capex}"].value == pytest.approx(ws[f"B{capex}"].value)


@pytest.mark.parametrize("book, item", [("filled", "api_usage"), ("filled", "gpu_rental"), ("filled", "ml_team"),
                                        ("bought", "hardware_purchase")])
def test_one_line_item_off_by_one_percent_fails_the_checks(monkeypatch, request, tmp_path, book, item):
    report = _recalc_with(monkeypatch, request.getfixturevalue(book), tmp_path, item, 1.01)
    assert report.check_total not in (None, 0), item
    # The failing check is the native recomputation of that line item (the engine still agrees with itself).
    ws = load_workbook(report.path, data_only=True)["Checks"]
    failing = [ws[f"A{r}"].value for r in range(5, ws.max_row + 1) if ws[f"D{r}"].value == 1]
    assert any("native recomputation" in text for text in failing), failing


def test_npv_check_uses_excels_npv_over_the_calculations_rows():
    from buildbuy.workbook.template import TEMPLATE_PATH

    ws = load_workbook(TEMPLATE_PATH)["Checks"]
    npv_rows = [r for r in range(5, ws.max_row + 1) if "NPV" in str(ws[f"A{r}"].value)]
    assert len(npv_rows) == 4
    for r in npv_rows:
        native = ws[f"C{r}"].value
        assert native.startswith("=NPV(") and "Calculations!" in native and "BVB_" not in native, native
