"""The table of ``BVB_*`` Excel functions: names, arguments with units, docs, and thin engine calls.

This is the one declaration every runtime reads: classic xlwings and xlwings Server/Lite (``buildbuy.udfs``),
the headless backends (formualizer, formulas) and the generated function reference. Implementations take
values in the common model of :mod:`.conventions` and return results in it; :func:`invoke` handles error
propagation and the mapping of engine errors to Excel errors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from buildbuy.engine import __version__, costs, default_catalog, moat_score, model, recommend, resolve
from buildbuy.engine.errors import BuildBuyError, InputError
from buildbuy.engine.report import COMPARE_COLUMNS, option_summary

from .conventions import (
    XlError,
    assumptions_arg,
    correlations_arg,
    error_from,
    first_error,
    number_arg,
    ranges_arg,
    scalar_of,
    text_arg,
    to_excel,
)

#: Saved-file spellings besides the plain name: xlwings Server/Lite add-ins show ``XLWINGS.BVB_X``
#: (``XLWINGS_DEV.BVB_X`` outside production); Office.js saves custom functions as ``_xldudf_`` + the name
#: with the dot turned into an underscore.
OFFICEJS_NAMESPACES = ("XLWINGS", "XLWINGS_DEV")


@dataclass(frozen=True)
class Arg:
    name: str
    doc: str
    kind: str  # number | scalar | text | bool | assumptions
    optional: bool = False


@dataclass(frozen=True)
class UDF:
    name: str
    summary: str
    returns: str  # what comes back, with unit
    args: tuple[Arg, ...]
    impl: Callable[..., Any]
    spills: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for a in self.args if not a.optional)

    @property
    def doc(self) -> str:
        lines = [self.summary, "", f"Returns: {self.returns}"]
        if self.args:
            lines.append("")
            lines += [f"{a.name}{' (optional)' if a.optional else ''}: {a.doc}" for a in self.args]
        return "\n".join(lines)

    def spellings(self) -> tuple[str, ...]:
        """Every name under which a saved workbook may call this function."""
        names = [self.name]
        for ns in OFFICEJS_NAMESPACES:
            names.append(f"{ns}.{self.name}")
            names.append(f"_xldudf_{ns}_{self.name}")
        return tuple(names)


REGISTRY: dict[str, UDF] = {}

ASSUMPTIONS = Arg("assumptions", "two-column range of input names and values (blank = documented default)",
                  "assumptions")
OPTION = Arg("option", 'one of "API", "FINE-TUNE", "TRAIN", "PHASED"', "text")
HORIZON = Arg("horizon_months", "months of cash flow, overrides the assumptions (default 36)", "scalar", True)


def udf(name: str, summary: str, returns: str, *args: Arg, spills: bool = False) -> Callable:
    """Declare an implementation as the Excel function ``name``."""
    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        params = list(inspect.signature(impl).parameters)
        if params != [a.name for a in args]:
            raise TypeError(f"{name}: declared args {[a.name for a in args]} != implementation {params}")
        REGISTRY[name] = UDF(name, summary, returns, tuple(args), impl, spills)
        return impl
    return register


def invoke(name: str, *values: Any, errors_checked: bool = False, memo: dict[Any, Any] | None = None) -> Any:
    """Call ``name`` with values in the common model; returns a result in it (errors as :class:`XlError`).

    An error value among the arguments propagates as that error (like Excel's own functions); an engine
    error becomes its typed Excel error with the engine's message; anything unexpected becomes ``#VALUE!``
    with the exception's text, never a traceback. ``errors_checked=True`` tells it the adapter already looked
    for error values while converting the arguments. ``memo``: a dict the caller keeps while the range values
    it passes stay alive and unchanged; a range argument is then read once per range object, not once per call.
    """
    fn = REGISTRY[name]
    if not errors_checked:
        for v in values:
            err = first_error(v)
            if err is not None:
                return err
    if len(values) > len(fn.args):
        return XlError("#VALUE!", f"{name} takes at most {len(fn.args)} arguments, got {len(values)}")
    padded = list(values) + [None] * (len(fn.args) - len(values))
    try:
        if memo is None:
            cleaned = [_clean(a, v) for a, v in zip(fn.args, padded, strict=True)]
        else:
            cleaned = [_clean_memo(a, v, memo) for a, v in zip(fn.args, padded, strict=True)]
        missing = [a.name for a, v in zip(fn.args, cleaned, strict=True) if v is None and not a.optional]
        if missing:
            raise InputError(missing[0], "a blank cell", "a value (it is required)")
        return to_excel(fn.impl(*cleaned))
    except BuildBuyError as exc:
        return error_from(exc)
    except Exception as exc:  # noqa: BLE001 - a cell must never crash the sheet
        return XlError("#VALUE!", f"{name}: {type(exc).__name__}: {exc}")


def _clean_memo(arg: Arg, value: Any, memo: dict[Any, Any]) -> Any:
    if type(value) is not list:
        return _clean(arg, value)
    key = (arg.kind, arg.name, id(value))
    hit = memo.get(key)
    if hit is None:
        out = _clean(arg, value)
        hit = memo[key] = (SharedArg(out) if type(out) is dict else out, value)  # value kept: its id stays its own
    return hit[0]


def _clean(arg: Arg, value: Any) -> Any:
    if arg.kind == "assumptions":
        return assumptions_arg(arg.name, value)
    if arg.kind == "ranges":
        return ranges_arg(arg.name, value)
    if arg.kind == "correlations":
        return correlations_arg(arg.name, value)
    if arg.kind == "number":
        return number_arg(arg.name, value)
    if arg.kind == "text":
        value = scalar_of(arg.name, value)
        return None if value is None else text_arg(arg.name, value)
    return scalar_of(arg.name, value)


def _opt(value: Any, default: Any) -> Any:
    return default if value is None else value


def _key(assumptions: dict[str, Any], horizon_months: Any = None) -> tuple:
    """A cache key that tells TRUE from 1 and "1" from 1: each value keyed with its type."""
    if type(assumptions) is SharedArg:
        items = assumptions.keys_memo.get("key")
        if items is None:
            items = assumptions.keys_memo["key"] = tuple((k, type(v), v) for k, v in assumptions.items())
    else:
        items = tuple((k, type(v), v) for k, v in assumptions.items())
    return items, (type(horizon_months), horizon_months)


class SharedArg(dict):
    """A range argument as the registry reads it, shared by every call of one run that passes the same range
    (see :func:`invoke`'s ``memo``): never changed after it is made, so its cache keys are computed once."""

    __slots__ = ("keys_memo",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.keys_memo: dict[str, Any] = {}


def _raw(key: tuple) -> tuple[dict[str, Any], Any]:
    items, (_, horizon_months) = key
    return {k: v for k, _, v in items}, horizon_months


@lru_cache(maxsize=512)
def _resolved(key: tuple) -> Any:
    raw, horizon_months = _raw(key)
    if horizon_months is not None:
        raw["horizon_months"] = horizon_months
    return resolve(raw)


def _scenario(assumptions: dict[str, Any], horizon_months: Any = None) -> Any:
    """The resolved scenario, cached: a sheet calls many functions on the same assumptions range."""
    try:
        return _resolved(_key(assumptions, horizon_months))
    except TypeError:  # an unhashable value: validate it without the cache (it will be rejected)
        return _resolved.__wrapped__(_key(assumptions, horizon_months))


@lru_cache(maxsize=512)
def _recommendation(key: tuple) -> Any:
    return recommend(_resolved(key))


@lru_cache(maxsize=2048)
def _summary(option: str, key: tuple) -> dict[str, Any]:
    return option_summary(option, _resolved(key), _recommendation(key))


def clear_caches() -> None:
    """Forget every cached scenario (benchmarks use it to time cold calls)."""
    from .conventions import _ASSUMPTIONS_CACHE

    for cached in (_resolved, _recommendation, _summary, _line_items, _risk_cached):
        cached.cache_clear()
    _ASSUMPTIONS_CACHE.clear()
    _TABLES.clear()


def _rec(assumptions: dict[str, Any]) -> Any:
    _scenario(assumptions)
    return _recommendation(_key(assumptions))


# ------------------------------------------------------------------------------------------ primitives
@udf("BVB_API_COST", "Annual hosted-API cost at a flat volume (365 days).", "USD/year (a range spills)",
     Arg("requests_per_day", "requests/day", "number"),
     Arg("input_tokens_per_request", "input tokens/request", "number"),
     Arg("output_tokens_per_request", "output tokens/request", "number"),
     Arg("api_input_usd_per_mtok", "USD per 1M input tokens", "number"),
     Arg("api_output_usd_per_mtok", "USD per 1M output tokens", "number"))
def _bvb_api_cost(requests_per_day, input_tokens_per_request, output_tokens_per_request, api_input_usd_per_mtok,
                 api_output_usd_per_mtok) -> Any:
    return costs.api_annual_cost_usd(requests_per_day, input_tokens_per_request, output_tokens_per_request,
                                     api_input_usd_per_mtok, api_output_usd_per_mtok)


@udf("BVB_SELFHOST_COST", "Annual cost of serving GPUs: whole GPUs for the peak x 8,760 h x price.",
     "USD/year (a range spills)",
     Arg("requests_per_day", "requests/day", "number"),
     Arg("tokens_per_request", "input + output tokens/request", "number"),
     Arg("gpu_usd_per_hour", "USD per GPU-hour", "number"),
     Arg("tokens_per_second_per_gpu", "sustained tokens/s of one GPU", "number"),
     Arg("gpu_utilization", "share of a GPU used at peak, default 0.6", "number", True),
     Arg("peak_to_average_ratio", "peak / average traffic, default 2", "number", True),
     Arg("min_gpus", "GPUs kept running whatever the load, default 1", "number", True))
def _bvb_selfhost_cost(requests_per_day, tokens_per_request, gpu_usd_per_hour, tokens_per_second_per_gpu,
                      gpu_utilization, peak_to_average_ratio, min_gpus) -> Any:
    d = _scenario({})  # the documented defaults, resolved once and cached
    return costs.selfhost_annual_cost_usd(requests_per_day, tokens_per_request, gpu_usd_per_hour,
                                          tokens_per_second_per_gpu,
                                          _opt(gpu_utilization, d.gpu_utilization),
                                          _opt(peak_to_average_ratio, d.peak_to_average_ratio),
                                          _opt(min_gpus, d.min_gpus))


@udf("BVB_TRAIN_COMPUTE_COST", "Compute cost of pre-training: 6 x parameters x tokens FLOPs at peak x MFU.",
     "USD (a range spills)",
     Arg("model_parameters", "parameters", "number"),
     Arg("training_tokens", "tokens", "number"),
     Arg("gpu_peak_tflops", "peak dense BF16 TFLOP/s of one GPU", "number"),
     Arg("mfu", "model FLOPs utilization, share in (0, 1]", "number"),
     Arg("gpu_usd_per_hour", "USD per GPU-hour", "number"))
def _bvb_train_compute_cost(model_parameters, training_tokens, gpu_peak_tflops, mfu, gpu_usd_per_hour) -> Any:
    return costs.train_compute_cost_usd(model_parameters, training_tokens, gpu_peak_tflops, mfu, gpu_usd_per_hour)


# ------------------------------------------------------------------------------------------ scenario level
@udf("BVB_TCO", "Total cost of ownership of an option over the horizon (undiscounted).", "USD",
     OPTION, ASSUMPTIONS, HORIZON)
def _bvb_tco(option, assumptions, horizon_months) -> Any:
    return model.tco(model.normalize_option(option), _scenario(assumptions, horizon_months))


@udf("BVB_NPV", "Present value of an option's monthly costs at discount_rate_per_year.", "USD",
     OPTION, ASSUMPTIONS, HORIZON)
def _bvb_npv(option, assumptions, horizon_months) -> Any:
    return model.npv(model.normalize_option(option), _scenario(assumptions, horizon_months))


@udf("BVB_ANNUAL_COST", "Steady-state annual run-rate of an option at the month-0 volume (one-offs left out).",
     "USD/year", OPTION, ASSUMPTIONS)
def _bvb_annual_cost(option, assumptions) -> Any:
    return model.annual_cost(model.normalize_option(option), _scenario(assumptions))


@udf("BVB_METRIC", "One headline figure of an option: " + ", ".join(k for k, _, _ in COMPARE_COLUMNS[1:]) + ".",
     "the figure in its unit (#N/A where it does not exist)",
     OPTION, ASSUMPTIONS, Arg("metric", "name of the figure, e.g. \"cost_per_mtok_usd\"", "text"))
def _bvb_metric(option, assumptions, metric) -> Any:
    keys = [k for k, _, _ in COMPARE_COLUMNS if k != "option"]
    if metric not in keys:
        raise InputError("metric", metric, "one of " + ", ".join(keys))
    _scenario(assumptions)
    value = _summary(model.normalize_option(option), _key(assumptions))[metric]
    if value is None:
        return XlError("#N/A", f"{metric} does not exist for {option} in this scenario")
    return value


@udf("BVB_TIMELINE", "Monthly cost of an option, one row per month (spills down).", "USD per month",
     OPTION, ASSUMPTIONS, HORIZON, spills=True)
def _bvb_timeline(option, assumptions, horizon_months) -> Any:
    return model.monthly_cost(model.normalize_option(option), _scenario(assumptions, horizon_months))


@udf("BVB_LINE_ITEMS", "Monthly cost of each line item of an option: one row per item, months across (spills).",
     "USD per month; rows: " + ", ".join(model.LINE_ITEMS), OPTION, ASSUMPTIONS, HORIZON, spills=True)
def _bvb_line_items(option, assumptions, horizon_months) -> Any:
    items = model.line_items(model.normalize_option(option), _scenario(assumptions, horizon_months))
    return [list(v) for v in items.values()]


@lru_cache(maxsize=256)
def _line_items(option: str, key: tuple, horizon: int) -> dict[str, list[float]]:
    a = _resolved((key[0], (type(horizon), horizon)))
    return {k: v.tolist() for k, v in model.line_items(option, a).items()}


@udf("BVB_LINE_ITEM", "The cost of one line item of an option in one month (one cell of the timeline).",
     "USD in that month", OPTION, ASSUMPTIONS,
     Arg("item", "line item: " + ", ".join(model.LINE_ITEMS), "text"),
     Arg("month", "month number, 1 = the first month", "scalar"))
def _bvb_line_item(option, assumptions, item, month) -> Any:
    if item not in model.LINE_ITEMS:
        raise InputError("item", item, "one of " + ", ".join(model.LINE_ITEMS))
    if isinstance(month, bool) or not isinstance(month, (int, float)) or month < 1 or month != int(month) \
            or month > 600:
        raise InputError("month", month, "a whole number in [1, 600]")
    base = _scenario(assumptions)
    horizon = timeline_horizon(int(base.horizon_months), int(month))
    return _line_items(model.normalize_option(option), _key(assumptions), horizon)[item][int(month) - 1]


@udf("BVB_SENSITIVITY", "Annual run-rate cost of an option when one input takes another value (the key "
     '"api_price_factor" multiplies both API prices).', "USD/year", OPTION, ASSUMPTIONS,
     Arg("key", 'input name, e.g. "requests_per_day", or "api_price_factor"', "text"),
     Arg("value", "the value the input takes", "scalar"))
def _bvb_sensitivity(option, assumptions, key, value) -> Any:
    return model.annual_cost(model.normalize_option(option), _scenario(_with_value(assumptions, key, value)))


def _with_value(assumptions: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """The assumptions with one input at another value (a number, or an array of them for many cells at once):
    the rule behind BVB_SENSITIVITY."""
    raw = dict(assumptions)
    if key == "api_price_factor":
        values = value if isinstance(value, np.ndarray) else [value]
        for x in values:
            if isinstance(x, bool) or not isinstance(x, (int, float, np.floating)) or not x >= 0:
                raise InputError("value", x, "a number >= 0 for api_price_factor")
        base = _scenario(assumptions)
        raw["api_input_usd_per_mtok"] = base.api_input_usd_per_mtok * value
        raw["api_output_usd_per_mtok"] = base.api_output_usd_per_mtok * value
    else:
        if key == "requests_per_day":
            raw.pop("daily_active_users", None)
        elif key in ("daily_active_users", "requests_per_user_per_day"):
            # The volume follows the users: a given requests_per_day would otherwise hold it fixed.
            base = _scenario(assumptions)
            raw.pop("requests_per_day", None)
            raw["daily_active_users"] = base.daily_active_users
            raw["requests_per_user_per_day"] = base.requests_per_user_per_day
        raw[key] = value
    return raw


def sensitivity_many(assumptions: Any, key: Any, pairs: list[tuple[Any, Any]]) -> list[Any]:
    """BVB_SENSITIVITY for many (option, value) cells of one input, as :func:`invoke` gives each cell: the
    scenario resolved once with the input at all the values (one vectorized engine call per option). Cells with
    anything but a plain number, or a batch the engine refuses, are computed one by one, so each keeps its own
    message."""
    fn = REGISTRY["BVB_SENSITIVITY"]
    values = [v for _, v in pairs]
    if len(pairs) > 1 and all(type(v) is float for v in values):
        try:
            a, k = _clean(fn.args[1], assumptions), _clean(fn.args[2], key)
            options = [_clean(fn.args[0], o) for o, _ in pairs]
            if a is not None and k is not None and all(o is not None for o in options):
                distinct = list(dict.fromkeys(values))
                xs = np.array(distinct, dtype=float)
                scenario = _scenario(_with_value(a, k, xs))
                got = {o: np.broadcast_to(np.asarray(model.annual_cost(model.normalize_option(o), scenario),
                                                     dtype=float), xs.shape) for o in dict.fromkeys(options)}
                if all(np.all(np.isfinite(g)) for g in got.values()):
                    at = {x: i for i, x in enumerate(distinct)}
                    return [float(got[o][at[v]]) for o, v in zip(options, values, strict=True)]
        except BuildBuyError:
            pass
    return [invoke("BVB_SENSITIVITY", o, assumptions, key, v) for o, v in pairs]


@udf("BVB_COMPARE", "All options side by side, with a header row (spills 5 x 5).",
     "option, annual cost (USD/year), TCO (USD), NPV (USD), latency (ms)", ASSUMPTIONS, spills=True)
def _bvb_compare(assumptions) -> Any:
    _scenario(assumptions)
    rows = [["option", "annual_cost_usd", "tco_usd", "npv_usd", "latency_ms"]]
    for o in model.OPTIONS:
        s = _summary(o, _key(assumptions))
        rows.append([o, s["annual_cost_usd"], s["tco_usd"], s["npv_usd"], s["latency_ms"]])
    return rows


@udf("BVB_BREAKEVEN_VOLUME", "Requests/day at which the two options' annual run-rate costs are equal.",
     "requests/day (#N/A when they never cross)", ASSUMPTIONS,
     Arg("option_a", "first option", "text"), Arg("option_b", "second option", "text"))
def _bvb_breakeven_volume(assumptions, option_a, option_b) -> Any:
    _two_options(option_a, option_b)
    return model.breakeven_volume(_scenario(assumptions), option_a, option_b)


def _two_options(option_a: str, option_b: str) -> None:
    """A break-even compares two different options; the same one twice has no break-even."""
    if model.normalize_option(option_a) == model.normalize_option(option_b):
        raise InputError("option_b", option_b, f"an option other than option_a ({option_a!r})")


@udf("BVB_BREAKEVEN_MONTH", "When option_b's cumulative cost first drops below option_a's, in fractional months "
     "from the start of the horizon (running costs accrue evenly through a month, purchases at its start).",
     "months (#N/A when never within the horizon)", ASSUMPTIONS,
     Arg("option_a", "reference option, e.g. \"API\"", "text"), Arg("option_b", "challenger option", "text"))
def _bvb_breakeven_month(assumptions, option_a, option_b) -> Any:
    _two_options(option_a, option_b)
    return model.breakeven_month(_scenario(assumptions), option_a, option_b)


@udf("BVB_LASTING_BREAKEVEN_MONTH", "From when option_b stays cumulatively cheaper than option_a to the end of "
     "the horizon, in fractional months from its start.", "months (#N/A when option_b ends more expensive)",
     ASSUMPTIONS, Arg("option_a", "reference option, e.g. \"API\"", "text"),
     Arg("option_b", "challenger option", "text"))
def _bvb_lasting_breakeven_month(assumptions, option_a, option_b) -> Any:
    return model.lasting_breakeven_month(_scenario(assumptions), option_a, option_b)


@udf("BVB_COST_BY_YEAR", "Cash cost of an option in one year of the horizon (the last year may be partial).",
     "USD in that year", OPTION, ASSUMPTIONS, Arg("year", "1 for the first year", "scalar"))
def _bvb_cost_by_year(option, assumptions, year) -> Any:
    a = _scenario(assumptions)
    years = model.cost_by_year(model.normalize_option(option), a)
    if isinstance(year, bool) or not isinstance(year, (int, float)) or year != int(year) \
            or not 1 <= year <= len(years):
        raise InputError("year", year, f"a whole number in [1, {len(years)}] (the horizon's years)")
    return float(years[int(year) - 1])


@udf("BVB_RECOMMEND", "The recommended option: hard constraints first, then the cheapest feasible by NPV, then "
     "the stated overrides (pre-PMF: API; TRAIN only when earned).", '"API", "FINE-TUNE", "TRAIN" or "PHASED"',
     ASSUMPTIONS)
def _bvb_recommend(assumptions) -> Any:
    return _rec(assumptions).layer


@udf("BVB_CHEAPEST", "The cheapest option by NPV among those that meet every hard constraint.",
     'option name (#N/A when none is feasible)', ASSUMPTIONS)
def _bvb_cheapest(assumptions) -> Any:
    rec = _rec(assumptions)
    if rec.cheapest_feasible is None:
        return XlError("#N/A", "no option meets every hard constraint")
    return rec.cheapest_feasible


@udf("BVB_PREMIUM", "What the recommended option costs more than the cheapest feasible one over the horizon.",
     "USD (NPV or TCO basis) or a ratio", ASSUMPTIONS,
     Arg("basis", '"NPV" (default), "TCO" or "RATIO" (NPV of the recommended / NPV of the cheapest)', "text",
         True))
def _bvb_premium(assumptions, basis) -> Any:
    rec = _rec(assumptions)
    key = "NPV" if basis is None else str(basis).strip().upper()
    values = {"NPV": rec.premium_usd, "TCO": rec.premium_tco_usd, "RATIO": rec.premium_ratio}
    if key not in values:
        raise InputError("basis", basis, "one of 'NPV', 'TCO', 'RATIO'")
    return values[key]


@udf("BVB_DECISION_SENTENCE", "The answer and its price in one sentence.", "text", ASSUMPTIONS)
def _bvb_decision_sentence(assumptions) -> Any:
    return _rec(assumptions).decision_sentence


@udf("BVB_DECIDING_RULES", "The rule ids that decided the answer, comma-separated.", "text", ASSUMPTIONS)
def _bvb_deciding_rules(assumptions) -> Any:
    return ", ".join(_rec(assumptions).deciding_rules)


@udf("BVB_FEASIBLE", "Whether an option meets every hard constraint (residency, latency, budget, model fit, "
     "corpus).", "TRUE or FALSE", ASSUMPTIONS, Arg("option", "option name", "text"))
def _bvb_feasible(assumptions, option) -> Any:
    return not _rec(assumptions).infeasible_because.get(model.normalize_option(option))


@udf("BVB_INFEASIBLE_BECAUSE", "Why an option is ruled out (each broken constraint with its rule id), or blank.",
     "text", ASSUMPTIONS, Arg("option", "option name", "text"))
def _bvb_infeasible_because(assumptions, option) -> Any:
    return "; ".join(_rec(assumptions).infeasible_because.get(model.normalize_option(option), []))


@udf("BVB_REASONS", "Reasons and warnings behind the recommendation, one row each (spills).",
     "rule id, kind (reason or warning), sentence", ASSUMPTIONS, spills=True)
def _bvb_reasons(assumptions) -> Any:
    return [[f.rule_id, f.kind, f.sentence] for f in _rec(assumptions).findings]


@udf("BVB_REASON", "One field of the n-th reason or warning, for fixed report rows.",
     "text or number (past the last finding: past_end)", ASSUMPTIONS, Arg("index", "1 for the first finding", "scalar"),
     Arg("field", '"rule_id", "kind", "sentence", "supports" or "weight"', "text"),
     Arg("past_end", 'what rows past the last finding show, default "" (blank)', "scalar", True))
def _bvb_reason(assumptions, index, field, past_end) -> Any:
    fields = ("rule_id", "kind", "sentence", "supports", "weight")
    if field not in fields:
        raise InputError("field", field, "one of " + ", ".join(fields))
    if isinstance(index, bool) or not isinstance(index, (int, float)) or index < 1 or index != int(index):
        raise InputError("index", index, "a whole number >= 1")
    findings = _rec(assumptions).findings
    if index > len(findings):
        return "" if past_end is None else past_end
    value = getattr(findings[int(index) - 1], field)
    return "" if value is None else value


@udf("BVB_ROADMAP", "The phased plan with the scenario's switch months and a status per phase (spills).",
     "phase, layer, start month, end month, status, actions", ASSUMPTIONS, spills=True)
def _bvb_roadmap(assumptions) -> Any:
    return [[p.phase, p.layer, p.start_month, "" if p.end_month is None else p.end_month, p.status, p.actions]
            for p in _rec(assumptions).roadmap]


@udf("BVB_PHASE", "One field of a phase of the roadmap (for fixed report rows).", "number or text",
     ASSUMPTIONS, Arg("phase", "1, 2 or 3", "scalar"),
     Arg("field", '"layer", "start_month", "end_month", "status" or "actions"', "text"))
def _bvb_phase(assumptions, phase, field) -> Any:
    fields = ("layer", "start_month", "end_month", "status", "actions")
    if field not in fields:
        raise InputError("field", field, "one of " + ", ".join(fields))
    if phase not in (1, 2, 3) or isinstance(phase, bool):
        raise InputError("phase", phase, "1, 2 or 3")
    value = getattr(_rec(assumptions).roadmap[int(phase) - 1], field)
    return "open-ended" if value is None else value


@udf("BVB_SCORE", "The recommendation score of one option (API, FINE-TUNE or TRAIN).", "points",
     ASSUMPTIONS, Arg("option", '"API", "FINE-TUNE" or "TRAIN"', "text"))
def _bvb_score(assumptions, option) -> Any:
    key = model.normalize_option(option)
    scores = _rec(assumptions).scores
    if key not in scores:
        raise InputError("option", option, "one of 'API', 'FINE-TUNE', 'TRAIN'")
    return scores[key]


MOAT_ARGS = (Arg("data_proprietary", "TRUE/FALSE: not scraped from the public web", "bool"),
             Arg("data_growing", "TRUE/FALSE: usage keeps adding data", "bool"),
             Arg("data_labeled", "TRUE/FALSE: expert-annotated", "bool"),
             Arg("data_perishable", "TRUE/FALSE: loses value quickly", "bool"))


@udf("BVB_MOAT_SCORE", "The data-moat litmus score: proprietary, growing, labeled, fresh (out of 4).",
     "points, 0-4", *MOAT_ARGS)
def _bvb_moat_score(data_proprietary, data_growing, data_labeled, data_perishable) -> Any:
    return _moat(data_proprietary, data_growing, data_labeled, data_perishable).score


@udf("BVB_MOAT_VERDICT", "The data-moat verdict: none, weak, moderate or deep.", "text", *MOAT_ARGS)
def _bvb_moat_verdict(data_proprietary, data_growing, data_labeled, data_perishable) -> Any:
    return _moat(data_proprietary, data_growing, data_labeled, data_perishable).verdict


def _moat(*flags: Any) -> Any:
    names = ("data_proprietary", "data_growing", "data_labeled", "data_perishable")
    checked = resolve(dict(zip(names, flags, strict=True)))
    return moat_score(*(checked[n] for n in names))


# ------------------------------------------------------------------------------------------ uncertainty
RANGES = Arg("ranges", "table of ranges, one row per uncertain input: input, dist (pert, triangular, uniform, "
             "lognormal, discrete; blank = pert), low, mode (blank = the input's value), high, values, weights "
             "(\"1; 2; 3\"); or those words in a header row", "ranges")
CORRELATIONS = Arg("correlations", "optional table of input, input, rank correlation in [-1, 1]", "correlations",
                   True)
DRAWS = Arg("draws", "number of Monte Carlo draws, default 10,000", "scalar", True)
SEED = Arg("seed", "random seed, default 20261125 (same seed, same numbers)", "scalar", True)
RISK_ARGS = (ASSUMPTIONS, RANGES, CORRELATIONS, DRAWS, SEED)

#: Columns of the risk tables, in spill order (the keys BVB_RISK_CELL takes).
P_TABLE_COLUMNS = ("option", "p_cheapest", "npv_p10", "npv_p50", "npv_p90", "npv_mean", "tco_p10", "tco_p50",
                   "tco_p90", "tco_mean")
TORNADO_COLUMNS = ("input", "low", "base", "high", "npv_difference_at_low_usd", "npv_difference_at_high_usd",
                   "change_at_low_usd", "change_at_high_usd", "swing_usd", "rank_correlation")
HISTOGRAM_COLUMNS = ("from_usd", "to_usd", "share")
RISK_STATS = ("sentence", "base_recommendation", "runner_up", "p_recommendation_differs", "p_none_feasible",
              "draws", "seed", "npv_difference_p10", "npv_difference_p50", "npv_difference_p90",
              "npv_difference_mean", "base_npv_difference_usd")


def _freeze(x: Any) -> Any:
    """A hashable copy of an argument (dicts as pairs, lists as tuples), from which it can be rebuilt."""
    return _walk(x, _same, "frozen")


def _types(x: Any) -> Any:
    """The type of every value in an argument, shaped like :func:`_freeze`'s copy: with it a cache key tells TRUE
    from 1 (equal in Python, not as an input)."""
    return _walk(x, type, "types")


def _same(x: Any) -> Any:
    return x


def _walk(x: Any, leaf: Callable[[Any], Any], memo: str) -> Any:
    """``x`` with dicts as (key, value) pairs, lists as tuples and every other value as ``leaf(value)``; kept on
    a :class:`SharedArg` under ``memo``."""
    if type(x) is SharedArg:
        out = x.keys_memo.get(memo)
        if out is None:
            out = x.keys_memo[memo] = tuple((k, _walk(v, leaf, memo)) for k, v in x.items())
        return out
    if isinstance(x, dict):
        return tuple((k, _walk(v, leaf, memo)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return tuple(_walk(v, leaf, memo) for v in x)
    return leaf(x)


def _risk(assumptions, ranges, correlations, draws, seed) -> Any:
    """The Monte Carlo of these arguments, run once and cached (a sheet reads it from many cells)."""
    from buildbuy.engine.uncertainty import DEFAULT_DRAWS, DEFAULT_SEED

    draws = DEFAULT_DRAWS if draws is None else draws
    seed = DEFAULT_SEED if seed is None else seed
    shared = None
    if type(assumptions) is SharedArg and type(ranges) is SharedArg:  # one run's many cells: found by identity
        shared = ("risk", id(ranges), _freeze(correlations or []), type(draws), draws, type(seed), seed)
        hit = assumptions.keys_memo.get(shared)
        if hit is not None:
            return hit[0]
    args = (assumptions, ranges, correlations or [], draws, seed)
    key = (*(_freeze(x) for x in args), _types(args))
    try:
        result = _risk_cached(key)
    except TypeError:  # unhashable: compute without the cache
        result = _risk_cached.__wrapped__(key)
    if shared is not None:
        assumptions.keys_memo[shared] = (result, ranges)
    return result


@lru_cache(maxsize=32)
def _risk_cached(key: tuple) -> Any:
    from buildbuy.engine.uncertainty import simulate, uncertain_from_tables

    assumptions, ranges, correlations, draws, seed = key[:5]  # (key[5]: their types, for the key only)
    thaw = {k: dict(v) for k, v in ranges}
    corr = [{"inputs": list(dict(c)["inputs"]), "rank": dict(c)["rank"]} for c in correlations]
    us = uncertain_from_tables(dict(assumptions), thaw, corr)
    return simulate(us, draws, seed)


def _risk_tables(r: Any) -> dict[str, list[dict[str, Any]]]:
    """The P-table, tornado and histogram rows of one Monte Carlo result (built once per result)."""
    hit = _TABLES.get(id(r))
    if hit is not None and hit[0] is r:
        return hit[1]
    tables = _build_risk_tables(r)
    if len(_TABLES) >= 8:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[id(r)] = (r, tables)
    return tables


#: _risk_tables of the last few results (the result kept, so its id stays its own).
_TABLES: dict[int, tuple[Any, dict[str, list[dict[str, Any]]]]] = {}


def _build_risk_tables(r: Any) -> dict[str, list[dict[str, Any]]]:
    p_rows = []
    for o in r.options:
        row = {"option": o, "p_cheapest": r.p_cheapest[o]}
        for what in ("npv", "tco"):
            stats = getattr(r, f"{what}_usd")[o]
            row.update({f"{what}_{k}": v for k, v in stats.items()})
        p_rows.append(row)
    corr = {c["input"]: c["rank_correlation"] for c in r.rank_correlation}
    tornado = [dict(t, rank_correlation=corr.get(t["input"], 0.0)) for t in r.tornado]
    return {"p_table": p_rows, "tornado": tornado, "histogram": r.histogram}


def _spill(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[list[Any]]:
    return [list(columns)] + [[row.get(c, "") for c in columns] for row in rows]


@udf("BVB_INPUT", "The value an input takes in the scenario: as given, else its default, derived or catalog value.",
     "the input's value in its unit", ASSUMPTIONS, Arg("key", 'input name, e.g. "requests_per_day"', "text"))
def _bvb_input(assumptions, key) -> Any:
    a = _scenario(assumptions)
    if key not in a:
        raise InputError("key", key, "the name of an input (see docs/inputs.md)")
    value = a[key]
    return "" if value is None else value


@udf("BVB_RISK_TABLE", "Monte Carlo P-table: per option the probability it is the cheapest feasible one and the "
     "P10/P50/P90/mean of its NPV and TCO (header row, one row per option; spills).",
     "option, share of draws, USD x 8", *RISK_ARGS, spills=True)
def _bvb_risk_table(assumptions, ranges, correlations, draws, seed) -> Any:
    return _spill(_risk_tables(_risk(assumptions, ranges, correlations, draws, seed))["p_table"], P_TABLE_COLUMNS)


@udf("BVB_RISK_TORNADO", "Tornado: the NPV difference between the base-case answer and the runner-up as each "
     "uncertain input moves from its P10 to its P90 (others at base), largest swing first, with each input's rank "
     "correlation with that difference over all draws (header row; spills).",
     "input, P10, base, P90 (input units), differences, changes and swing (USD), rank correlation", *RISK_ARGS,
     spills=True)
def _bvb_risk_tornado(assumptions, ranges, correlations, draws, seed) -> Any:
    return _spill(_risk_tables(_risk(assumptions, ranges, correlations, draws, seed))["tornado"], TORNADO_COLUMNS)


@udf("BVB_RISK_HISTOGRAM", "Histogram of the NPV difference between the base-case answer and the runner-up over "
     "all draws (header row, 20 bins; spills).", "from (USD), to (USD), share of draws", *RISK_ARGS, spills=True)
def _bvb_risk_histogram(assumptions, ranges, correlations, draws, seed) -> Any:
    return _spill(_risk_tables(_risk(assumptions, ranges, correlations, draws, seed))["histogram"],
                  HISTOGRAM_COLUMNS)


@udf("BVB_RISK_CELL", "One cell of a risk table, for fixed report rows: table \"p_table\", \"tornado\" or "
     "\"histogram\"; row a number (1 = first row under the header) or, in the P-table, an option name.",
     "the cell's value (past the last row: blank)", ASSUMPTIONS, RANGES,
     Arg("table", '"p_table", "tornado" or "histogram"', "text"),
     Arg("row", "1 for the first row, or an option name in the P-table", "scalar"),
     Arg("column", "a column of the table, e.g. \"npv_p50\" or \"swing_usd\"", "text"),
     CORRELATIONS, DRAWS, SEED,
     Arg("past_end", 'what rows past the last one show, default "" (blank)', "scalar", True))
def _bvb_risk_cell(assumptions, ranges, table, row, column, correlations, draws, seed, past_end) -> Any:
    _risk_cell_check(table, column)
    return _risk_cell(_risk_tables(_risk(assumptions, ranges, correlations, draws, seed)), table, row, column,
                      past_end)


_RISK_COLUMNS = {"p_table": P_TABLE_COLUMNS, "tornado": TORNADO_COLUMNS, "histogram": HISTOGRAM_COLUMNS}


def _risk_cell_check(table: Any, column: Any) -> None:
    if table not in _RISK_COLUMNS:
        raise InputError("table", table, "one of " + ", ".join(repr(t) for t in _RISK_COLUMNS))
    if column not in _RISK_COLUMNS[table]:
        raise InputError("column", column, f"a column of {table}: " + ", ".join(_RISK_COLUMNS[table]))


def risk_tables_of(assumptions: Any, ranges: Any, correlations: Any, draws: Any, seed: Any,
                   memo: dict[Any, Any]) -> dict[str, list[dict[str, Any]]] | None:
    """The risk tables BVB_RISK_CELL reads for these arguments (as the sheet passes them; ``memo`` as for
    :func:`invoke`), or None when the arguments or the Monte Carlo give an error (the cells then report it)."""
    fn = REGISTRY["BVB_RISK_CELL"]
    try:
        a, r = _clean_memo(fn.args[0], assumptions, memo), _clean_memo(fn.args[1], ranges, memo)
        c = _clean_memo(fn.args[5], correlations, memo)
        d, s = _clean(fn.args[6], draws), _clean(fn.args[7], seed)
        if a is None or r is None:
            return None
        return _risk_tables(_risk(a, r, c, d, s))
    except Exception:  # noqa: BLE001 - any failure: each cell asks invoke, which reports it
        return None


def risk_cell_of(tables: dict[str, list[dict[str, Any]]], table: Any, row: Any, column: Any,
                 past_end: Any = None) -> Any:
    """One BVB_RISK_CELL value from its Monte Carlo's tables, as :func:`invoke` gives it; None when the cell's
    own arguments need invoke (an error to report)."""
    fn = REGISTRY["BVB_RISK_CELL"]
    try:
        t, w, c = _clean(fn.args[2], table), _clean(fn.args[3], row), _clean(fn.args[4], column)
        if t is None or w is None or c is None:
            return None
        _risk_cell_check(t, c)
        return to_excel(_risk_cell(tables, t, w, c, _clean(fn.args[8], past_end)))
    except Exception:  # noqa: BLE001 - invoke reports it with its message
        return None


def _risk_cell(tables: dict[str, list[dict[str, Any]]], table: str, row: Any, column: str, past_end: Any) -> Any:
    rows = tables[table]
    if table == "p_table" and isinstance(row, str):
        return rows[model.OPTIONS.index(model.normalize_option(row))][column]
    if isinstance(row, bool) or not isinstance(row, (int, float)) or row < 1 or row != int(row):
        raise InputError("row", row, "a whole number >= 1" + (" or an option name" if table == "p_table" else ""))
    if row > len(rows):
        return "" if past_end is None else past_end
    return rows[int(row) - 1][column]


@udf("BVB_RISK", "One figure of the Monte Carlo: " + ", ".join(RISK_STATS) + '; or "p_cheapest:OPTION".',
     "text, a share of draws, a count or USD", ASSUMPTIONS, RANGES,
     Arg("statistic", 'e.g. "sentence", "p_recommendation_differs" or "p_cheapest:FINE-TUNE"', "text"),
     CORRELATIONS, DRAWS, SEED)
def _bvb_risk(assumptions, ranges, statistic, correlations, draws, seed) -> Any:
    r = _risk(assumptions, ranges, correlations, draws, seed)
    if statistic.lower().startswith("p_cheapest:"):
        return r.p_cheapest[model.normalize_option(statistic.split(":", 1)[1])]
    if statistic not in RISK_STATS:
        raise InputError("statistic", statistic, "one of " + ", ".join(RISK_STATS) + ", or p_cheapest:OPTION")
    if statistic == "sentence":
        return r.sentence()
    if statistic.startswith("npv_difference_"):
        return r.npv_difference_usd[statistic.rsplit("_", 1)[1]]
    value = getattr(r, statistic)
    return "" if value is None else value


# ------------------------------------------------------------------------------------------ catalog
@udf("BVB_PRICE", "A field of an API model in the price catalog (input_usd_per_mtok, output_usd_per_mtok, "
     "cached_input_usd_per_mtok, context_window_tokens, provider, as_of, source).", "the field's value",
     Arg("model", 'catalog id, e.g. "gpt-5.5"', "text"), Arg("field", 'e.g. "input_usd_per_mtok"', "text"))
def _bvb_price(model, field) -> Any:  # noqa: A002 - Excel argument names
    return default_catalog().field("api_model", model, field)


@udf("BVB_GPU", "A field of a GPU in the price catalog (usd_per_hour, peak_bf16_dense_tflops, memory_gb, "
     "name, price_provider, as_of, source).", "the field's value",
     Arg("gpu", 'catalog id, e.g. "h100-sxm-80gb"', "text"), Arg("field", 'e.g. "usd_per_hour"', "text"))
def _bvb_gpu(gpu, field) -> Any:
    return default_catalog().field("gpu", gpu, field)


@udf("BVB_CATALOG", "Any field of any price-catalog row: table api_model, open_weight_model or gpu.",
     "the field's value", Arg("table", '"api_model", "open_weight_model" or "gpu"', "text"),
     Arg("id", "catalog id", "text"), Arg("field", "field name", "text"))
def _bvb_catalog(table, id, field) -> Any:  # noqa: A002 - Excel argument names
    return default_catalog().field(table, id, field)


@udf("BVB_VERSION", "The buildbuy version that computes these functions.", "text")
def _bvb_version() -> Any:
    return __version__


def base_horizon(assumptions: Any) -> int | None:
    """The scenario's horizon in months (None when its inputs are bad: the cells then report the message)."""
    try:
        return int(resolve(assumptions_arg("assumptions", assumptions)).horizon_months)
    except (BuildBuyError, TypeError, ValueError):
        return None


def timeline_horizon(base: int, month: int) -> int:
    """The horizon one BVB_LINE_ITEMS call computes month ``month`` over: BVB_LINE_ITEM computes month m over
    max(horizon, m rounded up to whole 60-month blocks)."""
    return max(base, -(-month // 60) * 60)
