"""The input vocabulary: one set of snake_case names, with units, defaults and sources, read from data.

``engine/data/inputs.toml`` is the single place that says which inputs exist, their kind, unit, allowed range,
default, source and as-of date. :func:`resolve` validates a user's mapping against it and fills every default,
so the rest of the engine reads complete, checked :class:`Assumptions`.

Numeric inputs may be numpy arrays (or lists): they broadcast, so one call evaluates a whole sweep.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .errors import InputError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

NUMERIC_KINDS = ("number", "integer", "share")
TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0")
META_KEYS = ("name", "description")
#: Section titles of the input groups, in the order documents and the template show them.
GROUP_TITLES = {
    "volume": "Volume", "api": "Hosted API (layer 1)", "finetune": "Fine-tune and self-host (layer 2)",
    "serving": "Serving: sized from the model and the GPU", "ownership": "GPUs: rent, reserve or buy",
    "train": "Train from scratch (layer 3)", "hidden": "Hidden costs", "context": "Context: the four questions",
    "moat": "Data moat litmus test", "model": "Model settings",
}
#: Bytes of one cached key or value (BF16/FP16 KV cache).
KV_CACHE_BYTES_PER_VALUE = 2


@dataclass(frozen=True)
class InputSpec:
    """One input of the vocabulary, as declared in ``inputs.toml``."""

    key: str
    group: str
    kind: str
    unit: str
    description: str
    source: str
    as_of: str
    default: Any = None
    derived: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        """What is allowed, in words, for error messages and docs."""
        if self.kind == "bool":
            return "TRUE or FALSE (yes/no)"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "text":
            return "text"
        what = "a whole number" if self.kind == "integer" else "a number"
        lo, hi = self.minimum, self.maximum
        if self.kind == "share" and lo is None:
            lo = 0.0
        if self.kind == "share" and hi is None:
            hi = 1.0
        if lo is not None and hi is not None:
            left = "(" if self.min_exclusive else "["
            return f"{what} in {left}{_num(lo)}, {_num(hi)}]"
        if lo is not None:
            return f"{what} {'>' if self.min_exclusive else '>='} {_num(lo)}"
        if hi is not None:
            return f"{what} <= {_num(hi)}"
        return what


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@lru_cache(maxsize=1)
def _load_specs() -> dict[str, InputSpec]:
    raw = tomllib.loads(resources.files(__package__).joinpath("data/inputs.toml").read_text("utf-8"))
    specs: dict[str, InputSpec] = {}
    for row in raw["input"]:
        kind = row["kind"]
        lo = row.get("min")
        hi = row.get("max")
        if kind == "share":
            lo = 0.0 if lo is None else lo
            hi = 1.0 if hi is None else hi
        specs[row["key"]] = InputSpec(
            key=row["key"],
            group=row["group"],
            kind=kind,
            unit=row["unit"],
            description=row["description"],
            source=row["source"],
            as_of=str(row["as_of"]),
            default=row.get("default"),
            derived=row.get("derived"),
            minimum=None if lo is None else float(lo),
            maximum=None if hi is None else float(hi),
            min_exclusive=bool(row.get("min_exclusive", False)),
            choices=tuple(row.get("choices", ())),
        )
    return specs


def input_specs() -> dict[str, InputSpec]:
    """All inputs of the vocabulary, in declaration order, keyed by name."""
    return dict(_load_specs())


def defaults() -> dict[str, Any]:
    """The documented default of every input that has one (derived inputs are left out)."""
    return {k: s.default for k, s in _load_specs().items() if s.default is not None}


class Assumptions(Mapping[str, Any]):
    """A complete, validated set of inputs: every key of the vocabulary, derived ones filled in.

    Read values as ``a["requests_per_day"]`` or ``a.requests_per_day``. Numeric values are floats (ints for
    whole-number inputs) or numpy arrays when the caller passed arrays. ``given`` holds the keys the user set.
    """

    __slots__ = ("__weakref__", "_values", "given", "name")

    def __init__(self, values: dict[str, Any], given: frozenset[str], name: str | None = None) -> None:
        self._values = values
        self.given = given
        self.name = name

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Assumptions({self.name or ''!s})"

    def replace(self, **changes: Any) -> Assumptions:
        """A copy with some inputs changed and validated again (derived inputs follow unless given)."""
        raw = {k: self._values[k] for k in self.given}
        raw.update(changes)
        return resolve(raw, scenario=self.name)

    @property
    def is_vector(self) -> bool:
        """True when any numeric input is an array (a sweep)."""
        return any(isinstance(v, np.ndarray) for v in self._values.values())


def resolve(raw: Mapping[str, Any] | None = None, *, scenario: str | None = None,
            catalog: Any = None, **kwargs: Any) -> Assumptions:
    """Validate a user's inputs and fill every default.

    Parameters
    ----------
    raw : mapping, optional
        Inputs by vocabulary name. ``None`` values count as left out (a blank Excel cell).
    scenario : str, optional
        Scenario name, quoted in error messages.
    catalog : Catalog, optional
        Price catalog used when ``api_model`` or ``gpu_type`` is set (the bundled one by default).
    **kwargs
        More inputs, merged over ``raw``.

    Returns
    -------
    Assumptions

    Raises
    ------
    InputError
        For an unknown key, a wrong type, a NaN or infinite number, or a value out of range; the message
        names the key, the value and what is allowed.
    """
    specs = _load_specs()
    merged: dict[str, Any] = dict(raw or {})
    merged.update(kwargs)
    name = scenario
    for meta in META_KEYS:
        if meta in merged:
            value = merged.pop(meta)
            if meta == "name" and value is not None:
                name = name or str(value)
    values: dict[str, Any] = {}
    given: set[str] = set()
    for key, value in merged.items():
        if key not in specs:
            raise InputError(key, value, "the names of the input reference" + _suggest(key),
                             scenario=name, unknown=True)
        if value is None or (isinstance(value, str) and value.strip() == "" and specs[key].kind != "text"):
            continue
        values[key] = _check(specs[key], value, name)
        given.add(key)
    for key, spec in specs.items():
        if key not in values and spec.default is not None:
            values[key] = _check(spec, spec.default, name)
    given_by_catalog: set[str] = set()
    _fill_from_catalog(values, given, name, catalog, given_by_catalog)
    _derive(values, given | given_by_catalog, name)
    _cross_checks(values, name)
    ordered = {k: values[k] for k in specs}
    return Assumptions(ordered, frozenset(given), name)


def _suggest(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), list(_load_specs()), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check(spec: InputSpec, value: Any, scenario: str | None) -> Any:
    if spec.kind in NUMERIC_KINDS:
        return _check_number(spec, value, scenario)
    if spec.kind == "bool":
        return _check_bool(spec, value, scenario)
    if spec.kind == "choice":
        text = value.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(value, str) else None
        if text not in spec.choices:
            raise InputError(spec.key, value, spec.allowed, scenario)
        return text
    if spec.key == "api_prices_as_of" and not isinstance(value, str):
        return _date_text(spec, value, scenario)
    if not isinstance(value, str):
        raise InputError(spec.key, value, spec.allowed, scenario)
    text = value.strip()
    if spec.key == "currency":
        text = text.upper()
        if not re.fullmatch(r"[A-Z]{3}", text):
            raise InputError(spec.key, value, "a three-letter ISO 4217 code such as 'USD'", scenario)
    return text


def _date_text(spec: InputSpec, value: Any, scenario: str | None) -> str:
    """A date typed into Excel (a date, or a serial day number) as ISO text, for date inputs kept as text."""
    import datetime as dt

    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) \
            and 1 <= float(value) < 2_958_466 and float(value).is_integer():
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()  # Excel's day serial
    raise InputError(spec.key, value, "a date as YYYY-MM-DD (blank = today)", scenario)


def _check_number(spec: InputSpec, value: Any, scenario: str | None) -> Any:
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise InputError(spec.key, value, spec.allowed, scenario)
    if isinstance(value, (int, float, np.integer, np.floating)):
        arr = None
        x = float(value)
        items = [x]
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(spec.key, value, spec.allowed, scenario) from None
        if arr.dtype == object or arr.size == 0:
            raise InputError(spec.key, value, spec.allowed, scenario)
        items = arr.ravel()
        x = None
    for item in items if arr is None else _bad_first(spec, items):
        if not math.isfinite(item):
            raise InputError(spec.key, item, spec.allowed + " (finite)", scenario)
        if spec.minimum is not None and (item < spec.minimum or (spec.min_exclusive and item == spec.minimum)):
            raise InputError(spec.key, _plain(item), spec.allowed, scenario)
        if spec.maximum is not None and item > spec.maximum:
            raise InputError(spec.key, _plain(item), spec.allowed, scenario)
        if spec.kind == "integer" and not float(item).is_integer():
            raise InputError(spec.key, _plain(item), spec.allowed, scenario)
    if arr is not None:
        return arr if arr.ndim else float(arr)
    if spec.kind == "integer":
        return int(x)
    return x


def _bad_first(spec: InputSpec, items: np.ndarray) -> np.ndarray:
    """The first offending element of an array (or none), so a sweep's error names one value."""
    bad = ~np.isfinite(items)
    with np.errstate(invalid="ignore"):
        if spec.minimum is not None:
            bad |= items < spec.minimum
            if spec.min_exclusive:
                bad |= items == spec.minimum
        if spec.maximum is not None:
            bad |= items > spec.maximum
        if spec.kind == "integer":
            bad |= np.isfinite(items) & (items != np.floor(items))
    idx = np.flatnonzero(bad)
    return items[idx[:1]]


