"""Prices: the bundled price catalog as tables, every figure read live from the engine's catalog."""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from buildbuy.engine import default_catalog

from .common import Layout, formula, header, name, put, title, widths
from .styles import COUNT, DECIMAL, GENERAL

TABLES = [
    ("api_model", "Hosted API models (USD per 1M tokens)",
     ["provider", "input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
      "context_window_tokens", "as_of", "source"], "api_model_ids"),
    ("open_weight_model", "Open-weight models",
     ["family", "parameters", "active_parameters", "license", "as_of", "source"], "open_weight_model_ids"),
    ("gpu", "GPUs (on-demand price of one GPU)",
     ["name", "usd_per_hour", "price_provider", "peak_bf16_dense_tflops", "memory_gb", "as_of", "source"],
     "gpu_ids"),
]


def _fmt(field: str) -> str:
    if field.endswith("_per_mtok") or field == "usd_per_hour":
        return DECIMAL
    if field in ("context_window_tokens", "parameters", "active_parameters", "peak_bf16_dense_tflops",
                 "memory_gb"):
        return COUNT
    return GENERAL


def build(wb: Any, layout: Layout) -> None:
    """Add the Prices sheet."""
    ws = wb.create_sheet("Prices")
    cat = default_catalog()
    title(ws, "Prices", f"The bundled price catalog (newest row as of {cat.as_of()}), read live with "
                        f"BVB_CATALOG. Use your own prices on Inputs; rows without a published figure show #N/A.")
    widths(ws, {"A": 26, "B": 22, "C": 16, "D": 16, "E": 18, "F": 16, "G": 14, "H": 60})
    row = 4
    for table, label, fields, ids_name in TABLES:
        put(ws, f"A{row}", label, "Section")
        row += 1
        header(ws, row, ["id", *fields])
        head = row
        row += 1
        first = row
        for row_id in cat.ids(table):
            put(ws, f"A{row}", row_id, "Label")
            for i, field in enumerate(fields):
                col = get_column_letter(2 + i)
                if field == "cached_input_usd_per_mtok":
                    text = f'=IF(ISNA(BVB_CATALOG("{table}",$A{row},{col}${head})),"-",' \
                           f'BVB_CATALOG("{table}",$A{row},{col}${head}))'
                else:
                    text = f'=BVB_CATALOG("{table}",$A{row},{col}${head})'
                formula(ws, f"{col}{row}", text, _fmt(field))
            row += 1
        name(wb, ids_name, f"Prices!$A${first}:$A${row - 1}")
        row += 1
    ws.freeze_panes = "B4"
