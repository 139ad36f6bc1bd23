"""Monthly cash flows per option, and everything that follows from them: TCO, NPV, P&L, cost by year, unit
costs, break-evens.

One declaration per option
--------------------------
Each option is one :class:`OptionSpec` in :data:`OPTION_SPECS`: when its projects start (its schedule), which
line items it can have, and which model it serves. Every line item is one function of a :class:`Timeline`;
the monthly timeline, the TCO, the NPV, the annual figures and the break-evens all call those same functions.
Adding an option is adding one entry.

Conventions
-----------
Month ``m`` runs 0 .. horizon-1; volume grows as ``requests_per_day x (1 + growth)^m``; a month has 365/12
days and ``serving_hours_per_month`` serving hours (730 = around the clock); API prices change in steps at
months 12, 24, ... by ``api_price_change_per_year``. Running costs accrue evenly through a month; purchases and
one-off fees fall at its start. Every input may be a numpy array: results get the broadcast shape with the
month axis last.

The *run-rate* of an option is the same line items in a steady month long after launch, at a flat volume:
one-off items are zero there, and periodic lumps (refresh runs, hardware replacement) count as their monthly
average. Twelve such months are the annual run-rate.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

from . import costs
from .errors import InputError, NoSolutionError
from .rules import train_justified

DAYS_PER_MONTH = costs.DAYS_PER_YEAR / costs.MONTHS_PER_YEAR
HOURS_PER_MONTH = costs.HOURS_PER_YEAR / costs.MONTHS_PER_YEAR
NEVER = np.inf
#: Project start used for the steady state: long enough ago that every one-off has passed.
_LONG_AGO = -1e6


@dataclass(frozen=True)
class LineItem:
    """One line of the monthly timeline: what it holds, and when in a month its cash falls."""

    description: str
    at_month_start: bool = False  # purchases and one-off fees; running costs accrue evenly
    one_off: bool = False  # zero in the steady-state run-rate


#: Line items of the monthly timeline, in report order.
LINE_ITEMS: dict[str, LineItem] = {
    "api_usage": LineItem("Hosted API fees for the traffic the API serves"),
    "gpu_rental": LineItem("Serving GPUs rented on demand (serving hours x price) or reserved (730 h x discounted "
                           "price, committed per term)"),
    "hardware_purchase": LineItem("Bought GPUs: cash at the start of the month they are first needed, again at "
                                  "the end of their useful life net of resale", at_month_start=True),
    "hardware_maintenance": LineItem("Support, spares and repairs of bought GPUs"),
    "power": LineItem("Electricity of bought GPUs: kW x serving hours x PUE x price"),
    "colocation": LineItem("Colocation space and cooling of bought GPUs per kW"),
    "finetune_and_labeling": LineItem("One-off fine-tuning run and labeling of the examples", True, True),
    "retraining": LineItem("Fine-tune refreshes after launch, every retrain_every_months", True),
    "training_compute": LineItem("Pre-training compute (6ND FLOPs x overhead factor), spread over the training "
                                 "months", False, True),
    "post_training": LineItem("Instruction and preference tuning of the pre-trained model", True, True),
    "repretraining": LineItem("Pre-training again every repretrain_every_months (compute and post-training)", True),
    "training_data": LineItem("One-off corpus acquisition and cleaning", True, True),
    "ml_team": LineItem("ML engineers from project start"),
    "mlops": LineItem("MLOps tooling and infrastructure from project start"),
    "evaluation": LineItem("Evaluation infrastructure from project start"),
    "opportunity_cost": LineItem("Product work forgone in each month of building before launch", False, True),
}

_SERVING = ("gpu_rental", "hardware_purchase", "hardware_maintenance", "power", "colocation")
_HIDDEN = ("ml_team", "mlops", "evaluation", "opportunity_cost")
_FINETUNE = ("finetune_and_labeling", "retraining")
_TRAIN = ("training_compute", "post_training", "repretraining", "training_data")


# ----------------------------------------------------------------------------------- the option table
@dataclass(frozen=True)
class Schedule:
    """When each project starts (month from the start of the horizon; inf = never)."""

    finetune_start: Any
    train_start: Any


@dataclass(frozen=True)
class OptionSpec:
    """One option: its schedule, the line items it can have, and what it is."""

    name: str
    description: str
    schedule: Callable[[Any], Schedule]
    line_items: tuple[str, ...]


def _phased_schedule(a: Any) -> Schedule:
    """PHASED: phase 2 when its trigger first holds from phase2_start_month; phase 3 only when TRAIN is justified."""
    start2 = phase2_trigger_month(a)
    justified = np.asarray(train_justified(a))
    start3 = np.where(justified & np.isfinite(start2), np.maximum(np.asarray(a["phase3_start_month"], dtype=float),
                                                                   start2), NEVER)
    return Schedule(start2, start3)


OPTION_SPECS: dict[str, OptionSpec] = {
    "API": OptionSpec("API", "A hosted frontier API for all traffic (layer 1, buy)",
                      lambda a: Schedule(NEVER, NEVER), ("api_usage",)),
    "FINE-TUNE": OptionSpec("FINE-TUNE", "Fine-tune an open-weight model and self-host it from month 0; a share of "
                            "traffic stays on the API (layer 2)",
                            lambda a: Schedule(0.0, NEVER), ("api_usage", *_SERVING, *_FINETUNE, *_HIDDEN)),
    "TRAIN": OptionSpec("TRAIN", "Pre-train your own model from month 0; API traffic until it launches (layer 3)",
                        lambda a: Schedule(NEVER, 0.0), ("api_usage", *_SERVING, "retraining", *_TRAIN, *_HIDDEN)),
    "PHASED": OptionSpec("PHASED", "The article's progression: API, a fine-tune once its trigger holds, "
                         "pre-training from phase3_start_month only when TRAIN is justified",
                         _phased_schedule, tuple(LINE_ITEMS)),
}
OPTIONS = tuple(OPTION_SPECS)
#: The line items each option can have; the others are zero by construction.
OPTION_LINE_ITEMS = {name: spec.line_items for name, spec in OPTION_SPECS.items()}
SELF_HOSTED = tuple(o for o, spec in OPTION_SPECS.items() if "gpu_rental" in spec.line_items)


def normalize_option(option: Any) -> str:
    """``'fine-tune'``, ``'Fine tune'``, ``'FINETUNE'`` ... -> ``'FINE-TUNE'``; raises InputError otherwise."""
    if isinstance(option, str):
        key = option.strip().upper().replace("_", "-").replace(" ", "-")
        key = {"FINETUNE": "FINE-TUNE", "BUY": "API", "BUILD": "TRAIN"}.get(key, key)
        if key in OPTION_SPECS:
            return key
    raise InputError("option", option, "one of " + ", ".join(repr(o) for o in OPTIONS))


def schedule(option: str, a: Any) -> Schedule:
    """Project start months of an option."""
    return OPTION_SPECS[normalize_option(option)].schedule(a)


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
    """Year-1 API price of one request, from the scenario's token counts and prices (USD; kept for the last few
    scenarios, as every line item and run-rate of a scenario asks for it)."""
    return _recent("api_cost_per_request", a, (), lambda: _api_cost_per_request_usd(a))


#: Figures of the last few scenarios that several answers share: (what, id(scenario), arguments) -> (weak
#: reference to the scenario, value). The weak reference proves it is the same scenario (scenarios never change).
_RECENT_FIGURES: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_RECENT_FIGURES_SIZE = 64


def _recent(what: str, a: Any, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()`` for scenario ``a``, kept for the last few scenarios (by identity; arrays made read-only)."""
    key = (what, id(a), args)
    hit = _RECENT_FIGURES.get(key)
    if hit is not None and hit[0]() is a:
        return hit[1]
    value = compute()
    try:
        ref = weakref.ref(a)
    except TypeError:  # not weak-referenceable (a plain mapping): not kept
        return value
    parts = value if isinstance(value, tuple) else (value,)
    if is_dataclass(value):  # a ServingPlan: its arrays too
        parts = tuple(getattr(value, f.name) for f in fields(value))
    for x in parts:
        if isinstance(x, np.ndarray):
            x.setflags(write=False)
    if len(_RECENT_FIGURES) >= _RECENT_FIGURES_SIZE:
        _RECENT_FIGURES.pop(next(iter(_RECENT_FIGURES)))
    _RECENT_FIGURES[key] = (ref, value)
    return value


