"""The recommendation: hard constraints first, then the economics, then the article's strategic rules, each
stated with its price.

How the answer is chosen
------------------------
1. **Feasibility.** Hard constraints rule options out, each with a rule id and a reason: data residency (the
   hosted API, and PHASED whose phase 1 runs on it, unless a compliant hosted deployment exists), a latency
   requirement an option misses, a TCO over ``available_budget_usd``, a model that does not fit the GPUs, a
   corpus that does not hold TRAIN's training tokens. Infeasible options keep their figures, marked.
2. **Economics lead.** Among feasible options, the cheapest by NPV over the horizon is the answer (ties go to
   the earlier option in API, FINE-TUNE, TRAIN, PHASED: the cheapest to reverse first).
3. **Stated overrides.** Only these may overrule cost, and the answer then states the premium in words:
   ``O-PRE-PMF`` (no product-market fit: use the API, article's decision matrix and mistake 4) and
   ``O-TRAIN-EARNED`` (TRAIN when all five matrix conditions, a deep data moat and product-market fit hold).
   TRAIN is never recommended otherwise (``T-NOT-JUSTIFIED`` names the conditions that fail).

The article's four questions, matrix rows, moat test and four mistakes still fire as findings with a stable id
and the inputs behind them; their points are a strategic-fit tally shown for audit, not the decision. Every
finding that claims one option costs less than another carries that claim, and a test checks it against the
numbers. Same input, same output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    moat_is_deep,
    train_conditions,
    train_justified,
)

LAYERS = ("API", "FINE-TUNE", "TRAIN")

#: Every rule the engine can fire: stable id -> (kind, option it supports, points, source in the article).
#: Kinds: "constraint" rules an option out; "decision" sets the answer; "reason" and "warning" are findings.
RULES: dict[str, tuple[str, str | None, int, str]] = {
    "F-RESIDENCY": ("constraint", None, 0, "Question 3: data must stay in your infrastructure"),
    "F-LATENCY": ("constraint", None, 0, "Question 2 / matrix: the latency requirement"),
    "F-BUDGET": ("constraint", None, 0, "Matrix: commit the budget ($5M+ for TRAIN); any option's TCO over it"),
    "F-MODEL-FIT": ("constraint", None, 0, "Serving: the model must fit the chosen GPUs"),
    "F-CORPUS": ("constraint", None, 0, "Mistake 2 / matrix: the corpus must hold the training tokens"),
    "COST-CHEAPEST": ("decision", None, 0, "Hidden costs and TCO: the cheapest feasible option by NPV leads"),
    "O-PRE-PMF": ("decision", "API", 0, "Decision matrix and mistake 4: use APIs before product-market fit"),
    "O-TRAIN-EARNED": ("decision", "TRAIN", 0, "Matrix train row and phase 3: train only with all five "
                       "conditions, a deep data moat and product-market fit"),
    "T-NOT-JUSTIFIED": ("decision", None, 0, "Phase 3: 'if and only if your data moat is deep enough'"),
    "NO-FEASIBLE": ("decision", None, 0, "No option meets every hard constraint"),
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
    "W-LATENCY-UNMET": ("warning", None, 0, "Question 2: even self-hosting misses the latency need"),
    "W-PROMPTING-NOT-TRIED": ("warning", None, 0, "Mistake 1: fine-tuning when prompting would suffice"),
    "W-INSUFFICIENT-DATA": ("warning", None, 0, "Mistake 2: training on insufficient data"),
    "W-NO-REBASE-PLAN": ("warning", None, 0, "Mistake 3: the model update problem"),
    "W-TOO-EARLY": ("warning", None, 0, "Mistake 4: optimizing for cost too early"),
    "W-INTERIM-API": ("warning", None, 0, "Question 3: traffic before your own model serves"),
    "W-TRAIN-RUN-LONG": ("warning", None, 0, "Matrix: 12+ months; the run must fit the training window"),
    "W-TRAIN-DATA-FREE": ("warning", None, 0, "Hidden costs: the corpus is not free"),
}


@dataclass(frozen=True)
class Finding:
    """One fired rule: a reason (with the option it supports and its points), a warning or a decision.

    ``claim`` is (cheaper option, dearer option) when the sentence says one costs less than the other (by NPV
    over the horizon); tests check every claim against the numbers.
    """

    rule_id: str
    kind: str  # "reason", "warning", "constraint" or "decision"
    sentence: str
    inputs: dict[str, Any]
    supports: str | None = None
    weight: int = 0
    claim: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "kind": self.kind, "supports": self.supports, "weight": self.weight,
                "sentence": self.sentence, "inputs": dict(self.inputs),
                "claim": None if self.claim is None else {"cheaper": self.claim[0], "dearer": self.claim[1]}}


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
    """What the engine recommends, why, and at what price against the cheapest feasible option."""

    layer: str
    scores: dict[str, int]
    findings: tuple[Finding, ...]
    moat: Moat
    roadmap: tuple[Phase, ...]
    api_annual_cost_usd: float
    train_conditions: dict[str, bool] = field(default_factory=dict)
    cheapest_feasible: str | None = None
    cheapest_overall: str = "API"
    premium_usd: float = 0.0
    premium_tco_usd: float = 0.0
    premium_ratio: float = 1.0
    deciding_rules: tuple[str, ...] = ()
    decision_sentence: str = ""
    infeasible_because: dict[str, list[str]] = field(default_factory=dict)
    npv_usd: dict[str, float] = field(default_factory=dict)
    tco_usd: dict[str, float] = field(default_factory=dict)

    @property
    def reasons(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "reason"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "warning"]

    @property
    def feasible(self) -> dict[str, bool]:
        return {o: not self.infeasible_because.get(o) for o in model.OPTIONS}


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


# ----------------------------------------------------------------------------------- hard constraints
def _residency_blocks_api(a: Any) -> Any:
    return np.logical_and(a["data_residency_required"], np.logical_not(a["compliant_api_available"]))


def constraints(a: Any, tco_usd: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """For each option, each hard constraint it breaks: option -> {rule id: bool or bool array}.

    Vectorized: every value broadcasts over a sweep's shape.
    """
    tco_usd = tco_usd or {o: model.tco(o, a) for o in model.OPTIONS}
    need = np.asarray(a["latency_requirement_ms"], dtype=float)
    budget = np.asarray(a["available_budget_usd"], dtype=float)
    residency = _residency_blocks_api(a)
    api_slow = (need > 0) & (np.asarray(a["api_latency_ms"]) > need)
    own_slow = (need > 0) & (np.asarray(a["selfhost_latency_ms"]) > need)
    corpus_short = (np.asarray(a["training_tokens"], dtype=float)
                    > np.asarray(a["corpus_tokens"], dtype=float) * np.asarray(a["corpus_repeats"]) * (1 + 1e-12))
    out: dict[str, dict[str, Any]] = {}
    for o in model.OPTIONS:
        rules: dict[str, Any] = {}
        on_api = o in ("API", "PHASED")  # all traffic on the hosted API (PHASED until its phase 2 serves)
        rules["F-RESIDENCY"] = residency if on_api else np.zeros_like(residency, dtype=bool)
        rules["F-LATENCY"] = (api_slow | own_slow) if o == "PHASED" else (api_slow if o == "API" else own_slow)
        rules["F-BUDGET"] = (budget > 0) & (np.asarray(tco_usd[o]) > budget * (1 + 1e-12))
        rules["F-MODEL-FIT"] = np.logical_not(model.model_fits(o, a))
        rules["F-CORPUS"] = corpus_short if o == "TRAIN" else np.zeros_like(corpus_short, dtype=bool)
        out[o] = rules
    return out


def choose(a: Any) -> dict[str, Any]:
    """The answer for every scenario of a sweep at once (vectorized).

    Returns
    -------
    dict with ``npv_usd`` and ``tco_usd`` (option -> array), ``feasible`` (option -> bool array),
    ``cheapest_feasible`` and ``recommendation`` (arrays of option names; "" where nothing is feasible),
    ``deciding_rule`` (array of rule ids) and ``constraints`` (as :func:`constraints` gives them).
    """
    opts = model.OPTIONS
    npv = {o: np.asarray(model.npv(o, a), dtype=float) for o in opts}
    tco = {o: np.asarray(model.tco(o, a), dtype=float) for o in opts}
    cons = constraints(a, tco)
    feasible = {}
    for o in opts:
        broken = np.zeros((), dtype=bool)
        for v in cons[o].values():
            broken = broken | np.asarray(v, dtype=bool)
        feasible[o] = ~broken
    shape = np.broadcast_shapes(*(x.shape for x in (*npv.values(), *feasible.values())))
    npv_s = np.stack([np.broadcast_to(npv[o], shape) for o in opts], axis=-1)
    feas_s = np.stack([np.broadcast_to(feasible[o], shape) for o in opts], axis=-1)
    names = np.array(opts + ("",), dtype=object)
    none = len(opts)

    def cheapest(mask: np.ndarray) -> np.ndarray:
        idx = np.argmin(np.where(mask, npv_s, np.inf), axis=-1)
        return np.where(mask.any(axis=-1), idx, none)

    i_api, i_train = opts.index("API"), opts.index("TRAIN")
    justified = np.broadcast_to(np.asarray(train_justified(a)), shape)
    is_train = np.arange(len(opts)) == i_train
    cheapest_feasible = cheapest(feas_s)
    economic = cheapest(feas_s & ~(is_train & ~justified[..., None]))
    pre_pmf = ~np.broadcast_to(np.asarray(a["product_market_fit"], dtype=bool), shape) & feas_s[..., i_api]
    earned = justified & feas_s[..., i_train]
    rec = np.where(earned, i_train, np.where(pre_pmf, i_api, economic))
    rule = np.where(earned, "O-TRAIN-EARNED", np.where(pre_pmf, "O-PRE-PMF", np.where(
        economic == none, "NO-FEASIBLE", np.where(economic != cheapest_feasible, "T-NOT-JUSTIFIED",
                                                  "COST-CHEAPEST"))))
    # Nothing feasible: the cheapest justified option overall (never an unearned TRAIN), marked as such.
    allowed = np.broadcast_to(~(is_train & ~justified[..., None]), npv_s.shape)
    rec = np.where(rec == none, cheapest(allowed), rec)
    return {"npv_usd": npv, "tco_usd": tco, "feasible": feasible, "constraints": cons,
            "cheapest_feasible": names[cheapest_feasible], "recommendation": names[rec],
            "deciding_rule": np.asarray(rule, dtype=object)}


_CONSTRAINT_WHY = {
    "F-RESIDENCY": "data must stay in your infrastructure (data_residency_required) and no compliant hosted "
                   "deployment is available (compliant_api_available)",
    "F-LATENCY": "misses the latency requirement",
    "F-BUDGET": "costs more than the budget",
    "F-MODEL-FIT": "the model does not fit the GPUs",
    "F-CORPUS": "the corpus does not hold the training tokens",
}


def _infeasible_sentences(o: str, a: Any, broken: dict[str, Any], tco_usd: float) -> list[str]:
    out = []
    for rule_id, hit in broken.items():
        if not bool(hit):
            continue
        if rule_id == "F-RESIDENCY":
            extra = " (phase 1 sends all traffic to the hosted API)" if o == "PHASED" else ""
            out.append(f"F-RESIDENCY: {_CONSTRAINT_WHY[rule_id]}{extra}")
        elif rule_id == "F-LATENCY":
            lat = a["api_latency_ms"] if o in ("API", "PHASED") and a["api_latency_ms"] > a[
                "latency_requirement_ms"] else a["selfhost_latency_ms"]
            out.append(f"F-LATENCY: {lat:g} ms against the {a['latency_requirement_ms']:g} ms requirement")
        elif rule_id == "F-BUDGET":
            out.append(f"F-BUDGET: TCO {_money(tco_usd)} over {a['horizon_months']} months is over the "
                       f"{_money(a['available_budget_usd'])} budget (available_budget_usd)")
        elif rule_id == "F-MODEL-FIT":
            plan = model.serving_plan(a) if o == "FINE-TUNE" else model._train_plan(a)
            usable = a["gpu_memory_gb"] * (1 - a["gpu_memory_reserve_share"])
            out.append(f"F-MODEL-FIT: the model needs {float(plan.memory_needed_gb):,.1f} GB (weights and KV "
                       f"cache); {a['max_gpus_per_replica']} GPUs of {usable:,.1f} GB usable hold "
                       f"{a['max_gpus_per_replica'] * usable:,.1f} GB")
        elif rule_id == "F-CORPUS":
            out.append(f"F-CORPUS: {a['training_tokens']:,.0f} training tokens need a corpus of "
                       f"{a['training_tokens'] / a['corpus_repeats']:,.0f} unique tokens at "
                       f"{a['corpus_repeats']:g} repeat(s); corpus_tokens is {a['corpus_tokens']:,.0f}")
    return out


def recommend(a: Any) -> Recommendation:
    """Feasibility, economics and the article's rules on one scenario.

    ``a`` is a resolved scenario (:func:`buildbuy.engine.inputs.resolve`) with scalar inputs.
    """
    if a.is_vector:
        raise InputError("assumptions", "arrays", "scalar inputs: use decision.choose for sweeps")
    picked = choose(a)
    npv = {o: float(picked["npv_usd"][o]) for o in model.OPTIONS}
    tco = {o: float(picked["tco_usd"][o]) for o in model.OPTIONS}
    cons = picked["constraints"]
    infeasible = {o: _infeasible_sentences(o, a, cons[o], tco[o]) for o in model.OPTIONS}
    layer = str(picked["recommendation"])
    cheapest_feasible = str(picked["cheapest_feasible"]) or None
    cheapest_overall = min(model.OPTIONS, key=lambda o: (npv[o], model.OPTIONS.index(o)))
    rule = str(picked["deciding_rule"])
    api_spend = float(model.annual_cost("API", a))
    years = model.cost_by_year("API", a)
    found: list[Finding] = []

    def reason(rule_id: str, supports: str, weight: int, sentence: str, claim: tuple[str, str] | None = None,
               **inputs: Any) -> None:
        found.append(Finding(rule_id, "reason", sentence, inputs, supports, weight, claim))

    def warning(rule_id: str, sentence: str, **inputs: Any) -> None:
        found.append(Finding(rule_id, "warning", sentence, inputs))

    # Question 1: differentiator in the model or around it.
    if a.differentiator == "around_model":
        reason("Q1-AROUND-MODEL", "API", 2, "Your advantage is around the model (workflow, UX, distribution): "
               "use an API and put the effort into the product.", differentiator=a.differentiator)
    else:
        reason("Q1-IN-MODEL", "FINE-TUNE", 2, "Your advantage is in the model (data, domain, behaviour): "
               "owning the weights is where the value is.", differentiator=a.differentiator)

    # Question 2: the article's spend lines, judged on projected spend and reconciled with your break-even.
    year1, peak = float(years[0]), float(years.max()) if years.size else 0.0
    full_years = years[: int(a.horizon_months) // 12] if int(a.horizon_months) >= 12 else years
    peak = float(full_years.max()) if full_years.size else year1
    line = API_SPEND_SELFHOST_USD if peak > API_SPEND_SELFHOST_USD else (
        API_SPEND_EVALUATE_FINETUNE_USD if peak > API_SPEND_EVALUATE_FINETUNE_USD else None)
    if line is not None:
        rid, pts = ("Q2-SPEND-500K", 3) if line == API_SPEND_SELFHOST_USD else ("Q2-SPEND-50K", 1)
        sentence, claim = _spend_line_sentence(a, line, year1, peak, npv)
        reason(rid, "FINE-TUNE", pts, sentence, claim, api_year1_usd=round(year1, 2),
               api_peak_year_usd=round(peak, 2))
    need = a.latency_requirement_ms
    if 0 < need < LATENCY_FINETUNE_MS:
        reason("Q2-LATENCY", "FINE-TUNE", 2, f"You need {need:g} ms, under the {LATENCY_FINETUNE_MS} ms line; "
               f"a hosted API adds {a.api_latency_ms:g} ms, a self-hosted model {a.selfhost_latency_ms:g} ms.",
               latency_requirement_ms=need, api_latency_ms=a.api_latency_ms)
    if need > 0 and a.selfhost_latency_ms > need:
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

    # Decision matrix, train row, and what TRAIN must earn.
    conds = {k: bool(v) for k, v in train_conditions(a).items()}
    earned = {**conds, "deep_moat": bool(moat_is_deep(a)), "product_market_fit": bool(a.product_market_fit)}
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

    # The four common mistakes and the plan's own risks, as warnings.
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
    if year1 < API_SPEND_EVALUATE_FINETUNE_USD:
        warning("W-TOO-EARLY", f"At {a.daily_active_users:,.0f} daily users the projected API bill is "
                f"{_money(year1)} in year 1, under ${API_SPEND_EVALUATE_FINETUNE_USD:,}: optimizing it with your "
                f"own ML infrastructure is premature.", daily_active_users=a.daily_active_users,
                api_year1_usd=round(year1, 2))
    if layer in ("FINE-TUNE", "TRAIN") and bool(_residency_blocks_api(a)):
        months = a.finetune_months if layer == "FINE-TUNE" else a.training_months
        if months > 0:
            warning("W-INTERIM-API", f"Residency applies from day one, but {layer} serves its own model only from "
                    f"month {months}: until then serve the base open-weight model in your own infrastructure "
                    f"(the figures price that traffic at the API's rates).", data_residency_required=True)
    if layer in ("TRAIN", "PHASED") and float(model.training_run_months(a)) > a.training_months and (
            layer == "TRAIN" or np.isfinite(model.schedule(layer, a).train_start)):
        warning("W-TRAIN-RUN-LONG", f"The pre-training run takes {float(model.training_run_months(a)):,.1f} "
                f"months on {a.training_gpus:,} GPUs, longer than the {a.training_months}-month window: add GPUs "
                f"or plan a longer program.", training_gpus=a.training_gpus, training_months=a.training_months)
    if layer in ("TRAIN", "PHASED") and a.training_data_usd == 0 and (
            layer == "TRAIN" or np.isfinite(model.schedule(layer, a).train_start)):
        warning("W-TRAIN-DATA-FREE", "The corpus costs nothing in these figures (training_data_usd = 0): "
                "acquiring, cleaning and licensing it rarely is free.", training_data_usd=0)

    deciding, sentence = _decision(a, layer, rule, cheapest_feasible, cheapest_overall, npv, tco, infeasible,
                                   earned)
    base = cheapest_feasible or cheapest_overall
    same = layer == base
    premium = 0.0 if same else npv[layer] - npv[base]
    premium_tco = 0.0 if same else tco[layer] - tco[base]
    ratio = 1.0 if same else (npv[layer] / npv[base] if npv[base] > 0 else float("inf"))
    roadmap = build_roadmap(a, layer, earned)
    return Recommendation(layer, scores, tuple(found), moat, roadmap, api_spend, earned, cheapest_feasible,
                          cheapest_overall, premium, premium_tco, ratio, deciding, sentence,
                          {o: v for o, v in infeasible.items() if v}, npv, tco)


def _spend_line_sentence(a: Any, line: int, year1: float, peak: float, npv: dict[str, float]
                         ) -> tuple[str, tuple[str, str] | None]:
    """The article's spend line against projected spend, reconciled with the scenario's own break-even."""
    head = (f"Projected API spend is {_money(year1)} in year 1 and {_money(peak)} in its highest year: over the "
            f"article's {_money(line)} line.")
    try:
        v = float(model.breakeven_volume(a, "API", "FINE-TUNE"))
        pays_from = float(model.annual_cost("API", a, v))
        where = (f" At your prices self-hosting (FINE-TUNE) pays from {_money(pays_from)} a year of API spend "
                 f"({v:,.0f} requests/day).")
    except Exception:  # noqa: BLE001 - no crossing at any volume
        where = " At your prices self-hosting (FINE-TUNE) does not pay at any volume."
    if npv["FINE-TUNE"] < npv["API"]:
        return (head + where + f" Over {a.horizon_months} months FINE-TUNE costs "
                f"{_money(npv['API'] - npv['FINE-TUNE'])} less than the API (NPV).", ("FINE-TUNE", "API"))
    return (head + where + f" Over {a.horizon_months} months FINE-TUNE still costs "
            f"{_money(npv['FINE-TUNE'] - npv['API'])} more than the API (NPV).", ("API", "FINE-TUNE"))


def _decision(a: Any, layer: str, rule: str, cheapest_feasible: str | None, cheapest_overall: str,
              npv: dict[str, float], tco: dict[str, float], infeasible: dict[str, list[str]],
              earned: dict[str, bool]) -> tuple[tuple[str, ...], str]:
    """The deciding rules and the sentence that states the answer and its price."""
    months = a.horizon_months
    ruled_out = [o for o, why in infeasible.items() if why]
    # The constraints that decided: those ruling out an option cheaper than the answer.
    out_rules = tuple(dict.fromkeys(w.split(":")[0] for o in ruled_out if npv[o] < npv[layer]
                                    for w in infeasible[o]))

    def premium_words(rec: str, base: str) -> str:
        diff = npv[rec] - npv[base]
        ratio = f", {npv[rec] / npv[base]:.1f}x" if npv[base] > 0 else ""
        return f"{rec} costs {_money(diff)} more than {base} over {months} months (NPV{ratio})"

    if rule == "NO-FEASIBLE":
        if cheapest_feasible == "TRAIN":
            failing = ", ".join(k for k, ok in earned.items() if not ok)
            return ("NO-FEASIBLE", "T-NOT-JUSTIFIED", *out_rules), (
                f"The only option that meets every hard constraint is TRAIN, and it is not justified ({failing} "
                f"not met). {layer} is shown as the cheapest justified option although it is ruled out "
                f"({'; '.join(infeasible[layer])}); relax a constraint to get a recommendation.")
        return ("NO-FEASIBLE", *out_rules), (
            f"No option meets every hard constraint ({'; '.join(sorted({w for o in ruled_out for w in infeasible[o]}))}"
            f"). {layer} is shown as the cheapest justified option; relax a constraint to get a recommendation.")
    if rule == "O-PRE-PMF":
        if layer == cheapest_feasible:
            return ("O-PRE-PMF", "COST-CHEAPEST"), (
                f"API: no product-market fit yet, and it is also the cheapest feasible option ({_money(npv[layer])} "
                f"NPV over {months} months).")
        return ("O-PRE-PMF",), (f"{premium_words(layer, cheapest_feasible)}; recommended because there is no "
                                f"product-market fit yet (use APIs until there is).")
    if rule == "O-TRAIN-EARNED":
        if layer == cheapest_feasible:
            return ("O-TRAIN-EARNED", "COST-CHEAPEST"), (
                f"TRAIN: earned (all five conditions, a deep data moat, product-market fit, the budget covers its "
                f"TCO) and the cheapest feasible option ({_money(npv[layer])} NPV over {months} months).")
        return ("O-TRAIN-EARNED",), (
            f"{premium_words(layer, cheapest_feasible)}; recommended because TRAIN is earned: all five matrix "
            f"conditions, a deep data moat and product-market fit hold, and the budget covers its TCO.")
    if rule == "T-NOT-JUSTIFIED":
        failing = ", ".join(k for k, ok in earned.items() if not ok)
        return ("T-NOT-JUSTIFIED", "COST-CHEAPEST", *out_rules), (
            f"{premium_words(layer, cheapest_feasible)}; recommended because TRAIN, the cheapest feasible option, "
            f"is not justified ({failing} not met). {layer} is the cheapest justified option.")
    # COST-CHEAPEST
    if layer != cheapest_overall and cheapest_overall in ruled_out:
        why = "; ".join(infeasible[cheapest_overall])
        return ("COST-CHEAPEST", *out_rules), (
            f"{premium_words(layer, cheapest_overall)}; recommended because {cheapest_overall} is ruled out "
            f"({why}). {layer} is the cheapest feasible option.")
    others = sorted((npv[o], o) for o in model.OPTIONS if o != layer and o not in ruled_out)
    if others:
        gap, runner = others[0][0] - npv[layer], others[0][1]
        return ("COST-CHEAPEST", *out_rules), (
            f"{layer} is the cheapest feasible option: {_money(npv[layer])} NPV over {months} months, "
            f"{_money(gap)} less than {runner}, the runner-up.")
    return ("COST-CHEAPEST", *out_rules), f"{layer} is the only feasible option ({_money(npv[layer])} NPV)."


def build_roadmap(a: Any, layer: str, earned: dict[str, bool]) -> tuple[Phase, ...]:
    """The article's three phases with the scenario's switch months and a status per phase."""
    trigger = model.phase2_trigger_month(a)
    p2 = int(trigger) if np.isfinite(trigger) else int(a.phase2_start_month)
    p3 = max(int(a.phase3_start_month), p2)
    train_ok = all(earned.values())
    return (
        Phase(1, "API", 0, p2, "now", "Ship with APIs, validate the use case, collect interaction data, build evals."),
        Phase(2, "FINE-TUNE", p2, p3, "planned" if layer in ("FINE-TUNE", "TRAIN") or np.isfinite(trigger)
              else "if justified",
              "Fine-tune on the collected data; self-host it for the highest-volume, cost-sensitive paths; keep "
              "the frontier API for edge cases and new features."),
        Phase(3, "TRAIN", p3, None, "planned" if train_ok else "not justified",
              "Train a specialized model only if the data moat is deep and the domain stable; most companies "
              "never need this phase."),
    )


def decision_boundaries(a: Any, lo: float = 1e-3, hi: float = 1e3, points: int = 61) -> list[dict[str, Any]]:
    """Where the answer changes: the requests/day and the API price (as multiples of today's) at which the
    recommendation flips, nearest first on each side, within ``lo``..``hi`` times today's value."""
    base = str(choose(a)["recommendation"])
    out = []
    for key, scale in (("requests_per_day", _scaled_volume), ("api_price_factor", _scaled_prices)):
        grid = np.geomspace(lo, hi, points)
        try:
            with np.errstate(all="ignore"):
                answers = choose(scale(a, grid))["recommendation"]
        except InputError:  # scaled past what the inputs allow (e.g. a price near the float limit): no scan
            continue
        for side, order in (("below", np.flatnonzero(grid < 1.0)[::-1]), ("above", np.flatnonzero(grid > 1.0))):
            prev = 1.0
            for i in order:
                if answers[i] != base:
                    x = _bisect(a, scale, prev, float(grid[i]), base)
                    value = float(x * a["requests_per_day"]) if key == "requests_per_day" else float(x)
                    out.append({"input": key, "side": side, "factor": x, "value": value,
                                "answer_beyond": str(choose(scale(a, np.array([x * (1.001 if side == 'above'
                                                                                      else 0.999)])))[
                                    "recommendation"][0])})
                    break
                prev = float(grid[i])
    return out


def _bisect(a: Any, scale: Any, inside: float, outside: float, base: str) -> float:
    """Narrow the bracket [inside, outside] of a change of answer with a few vectorized grids (64 points each:
    five rounds pin the factor to about 1e-9 of the bracket in log terms)."""
    for _ in range(5):
        grid = np.geomspace(inside, outside, 64)
        answers = choose(scale(a, grid))["recommendation"]
        changed = np.flatnonzero(answers != base)
        if changed.size == 0:
            return outside
        i = int(changed[0])
        if i == 0:
            return float(grid[0])
        inside, outside = float(grid[i - 1]), float(grid[i])
    return outside


def _raw(a: Any) -> dict[str, Any]:
    """Every value of a scenario, ready to resolve again: catalog selectors blanked (their prices are already
    in the values) and users left to follow the volume."""
    raw = {k: a[k] for k in a}
    raw.pop("daily_active_users", None)
    for selector in ("api_model", "gpu_type", "training_gpu_type", "serving_model"):
        raw[selector] = ""
    return raw


def _scaled_volume(a: Any, factors: np.ndarray) -> Any:
    from .inputs import resolve

    return resolve(dict(_raw(a), requests_per_day=np.asarray(a["requests_per_day"]) * factors), scenario=a.name)


def _scaled_prices(a: Any, factors: np.ndarray) -> Any:
    from .inputs import resolve

    return resolve(dict(_raw(a), api_input_usd_per_mtok=np.asarray(a["api_input_usd_per_mtok"]) * factors,
                        api_output_usd_per_mtok=np.asarray(a["api_output_usd_per_mtok"]) * factors),
                   scenario=a.name)


def _money(x: Any) -> str:
    x = float(x)
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.2f}M"
    return f"${x:,.0f}"
