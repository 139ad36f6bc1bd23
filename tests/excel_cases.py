"""One example call per BVB function (tests iterate this table, so no function goes untested).

``A`` stands for the assumptions range. Each case: (function, args, expected value or None to only compare
backends with the direct call, how the expected value was worked out). An expected value is a number, text or
table worked out by hand (or read from the article, a datasheet, a model card), or a check function that asserts
hand-worked facts about a table; never the function under test called again.
"""

from __future__ import annotations

from buildbuy.engine.model import LINE_ITEMS

A = object()  # placeholder for the assumptions range
RD = object()  # placeholder for a ranges table whose one range is a single value
RU = object()  # placeholder for a ranges table with one uniform range

#: The ranges tables the risk cases use (as on a sheet: input, dist, low, mode, high).
RANGE_TABLES = {
    RD: [["api_input_usd_per_mtok", "uniform", 10.0, None, 10.0]],
    RU: [["api_input_usd_per_mtok", "uniform", 5.0, None, 15.0]],
}

#: The assumptions range the cases use (a two-column key/value table, as on a sheet): the article's worked example
#: (1,000 users x 50 requests x 500 tokens at $10/M = $91,250/year), regulated with data residency, post-PMF,
#: with the build side reduced to one GPU and one fixed cost, so every option can be worked out by hand (no ML
#: team, evaluation or fine-tuning runs; MLOps $58,125/year).
ASSUMPTIONS = [
    ["daily_active_users", 1000.0],
    ["requests_per_user_per_day", 50.0],
    ["regulated_industry", True],
    ["data_residency_required", True],
    ["differentiator", "model"],
    ["product_market_fit", True],
    ["labeled_examples", 20000.0],
    ["latency_requirement_ms", None],  # blank: takes the default
    ["ml_engineers", 0.0],
    ["eval_usd_per_year", 0.0],
    ["finetune_training_usd", 0.0],
    ["mlops_usd_per_year", 58125.0],
]

# ---- worked by hand (not by the engine): monthly flows of each option over the default 36-month horizon ----
_API_MONTH = 91_250 / 12                 # $250/day x 365 / 12
_MLOPS_MONTH = 58_125 / 12               # from project start
#: One rented GPU at $24,000/8,760 an hour x 730 h. Sizing by hand for the default 8B BF16 model on an 80 GB GPU:
#: weights 16 GB + KV cache 131,072 B/token x 500 tokens x 32 sequences = 2.1 GB, under 72 GB usable: one GPU per
#: replica; decode 32 x 2,039 GB/s / 18.1 GB x 0.5 = 1,802.7 tokens/s, prefill 312 TFLOP/s x 0.4 / 16 GFLOP =
#: 7,800 tokens/s, so a request takes 400/7,800 + 100/1,802.7 = 0.1068 s of a replica; at the peak (2x) and 60%
#: utilisation 50,000 requests/day need 50,000 x 30.42 / 2,628,000 x 2 x 0.1068 / 0.6 = 0.21 replicas: one GPU.
_GPU_MONTH = 2_000.0
#: Residency without a compliant hosted API: no traffic falls back to the API once the own model serves.
_SERVED_MONTH = _GPU_MONTH + _MLOPS_MONTH   # $6,843.75
#: Pre-training: 6 x 7e9 parameters x 1.4e11 tokens = 5.88e21 FLOPs at 312 TFLOP/s x 0.4 MFU = 13,087.6 GPU-hours
#: at $24,000 / 8,760 per hour, times the 1.5 overhead factor, spread over 12 months; post-training $250,000 in the
#: last training month (the pre-trained 7B model also fits one GPU).
_TRAIN_COMPUTE = 6 * 7e9 * 1.4e11 / (312e12 * 0.4) / 3600 * (24_000 / 8_760) * 1.5
_FLOWS = {
    "API": [_API_MONTH] * 36,
    "FINE-TUNE": [_API_MONTH + _MLOPS_MONTH] * 2 + [_SERVED_MONTH] * 34,          # 2 months of fine-tuning
    "TRAIN": [_API_MONTH + _MLOPS_MONTH + _TRAIN_COMPUTE / 12] * 11
    + [_API_MONTH + _MLOPS_MONTH + _TRAIN_COMPUTE / 12 + 250_000] + [_SERVED_MONTH] * 24,
    # phase 2 from month 6, when the API bill ($91,250/year) passes its $50,000 trigger
    "PHASED": [_API_MONTH] * 6 + [_API_MONTH + _MLOPS_MONTH] * 2 + [_SERVED_MONTH] * 28,
}
#: FINE-TUNE's cumulative excess over the API after its two building months (2 x MLOps) shrinks by the monthly
#: saving of $760.42 (the API's $7,604.17 against $6,843.75): break-even 2 + 9,687.50 / 760.42 = 14.74 months.
_FT_BREAKEVEN_MONTH = 2 + 2 * _MLOPS_MONTH / (_API_MONTH - _SERVED_MONTH)


