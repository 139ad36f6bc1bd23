"""Monthly cash flows per option, and what follows from them: TCO, NPV, unit costs, break-evens.

Options
-------
``API``        hosted API for all traffic (layer 1).
``FINE-TUNE``  fine-tune an open-weight model and self-host it from month 0 (layer 2).
``TRAIN``      pre-train your own model from month 0, API traffic until it launches (layer 3).
``PHASED``     the article's progression: API, a fine-tune project from ``phase2_start_month``, a pre-training
               program from ``phase3_start_month`` only when the five train conditions hold.

Conventions
-----------
Month ``m`` runs 0 .. horizon-1; volume grows as ``requests_per_day x (1 + growth)^m``; a month has 365/12 days
and 730 GPU-hours; API prices change in steps at months 12, 24, ... by ``api_price_change_per_year``. Every
input may be a numpy array: results get the broadcast shape with the month axis last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import costs
from .errors import InputError, NoSolutionError
from .rules import train_justified

OPTIONS = ("API", "FINE-TUNE", "TRAIN", "PHASED")
DAYS_PER_MONTH = costs.DAYS_PER_YEAR / costs.MONTHS_PER_YEAR
HOURS_PER_MONTH = costs.HOURS_PER_YEAR / costs.MONTHS_PER_YEAR
NEVER = np.inf

#: Line items of the monthly timeline, in report order, with what each holds.
LINE_ITEMS = {
    "api_usage": "Hosted API fees for the traffic the API serves",
    "gpu_serving": "Serving GPUs: whole GPUs for the peak x 730 h x price",
    "finetune_and_labeling": "One-off fine-tuning run and labeling of the examples",
    "retraining": "Retraining / rebasing runs after launch, every retrain_every_months",
    "training_compute": "Pre-training compute (6ND FLOPs), spread over the training months",
    "training_data": "One-off corpus acquisition and cleaning",
    "ml_team": "ML engineers from project start",
    "mlops": "MLOps tooling and infrastructure from project start",
    "evaluation": "Evaluation infrastructure from project start",
    "opportunity_cost": "Product work forgone in each month of building before launch",
}


#: The line items each option can have; the others are zero by construction (an API-only plan has no GPUs,
#: a fine-tune no pre-training, a pre-training program no separate fine-tune run).
OPTION_LINE_ITEMS = {
    "API": ("api_usage",),
    "FINE-TUNE": tuple(k for k in LINE_ITEMS if k not in ("training_compute", "training_data")),
    "TRAIN": tuple(k for k in LINE_ITEMS if k != "finetune_and_labeling"),
    "PHASED": tuple(LINE_ITEMS),
}


def normalize_option(option: Any) -> str:
    """``'fine-tune'``, ``'Fine tune'``, ``'FINETUNE'`` ... -> ``'FINE-TUNE'``; raises InputError otherwise."""
    if isinstance(option, str):
        key = option.strip().upper().replace("_", "-").replace(" ", "-")
        key = {"FINETUNE": "FINE-TUNE", "BUY": "API", "BUILD": "TRAIN"}.get(key, key)
        if key in OPTIONS:
            return key
    raise InputError("option", option, "one of " + ", ".join(repr(o) for o in OPTIONS))


@dataclass(frozen=True)
class Schedule:
    """When each project starts (month; inf = never)."""

    finetune_start: Any
    train_start: Any


def schedule(option: str, a: Any) -> Schedule:
    """Project start months of an option."""
    option = normalize_option(option)
    if option == "API":
        return Schedule(NEVER, NEVER)
    if option == "FINE-TUNE":
        return Schedule(0.0, NEVER)
    if option == "TRAIN":
        return Schedule(NEVER, 0.0)
    justified = np.asarray(train_justified(a))
    return Schedule(np.asarray(a["phase2_start_month"], dtype=float),
                    np.where(justified, np.asarray(a["phase3_start_month"], dtype=float), NEVER))


def _col(x: Any) -> np.ndarray:
    """An input as an array with a trailing month axis of length 1, for broadcasting against months."""
    return np.asarray(x, dtype=float)[..., None]


def volume_requests_per_day(a: Any) -> np.ndarray:
    """Requests/day in each month, shape (..., horizon)."""
    m = np.arange(a["horizon_months"], dtype=float)
    return _col(a["requests_per_day"]) * (1.0 + _col(a["monthly_growth_rate"])) ** m


def api_price_factor(a: Any) -> np.ndarray:
    """Multiplier of API prices in each month: ``(1 + change)^floor(m / 12)``."""
    m = np.arange(a["horizon_months"], dtype=float)
    return (1.0 + _col(a["api_price_change_per_year"])) ** np.floor(m / costs.MONTHS_PER_YEAR)


def api_cost_per_request_usd(a: Any) -> Any:
    """Year-1 API price of one request, from the scenario's token counts and prices."""
    return costs.api_cost_per_request_usd(
        a["input_tokens_per_request"], a["output_tokens_per_request"], a["api_input_usd_per_mtok"],
        a["api_output_usd_per_mtok"], a["api_cached_input_share"], a["api_cached_input_discount"],
        **{k: a[k] for k in costs.API_DIMENSION_INPUTS})


