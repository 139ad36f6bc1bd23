"""Hypothesis properties of the cost model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildbuy.engine import costs, model, resolve
from buildbuy.engine.errors import NoSolutionError

from .strategies import scenarios

OPTS = model.OPTIONS


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_costs_are_non_negative(raw):
    a = resolve(raw)
    for o in OPTS:
        for name, item in model.line_items(o, a).items():
            assert np.all(item >= 0), (o, name)
        assert model.annual_cost(o, a) >= 0


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.booleans(), st.integers(0, 24), st.integers(0, 36))
def test_line_items_outside_an_options_list_are_always_zero(raw, train_ok, p2, p3_after):
    # The template shows only OPTION_LINE_ITEMS; the rest must be zero whatever the inputs (PHASED shows all).
    a = resolve(dict(raw, phase2_start_month=p2, phase3_start_month=p2 + p3_after,
                     corpus_tokens=2e11 if train_ok else 0, building_platform=train_ok,
                     domain_well_served=not train_ok, available_budget_usd=6e6, training_months=12))
    for o in OPTS:
        for name, item in model.line_items(o, a).items():
            if name not in model.OPTION_LINE_ITEMS[o]:
                assert not np.any(item), (o, name)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.floats(min_value=1.0, max_value=10.0))
def test_costs_monotone_in_volume(raw, factor):
    a = resolve(raw)
    b = resolve(dict(raw, requests_per_day=raw["requests_per_day"] * factor))
    for o in OPTS:
        assert model.tco(o, b) >= model.tco(o, a) * (1 - 1e-12) - 1e-9
        assert model.annual_cost(o, b) >= model.annual_cost(o, a) * (1 - 1e-12) - 1e-9


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.floats(min_value=1.0, max_value=10.0), st.floats(min_value=1.0, max_value=10.0))
def test_costs_monotone_in_prices(raw, api_factor, gpu_factor):
    a = resolve(raw)
    b = resolve(dict(raw, api_input_usd_per_mtok=raw["api_input_usd_per_mtok"] * api_factor,
                     api_output_usd_per_mtok=raw["api_output_usd_per_mtok"] * api_factor,
                     gpu_usd_per_hour=raw["gpu_usd_per_hour"] * gpu_factor))
    for o in OPTS:
        assert model.tco(o, b) >= model.tco(o, a) * (1 - 1e-12) - 1e-9


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from([("API", "FINE-TUNE"), ("FINE-TUNE", "API"), ("API", "TRAIN"),
                                     ("API", "PHASED"), ("TRAIN", "API")]))
def test_costs_equal_at_breakeven_volume(raw, pair):
    a = resolve(raw)
    try:
        v = model.breakeven_volume(a, *pair)
    except NoSolutionError:
        return
    assert v >= 0
    ca, cb = model.annual_cost(pair[0], a, v), model.annual_cost(pair[1], a, v)
    assert ca == pytest.approx(cb, rel=1e-6, abs=1e-6)
    # And it is the first crossing: just below it the cheaper option is the same as at zero volume.
    # (Differences below 1e-9 of the costs are float noise and say nothing about the sign.)
    if v > 0:
        lo = v * (1 - 1e-7)
        sign0 = np.sign(model.annual_cost(pair[0], a, 0.0) - model.annual_cost(pair[1], a, 0.0))
        la, lb = model.annual_cost(pair[0], a, lo), model.annual_cost(pair[1], a, lo)
        if abs(la - lb) > 1e-9 * max(abs(la), abs(lb), 1.0):
            assert np.sign(la - lb) == sign0


@settings(max_examples=60, deadline=None)
@given(st.lists(scenarios(), min_size=2, max_size=5))
def test_vectorized_equals_scalar(raws):
    # All scenarios share one horizon (it sets the month axis), everything else varies per scenario.
    horizon = raws[0]["horizon_months"]
    raws = [dict(r, horizon_months=horizon) for r in raws]
    vec = resolve({k: np.array([r[k] for r in raws], dtype=float) if k != "horizon_months" else horizon
                   for k in raws[0]})
    scalars = [resolve(r) for r in raws]
    for o in OPTS:
        np.testing.assert_allclose(model.tco(o, vec), [model.tco(o, s) for s in scalars], rtol=1e-12)
        np.testing.assert_allclose(model.npv(o, vec), [model.npv(o, s) for s in scalars], rtol=1e-12)
        np.testing.assert_allclose(model.annual_cost(o, vec), [model.annual_cost(o, s) for s in scalars],
                                   rtol=1e-12)
    be = model.breakeven_volume(vec, "API", "FINE-TUNE")
    for i, s in enumerate(scalars):
        try:
            expected = model.breakeven_volume(s, "API", "FINE-TUNE")
        except NoSolutionError:
            assert np.isnan(be[i])
        else:
            assert be[i] == pytest.approx(expected, rel=1e-12)
    bm = model.breakeven_month(vec, "API", "FINE-TUNE")
    for i, s in enumerate(scalars):
        try:
            assert bm[i] == model.breakeven_month(s, "API", "FINE-TUNE")
        except NoSolutionError:
            assert np.isnan(bm[i])


def test_primitives_broadcast():
    rpd = np.array([0.0, 50_000.0, 1e6])
    np.testing.assert_allclose(costs.api_annual_cost_usd(rpd, 400, 100, 10, 10), rpd * 0.005 * 365)
    out = costs.selfhost_annual_cost_usd(rpd[:, None], 500, np.array([1.0, 2.0]), 2_500)
    assert out.shape == (3, 2)


def test_large_sweep_is_one_call():
    n = 100_000
    rng = np.random.default_rng(7)
    a = resolve(requests_per_day=rng.uniform(0, 1e6, n), api_input_usd_per_mtok=rng.uniform(1, 15, n))
    t = model.tco("FINE-TUNE", a)
    assert t.shape == (n,) and np.all(t > 0)