def _api_cost_per_request_usd(a: Any) -> Any:
    return costs.api_cost_per_request_usd(
        a["input_tokens_per_request"], a["output_tokens_per_request"], a["api_input_usd_per_mtok"],
        a["api_output_usd_per_mtok"], a["api_cached_input_share"], a["api_cached_input_discount"],
        **{k: a[k] for k in costs.API_DIMENSION_INPUTS})


def tokens_per_request(a: Any) -> Any:
    """Input plus output tokens of one request."""
    return np.add(a["input_tokens_per_request"], a["output_tokens_per_request"])


def api_fallback_share(a: Any) -> Any:
    """Share of traffic a self-hosted option still sends to the hosted API: none when residency forbids it."""
    blocked = np.logical_and(a["data_residency_required"], np.logical_not(a["compliant_api_available"]))
    return np.where(blocked, 0.0, a["api_fallback_share"])


def phase2_trigger_month(a: Any) -> Any:
    """First month from ``phase2_start_month`` whose API bill at a year's run-rate reaches the phase-2 trigger.

    Only with product-market fit and at least a thousand labeled examples (the article's minimum); inf when the
    trigger never holds within the horizon.
    """
    from .rules import FINETUNE_MIN_EXAMPLES

    m = np.arange(a["horizon_months"], dtype=float)
    spend = (volume_requests_per_day(a) * costs.DAYS_PER_YEAR * _col(api_cost_per_request_usd(a))
             * api_price_factor(a))
    ok = ((m >= _col(a["phase2_start_month"])) & (spend >= _col(a["phase2_trigger_api_usd_per_year"]))
          & _col(a["product_market_fit"]).astype(bool) & (_col(a["labeled_examples"]) >= FINETUNE_MIN_EXAMPLES))
    first = np.where(ok.any(axis=-1), np.argmax(ok, axis=-1).astype(float), NEVER)
    return _scalar(first)


# ----------------------------------------------------------------------------------- serving terms
@dataclass(frozen=True)
class ServingPlan:
    """How one served model is sized: replicas of ``gpus_per_replica`` GPUs, enough for the peak load.

    ``replicas(v) = max(min_replicas, ceil(replicas_per_request_per_day x v))`` and
    ``gpus(v) = max(min_gpus, gpus_per_replica x replicas(v))``, or ``fixed_gpus`` when that is > 0.
    """

    gpus_per_replica: Any
    replicas_per_request_per_day: Any
    min_replicas: Any
    min_gpus: Any
    fixed_gpus: Any
    fits: Any
    memory_needed_gb: Any

    def gpus(self, requests_per_day: Any) -> Any:
        """Whole serving GPUs at a volume (requests/day); the product is rounded to 9 decimals first."""
        replicas = np.maximum(self.min_replicas, np.ceil(np.round(
            np.multiply(requests_per_day, self.replicas_per_request_per_day), 9)))
        sized = np.maximum(self.min_gpus, np.multiply(self.gpus_per_replica, replicas))
        return np.where(np.asarray(self.fixed_gpus) > 0, self.fixed_gpus, sized)


def serving_plan(a: Any, model_parameters: Any = None, active_parameters: Any = None) -> ServingPlan:
    """The serving plan of a model (FINE-TUNE's open-weight model by default) on the scenario's GPUs (kept for
    the last few scenarios: every timeline of a scenario asks for it)."""
    if model_parameters is None and active_parameters is None:
        return _recent("serving_plan", a, (), lambda: _serving_plan(a, None, None))
    return _serving_plan(a, model_parameters, active_parameters)


