"""The engine's kept figures (``model._recent``): a scenario's API price per request, serving plans, run-rate
coefficients, month-end totals and crossings are computed once and kept for the last few scenarios, by
identity. These tests pin what that must never change: the same numbers as a fresh computation, never one
scenario's figure for another, arrays a caller cannot spoil, a bounded size. Plus the small helpers that came
with it (``_sorted_unique``, ``uncertainty._stats``, ``uncertainty._rank_correlation``). Expected numbers are
worked by hand in the comments."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from buildbuy.engine import model, resolve, uncertainty
from buildbuy.engine.errors import NoSolutionError

# Every hidden cost off, so that single line items can be read by hand (as in test_known_answers).
BARE = dict(ml_engineers=0, mlops_usd_per_year=0, eval_usd_per_year=0, opportunity_cost_usd_per_month=0,
            retrain_every_months=0, api_fallback_share=0)


def _price(tokens_in: float, tokens_out: float) -> dict:
    # $10 per million input tokens, $30 per million output tokens, no cached input.
    return dict(input_tokens_per_request=tokens_in, output_tokens_per_request=tokens_out,
                api_input_usd_per_mtok=10, api_output_usd_per_mtok=30, api_cached_input_share=0)


def _counting(monkeypatch, name: str) -> list:
    """Wrap model.<name> (the uncached worker) so that each real computation is recorded."""
    calls: list = []
    real = getattr(model, name)

    def wrapper(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(model, name, wrapper)
    return calls


# ----------------------------------------------------------------------------------- same numbers
def test_kept_api_price_is_the_hand_worked_price_for_each_scenario():
    # 1,000 input tokens x $10/M = $0.010; 200 output tokens x $30/M = $0.006; $0.016 a request.
    # 400 input x $10/M = $0.004; 100 output x $30/M = $0.003; $0.007 a request.
    a, b = resolve(_price(1_000, 200)), resolve(_price(400, 100))
    for _ in range(2):  # the second round is answered from the kept figures
        assert model.api_cost_per_request_usd(a) == pytest.approx(0.016, rel=1e-12)
        assert model.api_cost_per_request_usd(b) == pytest.approx(0.007, rel=1e-12)


def test_kept_figures_equal_those_of_a_fresh_scenario():
    # Every kept figure, asked twice of one scenario, equals the figure of a freshly resolved copy of it (a new
    # object, so nothing kept applies) - and the break-even volume keeps its hand-worked value
    # (test_known_answers: (825,000 + 4 x 24,000) / 1.6425 requests/day).
    inputs = dict(tokens_per_second_per_gpu=2_500)
    a = resolve(inputs)
    for _ in range(2):
        fresh = resolve(inputs)
        assert model.breakeven_volume(a, "API", "FINE-TUNE") == pytest.approx(921_000 / 1.6425, rel=1e-9)
        assert model._linear_terms("FINE-TUNE", a) == model._linear_terms("FINE-TUNE", fresh)
        assert model.serving_plan(a) == model.serving_plan(fresh)
        assert model._train_plan(a) == model._train_plan(fresh)
        for got, want in zip(model._cumulative_at_month_ends("FINE-TUNE", a),
                             model._cumulative_at_month_ends("FINE-TUNE", fresh), strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(model.monthly_cost("FINE-TUNE", a), model.monthly_cost("FINE-TUNE", fresh))


def test_breakeven_month_of_each_scenario_by_hand():
    # As test_known_answers.test_breakeven_month_by_hand: API $3,000 a month against FINE-TUNE's $10,000 at the
    # start plus $1,000 a month: equal at 10,000 / (3,000 - 1,000) = 5.0 months. With the fine-tune run at
    # $20,000 instead: 20,000 / 2,000 = 10.0 months. Asked alternately, each scenario keeps its own answer.
    def scenario(training_usd: float):
        return resolve(dict(BARE, requests_per_day=3_000 * 12 / 365 / 0.001, input_tokens_per_request=100,
                            output_tokens_per_request=0, api_input_usd_per_mtok=10,
                            finetune_training_usd=training_usd, finetune_months=0, gpu_usd_per_hour=1_000 / 730,
                            tokens_per_second_per_gpu=1e6, min_gpus=1, horizon_months=12))

    a, b = scenario(10_000), scenario(20_000)
    for _ in range(2):
        assert model.breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(5.0, rel=1e-12)
        assert model.breakeven_month(b, "API", "FINE-TUNE") == pytest.approx(10.0, rel=1e-12)
        assert model.lasting_breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(5.0, rel=1e-12)
        assert model.lasting_breakeven_month(b, "API", "FINE-TUNE") == pytest.approx(10.0, rel=1e-12)


# ----------------------------------------------------------------------------------- never another's figure
def test_a_new_scenario_is_never_served_a_dead_ones_figure():
    # Kept figures are keyed by id(scenario). Once a scenario is freed, CPython gives its address (its id) to
    # the next object of the same size - very often the next scenario. Each new scenario must still get its
    # own price: n input tokens at $10/M plus 100 output tokens at $30/M = (10 n + 3,000) / 1e6 dollars.
    for n in range(100, 4_100, 100):
        a = resolve(_price(n, 100))
        assert model.api_cost_per_request_usd(a) == pytest.approx((10 * n + 3_000) / 1e6, rel=1e-12)
        assert model.serving_plan(a).memory_needed_gb == pytest.approx(
            # 8e9 parameters x 2 bytes = 16 GB; KV cache 131,072 bytes x (n + 100) tokens x 32 sequences.
            16 + 131_072 * (n + 100) * 32 / 1e9, rel=1e-12)
        del a
        gc.collect()
    # (How often an id comes back is up to the allocator - a few times in 40 here; the next test plants the
    # same situation for certain.)


def test_a_kept_entry_of_a_dead_scenario_under_the_same_id_is_not_used():
    # The state left behind when a scenario dies and a new one is given its id: an entry under the new
    # scenario's key whose weak reference no longer points to it. It must be recomputed, not served.
    b = resolve(_price(1_000, 200))  # $0.016 a request (worked above)
    ghost = resolve(_price(400, 100))
    dead = weakref.ref(ghost)
    del ghost
    gc.collect()
    assert dead() is None
    model._RECENT_FIGURES[("api_cost_per_request", id(b), ())] = (dead, 123.0)
    try:
        assert model.api_cost_per_request_usd(b) == pytest.approx(0.016, rel=1e-12)
    finally:
        model._RECENT_FIGURES.pop(("api_cost_per_request", id(b), ()), None)


def test_a_plain_mapping_is_answered_but_not_kept():
    # A plain dict cannot be weakly referenced: its figure is computed every time and never kept, so changing
    # the dict changes the answer. 400 x $10/M + 100 x $30/M = $0.007; with 1,000 input tokens $0.013.
    raw = dict(resolve(_price(400, 100)))
    assert model.api_cost_per_request_usd(raw) == pytest.approx(0.007, rel=1e-12)
    raw["input_tokens_per_request"] = 1_000.0
    assert model.api_cost_per_request_usd(raw) == pytest.approx(0.013, rel=1e-12)


# ----------------------------------------------------------------------------------- computed once
@pytest.mark.parametrize("worker, ask", [
    ("_api_cost_per_request_usd", lambda a: model.api_cost_per_request_usd(a)),
    ("_serving_plan", lambda a: model.serving_plan(a)),
    ("_serving_plan", lambda a: model._train_plan(a)),
    ("_linear_terms_of", lambda a: model._linear_terms("FINE-TUNE", a)),
    ("_month_ends", lambda a: model._cumulative_at_month_ends("FINE-TUNE", a)),
    ("_crossings", lambda a: model._pair_crossings(a, "API", "FINE-TUNE")),
])
def test_each_figure_is_computed_once_per_scenario(monkeypatch, worker, ask):
    # Asked of a, b, a, b, a: computed once for a and once for b (the other's figure in between does not push
    # it out), and the answers are those of the first asking.
    calls = _counting(monkeypatch, worker)
    a, b = resolve(_price(1_000, 200)), resolve(_price(400, 100))
    first = {id(a): ask(a), id(b): ask(b)}
    n = len(calls)
    assert n >= 2
    for s in (a, b, a):
        got = ask(s)
        assert got is first[id(s)]
    assert len(calls) == n


def test_serving_plan_of_another_model_is_not_the_kept_default():
    # serving_plan(a, model, active) sizes the model given; only serving_plan(a) is kept. By hand:
    # 70e9 parameters x 2 bytes = 140 GB, + KV cache 131,072 x 500 tokens x 32 = 2.097152 GB -> 142.097152 GB;
    # / (80 GB x 0.9 usable) = 1.97 -> 2 GPUs a replica. The default 8e9 model: 16 + 2.097152 = 18.097152 GB,
    # one GPU.
    a = resolve()
    default = model.serving_plan(a)  # kept first, so that a wrong branch would serve it
    assert default.memory_needed_gb == pytest.approx(18.097152, rel=1e-12) and default.gpus_per_replica == 1
    big = model.serving_plan(a, 70e9, 70e9)
    assert big.memory_needed_gb == pytest.approx(142.097152, rel=1e-12) and big.gpus_per_replica == 2
    # Both parameters, and each alone (the other from the scenario), equal the default plan of a scenario whose
    # inputs say the same.
    assert big == model.serving_plan(resolve(serving_model_parameters=70e9, serving_active_parameters=70e9))
    dense_70 = model.serving_plan(a, 70e9)
    assert dense_70.memory_needed_gb == pytest.approx(142.097152, rel=1e-12)
    assert dense_70 == model.serving_plan(resolve(serving_model_parameters=70e9, serving_active_parameters=8e9))
    sparse = model.serving_plan(a, active_parameters=2e9)
    assert sparse == model.serving_plan(resolve(serving_active_parameters=2e9))
    # 2e9 active of 8e9: less read per token than the dense default, so fewer replicas per request/day.
    assert sparse.replicas_per_request_per_day < default.replicas_per_request_per_day
    assert model.serving_plan(a) is default


# ----------------------------------------------------------------------------------- arrays kept read-only
def test_a_caller_cannot_spoil_a_kept_array():
    # A sweep over volume: the kept month-end totals and crossings are arrays. Writing into them must fail, so
    # that the next asker still gets the scenario's own numbers (equal to a fresh copy's).
    inputs = dict(requests_per_day=np.array([1e4, 1e5, 1e6]))
    a = resolve(inputs)
    kept = model._cumulative_at_month_ends("API", a) + model._pair_crossings(a, "API", "FINE-TUNE")
    assert len(kept) == 4
    for x in kept:
        with pytest.raises(ValueError):
            x[...] = 0.0
    fresh = resolve(inputs)
    for got, want in zip(model._cumulative_at_month_ends("API", a) + model._pair_crossings(a, "API", "FINE-TUNE"),
                         model._cumulative_at_month_ends("API", fresh)
                         + model._pair_crossings(fresh, "API", "FINE-TUNE"), strict=True):
        np.testing.assert_array_equal(got, want)


def test_break_even_months_of_a_sweep_are_the_callers_own():
    # The public answer is a copy: the caller may change it, and the next answer is unchanged.
    a = resolve(requests_per_day=np.array([1e4, 1e5, 1e6]))
    first = model.breakeven_month(a, "API", "FINE-TUNE")
    want = first.copy()
    assert first.flags.writeable
    first[...] = -1.0
    np.testing.assert_array_equal(model.breakeven_month(a, "API", "FINE-TUNE"), want)
    assert np.isnan(want[0]) and np.isfinite(want[2])  # 10,000 requests/day never pays back; 1e6 does


# ----------------------------------------------------------------------------------- bounded
def test_kept_figures_are_bounded_and_the_newest_stay(monkeypatch):
    # 100 live scenarios, each asked its price: never more than _RECENT_FIGURES_SIZE (64) figures kept; the
    # newest is answered again without computing, the oldest has gone and is computed again.
    calls = _counting(monkeypatch, "_api_cost_per_request_usd")
    scenarios = [resolve(_price(100 + n, 100)) for n in range(100)]
    for s in scenarios:
        model.api_cost_per_request_usd(s)
        assert len(model._RECENT_FIGURES) <= model._RECENT_FIGURES_SIZE
    assert len(model._RECENT_FIGURES) == model._RECENT_FIGURES_SIZE == 64
    assert len(calls) == 100
    # 199 input tokens x $10/M + 100 output x $30/M = $0.00499; 100 x $10/M + $0.003 = $0.004.
    assert model.api_cost_per_request_usd(scenarios[-1]) == pytest.approx(0.00499, rel=1e-12)
    assert len(calls) == 100
    assert model.api_cost_per_request_usd(scenarios[0]) == pytest.approx(0.004, rel=1e-12)
    assert len(calls) == 101


# ----------------------------------------------------------------------------------- _sorted_unique
@pytest.mark.parametrize("x, want", [
    ([], []),
    ([5.0], [5.0]),
    ([2.0, 2.0], [2.0]),
    ([3.0, 1.0, 2.0, 3.0, 1.0], [1.0, 2.0, 3.0]),
    ([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # a repeat after the first value
    ([7.0, 7.0, 7.0, 7.0], [7.0]),
    ([-1.5, 0.0, -1.5, 1e12, 0.5], [-1.5, 0.0, 0.5, 1e12]),
    ([[3.0, 1.0], [1.0, 2.0]], [1.0, 2.0, 3.0]),  # flattened, as np.union1d does
])
def test_sorted_unique_by_hand_and_as_union1d(x, want):
    arr = np.array(x, dtype=float)
    got = model._sorted_unique(arr)
    np.testing.assert_array_equal(got, np.array(want, dtype=float))
    np.testing.assert_array_equal(got, np.union1d(arr, np.array([], dtype=float)))



def test_breakeven_volume_many_replicas_with_half_the_traffic_on_the_api():
    # The merged breakpoints are searched in served volume (requests/day x share served): with half the
    # traffic left on the API (share 0.5) and a break-even at 21 replicas, every step near it must be found.
    # API: $0.005 a request (400 + 100 tokens at $10/M) x 365 = $1.825 a year per request/day. FINE-TUNE:
    # $4,450,000 a year fixed (MLOps), half the requests still on the API ($0.9125), and $24,000 a GPU-year;
    # one GPU serves 86,400 s x 2,500 tokens/s x 0.6 / (500 tokens x 2 peak) = 129,600 served requests/day,
    # so 259,200 requests/day of demand: n = ceil(v / 259,200).
    # 1.825 v = 4,450,000 + 0.9125 v + 24,000 n  ->  v = (4,450,000 + 24,000 n) / 0.9125.
    # n = 21: v = 4,954,000 / 0.9125 = 5,429,041.10, and 5,429,041 / 259,200 = 20.95 -> 21 replicas: consistent.
    # (n = 22 would give 5,455,342.47, past the 22nd step at 21 x 259,200 = 5,443,200: not consistent.)
    a = resolve(dict(BARE, api_fallback_share=0.5, mlops_usd_per_year=4_450_000, tokens_per_second_per_gpu=2_500))
    for oa, ob in (("API", "FINE-TUNE"), ("FINE-TUNE", "API")):
        assert model.breakeven_volume(a, oa, ob) == pytest.approx(4_954_000 / 0.9125, rel=1e-9)


def test_breakeven_volume_when_all_traffic_stays_on_the_api():
    # api_fallback_share 1: FINE-TUNE serves nothing (share served 0) yet keeps its one GPU. With a free API
    # (prices $0) the API costs $0 at every volume and FINE-TUNE $24,000 a year (the GPU): they never cross.
    a = resolve(dict(BARE, api_fallback_share=1.0, api_input_usd_per_mtok=0, api_output_usd_per_mtok=0,
                     tokens_per_second_per_gpu=2_500))
    for v in (0.0, 1e5, 1e9):
        assert model.annual_cost("API", a, v) == 0.0
        assert model.annual_cost("FINE-TUNE", a, v) == pytest.approx(24_000, rel=1e-12)
    for oa, ob in (("API", "FINE-TUNE"), ("FINE-TUNE", "API")):
        with pytest.raises(NoSolutionError):
            model.breakeven_volume(a, oa, ob)

def test_sorted_unique_of_two_plans_breakpoints_matches_union1d():
    rng = np.random.default_rng(7)
    for _ in range(50):
        p = np.round(rng.uniform(0, 10, rng.integers(0, 30)), 1)  # rounded, so that the two share values
        q = np.round(rng.uniform(0, 10, rng.integers(0, 30)), 1)
        np.testing.assert_array_equal(model._sorted_unique(np.concatenate((p, q))), np.union1d(p, q))


# ----------------------------------------------------------------------------------- uncertainty helpers
@pytest.mark.parametrize("x", [np.array([5.0]), np.array([0.1, 0.1]), np.full(1_000, -2_345.678)])
def test_stats_of_a_constant_array(x):
    # Every draw the same: each percentile is that value (as np.percentile gives it), and so is the mean.
    got = uncertainty._stats(x)
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    assert got == {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(np.mean(x))}
    assert got["p10"] == got["p50"] == got["p90"] == float(x[0])


def test_stats_of_varying_draws_by_hand():
    # 1..11: linear percentiles at positions 0.1 x 10 = 1, 5, 9 -> 2, 6, 10; mean 66 / 11 = 6.
    got = uncertainty._stats(np.arange(1.0, 12.0))
    assert got == {"p10": 2.0, "p50": 6.0, "p90": 10.0, "mean": 6.0}
    # Two values only: p10 = 0 + 0.1 x 10 = 1, p50 = 5, p90 = 9; mean 5.
    assert uncertainty._stats(np.array([0.0, 10.0])) == pytest.approx({"p10": 1.0, "p50": 5.0, "p90": 9.0,
                                                                       "mean": 5.0}, rel=1e-12)


def test_rank_correlation_by_hand():
    diff = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    rows = uncertainty._rank_correlation({
        "same": np.array([10.0, 30.0, 20.0, 50.0, 40.0]),  # same ranks as diff: rho = 1
        "partial": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        # rank differences 0, -1, 1, -1, 1: sum of squares 4; rho = 1 - 6 x 4 / (5 x (25 - 1)) = 0.8
        "reversed": np.array([-1.0, -3.0, -2.0, -5.0, -4.0]),  # rho = -1
        "constant": np.full(5, 7.0),  # no spread: reported as 0, not NaN
    }, diff)
    assert [r["input"] for r in rows] == ["reversed", "same", "partial", "constant"]  # by |rho|, then name
    got = {r["input"]: r["rank_correlation"] for r in rows}
    assert got == pytest.approx({"same": 1.0, "partial": 0.8, "reversed": -1.0, "constant": 0.0}, abs=1e-12)


def test_rank_correlation_with_no_spread_in_the_difference():
    # The NPV difference the same in every draw: nothing explains it; every input gets 0 (not NaN).
    rows = uncertainty._rank_correlation({"x": np.array([1.0, 2.0, 3.0]), "y": np.array([1.0, 0.5, 2.0])},
                                         np.full(3, 4.0))
    assert rows == [{"input": "x", "rank_correlation": 0.0}, {"input": "y", "rank_correlation": 0.0}]


def test_a_kept_serving_plans_arrays_are_read_only_on_sweeps():
    # A sweep's serving plan holds arrays; kept for the scenario, they must not be changed in place by a caller
    # (the next answer for that scenario would read the change).
    import numpy as np

    from buildbuy.engine import model, resolve

    a = resolve({"requests_per_day": np.array([1e4, 1e6]), "gpu_memory_gb": np.array([24.0, 80.0])})
    plan = model.serving_plan(a)
    from dataclasses import fields

    arrays = [getattr(plan, f.name) for f in fields(plan) if isinstance(getattr(plan, f.name), np.ndarray)]
    assert arrays and not any(x.flags.writeable for x in arrays)
    assert model.serving_plan(a) is plan