def _plain(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else float(x)


def _check_bool(spec: InputSpec, value: Any, scenario: str | None) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value) in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise InputError(spec.key, value, spec.allowed, scenario)


#: Catalog fields filled into inputs the user left out: (table, selector input) -> {input: field}.
#: Optional fields (older or user catalogs may lack them) are skipped when absent.
_CATALOG_FILLS: dict[tuple[str, str], dict[str, str]] = {
    ("gpu", "gpu_type"): {
        "gpu_usd_per_hour": "usd_per_hour",
        "gpu_memory_gb": "memory_gb",
        "gpu_memory_bandwidth_gb_per_s": "memory_bandwidth_gb_per_s",
        "serving_gpu_peak_tflops": "peak_bf16_dense_tflops",
        "gpu_purchase_usd": "purchase_usd",
        "gpu_power_kw": "power_kw",
    },
    ("gpu", "training_gpu_type"): {
        "gpu_peak_tflops": "peak_bf16_dense_tflops",
        "training_gpu_usd_per_hour": "usd_per_hour",
    },
    ("open_weight_model", "serving_model"): {
        "serving_model_parameters": "parameters",
        "serving_active_parameters": "active_parameters",
        "serving_layers": "num_layers",
        "serving_kv_heads": "num_kv_heads",
        "serving_head_dim": "head_dim",
    },
}


