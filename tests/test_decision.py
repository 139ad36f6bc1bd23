"""The recommendation: every rule reached, the archetypes, the moat test, determinism."""

from __future__ import annotations

import pytest

from buildbuy.engine import moat_score, recommend, resolve
from buildbuy.engine.decision import RULES
from buildbuy.engine.errors import InputError

# A scenario that earns TRAIN: all five matrix conditions (inclusive thresholds: 100B tokens, $5M, 12 months),
# a deep data moat, product-market fit; the $5M budget covers TRAIN's $2.8M TCO and the 200B-token corpus holds
# the 140B training tokens.
EARNED = dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False, available_budget_usd=5e6,
              training_months=12, data_proprietary=True, data_growing=True, data_labeled=True,
              product_market_fit=True)
# Residency with no compliant hosted API rules out API and PHASED; TRAIN lacks a corpus; FINE-TUNE is left.
RESIDENT = dict(differentiator="model", product_market_fit=True, data_residency_required=True,
                labeled_examples=20_000)

# (scenario inputs, rule id that must fire, rule id that must not fire or None)
CASES = [
    (dict(differentiator="around_model"), "Q1-AROUND-MODEL", "Q1-IN-MODEL"),
    (dict(differentiator="model"), "Q1-IN-MODEL", "Q1-AROUND-MODEL"),
    # $91,250 > $50K but < $500K.
    (dict(), "Q2-SPEND-50K", "Q2-SPEND-500K"),
    # 10x the worked example: $912,500/year.
    (dict(daily_active_users=10_000), "Q2-SPEND-500K", "Q2-SPEND-50K"),
    (dict(latency_requirement_ms=150), "Q2-LATENCY", "W-LATENCY-UNMET"),
    (dict(latency_requirement_ms=200), None, "Q2-LATENCY"),  # "under 200 ms" is strict
    (dict(latency_requirement_ms=50, selfhost_latency_ms=80), "W-LATENCY-UNMET", None),
    (dict(regulated_industry=True), "Q3-REGULATED", None),
    (dict(data_residency_required=True), "Q3-REGULATED", None),
    (dict(frontier_moving_fast=True), "Q4-FRONTIER-FAST", "Q4-FRONTIER-PLATEAU"),
    (dict(frontier_moving_fast=False), "Q4-FRONTIER-PLATEAU", "Q4-FRONTIER-FAST"),
    (dict(product_market_fit=False), "M-PRE-PMF", None),
    (dict(product_market_fit=True), None, "M-PRE-PMF"),
    (dict(domain_well_served=True), "M-DOMAIN-SERVED", None),
    (dict(data_proprietary=False), "M-DATA-PUBLIC", None),
    (dict(labeled_examples=10_000), "M-EXAMPLES-10K", None),
    (dict(labeled_examples=9_999), None, "M-EXAMPLES-10K"),
    (dict(data_proprietary=True, data_growing=True, data_labeled=True), "MOAT-DEEP", None),
    (dict(data_proprietary=True, data_growing=True), "MOAT-MODERATE", None),
    (dict(data_proprietary=True, data_perishable=True), "MOAT-WEAK", None),
    (dict(data_proprietary=False), "MOAT-NONE", None),
    (dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False,
          available_budget_usd=6e6, training_months=12), "M-TRAIN-ALL", "M-TRAIN-NOT-ALL"),
    (dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False,
          available_budget_usd=4e6, training_months=12), "M-TRAIN-NOT-ALL", "M-TRAIN-ALL"),
    # Hard constraints.
    (dict(data_residency_required=True), "F-RESIDENCY", None),
    (dict(data_residency_required=True, compliant_api_available=True), None, "F-RESIDENCY"),
    (dict(latency_requirement_ms=150), "F-LATENCY", None),
    # FINE-TUNE's 36-month TCO is about $2.6M: over a $1M budget.
    (dict(available_budget_usd=1e6), "F-BUDGET", None),
    # 400B parameters x 2 bytes = 800 GB; 8 GPUs x 24 GB x 0.9 = 172.8 GB.
    (dict(serving_model_parameters=400e9, gpu_memory_gb=24), "F-MODEL-FIT", None),
    (dict(), "F-CORPUS", None),  # no corpus at all
    (dict(corpus_tokens=140e9), None, "F-CORPUS"),  # 140B training tokens, 140B corpus
    (dict(corpus_tokens=70e9, corpus_repeats=2), None, "F-CORPUS"),  # stated repeats
    # How the answer is decided.
    (dict(product_market_fit=True), "COST-CHEAPEST", "O-PRE-PMF"),
    (dict(), "O-PRE-PMF", None),
    (EARNED, "O-TRAIN-EARNED", None),
    (dict(EARNED, data_growing=False), None, "O-TRAIN-EARNED"),  # moat 3/4: not deep
    # A fine-tune run so dear ($20M) that TRAIN is the cheapest feasible option, but it is not earned.
    (dict(product_market_fit=True, finetune_training_usd=2e7, retrain_every_months=0, daily_active_users=100_000,
          corpus_tokens=2e11), "T-NOT-JUSTIFIED", None),
    # Residency rules out the API and PHASED, 50 ms rules out every self-hosted option (100 ms).
    (dict(data_residency_required=True, latency_requirement_ms=50), "NO-FEASIBLE", None),
    # The mistakes and the plan's risks, as warnings on a self-hosted recommendation.
    (RESIDENT, "W-PROMPTING-NOT-TRIED", None),
    (dict(RESIDENT, labeled_examples=500), "W-INSUFFICIENT-DATA", None),
    (dict(RESIDENT, has_rebase_plan=False), "W-NO-REBASE-PLAN", None),
    (dict(RESIDENT, has_rebase_plan=True, retrain_every_months=0), "W-NO-REBASE-PLAN", None),
    (RESIDENT, "W-INTERIM-API", None),
    (dict(RESIDENT, finetune_months=0), None, "W-INTERIM-API"),
    (dict(daily_active_users=100), "W-TOO-EARLY", None),
    (dict(), None, "W-TOO-EARLY"),
    (EARNED, "W-TRAIN-DATA-FREE", None),
    (dict(EARNED, training_data_usd=1e6), None, "W-TRAIN-DATA-FREE"),
    # 70B on 1.4T tokens: 6 x 7e10 x 1.4e12 / (312e12 x 0.4) / 3600 = 1.309M GPU-h; x 1.5 / (64 GPUs x 730 h)
    # = 42 months, past the 12-month window (the budget and corpus are raised to match).
    (dict(EARNED, model_parameters=70e9, training_gpus=64, corpus_tokens=2e12, available_budget_usd=1e9),
     "W-TRAIN-RUN-LONG", None),
    (EARNED, None, "W-TRAIN-RUN-LONG"),
]


