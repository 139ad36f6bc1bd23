"""Prices: the bundled price catalog as tables, every figure read live from the engine's catalog."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment
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


#: Column headers in words, with the unit; the field names the formulas read sit in the row below the header.
FIELD_LABELS = {
    "provider": "Provider", "input_usd_per_mtok": "Input (USD/1M tokens)",
    "output_usd_per_mtok": "Output (USD/1M tokens)", "cached_input_usd_per_mtok": "Cached input (USD/1M tokens)",
    "context_window_tokens": "Context window (tokens)", "as_of": "As of", "source": "Source",
    "family": "Family", "parameters": "Parameters", "active_parameters": "Active parameters (per token)",
    "license": "License", "name": "Name", "usd_per_hour": "Price (USD/GPU-hour)", "price_provider": "Price from",
    "peak_bf16_dense_tflops": "Peak BF16 dense (TFLOP/s)", "memory_gb": "Memory (GB)",
}
NUMERIC = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok", "context_window_tokens",
           "parameters", "active_parameters", "usd_per_hour", "peak_bf16_dense_tflops", "memory_gb")


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
    widths(ws, {"A": 24, "B": 22, "C": 16, "D": 16, "E": 18, "F": 16, "G": 14, "H": 60})
    row = 4
    for table, label, fields, ids_name in TABLES:
        put(ws, f"A{row}", label, "Section")
        row += 1
        header(ws, row, ["Catalog id", *(FIELD_LABELS.get(f, f) for f in fields)])
        for i, field in enumerate(fields):
            if field in NUMERIC:
                ws.cell(row, 2 + i).style = "HeaderNumber"
        ws.row_dimensions[row].height = 30
        row += 1
        put(ws, f"A{row}", "field name", "Unit")
        for i, field in enumerate(fields):
            put(ws, f"{get_column_letter(2 + i)}{row}", field, "Unit")
            if field in NUMERIC:
                ws.cell(row, 2 + i).alignment = Alignment(horizontal="right")
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
