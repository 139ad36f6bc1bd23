"""The comparison of all options and the recommendation, as one plain structure (for CLI, JSON, Excel)."""

from __future__ import annotations

import math
from typing import Any

from . import model
from .decision import Recommendation, recommend
from .errors import NoSolutionError

#: Columns of the comparison, in order: (key, header, unit).
COMPARE_COLUMNS = (
    ("option", "Option", ""),
    ("annual_cost_usd", "Annual cost", "USD/year"),
    ("tco_usd", "TCO", "USD"),
    ("npv_usd", "NPV of costs", "USD"),
    ("latency_ms", "Latency", "ms"),
    ("year1_cost_usd", "Year-1 cost", "USD"),
    ("cost_per_mtok_usd", "Cost per 1M tokens", "USD/1M tokens"),
    ("cost_per_request_usd", "Cost per request", "USD/request"),
    ("meets_latency", "Meets latency", "yes/no"),
    ("breakeven_month_vs_api", "Break-even month vs API", "month"),
    ("breakeven_volume_vs_api", "Break-even volume vs API", "requests/day"),
)


def option_summary(option: str, a: Any) -> dict[str, Any]:
    """Headline figures of one option for one scenario (scalars; None where a figure does not exist)."""
    option = model.normalize_option(option)
    monthly = model.monthly_cost(option, a)
    need = a["latency_requirement_ms"]
    latency = model.latency_ms(option, a)
    row: dict[str, Any] = {
        "option": option,
        "annual_cost_usd": float(model.annual_cost(option, a)),
        "tco_usd": float(monthly.sum()),
        "npv_usd": float(model.npv(option, a)),
        "latency_ms": float(latency),
        "year1_cost_usd": float(monthly[:12].sum()),
        "cost_per_mtok_usd": _finite(model.cost_per_mtok_usd(option, a)),
        "cost_per_request_usd": _finite(model.cost_per_request_usd(option, a)),
        "meets_latency": bool(need == 0 or latency <= need),
        "breakeven_month_vs_api": None,
        "breakeven_volume_vs_api": None,
    }
    if option != "API":
        try:
            row["breakeven_month_vs_api"] = model.breakeven_month(a, "API", option)
        except NoSolutionError:
            pass
        try:
            row["breakeven_volume_vs_api"] = model.breakeven_volume(a, "API", option)
        except NoSolutionError:
            pass
    return row


def compare(a: Any) -> list[dict[str, Any]]:
    """One summary row per option, in :data:`model.OPTIONS` order."""
    return [option_summary(o, a) for o in model.OPTIONS]


def full_report(a: Any, rec: Recommendation | None = None) -> dict[str, Any]:
    """Everything the CLI and ``--json`` show for one scenario."""
    rec = rec or recommend(a)
    return {
        "scenario": a.name,
        "currency": a["currency"],
        "requests_per_day": float(a["requests_per_day"]),
        "horizon_months": int(a["horizon_months"]),
        "recommendation": rec.layer,
        "scores": dict(rec.scores),
        "options": compare(a),
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