def tokens_per_request(a: Any) -> Any:
    """Input plus output tokens of one request."""
    return np.add(a["input_tokens_per_request"], a["output_tokens_per_request"])


def line_items(option: str, a: Any) -> dict[str, np.ndarray]:
    """Monthly cost of each line item of an option, each shape (..., horizon), in the scenario's currency."""
    sch = schedule(option, a)
    horizon = a["horizon_months"]
    m = np.arange(horizon, dtype=float)
    ft_start = _col(sch.finetune_start)
    tr_start = _col(sch.train_start)
    ft_live = ft_start + _col(a["finetune_months"])
    tr_live = tr_start + _col(a["training_months"])
    live = np.minimum(ft_live, tr_live)
    project_start = np.minimum(ft_start, tr_start)

    serving = m >= live
    building = ((m >= ft_start) & (m < ft_live)) | ((m >= tr_start) & (m < tr_live))
    staffed = m >= project_start

    volume = volume_requests_per_day(a)
    api_month = volume * DAYS_PER_MONTH * _col(api_cost_per_request_usd(a)) * api_price_factor(a)
    fallback = _col(a["api_fallback_share"])
    api_usage = np.where(serving, api_month * fallback, api_month)

    gpus = costs.gpus_needed(volume * (1.0 - fallback), _col(tokens_per_request(a)),
                             _col(a["tokens_per_second_per_gpu"]), _col(a["gpu_utilization"]),
                             _col(a["peak_to_average_ratio"]), _col(a["min_gpus"]))
    gpu_serving = np.where(serving, np.asarray(gpus) * HOURS_PER_MONTH * _col(a["gpu_usd_per_hour"]), 0.0)

    one_off_ft = _col(a["finetune_training_usd"]) + _col(a["labeled_examples"]) * _col(a["labeling_usd_per_example"])
    finetune_and_labeling = np.where(m == ft_start, one_off_ft, 0.0)

    every = _col(a["retrain_every_months"])
    safe_live = np.where(np.isfinite(live), live, 0.0)
    safe_every = np.where(every > 0, every, 1.0)
    since = m - safe_live
    retrain_due = np.isfinite(live) & (every > 0) & (since > 0) & (np.mod(since, safe_every) == 0)
    retraining = np.where(retrain_due, _col(a["finetune_training_usd"]), 0.0)

    compute = _col(costs.train_compute_cost_usd(a["model_parameters"], a["training_tokens"],
                                                a["gpu_peak_tflops"], a["mfu"], a["gpu_usd_per_hour"]))
    training = (m >= tr_start) & (m < tr_live)
    training_compute = np.where(training, compute / _col(a["training_months"]), 0.0)
    training_data = np.where(m == tr_start, _col(a["training_data_usd"]), 0.0)

    team_month = _col(a["ml_engineers"]) * _col(a["ml_engineer_usd_per_year"]) / costs.MONTHS_PER_YEAR
    items = {
        "api_usage": api_usage,
        "gpu_serving": gpu_serving,
        "finetune_and_labeling": finetune_and_labeling,
        "retraining": retraining,
        "training_compute": training_compute,
        "training_data": training_data,
        "ml_team": np.where(staffed, team_month, 0.0),
        "mlops": np.where(staffed, _col(a["mlops_usd_per_year"]) / costs.MONTHS_PER_YEAR, 0.0),
        "evaluation": np.where(staffed, _col(a["eval_usd_per_year"]) / costs.MONTHS_PER_YEAR, 0.0),
        "opportunity_cost": np.where(building, _col(a["opportunity_cost_usd_per_month"]), 0.0),
    }
    shape = np.broadcast_shapes(*(v.shape for v in items.values()))
    return {k: np.broadcast_to(v, shape).astype(float) for k, v in items.items()}


def monthly_cost(option: str, a: Any) -> np.ndarray:
    """Total cost in each month, shape (..., horizon)."""
    return sum(line_items(option, a).values())


def tco(option: str, a: Any) -> Any:
    """Total cost of ownership over the horizon (undiscounted sum of monthly costs)."""
    return _scalar(monthly_cost(option, a).sum(axis=-1))


