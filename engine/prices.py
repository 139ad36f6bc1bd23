"""Hosted-API prices: the ``genai-prices`` library first, our catalog for overrides and for what it lacks.

Where a price comes from, in order:

1. a row of a catalog file the user supplied (``--catalog mine.toml`` or a LiteLLM
   ``model_prices_and_context_window.json``): the user's row wins;
2. the ``genai-prices`` data bundled with the pinned package (Pydantic's maintained price list, with start dates,
   long-context tiers, cache read/write, batch, flex and priority prices). Offline: nothing is downloaded unless
   the user runs ``buildbuy prices --refresh``, which stores the library's newer data file in a local cache that
   is then used instead of the bundled data;
3. a row of the bundled ``engine/data/catalog.toml`` (models the library does not know).

Every :class:`ApiPrice` says where it came from (``origin``, ``source``), the date it is for (``as_of``) and,
when the source dates its prices, since when the price has been in force (``price_since``). Prices are USD per
million tokens.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from .catalog import BUNDLED_ORIGIN
from .errors import CatalogError

#: The library and its pinned version (pyproject pins the same; prices are reproducible per version).
LIBRARY = "genai-prices"
LIBRARY_REPO = "https://github.com/pydantic/genai-prices"
#: Environment variable naming the refreshed-data cache file (default ``~/.cache/buildbuy/genai-prices.json``).
CACHE_ENV = "BUILDBUY_PRICES_CACHE"
#: Where ``buildbuy prices --refresh`` downloads from (the URL ``genai_prices.UpdatePrices`` uses).
REFRESH_URL = "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"

#: Catalog ``api_model`` fields beyond the required ones, mirrored by :class:`ApiPrice`.
PRICE_FIELDS = (
    "cached_input_usd_per_mtok", "cache_write_5m_usd_per_mtok", "cache_write_1h_usd_per_mtok",
    "long_context_threshold_tokens", "long_context_input_usd_per_mtok", "long_context_output_usd_per_mtok",
    "batch_input_usd_per_mtok", "batch_output_usd_per_mtok", "flex_input_usd_per_mtok", "flex_output_usd_per_mtok",
    "priority_input_usd_per_mtok", "priority_output_usd_per_mtok",
)


@dataclass(frozen=True)
class ApiPrice:
    """The prices of one hosted model on one date, USD per million tokens, with where they came from."""

    model: str
    provider: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    as_of: str
    origin: str
    source: str
    name: str = ""
    context_window_tokens: int | None = None
    price_since: str | None = None
    cached_input_usd_per_mtok: float | None = None
    cache_write_5m_usd_per_mtok: float | None = None
    cache_write_1h_usd_per_mtok: float | None = None
    long_context_threshold_tokens: int | None = None
    long_context_input_usd_per_mtok: float | None = None
    long_context_output_usd_per_mtok: float | None = None
    batch_input_usd_per_mtok: float | None = None
    batch_output_usd_per_mtok: float | None = None
    flex_input_usd_per_mtok: float | None = None
    flex_output_usd_per_mtok: float | None = None
    priority_input_usd_per_mtok: float | None = None
    priority_output_usd_per_mtok: float | None = None

    @property
    def ref(self) -> str:
        """``provider/model``, the unambiguous way to name it."""
        return f"{self.provider}/{self.model}"

    def as_dict(self) -> dict[str, Any]:
        """Plain fields (for JSON)."""
        return {"ref": self.ref, **asdict(self)}

    def describe(self) -> str:
        """One line for reports: model, origin, date and source."""
        since = f" (since {self.price_since})" if self.price_since else ""
        return f"{self.ref}: {self.origin}, prices in force on {self.as_of}{since}; source {self.source}"

    def input_fills(self) -> dict[str, float]:
        """Engine inputs these prices determine (see ``inputs.toml``); a dimension without a price is left out.

        Discounts and premiums are relative to the standard input price (batch/flex/priority: input side).
        """
        pin, pout = self.input_usd_per_mtok, self.output_usd_per_mtok
        fills: dict[str, float] = {"api_input_usd_per_mtok": pin, "api_output_usd_per_mtok": pout}
        if pin <= 0:
            return fills
        if self.cached_input_usd_per_mtok is not None:
            fills["api_cached_input_discount"] = _clip(1.0 - self.cached_input_usd_per_mtok / pin)
        if self.cache_write_5m_usd_per_mtok is not None:
            fills["api_cache_write_5m_premium"] = max(0.0, self.cache_write_5m_usd_per_mtok / pin - 1.0)
        if self.cache_write_1h_usd_per_mtok is not None:
            fills["api_cache_write_1h_premium"] = max(0.0, self.cache_write_1h_usd_per_mtok / pin - 1.0)
        if self.batch_input_usd_per_mtok is not None:
            fills["api_batch_discount"] = _clip(1.0 - self.batch_input_usd_per_mtok / pin)
        if self.flex_input_usd_per_mtok is not None:
            fills["api_flex_discount"] = _clip(1.0 - self.flex_input_usd_per_mtok / pin)
        if self.priority_input_usd_per_mtok is not None:
            fills["api_priority_premium"] = max(0.0, self.priority_input_usd_per_mtok / pin - 1.0)
        if self.long_context_input_usd_per_mtok is not None:
            fills["api_long_context_input_multiplier"] = self.long_context_input_usd_per_mtok / pin
        if self.long_context_output_usd_per_mtok is not None and pout > 0:
            fills["api_long_context_output_multiplier"] = self.long_context_output_usd_per_mtok / pout
        if self.origin.startswith(LIBRARY):
            # The library lists every tier a provider publishes: no long-context tier means flat pricing, and a
            # cache-read price without a write price means writes bill as ordinary input (automatic caching).
            if self.long_context_threshold_tokens is None:
                fills["api_long_context_input_multiplier"] = 1.0
                fills["api_long_context_output_multiplier"] = 1.0
            if (self.cached_input_usd_per_mtok is not None and self.cache_write_5m_usd_per_mtok is None
                    and self.cache_write_1h_usd_per_mtok is None):
                fills["api_cache_write_5m_premium"] = 0.0
                fills["api_cache_write_1h_premium"] = 0.0
        return fills


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


# ---------------------------------------------------------------------------------------------- the library

def library_version() -> str | None:
    """The installed ``genai-prices`` version, or None when it is not installed (Python < 3.11)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover - depends on the environment
        return None