def _serving_plan(a: Any, model_parameters: Any, active_parameters: Any) -> ServingPlan:
    params = a["serving_model_parameters"] if model_parameters is None else model_parameters
    active = a["serving_active_parameters"] if active_parameters is None else active_parameters
    context = tokens_per_request(a)
    weights = costs.weights_memory_gb(params, a["serving_bytes_per_parameter"])
    kv = costs.kv_cache_memory_gb(a["kv_cache_bytes_per_token"], context, a["concurrent_sequences_per_replica"])
    tp, fits = costs.replica_gpus(np.add(weights, kv), a["gpu_memory_gb"], a["gpu_memory_reserve_share"],
                                  a["max_gpus_per_replica"])
    seconds = costs.replica_seconds_per_request(
        a["input_tokens_per_request"], a["output_tokens_per_request"], params, active,
        a["serving_bytes_per_parameter"], a["kv_cache_bytes_per_token"], a["concurrent_sequences_per_replica"],
        tp, a["gpu_memory_bandwidth_gb_per_s"], a["serving_gpu_peak_tflops"], a["decode_efficiency"],
        a["prefill_mfu"], a["tokens_per_second_per_gpu"])
    # Peak requests per served second, per request/day of volume.
    per_second = (DAYS_PER_MONTH / (np.asarray(a["serving_hours_per_month"], dtype=float) * 3600.0)
                  * np.asarray(a["peak_to_average_ratio"]))
    k = per_second * np.asarray(seconds) / np.asarray(a["gpu_utilization"])
    return ServingPlan(tp, k, a["min_replicas"], a["min_gpus"], a["serving_gpus"], fits, np.add(weights, kv))


def _train_plan(a: Any) -> ServingPlan:
    """TRAIN serves its own model (model_parameters, dense), shaped like the serving model for the KV cache."""
    return _recent("train_plan", a, (), lambda: _serving_plan(a, a["model_parameters"], a["model_parameters"]))


# ----------------------------------------------------------------------------------- the timeline
@dataclass(frozen=True)
class Timeline:
    """What every line-item function reads: the months, the volume, who serves, how many GPUs run."""

    a: Any
    m: np.ndarray  # month index, (horizon,) or (12,) in the steady state
    volume: np.ndarray  # requests/day, (..., months)
    price_factor: np.ndarray  # API price multiplier, (..., months)
    sch: Schedule
    steady: bool = False
    gpus: np.ndarray = field(default=None)  # serving GPUs running, (..., months)
    owned: np.ndarray = field(default=None)  # GPUs owned (buy), (..., months)

    @property
    def ft_start(self) -> np.ndarray:
        return _col(self.sch.finetune_start)

    @property
    def tr_start(self) -> np.ndarray:
        return _col(self.sch.train_start)

    @property
    def ft_live(self) -> np.ndarray:
        return self.ft_start + _col(self.a["finetune_months"])

    @property
    def tr_live(self) -> np.ndarray:
        return self.tr_start + _col(self.a["training_months"])

    @property
    def live(self) -> np.ndarray:
        return np.minimum(self.ft_live, self.tr_live)

    @property
    def serving(self) -> np.ndarray:
        return self.m >= self.live

    @property
    def train_serving(self) -> np.ndarray:
        return self.m >= self.tr_live

    @property
    def building(self) -> np.ndarray:
        return (((self.m >= self.ft_start) & (self.m < self.ft_live))
                | ((self.m >= self.tr_start) & (self.m < self.tr_live)))

    @property
    def staffed(self) -> np.ndarray:
        return self.m >= np.minimum(self.ft_start, self.tr_start)

    def event(self, start: np.ndarray) -> np.ndarray:
        """True in the month a one-off falls (never in the steady state)."""
        return (self.m == start) & (not self.steady)

    def every(self, since: np.ndarray, months: Any) -> np.ndarray:
        """Share of a periodic lump falling in each month: 1 in due months, 1/N per month in the steady state."""
        n = _col(months)
        if not np.any(n > 0):
            return _NONE
        safe_n = np.where(n > 0, n, 1.0)
        after = self.m - since
        started = np.isfinite(since) & (n > 0) & (after > 0)
        if self.steady:
            return np.where(started, 1.0 / safe_n, 0.0)
        return np.where(started & (np.mod(np.where(np.isfinite(after), after, 0.0), safe_n) == 0), 1.0, 0.0)


def _gpus_by_month(a: Any, t: Timeline) -> np.ndarray:
    """Serving GPUs in each month: the fine-tuned model's plan, the trained model's once it serves."""
    serving = t.serving
    if not np.any(serving):
        return np.zeros(1)
    served = t.volume * (1.0 - _col(api_fallback_share(a)))
    train_serving = t.train_serving
    gpus = _col_plan(_train_plan(a)).gpus(served) if np.any(train_serving) else 0.0
    if not np.all(train_serving | ~serving):
        gpus = np.where(train_serving, gpus, _col_plan(serving_plan(a)).gpus(served))
    return np.where(serving, gpus, 0.0)


def _col_plan(p: ServingPlan) -> ServingPlan:
    return ServingPlan(*(_col(getattr(p, f)) for f in ("gpus_per_replica", "replicas_per_request_per_day",
                                                       "min_replicas", "min_gpus", "fixed_gpus")),
                       p.fits, p.memory_needed_gb)


_NONE = np.zeros(1)


def _owns(a: Any, mode: str) -> bool:
    """The scenario's GPU ownership mode is ``mode`` (a choice input: one value for a whole sweep)."""
    return a["gpu_ownership"] == mode


def _reserved_gpus(t: Timeline) -> np.ndarray:
    """GPUs paid for under reservations: each term commits to the most GPUs needed within it."""
    if t.steady:
        return t.gpus
    term = _col(t.a["reserved_term_months"])
    since = t.m - t.live
    block = np.where(t.serving, np.floor(np.where(np.isfinite(since), since, 0.0) / term), -1.0)
    out = np.zeros(np.broadcast_shapes(block.shape, t.gpus.shape))
    gpus = np.broadcast_to(t.gpus, out.shape)
    block = np.broadcast_to(block, out.shape)
    for b in np.unique(block[block >= 0]):
        in_block = block == b
        peak = np.where(in_block, gpus, 0.0).max(axis=-1, keepdims=True)
        out = np.where(in_block, peak, out)
    return out