def _ids(rec):
    """Every rule that fired: findings, the deciding rules and the constraints that ruled options out."""
    ruled = {why.split(":")[0] for whys in rec.infeasible_because.values() for why in whys}
    return {f.rule_id for f in rec.findings} | set(rec.deciding_rules) | ruled


@pytest.mark.parametrize("inputs, fires, silent", CASES)
def test_rule(inputs, fires, silent):
    ids = _ids(recommend(resolve(inputs)))
    if fires:
        assert fires in ids
    if silent:
        assert silent not in ids


def test_every_rule_is_reached_by_a_case():
    reached = set()
    for inputs, fires, _ in CASES:
        if fires:
            assert fires in _ids(recommend(resolve(inputs)))
            reached.add(fires)
    assert reached == set(RULES)


def test_findings_only_use_declared_rules_with_their_kind_and_weight():
    for inputs, _, _ in CASES:
        for f in recommend(resolve(inputs)).findings:
            kind, supports, weight, _ = RULES[f.rule_id]
            assert f.kind == kind and f.weight == weight
            if supports is not None:
                assert f.supports == supports
            assert f.sentence and f.inputs


def test_triggering_inputs_are_reported():
    rec = recommend(resolve(latency_requirement_ms=150))
    latency = next(f for f in rec.findings if f.rule_id == "Q2-LATENCY")
    assert latency.inputs["latency_requirement_ms"] == 150


def test_defaults_recommend_api():
    # Worked example, pre-PMF, differentiator around the model: API is also the cheapest option.
    # Strategic-fit points: API 2 (around) + 1 (frontier fast) + 3 (pre-PMF) + 1 (domain served) + 1 (public
    # data) = 8; FINE-TUNE 1 (spend over $50K).
    rec = recommend(resolve())
    assert rec.layer == "API" and rec.cheapest_feasible == "API"
    assert rec.deciding_rules == ("O-PRE-PMF", "COST-CHEAPEST")
    assert rec.premium_usd == 0
    assert rec.scores == {"API": 8, "FINE-TUNE": 1, "TRAIN": 0}


