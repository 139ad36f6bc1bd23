"""One example call per BVB function (tests iterate this table, so no function goes untested).

``A`` stands for the assumptions range. Each case: (function, args, expected value or None to only compare
backends with the direct call, how the expected value was worked out).
"""

from __future__ import annotations

A = object()  # placeholder for the assumptions range
RD = object()  # placeholder for a ranges table whose one range is a single value
RU = object()  # placeholder for a ranges table with one uniform range

#: The ranges tables the risk cases use (as on a sheet: input, dist, low, mode, high).
RANGE_TABLES = {
    RD: [["api_input_usd_per_mtok", "uniform", 10.0, None, 10.0]],
    RU: [["api_input_usd_per_mtok", "uniform", 5.0, None, 15.0]],
}

#: The assumptions range the cases use (a two-column key/value table, as on a sheet).
ASSUMPTIONS = [
    ["daily_active_users", 1000.0],
    ["requests_per_user_per_day", 50.0],
    ["regulated_industry", True],
    ["data_residency_required", True],
    ["differentiator", "model"],
    ["product_market_fit", True],
    ["labeled_examples", 20000.0],
    ["latency_requirement_ms", None],  # blank: takes the default
]

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
    ("BVB_LINE_ITEMS", ("FINE-TUNE", A, 2), None, "equals the direct call"),
    ("BVB_SENSITIVITY", ("API", A, "requests_per_day", 100000), 182_500.0, "by hand: twice the worked example"),
    ("BVB_SENSITIVITY", ("API", A, "api_price_factor", 0.5), 45_625.0, "by hand: half the API prices"),
    ("BVB_COMPARE", (A,), None, "equals the direct call"),
    ("BVB_BREAKEVEN_VOLUME", (A, "API", "FINE-TUNE"), None, "equals the direct call"),
    ("BVB_BREAKEVEN_MONTH", (A, "API", "FINE-TUNE"), "#N/A", "FINE-TUNE never catches up at 50,000 requests/day"),
    ("BVB_RECOMMEND", (A,), "FINE-TUNE", "residency rules out the API (and PHASED, which starts on it); TRAIN has "
     "no corpus; FINE-TUNE is left"),
    ("BVB_CHEAPEST", (A,), "FINE-TUNE", "the only feasible option is also the cheapest feasible one"),
    ("BVB_FEASIBLE", (A, "API"), False, "data_residency_required, no compliant hosted deployment"),
    ("BVB_FEASIBLE", (A, "fine-tune"), True, "FINE-TUNE breaks no constraint"),
    ("BVB_INFEASIBLE_BECAUSE", (A, "FINE-TUNE"), "", "nothing rules FINE-TUNE out"),
    ("BVB_DECIDING_RULES", (A,), "COST-CHEAPEST, F-RESIDENCY", "cheapest feasible; residency ruled out the "
     "cheaper API"),
    ("BVB_PREMIUM", (A,), 0.0, "the answer is the cheapest feasible option: no premium"),
    ("BVB_PREMIUM", (A, "ratio"), 1.0, "NPV ratio of the answer to itself"),
    ("BVB_DECISION_SENTENCE", (A,), None, "equals the direct call"),
    ("BVB_COST_BY_YEAR", ("API", A, 2), 91_250.0, "by hand: flat volume and prices, the worked example's year"),
    ("BVB_LASTING_BREAKEVEN_MONTH", (A, "API", "FINE-TUNE"), "#N/A", "FINE-TUNE ends the horizon dearer"),
    ("BVB_REASONS", (A,), None, "equals the direct call"),
    ("BVB_ROADMAP", (A,), None, "equals the direct call"),
    ("BVB_REASON", (A, 1, "rule_id"), "Q1-IN-MODEL", "question 1 fires first"),
    ("BVB_REASON", (A, 99, "sentence"), "", "blank past the last finding"),
    ("BVB_REASON", (A, 99, "sentence", "-"), "-", "what the caller asks for past the last finding"),
    ("BVB_PHASE", (A, 2, "start_month"), 6.0, "article: phase 2 at month 6"),
    ("BVB_PHASE", (A, 3, "end_month"), "open-ended", "phase 3 has no end"),
    ("BVB_LINE_ITEM", ("FINE-TUNE", A, "gpu_rental", 3), 2_000.0,
     "by hand: one GPU at $2,000/month once the fine-tune serves (month 3, after 2 months of building)"),
    ("BVB_LINE_ITEM", ("API", A, "api_usage", 60), 91_250 / 12, "month 60, past the 36-month horizon"),
    ("BVB_SCORE", (A, "API"), None, "equals the direct call"),
    ("BVB_MOAT_SCORE", (True, True, True, False), 4.0, "by hand: all four points"),
    ("BVB_MOAT_VERDICT", (True, False, False, True), "weak", "by hand: proprietary, static and perishable"),
    ("BVB_PRICE", ("gpt-5.5", "input_usd_per_mtok"), 5.0, "bundled catalog row"),
    ("BVB_GPU", ("a100-sxm-80gb", "peak_bf16_dense_tflops"), 312.0, "NVIDIA A100 datasheet"),
    ("BVB_CATALOG", ("open_weight_model", "qwen2.5-7b", "parameters"), None, "equals the direct call"),
    ("BVB_VERSION", (), None, "equals the package version"),
    ("BVB_INPUT", (A, "requests_per_day"), 50_000.0, "derived: 1,000 users x 50 requests"),
    ("BVB_RISK_TABLE", (A, RD), None, "equals the direct call"),
    ("BVB_RISK_TORNADO", (A, RU), None, "equals the direct call"),
    ("BVB_RISK_HISTOGRAM", (A, RU), None, "equals the direct call"),
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
