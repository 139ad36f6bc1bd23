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

#: Required fields per table (``cached_input_usd_per_mtok`` is optional: not every provider publishes one).
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "api_model": ("id", "provider", "input_usd_per_mtok", "output_usd_per_mtok", "context_window_tokens",
                  "as_of", "source"),
    "open_weight_model": ("id", "family", "parameters", "active_parameters", "license", "as_of", "source"),
    "gpu": ("id", "name", "usd_per_hour", "peak_bf16_dense_tflops", "memory_gb", "as_of", "source"),
    "gpu_price": ("gpu", "provider", "kind", "usd_per_hour", "as_of", "source"),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "api_model": ("cached_input_usd_per_mtok",),
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

    def __init__(self, tables: Mapping[str, Mapping[str, dict[str, Any]]], origins: tuple[str, ...]) -> None:
        self.tables = {t: dict(rows) for t, rows in tables.items()}
        self.origins = origins

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
    extra : paths of TOML files with ``[[api_model]]``, ``[[open_weight_model]]`` or ``[[gpu]]`` rows.
    bundled : start from the bundled rows (True) or from nothing.
    """
    tables: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABLE_FIELDS}
    origins: list[str] = []
    sources: list[tuple[str, str]] = []
    if bundled:
        text = resources.files(__package__).joinpath("data/catalog.toml").read_text("utf-8")
        sources.append(("bundled catalog.toml", text))
    for path in extra:
        p = Path(path)
        try:
            sources.append((str(p), p.read_text("utf-8")))
        except OSError as exc:
            raise CatalogError(f"catalog file {p}: cannot read ({exc.strerror})") from None
    for origin, text in sources:
        for table, rows in _parse(text, origin).items():
            for row in rows:
                tables[table][row_key(table, row)] = row
        origins.append(origin)
    return Catalog(tables, tuple(origins))


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    return load_catalog()