def _fill_from_catalog(values: dict[str, Any], given: set[str], scenario: str | None, catalog: Any,
                       given_by_catalog: set[str]) -> None:
    selectors = {key: values.get(key) or "" for key in ("api_model", "gpu_type", "training_gpu_type",
                                                        "serving_model")}
    if values.get("api_prices_as_of"):
        from .prices import parse_as_of

        try:
            values["api_prices_as_of"] = parse_as_of(values["api_prices_as_of"]).isoformat()
        except InputError as exc:
            raise InputError(exc.key, exc.value, exc.allowed, scenario) from None
    if not any(selectors.values()):
        return
    from .catalog import default_catalog

    cat = catalog or default_catalog()
    model_id = selectors["api_model"]
    if model_id:
        from .errors import CatalogError
        from .prices import find_api_price

        try:
            price = find_api_price(model_id, as_of=values.get("api_prices_as_of"), catalog=cat)
        except CatalogError as exc:
            where = f"scenario {scenario!r}: " if scenario else ""
            raise CatalogError(f"{where}{exc}") from None
        for key, val in price.input_fills().items():
            if key not in given:
                values[key] = float(val)
        if "api_price_source" not in given:
            values["api_price_source"] = price.describe()
        threshold = price.long_context_threshold_tokens
        if threshold is not None and "api_long_context_share" not in given:
            # Every request is above the threshold when its prompt is: the tier applies without being asked.
            values["api_long_context_share"] = _same_shape(
                np.where(np.asarray(values["input_tokens_per_request"]) > threshold, 1.0, 0.0))
    if selectors["gpu_type"] and not selectors["training_gpu_type"] and "gpu_peak_tflops" not in given:
        # Pre-training on the serving GPU type unless a training GPU is named.
        row = cat.find("gpu", selectors["gpu_type"], key="gpu_type", scenario=scenario)
        values["gpu_peak_tflops"] = float(row["peak_bf16_dense_tflops"])
    specs = _load_specs()
    for (table, selector), fields in _CATALOG_FILLS.items():
        if not selectors[selector]:
            continue
        row = cat.find(table, selectors[selector], key=selector, scenario=scenario)
        for key, field in fields.items():
            if key not in given and row.get(field) is not None:
                values[key] = _check(specs[key], row[field], scenario)
                given_by_catalog.add(key)


