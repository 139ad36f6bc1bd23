"""The recommendation: every rule reached, the archetypes, the moat test, determinism."""

from __future__ import annotations

import pytest

from buildbuy.engine import moat_score, recommend, resolve
from buildbuy.engine.decision import RULES
from buildbuy.engine.errors import InputError

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
    (dict(), "COST-TCO", None),
    (dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False,
          available_budget_usd=6e6, training_months=12), "M-TRAIN-ALL", "M-TRAIN-NOT-ALL"),
    (dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False,
          available_budget_usd=4e6, training_months=12), "M-TRAIN-NOT-ALL", "M-TRAIN-ALL"),
    # The mistakes, as warnings on a fine-tune recommendation.
    (dict(differentiator="model", product_market_fit=True, regulated_industry=True), "W-PROMPTING-NOT-TRIED", None),
    (dict(differentiator="model", product_market_fit=True, regulated_industry=True, labeled_examples=500),
     "W-INSUFFICIENT-DATA", None),
    (dict(differentiator="model", product_market_fit=True, regulated_industry=True, has_rebase_plan=False),
     "W-NO-REBASE-PLAN", None),
    (dict(differentiator="model", product_market_fit=True, regulated_industry=True, has_rebase_plan=True,
          retrain_every_months=0), "W-NO-REBASE-PLAN", None),
    (dict(daily_active_users=100), "W-TOO-EARLY", None),
    (dict(), None, "W-TOO-EARLY"),
    (dict(corpus_tokens=200e9, building_platform=True, domain_well_served=False, available_budget_usd=6e6,
          training_months=12, data_proprietary=True), "W-MOAT-THIN", None),
]


def _ids(rec):
    return {f.rule_id for f in rec.findings}


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
    # Worked example, pre-PMF, differentiator around the model: API 2+1+3+1+1+1 (cost) = 9; FINE-TUNE 1.
    rec = recommend(resolve())
    assert rec.layer == "API"
    assert rec.scores == {"API": 9, "FINE-TUNE": 1, "TRAIN": 0}


def test_regulated_post_pmf_recommends_finetune():
    rec = recommend(resolve(differentiator="model", product_market_fit=True, regulated_industry=True,
                            frontier_moving_fast=False, labeled_examples=20_000))
    assert rec.layer == "FINE-TUNE"


def test_train_needs_all_five_conditions():
    base = dict(corpus_tokens=100e9, building_platform=True, domain_well_served=False,
                available_budget_usd=5e6, training_months=12, data_proprietary=True, data_growing=True,
                data_labeled=True)
    assert recommend(resolve(base)).layer == "TRAIN"  # thresholds are inclusive: 100B, $5M, 12 months
    for key, bad in [("corpus_tokens", 99e9), ("building_platform", False), ("domain_well_served", True),
                     ("available_budget_usd", 4.99e6), ("training_months", 11)]:
        assert recommend(resolve(dict(base, **{key: bad}))).layer != "TRAIN", key


def test_tie_goes_to_api():
    rec = recommend(resolve(differentiator="model", product_market_fit=True, domain_well_served=False,
                            data_proprietary=True, frontier_moving_fast=True, daily_active_users=100))
    # FINE-TUNE: in-model 2 ; API: frontier fast 1 + MOAT-WEAK 0 + COST-TCO 1 (API cheaper) = 2 -> tie -> API.
    assert rec.scores["API"] == rec.scores["FINE-TUNE"] == 2
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