# Each line-item function: (a, t) -> monthly cost, broadcastable to (..., months).
def _api_usage(a: Any, t: Timeline) -> np.ndarray:
    api_month = t.volume * DAYS_PER_MONTH * _col(api_cost_per_request_usd(a)) * t.price_factor
    return np.where(t.serving, api_month * _col(api_fallback_share(a)), api_month)


def _gpu_rental(a: Any, t: Timeline) -> np.ndarray:
    price = _col(a["gpu_usd_per_hour"])
    if _owns(a, "buy"):
        return _NONE
    if _owns(a, "reserved"):
        return _reserved_gpus(t) * HOURS_PER_MONTH * price * (1.0 - _col(a["reserved_discount_share"]))
    return t.gpus * _col(a["serving_hours_per_month"]) * price


def _hardware_purchase(a: Any, t: Timeline) -> np.ndarray:
    if not _owns(a, "buy"):
        return _NONE
    price = _col(a["gpu_purchase_usd"])
    life = _col(a["gpu_useful_life_months"])
    net_replacement = price * (1.0 - _col(a["gpu_residual_value_share"]))
    if t.steady:  # replacement, net of resale, spread over the useful life
        return t.owned * net_replacement / life
    bought = np.diff(t.owned, axis=-1, prepend=0.0)  # new GPUs in each month
    horizon = bought.shape[-1]
    replaced = np.zeros_like(bought)
    life_i = np.broadcast_to(np.asarray(a["gpu_useful_life_months"]), bought.shape[:-1])
    # Each cohort is replaced every `life` months: shift the purchases by life, 2 x life, ...
    for life_value in np.unique(life_i):
        lv = int(life_value)
        rows = life_i == life_value
        for lag in range(lv, horizon, lv):
            shifted = np.zeros_like(bought)
            shifted[..., lag:] = bought[..., :-lag]
            replaced = replaced + (np.where(rows[..., None], shifted, 0.0) if rows.ndim else shifted)
    return bought * price + replaced * net_replacement


def _hardware_maintenance(a: Any, t: Timeline) -> np.ndarray:
    if not _owns(a, "buy"):
        return _NONE
    per_gpu = _col(a["gpu_purchase_usd"]) * _col(a["hardware_maintenance_share_per_year"]) / costs.MONTHS_PER_YEAR
    return t.owned * per_gpu


def _power(a: Any, t: Timeline) -> np.ndarray:
    if not _owns(a, "buy"):
        return _NONE
    kwh = _col(a["gpu_power_kw"]) * _col(a["serving_hours_per_month"]) * _col(a["pue"])
    return t.gpus * kwh * _col(a["electricity_usd_per_kwh"])


def _colocation(a: Any, t: Timeline) -> np.ndarray:
    if not _owns(a, "buy"):
        return _NONE
    return t.owned * _col(a["gpu_power_kw"]) * _col(a["colocation_usd_per_kw_month"])


def _finetune_and_labeling(a: Any, t: Timeline) -> np.ndarray:
    one_off = _col(a["finetune_training_usd"]) + _col(a["labeled_examples"]) * _col(a["labeling_usd_per_example"])
    return np.where(t.event(t.ft_start), one_off, 0.0)


def _retraining(a: Any, t: Timeline) -> np.ndarray:
    return t.every(t.live, a["retrain_every_months"]) * _col(a["finetune_training_usd"])


def training_run_cost_usd(a: Any) -> Any:
    """Compute cost of one pre-training run with its overhead factor, USD."""
    hours = costs.training_gpu_hours(a["model_parameters"], a["training_tokens"], a["gpu_peak_tflops"], a["mfu"],
                                     a["training_tokens_per_second_per_gpu"])
    return _scalar(np.multiply(hours, a["training_gpu_usd_per_hour"]) * np.asarray(a["training_overhead_factor"]))


def _training_compute(a: Any, t: Timeline) -> np.ndarray:
    training = (t.m >= t.tr_start) & (t.m < t.tr_live) & (not t.steady)
    return np.where(training, _col(training_run_cost_usd(a)) / _col(a["training_months"]), 0.0)


def _post_training(a: Any, t: Timeline) -> np.ndarray:
    return np.where(t.event(t.tr_live - 1.0), _col(a["post_training_usd"]), 0.0)


def _repretraining(a: Any, t: Timeline) -> np.ndarray:
    per_run = _col(training_run_cost_usd(a)) + _col(a["post_training_usd"])
    return t.every(t.tr_live, a["repretrain_every_months"]) * per_run


def _training_data(a: Any, t: Timeline) -> np.ndarray:
    return np.where(t.event(t.tr_start), _col(a["training_data_usd"]), 0.0)


def _ml_team(a: Any, t: Timeline) -> np.ndarray:
    month = _col(a["ml_engineers"]) * _col(a["ml_engineer_usd_per_year"]) / costs.MONTHS_PER_YEAR
    return np.where(t.staffed, month, 0.0)


def _mlops(a: Any, t: Timeline) -> np.ndarray:
    return np.where(t.staffed, _col(a["mlops_usd_per_year"]) / costs.MONTHS_PER_YEAR, 0.0)


def _evaluation(a: Any, t: Timeline) -> np.ndarray:
    return np.where(t.staffed, _col(a["eval_usd_per_year"]) / costs.MONTHS_PER_YEAR, 0.0)


def _opportunity_cost(a: Any, t: Timeline) -> np.ndarray:
    return np.where(t.building & (not t.steady), _col(a["opportunity_cost_usd_per_month"]), 0.0)