def _npv(flows: list[float]) -> float:
    """End-of-month discounting at 10%/year, written out: sum f_m / 1.1^((m + 1) / 12)."""
    return sum(f / 1.1 ** ((m + 1) / 12) for m, f in enumerate(flows))


#: Run-rates: the API $91,250; the self-hosted options $58,125 of MLOps + $24,000 for the GPU = $82,125.
_COMPARE = [["option", "annual_cost_usd", "tco_usd", "npv_usd", "latency_ms"]] + [
    [o, 91_250.0 if o == "API" else 82_125.0, sum(f), _npv(f), 1000.0 if o == "API" else 100.0]
    for o, f in _FLOWS.items()]


def _reasons_check(got):
    """Worked from the rules by hand: Q1 (in the model), Q2 ($91,250 > $50K), Q3 (regulated), 20K examples for
    FINE-TUNE; frontier fast, domain served, public data for the API; prompting untried, no rebase plan, and
    residency from day one while the fine-tune serves from month 2."""
    assert all(len(row) == 3 and row[1] in ("reason", "warning") for row in got), got
    assert got[0][0] == "Q1-IN-MODEL"
    ids = {row[0] for row in got}
    assert {"Q1-IN-MODEL", "Q2-SPEND-50K", "Q3-REGULATED", "M-EXAMPLES-10K", "Q4-FRONTIER-FAST",
            "M-DOMAIN-SERVED", "M-DATA-PUBLIC"} <= ids, ids
    assert {"W-PROMPTING-NOT-TRIED", "W-NO-REBASE-PLAN", "W-INTERIM-API"} <= {
        row[0] for row in got if row[1] == "warning"}
    assert "Q2-SPEND-500K" not in ids and "M-PRE-PMF" not in ids


def _sentence_check(got):
    """Residency rules out the API and PHASED (it starts on the API), no corpus rules out TRAIN: FINE-TUNE is the
    only feasible option, at the NPV of its flows above."""
    assert got.startswith("FINE-TUNE is the only feasible option"), got
    assert f"${_npv(_FLOWS['FINE-TUNE']):,.0f}" in got, got


def _roadmap_check(got):
    """The article's phases at the default switch months 6 and 18; no corpus, so phase 3 is not justified."""
    assert [row[:4] for row in got] == [[1.0, "API", 0.0, 6.0], [2.0, "FINE-TUNE", 6.0, 18.0],
                                        [3.0, "TRAIN", 18.0, ""]], got
    assert got[2][4] == "not justified"


def _version():
    import pathlib

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    return tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["version"]


def _risk_table_check(got):
    import pytest

    assert got[0][:2] == ["option", "p_cheapest"] and [r[0] for r in got[1:]] == ["API", "FINE-TUNE", "TRAIN",
                                                                                 "PHASED"]
    assert sorted(r[1] for r in got[1:]) == [0.0, 0.0, 0.0, 1.0]
    for row in got[1:]:
        p10, p50, p90, mean = row[2:6]
        assert p10 == pytest.approx(p50, rel=1e-12) and p90 == pytest.approx(p50, rel=1e-12)
        assert mean == pytest.approx(p50, rel=1e-9)


def _tornado_check(got):
    import pytest

    head, row = got[0], got[1]
    r = dict(zip(head, row, strict=True))
    assert r["input"] == "api_input_usd_per_mtok" and (r["low"], r["base"], r["high"]) == (6.0, 10.0, 14.0)
    assert r["swing_usd"] == pytest.approx(abs(r["npv_difference_at_high_usd"] - r["npv_difference_at_low_usd"]))


