"""The price catalog: dated, sourced rows of API models, open-weight models and GPUs.

The bundled rows live in ``engine/data/catalog.toml`` (data, not code). A user's own TOML file with the same
tables extends it; a row with an existing ``id`` replaces the bundled row. Every row carries ``as_of`` and
``source`` so each price in a report can be traced.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import CatalogError
from .inputs import tomllib

#: ``origin_of`` for rows of the bundled ``engine/data/catalog.toml``.
BUNDLED_ORIGIN = "bundled catalog.toml"
#: Required fields per table (``cached_input_usd_per_mtok`` is optional: not every provider publishes one).
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "api_model": ("id", "provider", "input_usd_per_mtok", "output_usd_per_mtok", "context_window_tokens",
                  "as_of", "source"),
    "open_weight_model": ("id", "family", "parameters", "active_parameters", "license", "as_of", "source"),
    "gpu": ("id", "name", "usd_per_hour", "peak_bf16_dense_tflops", "memory_gb", "as_of", "source"),
    "gpu_price": ("gpu", "provider", "kind", "usd_per_hour", "as_of", "source"),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "api_model": ("name", "cached_input_usd_per_mtok", "cache_write_5m_usd_per_mtok", "cache_write_1h_usd_per_mtok",
                  "long_context_threshold_tokens", "long_context_input_usd_per_mtok",
                  "long_context_output_usd_per_mtok", "batch_input_usd_per_mtok", "batch_output_usd_per_mtok",
                  "flex_input_usd_per_mtok", "flex_output_usd_per_mtok", "priority_input_usd_per_mtok",
                  "priority_output_usd_per_mtok"),
    "open_weight_model": ("num_layers", "num_kv_heads", "head_dim", "hidden_size", "max_context_tokens",
                          "architecture_source"),
    "gpu": ("price_provider", "spec_source", "memory_bandwidth_gb_per_s", "peak_fp8_dense_tflops", "power_kw",
            "usd_per_hour_min", "usd_per_hour_max", "spot_usd_per_hour", "reserved_1y_usd_per_hour",
            "reserved_3y_usd_per_hour", "reserved_source", "purchase_usd", "purchase_source"),
    "gpu_price": ("note",),
}
#: Fields every bundled GPU row carries (a user's own row needs only ``TABLE_FIELDS["gpu"]``).
GPU_BUNDLED_FIELDS = TABLE_FIELDS["gpu"] + (
    "memory_bandwidth_gb_per_s", "peak_fp8_dense_tflops", "power_kw", "usd_per_hour_min", "usd_per_hour_max",
    "reserved_1y_usd_per_hour", "reserved_3y_usd_per_hour", "reserved_source", "spec_source")
#: ``gpu_price`` kinds.
GPU_PRICE_KINDS = ("on_demand", "spot", "reserved_1y", "reserved_3y")
TEXT_FIELDS = ("id", "provider", "family", "license", "name", "price_provider", "as_of", "source", "spec_source",
               "architecture_source", "reserved_source", "purchase_source", "gpu", "kind", "note")


class Catalog:
    """Rows by table and lower-cased id. Build with :func:`load_catalog`."""

    def __init__(self, tables: Mapping[str, Mapping[str, dict[str, Any]]], origins: tuple[str, ...],
                 row_origins: Mapping[tuple[str, str], str] | None = None) -> None:
        self.tables = {t: dict(rows) for t, rows in tables.items()}
        self.origins = origins
        self._row_origins = dict(row_origins or {})

    def origin_of(self, table: str, row_id: str) -> str:
        """Which file a row came from: ``"bundled catalog.toml"`` or the path of the user's file."""
        return self._row_origins.get((table, str(row_id).strip().lower()), BUNDLED_ORIGIN)

    def ids(self, table: str) -> list[str]:
        """Row ids of a table, in file order (``gpu|provider|kind`` keys for ``gpu_price``)."""
        return [row.get("id") or row_key(table, row) for row in self._table(table).values()]

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Copies of a table's rows, in file order."""
        return [dict(r) for r in self._table(table).values()]

    def find(self, table: str, row_id: str, *, key: str | None = None, scenario: str | None = None
             ) -> dict[str, Any]:
        """The row ``row_id`` (case-insensitive) of ``table``; :class:`CatalogError` names the known ids."""
        rows = self._table(table)
        row = rows.get(str(row_id).strip().lower())
        if row is None:
            label = key or table
            where = f"scenario {scenario!r}: " if scenario else ""
            known = ", ".join(r["id"] for r in rows.values())
            raise CatalogError(f"{where}{label} {row_id!r} is not in the price catalog; known: {known}")
        return dict(row)

    def field(self, table: str, row_id: str, field: str) -> Any:
        """One field of one row, e.g. ``field('gpu', 'h100-sxm-80gb', 'usd_per_hour')``."""
        row = self.find(table, row_id)
        fields = TABLE_FIELDS[table] + OPTIONAL_FIELDS[table]
        name = str(field).strip().lower()
        if name not in fields:
            raise CatalogError(f"field {field!r} is not a {table} field; known: {', '.join(fields)}")
        if name not in row:
            raise CatalogError(f"{table} {row['id']!r} has no {name} (not published by its source)")
        return row[name]

    def gpu_prices(self, gpu_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The per-provider ``gpu_price`` rows of one GPU (optionally one kind), in file order."""
        gid = self.find("gpu", gpu_id)["id"].lower()
        return [dict(r) for r in self._table("gpu_price").values()
                if r["gpu"].lower() == gid and (kind is None or r["kind"] == kind)]

    def as_of(self) -> str:
        """The newest as-of date over all rows (ISO text), for cover sheets and reports."""
        dates = [str(r["as_of"]) for rows in self.tables.values() for r in rows.values()]
        return max(dates) if dates else ""

    def _table(self, table: str) -> dict[str, dict[str, Any]]:
        if table not in TABLE_FIELDS:
            raise CatalogError(f"catalog table {table!r} does not exist; known: {', '.join(TABLE_FIELDS)}")
        return self.tables.get(table, {})


def _parse(text: str, origin: str) -> dict[str, list[dict[str, Any]]]:
    if origin.lower().endswith(".json"):
        return {"api_model": [_check_row("api_model", row, f"{origin}: {row['id']}")
                              for row in litellm_rows(text, origin)]}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog file {origin}: not valid TOML ({exc})") from None
    unknown = set(data) - set(TABLE_FIELDS)
    if unknown:
        raise CatalogError(f"catalog file {origin}: unknown table(s) {sorted(unknown)}; "
                           f"allowed: {', '.join(TABLE_FIELDS)}")
    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows in data.items():
        if not isinstance(rows, list):
            raise CatalogError(f"catalog file {origin}: {table} must be an array of tables ([[{table}]])")
        checked = []
        for i, row in enumerate(rows, 1):
            checked.append(_check_row(table, row, f"{origin}: {table} row {i}"))
        out[table] = checked
    return out


def row_key(table: str, row: Mapping[str, Any]) -> str:
    """The lower-case key a row is stored (and overridden) under: its id, or gpu|provider|kind for prices."""
    if table == "gpu_price":
        return f"{row['gpu']}|{row['provider']}|{row['kind']}".lower()
    return str(row["id"]).lower()


def _check_row(table: str, row: dict[str, Any], where: str) -> dict[str, Any]:
    label = row.get("id", row.get("gpu", "?"))
    missing = [f for f in TABLE_FIELDS[table] if f not in row]
    if missing:
        raise CatalogError(f"catalog {where} ({label}): missing {', '.join(missing)}")
    extra = set(row) - set(TABLE_FIELDS[table]) - set(OPTIONAL_FIELDS[table])
    if extra:
        raise CatalogError(f"catalog {where} ({label}): unknown field(s) {', '.join(sorted(extra))}")
    if table == "gpu_price" and row["kind"] not in GPU_PRICE_KINDS:
        raise CatalogError(f"catalog {where} ({label}): kind must be one of {', '.join(GPU_PRICE_KINDS)}, "
                           f"got {row['kind']!r}")
    clean: dict[str, Any] = {}
    for name, value in row.items():
        if name in TEXT_FIELDS:
            if isinstance(value, (_dt.date, _dt.datetime)):
                value = value.isoformat()
            if not isinstance(value, str) or not value.strip():
                raise CatalogError(f"catalog {where}: {name} must be non-empty text, got {value!r}")
            clean[name] = value.strip()
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
                raise CatalogError(f"catalog {where} ({label}): {name} must be a number >= 0, got {value!r}")
            clean[name] = float(value)
    return clean


def load_catalog(extra: Iterable[str | Path] = (), *, bundled: bool = True) -> Catalog:
    """The bundled catalog, extended and overridden by the user's files in order.

    Parameters
    ----------
    extra : paths of TOML files with ``[[api_model]]``, ``[[open_weight_model]]``, ``[[gpu]]`` or ``[[gpu_price]]``
        rows, or of LiteLLM price maps (``model_prices_and_context_window.json`` layout, any ``.json`` name).
    bundled : start from the bundled rows (True) or from nothing.
    """
    tables: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABLE_FIELDS}
    row_origins: dict[tuple[str, str], str] = {}
    origins: list[str] = []
    sources: list[tuple[str, str]] = []
    if bundled:
        text = resources.files(__package__).joinpath("data/catalog.toml").read_text("utf-8")
        sources.append((BUNDLED_ORIGIN, text))
    for path in extra:
        p = Path(path)
        try:
            sources.append((str(p), p.read_text("utf-8")))
        except OSError as exc:
            raise CatalogError(f"catalog file {p}: cannot read ({exc.strerror})") from None
    for origin, text in sources:
        for table, rows in _parse(text, origin).items():
            for row in rows:
                key = row_key(table, row)
                tables[table][key] = row
                row_origins[(table, key)] = origin
        origins.append(origin)
    return Catalog(tables, tuple(origins), row_origins)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    return load_catalog()


#: LiteLLM per-token cost keys -> catalog ``api_model`` fields (USD per token -> USD per million tokens).
LITELLM_COST_KEYS = {
    "input_cost_per_token": "input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_5m_usd_per_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_usd_per_mtok",
    "input_cost_per_token_batches": "batch_input_usd_per_mtok",
    "output_cost_per_token_batches": "batch_output_usd_per_mtok",
    "input_cost_per_token_flex": "flex_input_usd_per_mtok",
    "output_cost_per_token_flex": "flex_output_usd_per_mtok",
    "input_cost_per_token_priority": "priority_input_usd_per_mtok",
    "output_cost_per_token_priority": "priority_output_usd_per_mtok",
}


def litellm_rows(text: str, origin: str) -> list[dict[str, Any]]:
    """``api_model`` rows from a LiteLLM price map (``model_prices_and_context_window.json``).

    The layout is one object keyed by model name; each entry has ``litellm_provider``, ``mode``,
    ``input_cost_per_token`` / ``output_cost_per_token`` (USD per token) and optional cache, batch, flex, priority
    and ``*_above_<N>k_tokens`` long-context keys, plus ``max_input_tokens``. Only ``mode: "chat"`` (or
    ``"completion"``) entries with both token prices become rows; ``sample_spec`` is skipped. LiteLLM keeps no
    dates, so ``as_of`` is the file's modification date.
    """
    import json
    import os
    import re

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"catalog file {origin}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise CatalogError(f"catalog file {origin}: a LiteLLM price map is one JSON object keyed by model name")
    try:
        stamp = _dt.datetime.fromtimestamp(os.path.getmtime(origin), _dt.timezone.utc).date().isoformat()
    except OSError:
        stamp = _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    rows: list[dict[str, Any]] = []
    for name, entry in data.items():
        if name == "sample_spec" or not isinstance(entry, dict):
            continue
        if entry.get("mode", "chat") not in ("chat", "completion", "responses"):
            continue
        if not isinstance(entry.get("input_cost_per_token"), (int, float)) or not isinstance(
                entry.get("output_cost_per_token"), (int, float)):
            continue
        row: dict[str, Any] = {"id": name, "provider": str(entry.get("litellm_provider") or "litellm"),
                               "as_of": stamp, "source": f"LiteLLM price map {os.path.basename(origin)}"}
        for key, field in LITELLM_COST_KEYS.items():
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[field] = round(float(value) * 1_000_000, 10)
        context = entry.get("max_input_tokens") or entry.get("max_tokens") or 0
        row["context_window_tokens"] = context if isinstance(context, (int, float)) else 0
        tiers = sorted((int(m.group(1)) * 1000, k) for k in entry
                       if (m := re.fullmatch(r"input_cost_per_token_above_(\d+)k_tokens", k)))
        if tiers:
            threshold, key = tiers[0]
            row["long_context_threshold_tokens"] = threshold
            row["long_context_input_usd_per_mtok"] = round(float(entry[key]) * 1_000_000, 10)
            out_key = f"output_cost_per_token_above_{threshold // 1000}k_tokens"
            if isinstance(entry.get(out_key), (int, float)):
                row["long_context_output_usd_per_mtok"] = round(float(entry[out_key]) * 1_000_000, 10)
        rows.append(row)
    if not rows:
        raise CatalogError(f"catalog file {origin}: no chat model with input_cost_per_token and "
                           "output_cost_per_token (is it a LiteLLM price map?)")
    return rows