LINE_ITEM_FUNCTIONS: dict[str, Callable[[Any, Timeline], np.ndarray]] = {
    "api_usage": _api_usage, "gpu_rental": _gpu_rental, "hardware_purchase": _hardware_purchase,
    "hardware_maintenance": _hardware_maintenance, "power": _power, "colocation": _colocation,
    "finetune_and_labeling": _finetune_and_labeling, "retraining": _retraining,
    "training_compute": _training_compute, "post_training": _post_training, "repretraining": _repretraining,
    "training_data": _training_data, "ml_team": _ml_team, "mlops": _mlops, "evaluation": _evaluation,
    "opportunity_cost": _opportunity_cost,
}
assert tuple(LINE_ITEM_FUNCTIONS) == tuple(LINE_ITEMS)


def _with_gpus(a: Any, t: Timeline, gpus: Any = None) -> Timeline:
    g = _gpus_by_month(a, t) if gpus is None else np.where(t.serving, _col(gpus), 0.0)
    owned = g if t.steady else np.maximum.accumulate(np.broadcast_to(g, np.broadcast_shapes(
        g.shape, t.m.shape)), axis=-1)
    return replace(t, gpus=g, owned=owned)


def timeline(option: str, a: Any) -> Timeline:
    """The monthly timeline of an option over the horizon."""
    m = np.arange(a["horizon_months"], dtype=float)
    t = Timeline(a, m, volume_requests_per_day(a), api_price_factor(a), schedule(option, a))
    return _with_gpus(a, t)


def _own_items(option: str, a: Any, t: Timeline) -> dict[str, np.ndarray]:
    """The option's own line items, unbroadcast (constants stay small)."""
    spec = OPTION_SPECS[normalize_option(option)]
    return {k: np.asarray(LINE_ITEM_FUNCTIONS[k](a, t), dtype=float) for k in spec.line_items}


def _total(items: dict[str, np.ndarray], t: Timeline) -> np.ndarray:
    shape = np.broadcast_shapes(t.m.shape, *(v.shape for v in items.values()))
    total = np.zeros(shape)
    for v in items.values():
        if v.ndim > 1 or np.any(v):
            total += v
    return total


def _evaluate(option: str, a: Any, t: Timeline) -> dict[str, np.ndarray]:
    own = _own_items(option, a, t)
    items = {k: own.get(k, _NONE) for k in LINE_ITEMS}
    shape = np.broadcast_shapes(t.m.shape, *(v.shape for v in items.values()))
    # Read-only views where an item is a broadcast constant; no copies of the full (..., months) arrays.
    return {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in items.items()}


def line_items(option: str, a: Any) -> dict[str, np.ndarray]:
    """Monthly cost of each line item of an option (cash view), each shape (..., horizon), in the scenario's
    currency."""
    return _evaluate(option, a, timeline(option, a))


#: The last few monthly timelines, keyed by (option, scenario): TCO, NPV and cost by year of one scenario
#: share one evaluation. Entries hold a weak reference, so a scenario that is gone is never matched.
_RECENT: dict[tuple[str, int], tuple[Any, np.ndarray]] = {}
_RECENT_SIZE = len(OPTION_SPECS)


def monthly_cost(option: str, a: Any) -> np.ndarray:
    """Total cost in each month (cash view), shape (..., horizon)."""
    option = normalize_option(option)
    key = (option, id(a))
    hit = _RECENT.get(key)
    if hit is not None and hit[0]() is a:
        return hit[1]
    t = timeline(option, a)
    total = _total(_own_items(option, a, t), t)
    total.setflags(write=False)
    try:
        ref = weakref.ref(a)
    except TypeError:  # not weak-referenceable: no caching
        return total
    if len(_RECENT) >= _RECENT_SIZE:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[key] = (ref, total)
    return total


def depreciation(option: str, a: Any) -> np.ndarray:
    """Straight-line depreciation of bought GPUs in each month, (purchase - residual) / life per GPU owned;
    shape (..., horizon) like the option's monthly cost."""
    shape = np.shape(monthly_cost(option, a))
    if "hardware_purchase" not in OPTION_SPECS[normalize_option(option)].line_items or not _owns(a, "buy"):
        return np.zeros(shape)
    t = timeline(option, a)
    per_gpu = (_col(a["gpu_purchase_usd"]) * (1.0 - _col(a["gpu_residual_value_share"]))
               / _col(a["gpu_useful_life_months"]))
    return np.broadcast_to(t.owned * per_gpu, shape).copy()


def pnl_monthly_cost(option: str, a: Any) -> np.ndarray:
    """Total cost in each month in the P&L view: bought GPUs as depreciation instead of cash."""
    items = line_items(option, a)
    return monthly_cost(option, a) - items["hardware_purchase"] + depreciation(option, a)


def tco(option: str, a: Any) -> Any:
    """Total cost of ownership over the horizon (cash view, undiscounted sum of monthly costs)."""
    return _scalar(monthly_cost(option, a).sum(axis=-1))


def _discount_factors(a: Any, months: int) -> np.ndarray:
    m = np.arange(months, dtype=float)
    return (1.0 + _col(a["discount_rate_per_year"])) ** (-(m + 1.0) / costs.MONTHS_PER_YEAR)


def npv(option: str, a: Any) -> Any:
    """Present value of the option's monthly costs (cash view) at ``discount_rate_per_year``, end-of-month flows.

    Notes
    -----
    ``NPV = sum_m cost_m / (1 + r)^((m + 1) / 12)``, the same as Excel's ``NPV((1 + r)^(1/12) - 1, costs)``.
    """
    flows = monthly_cost(option, a)
    return _scalar((flows * _discount_factors(a, flows.shape[-1])).sum(axis=-1))