def _derive(values: dict[str, Any], given: set[str], scenario: str | None) -> None:
    users, per_user = values["daily_active_users"], values["requests_per_user_per_day"]
    if "requests_per_day" in given:
        rpd = values["requests_per_day"]
        if "daily_active_users" in given and "requests_per_user_per_day" in given:
            if not np.allclose(np.asarray(users) * per_user, rpd, rtol=1e-9, atol=0):
                raise InputError(
                    "requests_per_day", _plain_any(rpd),
                    f"equal to daily_active_users x requests_per_user_per_day "
                    f"({_plain_any(users)} x {_plain_any(per_user)}) when all three are given", scenario)
        elif "daily_active_users" not in given:
            # Users follow from the volume so the 'too early' test reads a real user count.
            with np.errstate(divide="ignore", invalid="ignore"):
                derived_users = np.where(np.asarray(per_user) > 0, np.asarray(rpd) / np.where(
                    np.asarray(per_user) > 0, per_user, 1), 0.0)
            values["daily_active_users"] = _same_shape(derived_users)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            rpd = np.asarray(users) * per_user
        if not np.all(np.isfinite(rpd)):  # name the inputs the user gave, not the derived one
            key = "daily_active_users" if "daily_active_users" in given else "requests_per_user_per_day"
            raise InputError(key, _plain_any(values[key]), "small enough that daily_active_users x "
                             "requests_per_user_per_day (requests_per_day) is a finite number", scenario)
        values["requests_per_day"] = _same_shape(rpd)
    if "training_tokens" not in given:
        with np.errstate(over="ignore", invalid="ignore"):
            tokens = 20.0 * np.asarray(values["model_parameters"])
        if not np.all(np.isfinite(tokens)):
            raise InputError("model_parameters", _plain_any(values["model_parameters"]), "small enough that "
                             "20 x model_parameters (the default training_tokens) is a finite number", scenario)
        values["training_tokens"] = _same_shape(tokens)
    if "serving_active_parameters" not in given:
        values["serving_active_parameters"] = values["serving_model_parameters"]
    if "kv_cache_bytes_per_token" not in given:
        values["kv_cache_bytes_per_token"] = _same_shape(
            2.0 * np.asarray(values["serving_layers"]) * values["serving_kv_heads"] * values["serving_head_dim"]
            * KV_CACHE_BYTES_PER_VALUE)
    if "training_gpu_usd_per_hour" not in given:
        values["training_gpu_usd_per_hour"] = values["gpu_usd_per_hour"]


def _same_shape(x: np.ndarray) -> Any:
    x = np.asarray(x, dtype=float)
    return x if x.ndim else float(x)


def _plain_any(x: Any) -> Any:
    return _plain(float(x)) if np.ndim(x) == 0 else x


def _cross_checks(values: dict[str, Any], scenario: str | None) -> None:
    p2, p3 = values["phase2_start_month"], values["phase3_start_month"]
    if np.any(np.asarray(p3) < np.asarray(p2)):
        raise InputError("phase3_start_month", _plain_any(p3) if np.ndim(p3) == 0 else p3,
                         f"a month >= phase2_start_month ({_plain_any(p2) if np.ndim(p2) == 0 else p2})",
                         scenario)
    horizon = values["horizon_months"]
    if np.ndim(horizon) != 0:
        raise InputError("horizon_months", horizon, "one whole number for the whole sweep (not an array)",
                         scenario)


#: Arguments of the cost primitives that are not scenario inputs, with their rules.
_EXTRA_SPECS = {
    "tokens_per_request": InputSpec(
        key="tokens_per_request", group="derived", kind="number", unit="tokens/request", min_exclusive=False,
        description="Input plus output tokens per request.", source="derived", as_of="n/a", minimum=0.0),
}


def check_value(key: str, value: Any) -> Any:
    """Validate one value against the rules of input ``key`` (scalar or array); returns the clean value."""
    spec = _load_specs().get(key) or _EXTRA_SPECS[key]
    if value is None:
        raise InputError(key, value, spec.allowed)
    return _check(spec, value, None)