def npv(option: str, a: Any) -> Any:
    """Present value of the option's monthly costs at ``discount_rate_per_year``, end-of-month flows.

    Notes
    -----
    ``NPV = sum_m cost_m / (1 + r)^((m + 1) / 12)``, the same as Excel's
    ``NPV((1 + r)^(1/12) - 1, costs)``.
    """
    flows = monthly_cost(option, a)
    m = np.arange(flows.shape[-1], dtype=float)
    factor = (1.0 + _col(a["discount_rate_per_year"])) ** (-(m + 1.0) / costs.MONTHS_PER_YEAR)
    return _scalar((flows * factor).sum(axis=-1))


def total_requests(a: Any) -> Any:
    """Requests served over the horizon."""
    return _scalar((volume_requests_per_day(a) * DAYS_PER_MONTH).sum(axis=-1))


def cost_per_request_usd(option: str, a: Any) -> Any:
    """TCO divided by the requests served over the horizon (NaN when there are none)."""
    n = np.asarray(total_requests(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.where(n > 0, np.asarray(tco(option, a)) / np.where(n > 0, n, 1), np.nan))


def cost_per_mtok_usd(option: str, a: Any) -> Any:
    """TCO per million tokens processed over the horizon (NaN when no tokens)."""
    tok = np.asarray(total_requests(a)) * np.asarray(tokens_per_request(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.where(tok > 0, np.asarray(tco(option, a)) * costs.TOKENS_PER_MTOK / np.where(
            tok > 0, tok, 1), np.nan))


def latency_ms(option: str, a: Any) -> Any:
    """Latency of the option's main serving path (the self-hosted model once it serves; API before that)."""
    option = normalize_option(option)
    return a["api_latency_ms"] if option == "API" else a["selfhost_latency_ms"]


# ----------------------------------------------------------------------------------- annual run-rate
@dataclass(frozen=True)
class AnnualTerms:
    """An option's steady-state annual cost as a function of volume v (requests/day):

    ``fixed_usd + usd_per_request_per_day x v + gpu_usd_per_year x max(min_gpus, ceil(gpus_per_request_per_day x v))``
    """

    fixed_usd: Any
    usd_per_request_per_day: Any
    gpu_usd_per_year: Any
    gpus_per_request_per_day: Any
    min_gpus: Any

    def at(self, requests_per_day: Any) -> Any:
        gpus = np.maximum(self.min_gpus, np.ceil(np.round(np.multiply(requests_per_day,
                                                                      self.gpus_per_request_per_day), 9)))
        return _scalar(self.fixed_usd + np.multiply(self.usd_per_request_per_day, requests_per_day)
                       + np.multiply(self.gpu_usd_per_year, gpus))


def annual_terms(option: str, a: Any) -> AnnualTerms:
    """The steady-state annual run-rate of an option, at year-1 prices, once its own model serves.

    One-off costs (fine-tune run, labeling, pre-training, corpus) are left out: they are in the TCO, the NPV
    and the break-even month. FINE-TUNE, TRAIN and PHASED share the serving and hidden-cost terms.
    """
    option = normalize_option(option)
    per_request_year = np.multiply(api_cost_per_request_usd(a), costs.DAYS_PER_YEAR)
    if option == "API":
        return AnnualTerms(0.0, per_request_year, 0.0, 0.0, 0.0)
    every = np.asarray(a["retrain_every_months"], dtype=float)
    with np.errstate(divide="ignore"):
        retrain_per_year = np.where(every > 0, costs.MONTHS_PER_YEAR / np.where(every > 0, every, 1), 0.0)
    fixed = (np.multiply(a["ml_engineers"], a["ml_engineer_usd_per_year"]) + a["mlops_usd_per_year"]
             + a["eval_usd_per_year"] + retrain_per_year * np.asarray(a["finetune_training_usd"]))
    fallback = np.asarray(a["api_fallback_share"])
    served_share = 1.0 - fallback
    per_gpu = costs.gpus_per_request_per_day(tokens_per_request(a), a["tokens_per_second_per_gpu"],
                                             a["gpu_utilization"], a["peak_to_average_ratio"])
    return AnnualTerms(_scalar(fixed), _scalar(per_request_year * fallback),
                       _scalar(np.multiply(a["gpu_usd_per_hour"], costs.HOURS_PER_YEAR)),
                       _scalar(np.multiply(per_gpu, served_share)), a["min_gpus"])


def annual_cost(option: str, a: Any, requests_per_day: Any = None) -> Any:
    """Steady-state annual cost of an option at a volume (the scenario's month-0 volume by default)."""
    v = a["requests_per_day"] if requests_per_day is None else requests_per_day
    return annual_terms(option, a).at(v)


def breakeven_volume(a: Any, option_a: str, option_b: str) -> Any:
    """Lowest requests/day at which the two options' annual run-rate costs are equal.

    Both costs are straight lines in volume between the points where a serving GPU is added, so the first
    crossing is found exactly, segment by segment, in closed form (no iteration). Where an option's cost jumps
    (a GPU is added) and the cheaper option changes at the jump, the jump's volume is returned.

    Returns
    -------
    float, or an array with NaN where there is no break-even, for sweeps.

    Raises
    ------
    NoSolutionError
        For scalar inputs when the costs never cross (Excel's #N/A).
    """
    ta, tb = annual_terms(option_a, a), annual_terms(option_b, a)
    both_gpu = np.asarray(ta.gpu_usd_per_year) > 0
    # FINE-TUNE, TRAIN and PHASED share one serving term; when both sides have it, it cancels.
    shared = np.asarray(tb.gpu_usd_per_year) > 0
    gpu_a = np.where(both_gpu & shared, 0.0, ta.gpu_usd_per_year)
    gpu_b = np.where(both_gpu & shared, 0.0, tb.gpu_usd_per_year)
    k = np.where(np.asarray(ta.gpu_usd_per_year) > 0, ta.gpus_per_request_per_day, tb.gpus_per_request_per_day)
    mins = np.where(np.asarray(ta.gpu_usd_per_year) > 0, ta.min_gpus, tb.min_gpus)
    d = np.asarray(ta.fixed_usd - np.asarray(tb.fixed_usd), dtype=float)
    s = np.asarray(np.asarray(ta.usd_per_request_per_day) - tb.usd_per_request_per_day, dtype=float)
    g = np.asarray(gpu_a - gpu_b, dtype=float)
    v = _first_root(d, s, g, np.asarray(k, dtype=float), np.asarray(mins, dtype=float))
    if np.ndim(v) == 0:
        if np.isnan(v):
            raise NoSolutionError(
                f"{normalize_option(option_a)} and {normalize_option(option_b)} annual costs never cross: "
                f"one is cheaper at every volume")
        return float(v)
    return v


#: GPUs are counted as ceil(round(x, 9)): a GPU is added once the load passes n + GPU_ROUNDING.
GPU_ROUNDING = 5e-10


def _first_root(d: np.ndarray, s: np.ndarray, g: np.ndarray, k: np.ndarray, m: np.ndarray) -> Any:
    """Smallest v >= 0 where f(v) = d + s v + g n(v) reaches zero, n(v) = max(m, ceil(round(k v, 9))); NaN if none.

    On the segment where n GPUs run, v in ((n - 1 + e)/k, (n + e)/k] with e = GPU_ROUNDING, f is linear with
    slope s; its value at the right end is R(n) = d + s e / k + n (g + s / k). Flip signs so that f(0) < 0; the
    first segment whose right end reaches 0 holds the root.
    """
    d, s, g, k, m = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (d, s, g, k, m)))
    e = GPU_ROUNDING
    f0 = d + g * m
    flip = np.where(f0 > 0, -1.0, 1.0)
    d, s, g, f0 = d * flip, s * flip, g * flip, f0 * flip
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # No volume scaling of GPUs: f is one straight line.
        flat = np.where(s > 0, -f0 / np.where(s > 0, s, 1), np.nan)
        safe_k = np.where(k > 0, k, 1)
        c = g + s / safe_k
        base = d + s * e / safe_k
        r0 = base + m * c
        n_star = np.where(r0 >= 0, m, np.where(c > 0, np.maximum(m, np.ceil(-base / np.where(c > 0, c, 1))),
                                               np.nan))
        n_star = np.where(np.isfinite(n_star) & (base + n_star * c < 0), n_star + 1, n_star)  # float noise
        left = np.where(n_star <= m, 0.0, (n_star - 1 + e) / safe_k)
        inside = np.where(s > 0, -(d + g * n_star) / np.where(s > 0, s, 1), left)
        stepped = np.maximum(inside, left)
        root = np.where(k > 0, stepped, flat)
        root = np.where(f0 == 0, 0.0, root)
        root = np.where(np.isfinite(root) & (root >= 0), root, np.nan)
    return _scalar(root)


def breakeven_month(a: Any, option_a: str, option_b: str) -> Any:
    """First month (1-based) in which option_b's cumulative cost is below option_a's.

    Returns
    -------
    int, or a float array with NaN for "never within the horizon" in sweeps.

    Raises
    ------
    NoSolutionError
        For scalar inputs when option_b is never cheaper cumulatively within the horizon (Excel's #N/A).
    """
    cum_a = np.cumsum(monthly_cost(option_a, a), axis=-1)
    cum_b = np.cumsum(monthly_cost(option_b, a), axis=-1)
    below = cum_b < cum_a * (1 - 1e-12)
    first = np.argmax(below, axis=-1).astype(float) + 1.0
    first = np.where(below.any(axis=-1), first, np.nan)
    if np.ndim(first) == 0:
        if np.isnan(first):
            raise NoSolutionError(
                f"{normalize_option(option_b)} is never cumulatively cheaper than {normalize_option(option_a)} "
                f"within {a['horizon_months']} months")
        return int(first)
    return first


def _scalar(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x