def cost_by_year(option: str, a: Any) -> np.ndarray:
    """Cash cost of each year of the horizon (the last year may be partial), shape (..., years)."""
    flows = monthly_cost(option, a)
    horizon = flows.shape[-1]
    years = -(-horizon // costs.MONTHS_PER_YEAR)
    pad = years * costs.MONTHS_PER_YEAR - horizon
    padded = np.concatenate([flows, np.zeros(flows.shape[:-1] + (pad,))], axis=-1) if pad else flows
    return padded.reshape(flows.shape[:-1] + (years, costs.MONTHS_PER_YEAR)).sum(axis=-1)


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


def serving_gpus(option: str, a: Any) -> Any:
    """Serving GPUs the option runs in the last month of the horizon (0 for the API)."""
    return _scalar(timeline(option, a).gpus[..., -1] + np.zeros(np.shape(a["requests_per_day"])))


def _final_plan(option: str, a: Any) -> ServingPlan | None:
    """The serving plan of the model the option serves in the end (None for the API)."""
    option = normalize_option(option)
    if option not in SELF_HOSTED:
        return None
    sch = schedule(option, a)
    if option == "TRAIN" or (option == "PHASED" and np.all(np.isfinite(sch.train_start))):
        return _train_plan(a)
    return serving_plan(a)


def gpus_per_replica(option: str, a: Any) -> Any:
    """GPUs one replica of the option's final served model spans (tensor parallel; 0 for the API)."""
    plan = _final_plan(option, a)
    return 0.0 if plan is None else _scalar(plan.gpus_per_replica)


def model_fits(option: str, a: Any) -> Any:
    """True when every model the option serves fits ``max_gpus_per_replica`` of the scenario's GPUs."""
    option = normalize_option(option)
    if option == "API":
        return True
    if option == "FINE-TUNE":
        return serving_plan(a).fits
    if option == "TRAIN":
        return _train_plan(a).fits
    sch = schedule(option, a)
    ft_ok = np.where(np.isfinite(sch.finetune_start), serving_plan(a).fits, True)
    tr_ok = np.where(np.isfinite(sch.train_start), _train_plan(a).fits, True)
    out = ft_ok & tr_ok
    return bool(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------------- annual run-rate
def _steady_timeline(option: str, a: Any, requests_per_day: Any, price_factor: Any = 1.0,
                     gpus: Any = None) -> Timeline:
    sch = schedule(option, a)
    # Every project the option has started long ago, in the same order, so all of them serve.
    ft = np.where(np.isfinite(sch.finetune_start), 2 * _LONG_AGO, NEVER)
    tr = np.where(np.isfinite(sch.train_start), _LONG_AGO, NEVER)
    m = np.arange(costs.MONTHS_PER_YEAR, dtype=float)
    t = Timeline(a, m, _col(requests_per_day) + np.zeros(m.shape), _col(price_factor) + np.zeros(m.shape),
                 Schedule(_scalar(ft), _scalar(tr)), steady=True)
    return _with_gpus(a, t, gpus)


def annual_cost(option: str, a: Any, requests_per_day: Any = None, *, gpus: Any = None,
                price_factor: Any = 1.0) -> Any:
    """Steady-state annual run-rate of an option at a flat volume, long after launch (USD/year).

    The same line items as the timeline, twelve steady months at ``requests_per_day`` (the scenario's month-0
    volume by default) and year-1 API prices: one-offs are zero, refresh runs and hardware replacement count
    as their monthly average. ``gpus`` fixes the serving GPUs instead of sizing them from the volume.
    """
    v = a["requests_per_day"] if requests_per_day is None else requests_per_day
    t = _steady_timeline(option, a, v, price_factor, gpus)
    return _scalar(_total(_own_items(option, a, t), t).sum(axis=-1))


def run_rate_at_end(option: str, a: Any) -> Any:
    """Annual run-rate at the volume and API prices of the horizon's last month (USD/year)."""
    return annual_cost(option, a, volume_requests_per_day(a)[..., -1], price_factor=api_price_factor(a)[..., -1])


def breakeven_volume(a: Any, option_a: str, option_b: str) -> Any:
    """Lowest requests/day at which the two options' annual run-rate costs are equal.

    Both run-rates are straight lines in volume between the volumes where either option adds a serving
    replica. The breakpoints of both options are merged and, segment by segment, the same run-rate function
    is evaluated at both ends with the segment's GPU counts held fixed; the first segment whose sign changes
    holds the root, found by linear interpolation (exact). Where a cost jumps (a replica is added) and the
    cheaper option changes at the jump, the jump's volume is returned. Any GPU prices, on either side.

    Returns
    -------
    float, or an array with NaN where there is no break-even, for sweeps.

    Raises
    ------
    InputError
        When both options are the same.
    NoSolutionError
        For scalar inputs when the costs never cross (Excel's #N/A).
    """
    oa, ob = normalize_option(option_a), normalize_option(option_b)
    if oa == ob:
        raise InputError("option_b", option_b, f"an option other than option_a ({oa})")
    if a.is_vector:
        shape = np.broadcast_shapes(*(np.shape(a[k]) for k in a if isinstance(a[k], np.ndarray)))
        out = np.full(shape, np.nan)
        for idx in np.ndindex(shape):
            sub = _element(a, idx, shape)
            out[idx] = _breakeven_scalar(sub, oa, ob)
        return out
    v = _breakeven_scalar(a, oa, ob)
    if np.isnan(v):
        raise NoSolutionError(f"{oa} and {ob} annual run-rate costs never cross: one is cheaper at every volume")
    return v


def _element(a: Any, idx: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """The scalar scenario at one index of a sweep of the given broadcast shape."""
    from .inputs import Assumptions

    values = {k: (float(np.broadcast_to(a[k], shape)[idx]) if isinstance(a[k], np.ndarray) else a[k]) for k in a}
    return Assumptions(values, a.given, a.name)


#: Replicas are counted as ceil(round(x, 9)): one more replica once the load passes r + GPU_ROUNDING.
GPU_ROUNDING = 5e-10
#: Replica steps examined per chunk, and at most in all, before the solver gives up (NaN).
BREAKPOINT_CHUNK = 500_000
MAX_BREAKPOINTS = 5_000_000
#: Highest volume searched, requests/day (10^15: far beyond any product).
MAX_VOLUME = 1e15


def _linear_terms(option: str, a: Any) -> tuple[float, float, float]:
    """(fixed, per request/day, per serving GPU) of the option's annual run-rate, read off the run-rate itself.

    With the serving GPUs held fixed the run-rate is a straight line in volume and in GPUs, so three
    evaluations of :func:`annual_cost` give its coefficients exactly.
    """
    return _recent("linear_terms", a, (option,), lambda: _linear_terms_of(option, a))


def _linear_terms_of(option: str, a: Any) -> tuple[float, float, float]:
    base = float(annual_cost(option, a, 0.0, gpus=0.0))
    # Far-apart points, so that the fixed part's rounding does not leak into the slopes.
    per_request = (float(annual_cost(option, a, _PROBE_VOLUME, gpus=0.0)) - base) / _PROBE_VOLUME
    per_gpu = (float(annual_cost(option, a, 0.0, gpus=_PROBE_GPUS)) - base) / _PROBE_GPUS
    return base, per_request, per_gpu


_PROBE_VOLUME = 1e9
_PROBE_GPUS = 1e6


def _breakeven_scalar(a: Any, oa: str, ob: str) -> float:
    """First volume where run-rate(oa) - run-rate(ob) reaches zero, on the exact staircase of both options."""
    (fa, sa, ga), (fb, sb, gb) = _linear_terms(oa, a), _linear_terms(ob, a)
    plans = (_final_plan(oa, a), _final_plan(ob, a))
    share = 1.0 - float(api_fallback_share(a))

    def counts(plan: ServingPlan | None, v: np.ndarray) -> np.ndarray:
        return np.zeros_like(v) if plan is None else np.asarray(plan.gpus(v * share), dtype=float)

    def f(v: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
        return (fa - fb) + (sa - sb) * v + ga * na - gb * nb

    def slope_and_band(plan: ServingPlan | None, g: float) -> tuple[float, float]:
        """GPU cost per request/day on the straight-line trend, and the most the staircase adds above it."""
        if plan is None or float(plan.fixed_gpus) > 0:
            n = 0.0 if plan is None else float(plan.fixed_gpus)
            return 0.0, g * n
        tp = float(plan.gpus_per_replica)
        floor = max(float(plan.min_gpus), tp * float(plan.min_replicas))
        return g * tp * float(plan.replicas_per_request_per_day) * share, g * (tp + floor)

    with np.errstate(all="ignore"):
        zero = np.zeros(1)
        f0 = f(zero, counts(plans[0], zero), counts(plans[1], zero))[0]
        if not np.isfinite(f0):
            return float("nan")
        if f0 == 0:
            return 0.0
        sign0 = np.sign(f0)
        (ka, band_a), (kb, band_b) = slope_and_band(plans[0], ga), slope_and_band(plans[1], gb)
        slope = (sa - sb) + ka - kb
        # f lies within [trend - band_b, trend + band_a], trend = (fa - fb) + slope v; a root needs 0 inside.
        if slope == 0:
            v1, v2 = 0.0, MAX_VOLUME
        else:
            roots = (-((fa - fb) + band_a) / slope, -((fa - fb) - band_b) / slope)
            v1, v2 = max(0.0, min(roots)), min(MAX_VOLUME, max(roots))
        if not (np.isfinite(v1) and np.isfinite(v2)) or v2 < v1:
            return float("nan")
        start = np.array([v1])
        if v1 > 0 and np.sign(f(start, counts(plans[0], start), counts(plans[1], start))[0]) != sign0:
            return float(v1)
        lo_edge, examined = v1, 0
        while lo_edge < v2 and examined < MAX_BREAKPOINTS:
            bps = _sorted_unique(np.concatenate((
                _breakpoints(plans[0], lo_edge * share, v2 * share, BREAKPOINT_CHUNK),
                _breakpoints(plans[1], lo_edge * share, v2 * share, BREAKPOINT_CHUNK)))) / share
            bps = bps[(bps > lo_edge) & (bps < v2)]
            hi_edge = float(bps[-1]) if bps.size >= BREAKPOINT_CHUNK else v2
            bps = bps[bps < hi_edge]
            examined += bps.size
            edges = np.concatenate([[lo_edge], bps, [hi_edge]])
            lo, hi = edges[:-1], edges[1:]
            mid = (lo + hi) / 2  # counts inside the segment (at its ends a step may be a rounding tie)
            na, nb = counts(plans[0], mid), counts(plans[1], mid)
            f_lo, f_hi = f(lo, na, nb), f(hi, na, nb)
            # Just before each step: the previous segment's line (the first one: the cost at its start).
            first = f(lo[:1], counts(plans[0], lo[:1]), counts(plans[1], lo[:1]))
            f_jump = np.concatenate([first, f_hi[:-1]])
            at_step = (np.sign(f_jump) == sign0) & (np.sign(f_lo) != sign0)
            inside = (np.sign(f_lo) == sign0) & (np.sign(f_hi) != sign0)
            hit = np.flatnonzero(at_step | inside)
            if hit.size:
                i = hit[0]
                if at_step[i]:
                    return float(lo[i])
                root = lo[i] + (hi[i] - lo[i]) * f_lo[i] / (f_lo[i] - f_hi[i])
                return float(min(max(root, lo[i]), hi[i]))
            lo_edge = hi_edge
        return float("nan")


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.union1d`` of finite values without its import of ``numpy.ma`` (17 ms of every command's start)."""
    x = np.sort(x, axis=None)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if x.size else x


def _breakpoints(plan: ServingPlan | None, lo: float, hi: float, most: int) -> np.ndarray:
    """Served volumes (requests/day) in (lo, hi] at which the plan adds a replica, at most ``most`` of them."""
    if plan is None or float(plan.fixed_gpus) > 0 or float(plan.replicas_per_request_per_day) <= 0:
        return np.empty(0)
    k = float(plan.replicas_per_request_per_day)
    first = max(float(plan.min_replicas), np.floor(lo * k))
    last = min(np.floor(hi * k), first + most)
    if not (np.isfinite(first) and np.isfinite(last)) or last < first:
        return np.empty(0)
    # ServingPlan.gpus counts ceil(round(k v, 9)) replicas: the step past r replicas is at k v = r + 5e-10.
    return (np.arange(first, last + 1.0) + GPU_ROUNDING) / k


# ----------------------------------------------------------------------------------- break-even in time
def _cumulative_at_month_ends(option: str, a: Any) -> tuple[np.ndarray, np.ndarray]:
    """(lumps at each month's start, running cost through each month), both (..., horizon)."""
    return _recent("month_ends", a, (option,), lambda: _month_ends(option, a))


def _month_ends(option: str, a: Any) -> tuple[np.ndarray, np.ndarray]:
    items = line_items(option, a)
    lumps = sum(v for k, v in items.items() if LINE_ITEMS[k].at_month_start)
    running = sum(v for k, v in items.items() if not LINE_ITEMS[k].at_month_start)
    return lumps, running


def _crossings(base: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where ``other``'s cumulative cost meets ``base``'s, in fractional months.

    Each argument is (lumps at each month's start, running cost through each month). Returns (first month from
    which ``other`` is cumulatively cheaper, the month from which it stays cheaper to the end of the horizon),
    NaN where there is none.
    """
    (la, ra), (lb, rb) = base, other
    shape = np.broadcast_shapes(la.shape, ra.shape, lb.shape, rb.shape)
    lump = np.broadcast_to(la - lb, shape)  # advantage of the option gained (+) or lost (-) at each month start
    run = np.broadcast_to(ra - rb, shape)  # advantage gained through each month
    end = np.cumsum(lump + run, axis=-1)  # advantage at each month end
    start_before = np.concatenate([np.zeros(shape[:-1] + (1,)), end[..., :-1]], axis=-1)
    after_lump = start_before + lump
    horizon = shape[-1]
    m = np.arange(horizon, dtype=float)
    tol = 1e-9 * (np.abs(end).max(axis=-1, keepdims=True) + 1.0)
    # Option cheaper (advantage > 0) at time t; crossing up inside month m, or at its start by a lump.
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(run != 0, -after_lump / run, 0.0)
    up_at_start = (start_before <= tol) & (after_lump > tol)
    up_inside = (after_lump <= tol) & (end > tol)
    t_up = np.where(up_at_start, m, np.where(up_inside, m + np.clip(frac, 0.0, 1.0), np.nan))
    first = np.where(np.isfinite(t_up).any(axis=-1), np.nanmin(np.where(np.isfinite(t_up), t_up, np.inf),
                                                                  axis=-1), np.nan)
    # Lasting: the last time the advantage is <= 0 (at a month start, after its lump, or at a month end);
    # the option stays cheaper from the crossing that follows it.
    not_ahead = (after_lump <= tol) | (end <= tol) | (start_before < -tol)
    last_bad = np.where(not_ahead.any(axis=-1), horizon - 1 - np.argmax(not_ahead[..., ::-1], axis=-1), -1)
    idx = np.clip(last_bad, 0, horizon - 1)[..., None]
    t_last = np.take_along_axis(t_up, idx, axis=-1)[..., 0]
    lasting = np.where(end[..., -1] <= tol[..., 0], np.nan, np.where(last_bad < 0, 0.0, t_last))
    return first, lasting


def breakeven_month(a: Any, option_a: str, option_b: str) -> Any:
    """Fractional month, from the start of the horizon, at which option_b's cumulative cost first drops below
    option_a's (running costs accrue evenly through a month; purchases and one-off fees at its start).

    Returns
    -------
    float, or a float array with NaN for "never within the horizon" in sweeps.

    Raises
    ------
    NoSolutionError
        For scalar inputs when option_b is never cumulatively cheaper within the horizon (Excel's #N/A).
    """
    first = _pair_crossings(a, option_a, option_b)[0]
    return _or_raise(first, a, option_a, option_b)


def lasting_breakeven_month(a: Any, option_a: str, option_b: str) -> Any:
    """Fractional month from which option_b stays cumulatively cheaper than option_a to the end of the horizon.

    NaN (sweeps) or NoSolutionError (scalars) when option_b ends the horizon more expensive.
    """
    lasting = _pair_crossings(a, option_a, option_b)[1]
    return _or_raise(lasting, a, option_a, option_b)


def _pair_crossings(a: Any, option_a: str, option_b: str) -> tuple[np.ndarray, np.ndarray]:
    oa, ob = normalize_option(option_a), normalize_option(option_b)
    if oa == ob:
        raise InputError("option_b", option_b, f"an option other than option_a ({oa})")
    return _recent("crossings", a, (oa, ob),
                   lambda: _crossings(_cumulative_at_month_ends(oa, a), _cumulative_at_month_ends(ob, a)))


def _or_raise(x: np.ndarray, a: Any, option_a: str, option_b: str) -> Any:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        if np.isnan(x):
            raise NoSolutionError(
                f"{normalize_option(option_b)} is not cumulatively cheaper than {normalize_option(option_a)} "
                f"within {a['horizon_months']} months")
        return float(x)
    return x.copy()  # the kept figure stays read-only; the caller gets its own array


# ----------------------------------------------------------------------------------- ownership, training
def rent_vs_buy_breakeven_hours(a: Any) -> Any:
    """Hours of use per GPU at which buying costs the same as renting (inf when renting is always cheaper)."""
    return costs.rent_vs_buy_breakeven_hours(
        a["gpu_purchase_usd"], a["gpu_usd_per_hour"], a["gpu_residual_value_share"], a["gpu_power_kw"],
        a["pue"], a["electricity_usd_per_kwh"], a["hardware_maintenance_share_per_year"],
        a["colocation_usd_per_kw_month"], a["serving_hours_per_month"])


def training_gpu_hours(a: Any) -> Any:
    """GPU-hours of one pre-training run, before the overhead factor."""
    return costs.training_gpu_hours(a["model_parameters"], a["training_tokens"], a["gpu_peak_tflops"], a["mfu"],
                                    a["training_tokens_per_second_per_gpu"])


def training_run_months(a: Any) -> Any:
    """Wall-clock months of the pre-training run on ``training_gpus``, overhead included (730 h a month)."""
    return _scalar(np.asarray(training_gpu_hours(a)) * np.asarray(a["training_overhead_factor"])
                   / (np.asarray(a["training_gpus"], dtype=float) * HOURS_PER_MONTH))


def _scalar(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x