def test_residency_rules_out_the_api_and_says_the_price():
    # Regulated, post-PMF, residency: the API is ruled out, FINE-TUNE is the cheapest feasible option.
    rec = recommend(resolve(RESIDENT))
    assert rec.layer == "FINE-TUNE" and rec.cheapest_feasible == "FINE-TUNE" and rec.cheapest_overall == "API"
    assert "F-RESIDENCY" in rec.deciding_rules
    assert rec.feasible == {"API": False, "FINE-TUNE": True, "TRAIN": False, "PHASED": False}
    premium = rec.npv_usd["FINE-TUNE"] - rec.npv_usd["API"]
    assert f"costs ${premium / 1e6:,.2f}M more than API" in rec.decision_sentence
    assert "ruled out" in rec.decision_sentence


def test_without_pmf_or_residency_economics_lead():
    # Post-PMF, regulated but no residency rule: the API costs less, so it is the answer whatever the points.
    rec = recommend(resolve(differentiator="model", product_market_fit=True, regulated_industry=True,
                            frontier_moving_fast=False, labeled_examples=20_000))
    assert rec.scores["FINE-TUNE"] > rec.scores["API"]
    assert rec.layer == "API" == rec.cheapest_feasible


def test_train_needs_all_five_conditions_and_a_deep_moat():
    assert recommend(resolve(EARNED)).layer == "TRAIN"  # thresholds are inclusive: 100B, $5M, 12 months
    for key, bad in [("corpus_tokens", 99e9), ("building_platform", False), ("domain_well_served", True),
                     ("available_budget_usd", 4.99e6), ("training_months", 11), ("data_labeled", False),
                     ("product_market_fit", False)]:
        assert recommend(resolve(dict(EARNED, **{key: bad}))).layer != "TRAIN", key
    # A budget under TRAIN's own TCO rules it out even with every condition met.
    rec = recommend(resolve(dict(EARNED, available_budget_usd=5e6, ml_engineers=6)))
    assert rec.layer != "TRAIN" and any(w.startswith("F-BUDGET") for w in rec.infeasible_because["TRAIN"])


def test_earned_train_states_its_premium():
    rec = recommend(resolve(EARNED))
    assert rec.layer == "TRAIN" and rec.cheapest_feasible == "API"
    assert rec.premium_usd == pytest.approx(rec.npv_usd["TRAIN"] - rec.npv_usd["API"])
    assert rec.premium_ratio == pytest.approx(rec.npv_usd["TRAIN"] / rec.npv_usd["API"])
    assert "more than API" in rec.decision_sentence and "earned" in rec.decision_sentence


def test_tie_goes_to_api():
    # Post-PMF without examples, PHASED never triggers its fine-tune: it is the API, cost for cost. The tie goes
    # to API, the cheaper option to reverse.
    rec = recommend(resolve(product_market_fit=True))
    assert rec.npv_usd["PHASED"] == rec.npv_usd["API"]
    assert rec.layer == "API"


def test_roadmap_uses_switch_months_and_marks_train():
    rec = recommend(resolve(phase2_start_month=3, phase3_start_month=24))
    assert [(p.phase, p.start_month) for p in rec.roadmap] == [(1, 0), (2, 3), (3, 24)]
    assert rec.roadmap[2].status == "not justified"


def test_deterministic():
    a = resolve(regulated_industry=True, latency_requirement_ms=100)
    first = recommend(a)
    for _ in range(3):
        again = recommend(resolve(regulated_industry=True, latency_requirement_ms=100))
        assert again == first


@pytest.mark.parametrize("p, g, lab, per, score, verdict", [
    # by hand: points = proprietary + growing + labeled + (not perishable or growing)
    (True, True, True, False, 4, "deep"),
    (True, True, True, True, 4, "deep"),       # perishable but a growing pipeline keeps it fresh
    (True, False, True, True, 2, "weak"),      # static and perishable: a depreciating asset
    (True, True, False, False, 3, "moderate"),
    (True, False, False, False, 2, "weak"),
    (False, True, True, False, 3, "none"),     # public data: no moat whatever the rest says
    (False, False, False, True, 0, "none"),
])
def test_moat_score(p, g, lab, per, score, verdict):
    m = moat_score(p, g, lab, per)
    assert (m.score, m.verdict) == (score, verdict)


def test_moat_score_rejects_non_booleans():
    with pytest.raises(InputError, match="data_growing must be TRUE or FALSE"):
        moat_score(True, "maybe", False, False)