def _histogram_check(got):
    import pytest

    assert got[0] == ["from_usd", "to_usd", "share"] and len(got) == 21
    bins = got[1:]
    assert all(a[1] == pytest.approx(b[0]) for a, b in zip(bins, bins[1:], strict=False))
    assert sum(b[2] for b in bins) == pytest.approx(1.0, abs=1e-9)


CASES = [
    ("BVB_API_COST", (50000, 400, 100, 10, 10), 91_250.0, "article: 50,000 x 500 tokens x $10/M x 365"),
    ("BVB_SELFHOST_COST", (50000, 500, 24000 / 8760, 2500), 24_000.0, "article: one GPU at $2,000/month"),
    ("BVB_SELFHOST_COST", (1e6, 1000, 2, 5000, 0.8, 3, 1), 9 * 8760 * 2.0,
     "by hand: 34,722 peak tokens/s / 4,000 per GPU = 8.7 -> 9 GPUs x 8,760 h x $2"),
    ("BVB_TRAIN_COMPUTE_COST", (7e9, 1.4e11, 312, 0.4, 2), 26_175.213675213672,
     "by hand: 5.88e21 FLOPs / 1.248e14 FLOP/s / 3,600 = 13,087.6 h x $2"),
    ("BVB_TCO", ("API", A), 273_750.0, "by hand: $91,250/year x 3 years, flat volume and prices"),
    ("BVB_TCO", ("API", A, 12), 91_250.0, "by hand: one year of the worked example"),
    ("BVB_NPV", ("API", A, 12), 91_250 / 12 * (1 - 1 / 1.1) / (1.1 ** (1 / 12) - 1),
     "annuity of $7,604.17 a month for 12 months at 10%/year"),
    ("BVB_ANNUAL_COST", ("API", A), 91_250.0, "article worked example"),
    ("BVB_METRIC", ("API", A, "cost_per_mtok_usd"), 10.0, "$10 per million tokens, no caching"),
    ("BVB_TIMELINE", ("API", A, 3), [[91_250 / 12]] * 3, "by hand: $250/day x 365/12 days each month"),
    ("BVB_LINE_ITEMS", ("API", A, 2), [[_API_MONTH] * 2] + [[0.0, 0.0]] * (len(LINE_ITEMS) - 1),
     "by hand: API fees in both months, every other line item zero for an API-only plan"),
    ("BVB_SENSITIVITY", ("API", A, "requests_per_day", 100000), 182_500.0, "by hand: twice the worked example"),
    ("BVB_SENSITIVITY", ("API", A, "api_price_factor", 0.5), 45_625.0, "by hand: half the API prices"),
    ("BVB_COMPARE", (A,), _COMPARE, "by hand: the monthly flows above, summed and discounted"),
    ("BVB_BREAKEVEN_VOLUME", (A, "API", "FINE-TUNE"), 45_000.0,
     "by hand: 1.825 v = 58,125 + 24,000 (no fallback; one GPU up to 240,000/day) -> v = 82,125 / 1.825"),
    ("BVB_BREAKEVEN_MONTH", (A, "API", "FINE-TUNE"), _FT_BREAKEVEN_MONTH,
     "by hand: 2 building months of MLOps, then $760.42 a month cheaper"),
    ("BVB_RECOMMEND", (A,), "FINE-TUNE", "residency rules out the API (and PHASED, which starts on it); TRAIN has "
     "no corpus; FINE-TUNE is left"),
    ("BVB_CHEAPEST", (A,), "FINE-TUNE", "the only feasible option is also the cheapest feasible one"),
    ("BVB_FEASIBLE", (A, "API"), False, "data_residency_required, no compliant hosted deployment"),
    ("BVB_FEASIBLE", (A, "fine-tune"), True, "FINE-TUNE breaks no constraint"),
    ("BVB_INFEASIBLE_BECAUSE", (A, "FINE-TUNE"), "", "nothing rules FINE-TUNE out"),
    ("BVB_DECIDING_RULES", (A,), "COST-CHEAPEST", "FINE-TUNE's NPV is below the API's anyway: residency did not "
     "decide it"),
    ("BVB_PREMIUM", (A,), 0.0, "the answer is the cheapest feasible option: no premium"),
    ("BVB_PREMIUM", (A, "ratio"), 1.0, "NPV ratio of the answer to itself"),
    ("BVB_DECISION_SENTENCE", (A,), _sentence_check, "only FINE-TUNE is feasible"),
    ("BVB_COST_BY_YEAR", ("API", A, 2), 91_250.0, "by hand: flat volume and prices, the worked example's year"),
    ("BVB_LASTING_BREAKEVEN_MONTH", (A, "API", "FINE-TUNE"), _FT_BREAKEVEN_MONTH,
     "FINE-TUNE stays cheaper from its first break-even on"),
    ("BVB_REASONS", (A,), _reasons_check, "rules worked by hand"),
    ("BVB_ROADMAP", (A,), _roadmap_check, "article phases"),
    ("BVB_REASON", (A, 1, "rule_id"), "Q1-IN-MODEL", "question 1 fires first"),
    ("BVB_REASON", (A, 99, "sentence"), "", "blank past the last finding"),
    ("BVB_REASON", (A, 99, "sentence", "-"), "-", "what the caller asks for past the last finding"),
    ("BVB_PHASE", (A, 2, "start_month"), 6.0, "article: phase 2 at month 6"),
    ("BVB_PHASE", (A, 3, "end_month"), "open-ended", "phase 3 has no end"),
    ("BVB_LINE_ITEM", ("FINE-TUNE", A, "gpu_rental", 3), 2_000.0,
     "by hand: one GPU at $2,000/month once the fine-tune serves (month 3, after 2 months of building)"),
    ("BVB_LINE_ITEM", ("API", A, "api_usage", 60), 91_250 / 12, "month 60, past the 36-month horizon"),
    ("BVB_SCORE", (A, "API"), 3.0, "by hand: frontier moving fast 1 + domain well served 1 + public data 1"),
    ("BVB_MOAT_SCORE", (True, True, True, False), 4.0, "by hand: all four points"),
    ("BVB_MOAT_VERDICT", (True, False, False, True), "weak", "by hand: proprietary, static and perishable"),
    ("BVB_PRICE", ("gpt-5.5", "input_usd_per_mtok"), 5.0, "bundled catalog row"),
    ("BVB_GPU", ("a100-sxm-80gb", "peak_bf16_dense_tflops"), 312.0, "NVIDIA A100 datasheet"),
    ("BVB_CATALOG", ("open_weight_model", "qwen2.5-7b", "parameters"), 7.616e9,
     "Qwen2.5-7B model card: 7.61B parameters"),
    ("BVB_VERSION", (), _version(), "pyproject.toml"),
    ("BVB_INPUT", (A, "requests_per_day"), 50_000.0, "derived: 1,000 users x 50 requests"),
    ("BVB_RISK_TABLE", (A, RD), _risk_table_check, "a one-value range: every percentile is the base case and "
     "one option is the cheapest in every draw"),
    ("BVB_RISK_TORNADO", (A, RU), _tornado_check, "by hand: P10 and P90 of uniform(5, 15) are 6 and 14; the swing "
     "is the distance between the two ends"),
    ("BVB_RISK_HISTOGRAM", (A, RU), _histogram_check, "20 contiguous bins whose shares add up to 1"),
    ("BVB_RISK_CELL", (A, RD, "p_table", "API", "tco_p50"), 273_750.0,
     "a range of one value is the deterministic case: $91,250/year x 3 years"),
    ("BVB_RISK_CELL", (A, RU, "tornado", 1, "high"), 14.0, "by hand: P90 of uniform(5, 15) = 5 + 0.9 x 10"),
    ("BVB_RISK_CELL", (A, RU, "tornado", 2, "swing_usd"), "", "blank past the last row"),
    ("BVB_RISK_CELL", (A, RU, "histogram", 21, "share", None, None, None, "-"), "-",
     "what the caller asks for past the last of 20 bins"),
    ("BVB_RISK", (A, RU, "draws"), 10_000.0, "the default number of draws"),
    ("BVB_RISK", (A, RD, "p_recommendation_differs"), 0.0, "no uncertainty: every draw is the base case"),
]


def assert_same(got, expected, rel=1e-12):
    """Equal values, numbers to a relative tolerance, nested lists cell by cell."""
    import pytest

    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected, strict=True):
            assert_same(g, e, rel)
    elif isinstance(expected, float) and not isinstance(got, bool):
        assert got == pytest.approx(expected, rel=rel), (got, expected)
    else:
        assert got == expected, (got, expected)