def cache_path() -> Path:
    """The file ``buildbuy prices --refresh`` writes and later runs read (``BUILDBUY_PRICES_CACHE`` overrides)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "buildbuy" / "genai-prices.json"


@dataclass(frozen=True)
class _Snapshot:
    providers: list[Any]
    label: str


@lru_cache(maxsize=4)
def _snapshot(cache_file: str) -> _Snapshot | None:
    version = library_version()
    if version is None:
        return None
    p = Path(cache_file)
    if p.is_file():
        try:
            from genai_prices.types import _providers_from_raw  # pinned version: see pyproject
            raw = json.loads(p.read_text("utf-8"))
            stamp = _dt.datetime.fromtimestamp(p.stat().st_mtime, _dt.timezone.utc).date().isoformat()
            return _Snapshot(_providers_from_raw(raw), f"{LIBRARY} data refreshed {stamp}")
        except Exception as exc:  # a damaged cache must not stop the engine: say so and use bundled data
            raise CatalogError(f"price cache {p}: unreadable ({exc}); delete it or run "
                               "`buildbuy prices --refresh` again") from None
    from genai_prices.data import providers
    return _Snapshot(providers, f"{LIBRARY} {version}")


def snapshot() -> _Snapshot | None:
    """The library's provider data: the refreshed cache if present, else the data bundled with the package."""
    return _snapshot(str(cache_path()))


def refresh(timeout_s: float = 30.0) -> Path:
    """Download the library's newest price data to :func:`cache_path` (the only network call; explicit)."""
    if library_version() is None:  # pragma: no cover - depends on the environment
        raise CatalogError("genai-prices is not installed (it needs Python 3.11+)")
    import httpx2
    from genai_prices.types import _providers_from_raw

    try:
        r = httpx2.get(REFRESH_URL, timeout=timeout_s)
        r.raise_for_status()
        raw = json.loads(r.content)
        _providers_from_raw(raw)  # validate before replacing anything
    except Exception as exc:
        raise CatalogError(f"could not refresh prices from {REFRESH_URL}: {exc}") from None
    dest = cache_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(r.content)
    os.replace(tmp, dest)
    _snapshot.cache_clear()
    return dest


def _when(as_of: _dt.date) -> _dt.datetime:
    return _dt.datetime.combine(as_of, _dt.time(12), tzinfo=_dt.timezone.utc)


def _base_and_tier(value: Any) -> tuple[float | None, int | None, float | None]:
    """(base price, first tier threshold, first tier price) of a Decimal or TieredPrices."""
    if value is None:
        return None, None, None
    if isinstance(value, Decimal):
        return float(value), None, None
    tiers = list(getattr(value, "tiers", []) or [])
    base = float(value.base)
    if not tiers:
        return base, None, None
    return base, int(tiers[0].start), float(tiers[0].price)


