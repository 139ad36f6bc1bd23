"""Properties of the cost model v2 and of the recommendation, over generated scenarios (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildbuy.engine import model, recommend, resolve
from buildbuy.engine.decision import choose

from .strategies import scenarios_v2

SELF_HOSTED = ("FINE-TUNE", "TRAIN", "PHASED")


@settings(max_examples=80, deadline=None)
@given(scenarios_v2())
def test_steady_month_times_twelve_is_the_annual_run_rate(raw):
    # Flat volume and prices, no periodic refresh runs, a long horizon: a late month of the P&L view (bought
    # hardware as depreciation) is the steady state, and twelve of them are the annual run-rate.
    raw = dict(raw, monthly_growth_rate=0.0, api_price_change_per_year=0.0, retrain_every_months=0,
               repretrain_every_months=0, horizon_months=60, finetune_months=1, training_months=2,
               phase2_start_month=0, phase3_start_month=0, reserved_term_months=1)
    a = resolve(raw)
    for o in ("API", "FINE-TUNE", "TRAIN"):
        month = model.pnl_monthly_cost(o, a)[-1]
        assert month * 12 == pytest.approx(model.annual_cost(o, a), rel=1e-9, abs=1e-6), o


@settings(max_examples=60, deadline=None)
@given(scenarios_v2())
def test_training_compute_line_sums_to_the_run_cost(raw):
    a = resolve(dict(raw, horizon_months=60))
    li = model.line_items("TRAIN", a)
    assert li["training_compute"].sum() == pytest.approx(model.training_run_cost_usd(a), rel=1e-9)
    # One run, with its overhead factor: GPU-hours x overhead x price.
    assert model.training_run_cost_usd(a) == pytest.approx(
        model.training_gpu_hours(a) * a.training_overhead_factor * a.training_gpu_usd_per_hour, rel=1e-12)


@settings(max_examples=80, deadline=None)
@given(scenarios_v2(), st.sampled_from([("API", "FINE-TUNE"), ("FINE-TUNE", "TRAIN"), ("TRAIN", "API")]))
def test_breakeven_volume_equal_costs_for_any_stepped_terms(raw, pair):
    # FINE-TUNE and TRAIN serve different models, so their GPUs step at different volumes and cost differently.
    from buildbuy.engine.errors import NoSolutionError

    a = resolve(raw)
    try:
        v = model.breakeven_volume(a, *pair)
    except NoSolutionError:
        return
    ca, cb = model.annual_cost(pair[0], a, v), model.annual_cost(pair[1], a, v)
    if ca != pytest.approx(cb, rel=1e-6, abs=1e-6):
        # Only at a step: just above it the other option is cheaper than just below.
        # (At volume 0 the step is the first replica, needed by any traffic at all: compare 0 with just above.)
        lo, hi = v * (1 - 1e-9), max(v * (1 + 1e-9), v + 1e-9)
        below = np.sign(model.annual_cost(pair[0], a, lo) - model.annual_cost(pair[1], a, lo))
        above = np.sign(model.annual_cost(pair[0], a, hi) - model.annual_cost(pair[1], a, hi))
        assert below != above


@settings(max_examples=120, deadline=None)
@given(scenarios_v2())
def test_no_finding_contradicts_the_numbers(raw):
    rec = recommend(resolve(raw))
    for f in rec.findings:
        if f.claim is not None:
            cheaper, dearer = f.claim
            assert rec.npv_usd[cheaper] <= rec.npv_usd[dearer], f.sentence
    if rec.feasible[rec.layer]:
        assert rec.cheapest_feasible is not None
        assert rec.premium_usd >= 0
        assert rec.premium_usd == pytest.approx(rec.npv_usd[rec.layer] - rec.npv_usd[rec.cheapest_feasible])
        if rec.layer != rec.cheapest_feasible:
            assert "more than" in rec.decision_sentence
        for o, npv in rec.npv_usd.items():
            if rec.feasible[o]:
                assert npv >= rec.npv_usd[rec.cheapest_feasible]
    else:
        assert "NO-FEASIBLE" in rec.deciding_rules
    # TRAIN only when earned.
    if rec.layer == "TRAIN":
        assert all(rec.train_conditions.values())


@settings(max_examples=80, deadline=None)
@given(scenarios_v2(), st.floats(min_value=1.0, max_value=100.0))
def test_more_volume_never_moves_back_to_the_api(raw, factor):
    raw = dict(raw, available_budget_usd=0)  # a budget caps every option's TCO, so volume can rule options out
    a = resolve(raw)
    b = resolve(dict(raw, requests_per_day=raw["requests_per_day"] * factor))
    ra, rb = str(choose(a)["recommendation"]), str(choose(b)["recommendation"])
    if ra in SELF_HOSTED:
        assert rb != "API", (ra, rb)


@settings(max_examples=80, deadline=None)
@given(scenarios_v2(), st.floats(min_value=1.0, max_value=100.0))
def test_dearer_api_never_moves_toward_the_api(raw, factor):
    raw = dict(raw, available_budget_usd=0)
    a = resolve(raw)
    b = resolve(dict(raw, api_input_usd_per_mtok=raw["api_input_usd_per_mtok"] * factor,
                     api_output_usd_per_mtok=raw["api_output_usd_per_mtok"] * factor))
    ra, rb = str(choose(a)["recommendation"]), str(choose(b)["recommendation"])
    if ra in SELF_HOSTED:
        assert rb != "API", (ra, rb)


@settings(max_examples=40, deadline=None)
@given(st.lists(scenarios_v2(), min_size=2, max_size=4))
def test_choose_vectorized_equals_recommend(raws):
    horizon = raws[0]["horizon_months"]
    raws = [dict(r, horizon_months=horizon) for r in raws]
    keys = raws[0].keys()
    vec = resolve({k: (np.array([r[k] for r in raws], dtype=float) if isinstance(raws[0][k], float)
                       and k != "horizon_months" else raws[0][k]) for k in keys})
    # Only the float inputs vary across the sweep; the others take the first scenario's value.
    same = [dict(r, **{k: raws[0][k] for k in keys if not isinstance(raws[0][k], float) or k == "horizon_months"})
            for r in raws]
    picked = choose(vec)
    for i, r in enumerate(same):
        rec = recommend(resolve(r))
        assert picked["recommendation"][i] == rec.layer
        assert (picked["cheapest_feasible"][i] or None) == rec.cheapest_feasible
