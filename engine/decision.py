"""The recommendation: the article's four questions in order, its decision matrix, the data-moat litmus test
and its four common mistakes, each as a rule with a stable id, a sentence and the inputs that fired it.

How the layer is chosen
-----------------------
1. TRAIN only when all five conditions of the matrix's train row hold (corpus, platform, poorly served domain,
   budget, months). Otherwise TRAIN is not eligible, whatever else is true.
2. Otherwise every fired reason adds its weight to API or FINE-TUNE; the higher score wins, and a tie goes to
   API (the cheapest choice to reverse, the article's default starting point).
Same input, same output: no randomness, no clock, no dict-order dependence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import model
from .errors import InputError
from .rules import (
    API_SPEND_EVALUATE_FINETUNE_USD,
    API_SPEND_SELFHOST_USD,
    FINETUNE_EXAMPLES,
    FINETUNE_MIN_EXAMPLES,
    LATENCY_FINETUNE_MS,
    TRAIN_BUDGET_USD,
    TRAIN_CORPUS_TOKENS,
    TRAIN_MONTHS,
    train_conditions,
)

LAYERS = ("API", "FINE-TUNE", "TRAIN")

#: Every rule the engine can fire: stable id -> (kind, option it supports, weight, source in the article).
RULES: dict[str, tuple[str, str | None, int, str]] = {
    "Q1-AROUND-MODEL": ("reason", "API", 2, "Question 1: differentiator around the model"),
    "Q1-IN-MODEL": ("reason", "FINE-TUNE", 2, "Question 1: differentiator in the model"),
    "Q2-SPEND-50K": ("reason", "FINE-TUNE", 1, "Question 2: API spend over $50K/year"),
    "Q2-SPEND-500K": ("reason", "FINE-TUNE", 3, "Question 2: API spend over $500K/year"),
    "Q2-LATENCY": ("reason", "FINE-TUNE", 2, "Decision matrix: latency under 200 ms"),
    "Q3-REGULATED": ("reason", "FINE-TUNE", 2, "Question 3 / matrix: regulated industry or data residency"),
    "Q4-FRONTIER-FAST": ("reason", "API", 1, "Question 4: frontier moving fast"),
    "Q4-FRONTIER-PLATEAU": ("reason", "FINE-TUNE", 1, "Question 4: frontier plateaus"),
    "M-PRE-PMF": ("reason", "API", 3, "Decision matrix: pre-PMF"),
    "M-DOMAIN-SERVED": ("reason", "API", 1, "Decision matrix: domain well served"),
    "M-DATA-PUBLIC": ("reason", "API", 1, "Decision matrix: data not proprietary"),
    "M-EXAMPLES-10K": ("reason", "FINE-TUNE", 1, "Decision matrix: 10K+ examples"),
    "M-TRAIN-ALL": ("reason", "TRAIN", 0, "Decision matrix: all five train conditions"),
    "M-TRAIN-NOT-ALL": ("reason", "TRAIN", 0, "Decision matrix: some train conditions missing"),
    "MOAT-DEEP": ("reason", "FINE-TUNE", 1, "Data moat litmus test: 4/4"),
    "MOAT-MODERATE": ("reason", "FINE-TUNE", 1, "Data moat litmus test: 3/4"),
    "MOAT-WEAK": ("reason", "API", 0, "Data moat litmus test: proprietary but 2/4 or less"),
    "MOAT-NONE": ("reason", "API", 0, "Data moat litmus test: not proprietary"),
    "COST-TCO": ("reason", None, 1, "Hidden costs and TCO: the cheaper of API and FINE-TUNE over the horizon"),
    "W-LATENCY-UNMET": ("warning", None, 0, "Question 2: even self-hosting misses the latency need"),
    "W-PROMPTING-NOT-TRIED": ("warning", None, 0, "Mistake 1: fine-tuning when prompting would suffice"),
    "W-INSUFFICIENT-DATA": ("warning", None, 0, "Mistake 2: training on insufficient data"),
    "W-NO-REBASE-PLAN": ("warning", None, 0, "Mistake 3: the model update problem"),
    "W-TOO-EARLY": ("warning", None, 0, "Mistake 4: optimizing for cost too early"),
    "W-MOAT-THIN": ("warning", None, 0, "Phase 3: train only with a deep data moat"),
}


@dataclass(frozen=True)
class Finding:
    """One fired rule: a reason (with the option it supports and its weight) or a warning."""

    rule_id: str
    kind: str  # "reason" or "warning"
    sentence: str
    inputs: dict[str, Any]
    supports: str | None = None
    weight: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "kind": self.kind, "supports": self.supports, "weight": self.weight,
                "sentence": self.sentence, "inputs": dict(self.inputs)}


@dataclass(frozen=True)
class Moat:
    """The data-moat litmus test."""

    score: int
    verdict: str  # "none", "weak", "moderate", "deep"
    sentence: str


@dataclass(frozen=True)
class Phase:
    """One phase of the roadmap."""

    phase: int
    layer: str
    start_month: int
    end_month: int | None
    status: str  # "now", "planned", "if justified", "not justified"
    actions: str


@dataclass(frozen=True)
class Recommendation:
    """What the engine recommends, and why."""

    layer: str
    scores: dict[str, int]
    findings: tuple[Finding, ...]
    moat: Moat
    roadmap: tuple[Phase, ...]
    api_annual_cost_usd: float
    train_conditions: dict[str, bool] = field(default_factory=dict)

    @property
    def reasons(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "reason"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "warning"]


def moat_score(data_proprietary: bool, data_growing: bool, data_labeled: bool, data_perishable: bool) -> Moat:
    """The article's data-moat litmus test as a score out of 4 and a verdict.

    Points: proprietary (not in public web crawls), growing (a usage flywheel), labeled (expert annotation),
    and fresh enough - not perishable, or perishable but kept fresh by a growing pipeline. Public data is no
    moat whatever the rest says ("it's in the foundation model's training set already").

    Verdict: not proprietary -> "none"; 4 -> "deep"; 3 -> "moderate"; otherwise "weak".
    """
    flags = {"data_proprietary": data_proprietary, "data_growing": data_growing, "data_labeled": data_labeled,
             "data_perishable": data_perishable}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise InputError(key, value, "TRUE or FALSE (yes/no)")
    fresh = (not data_perishable) or data_growing
    score = int(data_proprietary) + int(data_growing) + int(data_labeled) + int(fresh)
    if not data_proprietary:
        verdict, why = "none", "public data is already in the foundation models' training sets"
    elif score == 4:
        verdict, why = "deep", "proprietary, growing, labeled and kept fresh"
    elif score == 3:
        verdict, why = "moderate", "one of growing, labeled or fresh is missing"
    else:
        verdict, why = "weak", "proprietary but static, unlabeled or going stale"
    return Moat(score, verdict, f"Data moat {score}/4 ({verdict}): {why}.")


def recommend(a: Any) -> Recommendation:
    """Run the four questions, the matrix, the moat test and the mistake checks on one scenario.

    ``a`` is a resolved scenario (:func:`buildbuy.engine.inputs.resolve`) with scalar inputs.
    """
    if a.is_vector:
        raise InputError("assumptions", "arrays", "scalar inputs: the recommendation is per scenario")
    api_spend = float(model.annual_cost("API", a))
    found: list[Finding] = []

    def reason(rule_id: str, supports: str, weight: int, sentence: str, **inputs: Any) -> None:
        found.append(Finding(rule_id, "reason", sentence, inputs, supports, weight))

    def warning(rule_id: str, sentence: str, **inputs: Any) -> None:
        found.append(Finding(rule_id, "warning", sentence, inputs))

    # Question 1: differentiator in the model or around it.
    if a.differentiator == "around_model":
        reason("Q1-AROUND-MODEL", "API", 2, "Your advantage is around the model (workflow, UX, distribution): "
               "use an API and put the effort into the product.", differentiator=a.differentiator)
    else:
        reason("Q1-IN-MODEL", "FINE-TUNE", 2, "Your advantage is in the model (data, domain, behaviour): "
               "owning the weights is where the value is.", differentiator=a.differentiator)

    # Question 2: cost and latency at scale.
    if api_spend > API_SPEND_SELFHOST_USD:
        reason("Q2-SPEND-500K", "FINE-TUNE", 3, f"API spend of ${api_spend:,.0f}/year is over "
               f"${API_SPEND_SELFHOST_USD:,}: not self-hosting leaves money on the table.",
               api_annual_cost_usd=round(api_spend, 2))
    elif api_spend > API_SPEND_EVALUATE_FINETUNE_USD:
        reason("Q2-SPEND-50K", "FINE-TUNE", 1, f"API spend of ${api_spend:,.0f}/year is over "
               f"${API_SPEND_EVALUATE_FINETUNE_USD:,}: fine-tuning is worth evaluating.",
               api_annual_cost_usd=round(api_spend, 2))
    need = a.latency_requirement_ms
    if 0 < need < LATENCY_FINETUNE_MS:
        reason("Q2-LATENCY", "FINE-TUNE", 2, f"You need {need:g} ms, under the {LATENCY_FINETUNE_MS} ms line; "
               f"a hosted API adds {a.api_latency_ms:g} ms, a self-hosted model {a.selfhost_latency_ms:g} ms.",
               latency_requirement_ms=need, api_latency_ms=a.api_latency_ms)
        if a.selfhost_latency_ms > need:
            warning("W-LATENCY-UNMET", f"Even the self-hosted model ({a.selfhost_latency_ms:g} ms) misses the "
                    f"{need:g} ms requirement: a smaller model or better serving is needed.",
                    selfhost_latency_ms=a.selfhost_latency_ms, latency_requirement_ms=need)

    # Question 3: data sensitivity.
    if a.regulated_industry or a.data_residency_required:
        reason("Q3-REGULATED", "FINE-TUNE", 2, "Regulated data or residency rules: fine-tuning in your own VPC "
               "or on premises keeps the data under your control.", regulated_industry=a.regulated_industry,
               data_residency_required=a.data_residency_required)

    # Question 4: how fast the frontier moves.
    if a.frontier_moving_fast:
        reason("Q4-FRONTIER-FAST", "API", 1, "Frontier models improve fast in your domain: a fine-tune would be "
               "overtaken by the next API release within about 6 months.",
               frontier_moving_fast=a.frontier_moving_fast)
    else:
        reason("Q4-FRONTIER-PLATEAU", "FINE-TUNE", 1, "Frontier models plateau in your domain: a fine-tuned "
               "model's advantage compounds over time.", frontier_moving_fast=a.frontier_moving_fast)

    # Decision matrix, API row.
    if not a.product_market_fit:
        reason("M-PRE-PMF", "API", 3, "No product-market fit yet: ship with APIs, validate the use case and "
               "collect data before building ML infrastructure.", product_market_fit=a.product_market_fit)
    if a.domain_well_served:
        reason("M-DOMAIN-SERVED", "API", 1, "General frontier models already serve your domain well.",
               domain_well_served=a.domain_well_served)
    if not a.data_proprietary:
        reason("M-DATA-PUBLIC", "API", 1, "Your data is not proprietary, so training on it adds nothing the "
               "foundation models lack.", data_proprietary=a.data_proprietary)
    # Decision matrix, fine-tune row.
    if a.labeled_examples >= FINETUNE_EXAMPLES:
        reason("M-EXAMPLES-10K", "FINE-TUNE", 1, f"{a.labeled_examples:,.0f} labeled examples: over the "
               f"{FINETUNE_EXAMPLES:,} the article asks for to fine-tune.", labeled_examples=a.labeled_examples)

    # Data moat litmus test.
    moat = moat_score(a.data_proprietary, a.data_growing, a.data_labeled, a.data_perishable)
    moat_inputs = {"data_proprietary": a.data_proprietary, "data_growing": a.data_growing,
                   "data_labeled": a.data_labeled, "data_perishable": a.data_perishable}
    if moat.verdict in ("deep", "moderate"):
        reason("MOAT-" + moat.verdict.upper(), "FINE-TUNE", 1, moat.sentence + " A model trained on it "
               "encodes knowledge competitors cannot buy.", **moat_inputs)
    else:
        found.append(Finding("MOAT-" + moat.verdict.upper(), "reason", moat.sentence + " The model itself is "
                             "no moat; build it from product and distribution.", moat_inputs, "API", 0))

    # Cost over the horizon.
    cheapest = min(("API", "FINE-TUNE"), key=lambda o: (float(model.tco(o, a)), o))
    reason("COST-TCO", cheapest, 1, f"Over {a.horizon_months} months {cheapest} costs least of API and "
           f"FINE-TUNE (API {_money(model.tco('API', a))}, FINE-TUNE {_money(model.tco('FINE-TUNE', a))}).",
           api_tco_usd=round(float(model.tco("API", a)), 2),
           finetune_tco_usd=round(float(model.tco("FINE-TUNE", a)), 2))

    # Decision matrix, train row: all five or nothing.
    conds = {k: bool(v) for k, v in train_conditions(a).items()}
    train_inputs = {"corpus_tokens": a.corpus_tokens, "building_platform": a.building_platform,
                    "domain_well_served": a.domain_well_served, "available_budget_usd": a.available_budget_usd,
                    "training_months": a.training_months}
    if all(conds.values()):
        reason("M-TRAIN-ALL", "TRAIN", 0, f"All five train-from-scratch conditions hold: {a.corpus_tokens:,.0f} "
               f"unique tokens (>= {TRAIN_CORPUS_TOKENS:,.0f}), a platform, a poorly served domain, "
               f"${a.available_budget_usd:,.0f} (>= ${TRAIN_BUDGET_USD:,}) and {a.training_months} months "
               f"(>= {TRAIN_MONTHS}).", **train_inputs)
    elif sum(conds.values()) >= 3:
        missing = ", ".join(k for k, ok in conds.items() if not ok)
        found.append(Finding("M-TRAIN-NOT-ALL", "reason", f"Training from scratch needs all five conditions; "
                             f"missing: {missing}.", train_inputs, "TRAIN", 0))

    scores = {"API": 0, "FINE-TUNE": 0, "TRAIN": 0}
    for f in found:
        if f.supports in scores:
            scores[f.supports] += f.weight
    if all(conds.values()):
        layer = "TRAIN"
        scores["TRAIN"] = max(scores.values()) + 1
    else:
        layer = "FINE-TUNE" if scores["FINE-TUNE"] > scores["API"] else "API"

    # The four common mistakes, as warnings.
    if layer != "API" and not a.tried_prompt_engineering:
        warning("W-PROMPTING-NOT-TRIED", "Prompt engineering is not exhausted: a good system prompt with "
                "few-shot examples often beats a lazy fine-tune; try it before paying for a training run.",
                tried_prompt_engineering=a.tried_prompt_engineering)
    if layer == "FINE-TUNE" and a.labeled_examples < FINETUNE_MIN_EXAMPLES:
        warning("W-INSUFFICIENT-DATA", f"Only {a.labeled_examples:,.0f} labeled examples: fine-tuning on fewer "
                f"than thousands overfits. Collect data first, or self-host the base model untuned.",
                labeled_examples=a.labeled_examples)
    if layer != "API" and (not a.has_rebase_plan or a.retrain_every_months == 0):
        warning("W-NO-REBASE-PLAN", "No plan to rebase on newer base models: API users get each new frontier "
                "model for free, your own model does not. Budget the rebase (retrain_every_months).",
                has_rebase_plan=a.has_rebase_plan, retrain_every_months=a.retrain_every_months)
    if api_spend < API_SPEND_EVALUATE_FINETUNE_USD:
        warning("W-TOO-EARLY", f"At {a.daily_active_users:,.0f} daily users the API bill is "
                f"${api_spend:,.0f}/year, under ${API_SPEND_EVALUATE_FINETUNE_USD:,}: optimizing it with your "
                f"own ML infrastructure is premature.", daily_active_users=a.daily_active_users,
                api_annual_cost_usd=round(api_spend, 2))
    if layer == "TRAIN" and moat.verdict in ("none", "weak"):
        warning("W-MOAT-THIN", f"{moat.sentence} Training from scratch pays only with a deep data moat.",
                **moat_inputs)

    roadmap = build_roadmap(a, layer, conds)
    return Recommendation(layer, scores, tuple(found), moat, roadmap, api_spend, conds)


def build_roadmap(a: Any, layer: str, conds: dict[str, bool]) -> tuple[Phase, ...]:
    """The article's three phases with the scenario's switch months and a status per phase."""
    p2, p3 = int(a.phase2_start_month), int(a.phase3_start_month)
    train_ok = all(conds.values())
    return (
        Phase(1, "API", 0, p2, "now", "Ship with APIs, validate the use case, collect interaction data, build evals."),
        Phase(2, "FINE-TUNE", p2, p3, "planned" if layer in ("FINE-TUNE", "TRAIN") else "if justified",
              "Fine-tune on the collected data; self-host it for the highest-volume, cost-sensitive paths; keep "
              "the frontier API for edge cases and new features."),
        Phase(3, "TRAIN", p3, None, "planned" if train_ok else "not justified",
              "Train a specialized model only if the data moat is deep and the domain stable; most companies "
              "never need this phase."),
    )


def _money(x: Any) -> str:
    return f"${float(x):,.0f}"