def _from_library(provider: Any, model: Any, as_of: _dt.date, label: str) -> ApiPrice | None:
    when = _when(as_of)
    std = model.get_prices(when)
    pin, threshold, lc_in = _base_and_tier(getattr(std, "input_mtok", None))
    pout, threshold_out, lc_out = _base_and_tier(getattr(std, "output_mtok", None))
    if pin is None or pout is None:
        return None  # not a token-priced text model (images, audio seconds, ...)
    read, _, _ = _base_and_tier(getattr(std, "cache_read_mtok", None))
    w5 = getattr(std, "cache_write_5m_mtok", None) or getattr(std, "cache_write_mtok", None)
    w5, _, _ = _base_and_tier(w5)
    w1, _, _ = _base_and_tier(getattr(std, "cache_write_1h_mtok", None))

    def variant(context: dict[str, str]) -> tuple[float | None, float | None]:
        if not model.price_variants:
            return None, None
        v = model.get_prices(when, context)
        vin, _, _ = _base_and_tier(getattr(v, "input_mtok", None))
        vout, _, _ = _base_and_tier(getattr(v, "output_mtok", None))
        if (vin, vout) == (pin, pout):
            return None, None  # no variant in force on that date: standard prices
        return vin, vout

    batch = variant({"processing": "batch"})
    flex = variant({"service_tier": "flex"})
    prio = variant({"service_tier": "priority"})
    since = None
    if isinstance(model.prices, list):
        for cp in reversed(model.prices):
            if cp.constraint is None or cp.constraint.active(when):
                since = getattr(cp.constraint, "start_date", None)
                break
    urls = provider.pricing_urls or []
    return ApiPrice(
        model=model.id, provider=provider.id, name=model.name or model.id,
        input_usd_per_mtok=pin, output_usd_per_mtok=pout, as_of=as_of.isoformat(), origin=label,
        source=urls[0] if urls else LIBRARY_REPO, context_window_tokens=model.context_window,
        price_since=since.isoformat() if since else None,
        cached_input_usd_per_mtok=read, cache_write_5m_usd_per_mtok=w5, cache_write_1h_usd_per_mtok=w1,
        long_context_threshold_tokens=threshold if threshold is not None else threshold_out,
        long_context_input_usd_per_mtok=lc_in, long_context_output_usd_per_mtok=lc_out,
        batch_input_usd_per_mtok=batch[0], batch_output_usd_per_mtok=batch[1],
        flex_input_usd_per_mtok=flex[0], flex_output_usd_per_mtok=flex[1],
        priority_input_usd_per_mtok=prio[0], priority_output_usd_per_mtok=prio[1],
    )


def _library_lookup(ref: str, as_of: _dt.date) -> ApiPrice | None:
    snap = snapshot()
    if snap is None:
        return None
    from genai_prices.data_snapshot import DataSnapshot

    data = DataSnapshot(providers=snap.providers, from_auto_update=False)
    text = ref.strip().lower()
    attempts: list[tuple[str | None, str]] = []
    if "/" in text:
        head, tail = text.split("/", 1)
        if any(p.id == head for p in snap.providers):
            attempts.append((head, tail))
    attempts.append((None, text))
    def exact(provider_id: str | None, model_ref: str) -> ApiPrice | None:
        for provider in snap.providers:
            if provider_id in (None, provider.id):
                for model in provider.models:
                    if model.id.lower() == model_ref:
                        return _from_library(provider, model, as_of, snap.label)
        return None

    for provider_id, model_ref in attempts:
        if provider_id is not None and (hit := exact(provider_id, model_ref)) is not None:
            return hit  # some ids are not covered by their own match rules
        try:
            provider, model = data.find_provider_model(model_ref, None, provider_id, None)
        except LookupError:
            hit = exact(provider_id, model_ref)
            if hit is not None:
                return hit
            continue
        return _from_library(provider, model, as_of, snap.label)
    return None


def library_prices(as_of: _dt.date) -> Iterator[ApiPrice]:
    """Every token-priced model the library knows, priced on ``as_of``."""
    snap = snapshot()
    if snap is None:
        return
    for provider in snap.providers:
        for model in provider.models:
            price = _from_library(provider, model, as_of, snap.label)
            if price is not None:
                yield price


# ---------------------------------------------------------------------------------------------- catalog rows

def _from_catalog_row(row: dict[str, Any], origin: str, as_of: _dt.date) -> ApiPrice:
    extra = {f: row[f] for f in PRICE_FIELDS if f in row}
    if "long_context_threshold_tokens" in extra:
        extra["long_context_threshold_tokens"] = int(extra["long_context_threshold_tokens"])
    return ApiPrice(
        model=row["id"], provider=str(row["provider"]).lower(), name=row.get("name", row["id"]),
        input_usd_per_mtok=float(row["input_usd_per_mtok"]), output_usd_per_mtok=float(row["output_usd_per_mtok"]),
        as_of=as_of.isoformat(), origin=origin, source=row["source"],
        context_window_tokens=int(row["context_window_tokens"]), price_since=str(row["as_of"]), **extra)


