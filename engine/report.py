"""The comparison of all options and the recommendation, as one plain structure (for CLI, JSON, Excel)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import model
from .decision import Recommendation, decision_boundaries, recommend
from .errors import NoSolutionError

#: Columns of the comparison, in order: (key, header, unit). Scalar figures, reachable one by one in Excel
#: through BVB_METRIC.
COMPARE_COLUMNS = (
    ("option", "Option", ""),
    ("annual_cost_usd", "Annual run-rate today", "USD/year"),
    ("tco_usd", "TCO", "USD"),
    ("npv_usd", "NPV of costs", "USD"),
    ("latency_ms", "Latency", "ms"),
    ("year1_cost_usd", "Year-1 cost", "USD"),
    ("run_rate_end_usd", "Run-rate at horizon end", "USD/year"),
    ("pnl_tco_usd", "Cost over the horizon, P&L view", "USD"),
    ("capex_usd", "Hardware purchases (cash)", "USD"),
    ("depreciation_usd", "Depreciation over the horizon", "USD"),
    ("cost_per_mtok_usd", "Cost per 1M tokens", "USD/1M tokens"),
    ("cost_per_request_usd", "Cost per request", "USD/request"),
    ("meets_latency", "Meets latency", "yes/no"),
    ("feasible", "Feasible", "yes/no"),
    ("breakeven_month_vs_api", "Break-even month vs API", "month (fractional)"),
    ("lasting_breakeven_month_vs_api", "Lasting break-even month vs API", "month (fractional)"),
    ("breakeven_volume_vs_api", "Break-even volume vs API", "requests/day"),
    ("rent_vs_buy_breakeven_hours", "Rent-vs-buy break-even", "GPU-hours of use"),
    ("serving_gpus", "Serving GPUs at horizon end", "GPUs"),
    ("gpus_per_replica", "GPUs per replica", "GPUs"),
    ("training_gpu_hours", "Training GPU-hours (one run)", "GPU-hours"),
    ("training_run_months", "Training run wall-clock", "months"),
)

#: Definitions shown beside the figures (report, docs, workbook).
DEFINITIONS = {
    "breakeven_month_vs_api": "the first time, in months from the start of the horizon, at which the option's "
                              "cumulative cost drops below the API's (running costs accrue evenly through a "
                              "month; purchases and one-off fees at its start)",
    "lasting_breakeven_month_vs_api": "the time from which the option stays cumulatively cheaper than the API "
                                      "to the end of the horizon",
    "breakeven_volume_vs_api": "the lowest requests/day at which the option's annual run-rate equals the API's",
    "rent_vs_buy_breakeven_hours": "hours of use of one GPU at which buying it costs the same as renting it",
    "annual_cost_usd": "the steady-state annual cost long after launch at today's volume and year-1 prices "
                       "(one-offs out, refresh runs and hardware replacement averaged)",
}


def option_summary(option: str, a: Any, rec: Recommendation | None = None) -> dict[str, Any]:
    """Headline figures of one option for one scenario (scalars; None where a figure does not exist)."""
    option = model.normalize_option(option)
    items = model.line_items(option, a)
    monthly = sum(items.values())
    need = a["latency_requirement_ms"]
    latency = model.latency_ms(option, a)
    self_hosted = option in model.SELF_HOSTED
    depreciation = model.depreciation(option, a)
    by_year = model.cost_by_year(option, a)
    row: dict[str, Any] = {
        "option": option,
        "annual_cost_usd": float(model.annual_cost(option, a)),
        "tco_usd": float(monthly.sum()),
        "npv_usd": float(model.npv(option, a)),
        "latency_ms": float(latency),
        "year1_cost_usd": float(monthly[:12].sum()),
        "run_rate_end_usd": float(model.run_rate_at_end(option, a)),
        "pnl_tco_usd": float(monthly.sum() - items["hardware_purchase"].sum() + depreciation.sum()),
        "capex_usd": float(items["hardware_purchase"].sum()),
        "depreciation_usd": float(depreciation.sum()),
        "cost_per_mtok_usd": _finite(model.cost_per_mtok_usd(option, a)),
        "cost_per_request_usd": _finite(model.cost_per_request_usd(option, a)),
        "meets_latency": bool(need == 0 or latency <= need),
        "feasible": True,
        "breakeven_month_vs_api": None,
        "lasting_breakeven_month_vs_api": None,
        "breakeven_volume_vs_api": None,
        "rent_vs_buy_breakeven_hours": _finite(model.rent_vs_buy_breakeven_hours(a)) if self_hosted else None,
        "serving_gpus": float(model.serving_gpus(option, a)),
        "gpus_per_replica": float(model.gpus_per_replica(option, a)) if self_hosted else None,
        "training_gpu_hours": float(model.training_gpu_hours(a)) if option == "TRAIN" else None,
        "training_run_months": float(model.training_run_months(a)) if option == "TRAIN" else None,
        "infeasible_because": [],
        "annual_cost_by_year_usd": [float(x) for x in by_year],
        "line_items_usd": {k: float(v.sum()) for k, v in items.items() if k in model.OPTION_LINE_ITEMS[option]},
    }
    if rec is not None:
        row["infeasible_because"] = list(rec.infeasible_because.get(option, []))
        row["feasible"] = not row["infeasible_because"]
    if option != "API":
        for key, fn in (("breakeven_month_vs_api", model.breakeven_month),
                        ("lasting_breakeven_month_vs_api", model.lasting_breakeven_month),
                        ("breakeven_volume_vs_api", model.breakeven_volume)):
            try:
                row[key] = float(fn(a, "API", option))
            except NoSolutionError:
                pass
    return row


def compare(a: Any, rec: Recommendation | None = None) -> list[dict[str, Any]]:
    """One summary row per option, in :data:`model.OPTIONS` order."""
    return [option_summary(o, a, rec) for o in model.OPTIONS]


def full_report(a: Any, rec: Recommendation | None = None) -> dict[str, Any]:
    """Everything the CLI and ``--json`` show for one scenario."""
    rec = rec or recommend(a)
    return {
        "scenario": a.name,
        "currency": a["currency"],
        "requests_per_day": float(a["requests_per_day"]),
        "horizon_months": int(a["horizon_months"]),
        "recommendation": rec.layer,
        "cheapest_feasible": rec.cheapest_feasible,
        "cheapest_overall": rec.cheapest_overall,
        "premium_usd": rec.premium_usd,
        "premium_tco_usd": rec.premium_tco_usd,
        "premium_ratio": _finite(rec.premium_ratio),
        "deciding_rules": list(rec.deciding_rules),
        "decision": rec.decision_sentence,
        "decision_boundaries": decision_boundaries(a),
        "definitions": dict(DEFINITIONS),
        "scores": dict(rec.scores),
        "options": compare(a, rec),
        "reasons": [f.as_dict() for f in rec.reasons],
        "warnings": [f.as_dict() for f in rec.warnings],
        "moat": {"score": rec.moat.score, "verdict": rec.moat.verdict, "sentence": rec.moat.sentence},
        "train_conditions": dict(rec.train_conditions),
        "roadmap": [
            {"phase": p.phase, "layer": p.layer, "start_month": p.start_month, "end_month": p.end_month,
             "status": p.status, "actions": p.actions}
            for p in rec.roadmap
        ],
        "inputs": {k: _plain(a[k]) for k in a},
    }


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _plain(x: Any) -> Any:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def summaries(scenarios: list[Any]) -> list[dict[str, Any]]:
    """The answer for many scenarios at once: one vectorized :func:`decision.choose` per group of scenarios that
    share their non-numeric inputs (yes/no, choices, text, the horizon).

    Each row: scenario, recommendation, cheapest_feasible, deciding_rule, premium_usd, premium_ratio, and per
    option npv_usd, tco_usd and feasible. The same answers as :func:`full_report`, without the findings.
    """
    from .decision import choose
    from .inputs import Assumptions

    def numeric(k: str, v: Any) -> bool:
        return k != "horizon_months" and isinstance(v, (int, float)) and not isinstance(v, bool)

    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(scenarios):
        key = tuple((k, a[k]) for k in a if not numeric(k, a[k]))
        groups.setdefault(key, []).append(i)
    rows: list[dict[str, Any] | None] = [None] * len(scenarios)
    for idx in groups.values():
        first = scenarios[idx[0]]
        values = {k: (np.array([float(scenarios[i][k]) for i in idx]) if numeric(k, first[k]) else first[k])
                  for k in first}
        picked = choose(Assumptions(values, first.given, first.name))
        for j, i in enumerate(idx):
            npv = {o: float(np.broadcast_to(picked["npv_usd"][o], (len(idx),))[j]) for o in model.OPTIONS}
            tco = {o: float(np.broadcast_to(picked["tco_usd"][o], (len(idx),))[j]) for o in model.OPTIONS}
            feasible = {o: bool(np.broadcast_to(picked["feasible"][o], (len(idx),))[j]) for o in model.OPTIONS}
            rec = str(np.broadcast_to(picked["recommendation"], (len(idx),))[j])
            cheapest = str(np.broadcast_to(picked["cheapest_feasible"], (len(idx),))[j]) or None
            base = npv[cheapest] if cheapest else min(npv.values())
            rows[i] = {
                "scenario": scenarios[i].name, "recommendation": rec, "cheapest_feasible": cheapest,
                "deciding_rule": str(np.broadcast_to(picked["deciding_rule"], (len(idx),))[j]),
                "premium_usd": npv[rec] - base, "premium_ratio": _finite(npv[rec] / base) if base > 0 else None,
                "npv_usd": npv, "tco_usd": tco, "feasible": feasible,
            }
    return [r for r in rows if r is not None]
