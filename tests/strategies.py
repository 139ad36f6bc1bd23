"""Hypothesis strategies for valid scenarios (shared by property tests)."""

from __future__ import annotations

from hypothesis import strategies as st

money = st.floats(min_value=0, max_value=5e6, allow_nan=False, allow_infinity=False)
volume = st.floats(min_value=0, max_value=5e7, allow_nan=False, allow_infinity=False)
price = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)
tokens = st.floats(min_value=0, max_value=50_000, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=0, max_value=1, allow_nan=False, allow_infinity=False)
positive_share = st.floats(min_value=0.05, max_value=1, allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """A valid raw scenario touching every numeric cost driver."""
    return {
        "requests_per_day": draw(volume),
        "monthly_growth_rate": draw(st.floats(min_value=-0.2, max_value=0.3)),
        "input_tokens_per_request": draw(tokens),
        "output_tokens_per_request": draw(tokens),
        "api_input_usd_per_mtok": draw(price),
        "api_output_usd_per_mtok": draw(price),
        "api_cached_input_share": draw(share),
        "api_cached_input_discount": draw(share),
        "api_price_change_per_year": draw(st.floats(min_value=-0.5, max_value=0.5)),
        "finetune_training_usd": draw(money),
        "finetune_months": draw(st.integers(0, 12)),
        "retrain_every_months": draw(st.integers(0, 24)),
        "gpu_usd_per_hour": draw(st.floats(min_value=0, max_value=20)),
        "tokens_per_second_per_gpu": draw(st.floats(min_value=10, max_value=20_000)),
        "gpu_utilization": draw(positive_share),
        "peak_to_average_ratio": draw(st.floats(min_value=1, max_value=5)),
        "min_gpus": draw(st.integers(0, 8)),
        "api_fallback_share": draw(share),
        "labeled_examples": draw(st.floats(min_value=0, max_value=1e6)),
        "labeling_usd_per_example": draw(st.floats(min_value=0, max_value=10)),
        "ml_engineers": draw(st.floats(min_value=0, max_value=10)),
        "mlops_usd_per_year": draw(money),
        "eval_usd_per_year": draw(money),
        "opportunity_cost_usd_per_month": draw(st.floats(min_value=0, max_value=1e5)),
        "training_months": draw(st.integers(1, 24)),
        "horizon_months": draw(st.integers(1, 60)),
        "discount_rate_per_year": draw(st.floats(min_value=0, max_value=0.5)),
    }


@st.composite
def scenarios_v2(draw: st.DrawFn) -> dict:
    """A valid raw scenario that also varies the serving, ownership, training and strategy inputs."""
    raw = draw(scenarios())
    raw.update({
        "tokens_per_second_per_gpu": draw(st.one_of(st.just(0.0), st.floats(min_value=10, max_value=20_000))),
        "serving_model_parameters": draw(st.sampled_from([1e9, 8e9, 70e9, 405e9])),
        "gpu_memory_gb": draw(st.sampled_from([24, 48, 80, 141])),
        "concurrent_sequences_per_replica": draw(st.integers(1, 256)),
        "min_replicas": draw(st.integers(0, 3)),
        "gpu_ownership": draw(st.sampled_from(["rent", "reserved", "buy"])),
        "serving_hours_per_month": draw(st.floats(min_value=50, max_value=730)),
        "reserved_term_months": draw(st.integers(1, 36)),
        "gpu_purchase_usd": draw(st.floats(min_value=0, max_value=60_000)),
        "gpu_useful_life_months": draw(st.integers(6, 72)),
        "gpu_residual_value_share": draw(share),
        "model_parameters": draw(st.sampled_from([1e9, 7e9, 70e9])),
        "training_overhead_factor": draw(st.floats(min_value=1, max_value=3)),
        "post_training_usd": draw(money),
        "repretrain_every_months": draw(st.integers(0, 24)),
        "corpus_tokens": draw(st.sampled_from([0.0, 1e11, 5e12])),
        "product_market_fit": draw(st.booleans()),
        "differentiator": draw(st.sampled_from(["model", "around_model"])),
        "data_residency_required": draw(st.booleans()),
        "compliant_api_available": draw(st.booleans()),
        "latency_requirement_ms": draw(st.sampled_from([0, 150, 500, 2000])),
        "available_budget_usd": draw(st.sampled_from([0, 1e6, 1e7])),
        "building_platform": draw(st.booleans()),
        "domain_well_served": draw(st.booleans()),
        "data_proprietary": draw(st.booleans()),
        "data_growing": draw(st.booleans()),
        "data_labeled": draw(st.booleans()),
    })
    return raw