def catalog_prices(catalog: Any, as_of: _dt.date) -> list[ApiPrice]:
    """The catalog's ``api_model`` rows as prices; ``origin`` says which file each came from."""
    return [_from_catalog_row(row, catalog.origin_of("api_model", row["id"]), as_of)
            for row in catalog.rows("api_model")]


# ---------------------------------------------------------------------------------------------- lookup

def parse_as_of(value: Any, key: str = "api_prices_as_of") -> _dt.date:
    """A date from ISO text (``YYYY-MM-DD``) or a date; blank means today (UTC)."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        return _dt.datetime.now(_dt.timezone.utc).date()
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        from .errors import InputError
        raise InputError(key, value, "a date as YYYY-MM-DD (blank = today)") from None


def find_api_price(ref: str, *, as_of: Any = None, catalog: Any = None) -> ApiPrice:
    """The prices the engine uses for model ``ref`` (``model`` or ``provider/model``) on date ``as_of``.

    A user's catalog row wins, then ``genai-prices``, then the bundled catalog. :class:`CatalogError` names the
    closest known models when none has it.
    """
    from .catalog import default_catalog

    cat = catalog or default_catalog()
    day = parse_as_of(as_of)
    key = str(ref).strip()
    if not key:
        raise CatalogError("api_model is blank; give a model such as 'gpt-5.5' or 'anthropic/claude-sonnet-5-5'")
    by_id = {p.model.lower(): p for p in catalog_prices(cat, day)}
    by_ref = {p.ref.lower(): p for p in by_id.values()}
    mine = by_ref.get(key.lower()) or by_id.get(key.lower())
    if mine is not None and mine.origin != BUNDLED_ORIGIN:
        return mine
    found = _library_lookup(key, day)
    if found is not None:
        return found
    if mine is not None:
        return mine
    raise CatalogError(_missing_message(key, cat))


def closest_models(key: str, *, catalog: Any = None, n: int = 5) -> list[str]:
    """The known model names (``model`` and ``provider/model``) closest to ``key``, best first."""
    from .catalog import default_catalog

    rows = (catalog or default_catalog()).rows("api_model")
    names = {r["id"] for r in rows} | {f"{str(r['provider']).lower()}/{r['id']}" for r in rows}
    names |= set(_library_names(str(cache_path())))
    return difflib.get_close_matches(str(key).lower(), sorted(names), n=n, cutoff=0.5)


def _missing_message(key: str, catalog: Any) -> str:
    close = closest_models(key, catalog=catalog)
    hint = f"; closest: {', '.join(close)}" if close else "; run `buildbuy prices` to list the known models"
    lib = library_version()
    where = f"genai-prices {lib} or the price catalog" if lib else "the price catalog"
    return f"api_model {key!r} is not known to {where}{hint}"


@lru_cache(maxsize=4)
def _library_names(cache_file: str) -> tuple[str, ...]:
    snap = _snapshot(cache_file)
    if snap is None:
        return ()
    names: list[str] = []
    for provider in snap.providers:
        for model in provider.models:
            names += [model.id, f"{provider.id}/{model.id}"]
    return tuple(names)


def search_prices(query: str = "", *, as_of: Any = None, catalog: Any = None) -> list[ApiPrice]:
    """The prices the engine would use for every model matching ``query`` (all words, case-insensitive).

    One row per ``provider/model``: a user's catalog row replaces the library's, the library's the bundled
    catalog's. Sorted by provider, then model.
    """
    from .catalog import default_catalog

    cat = catalog or default_catalog()
    day = parse_as_of(as_of)
    rows: dict[str, ApiPrice] = {}
    for p in catalog_prices(cat, day):
        if p.origin == BUNDLED_ORIGIN and _library_lookup(p.model, day) is not None:
            continue  # the library has it (perhaps under another id): the library's row is the one used
        rows[p.ref.lower()] = p
    for p in library_prices(day):
        mine = rows.get(p.ref.lower())
        if mine is None or mine.origin == BUNDLED_ORIGIN:
            rows[p.ref.lower()] = p
    words = str(query or "").lower().split()
    hits = [p for p in rows.values()
            if all(w in f"{p.provider}/{p.model} {p.name} {p.origin} {p.source}".lower() for w in words)]
    return sorted(hits, key=lambda p: (p.provider, p.model))

