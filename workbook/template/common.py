"""Helpers shared by the sheet builders: styled writes, the master-check header, the layout registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

#: Months of the template's timeline (columns D ..): the largest horizon the template can show.
TIMELINE_MONTHS = 60
FIRST_MONTH_COL = 5
LAST_MONTH_COL = FIRST_MONTH_COL + TIMELINE_MONTHS - 1
FIRST_MONTH = get_column_letter(FIRST_MONTH_COL)
LAST_MONTH = get_column_letter(LAST_MONTH_COL)
OPTIONS = ("API", "FINE-TUNE", "TRAIN", "PHASED")


#: Short names of the line items for tables and chart legends.
ITEM_LABELS = {
    "api_usage": "Hosted API fees", "gpu_rental": "Rented or reserved GPUs", "hardware_purchase": "GPU purchases",
    "hardware_maintenance": "Hardware maintenance", "power": "Power", "colocation": "Colocation",
    "finetune_and_labeling": "Fine-tuning and labeling", "retraining": "Fine-tune refreshes",
    "training_compute": "Pre-training compute", "post_training": "Post-training", "repretraining": "Pre-training again",
    "training_data": "Training data", "ml_team": "ML engineers", "mlops": "MLOps", "evaluation": "Evaluation",
    "opportunity_cost": "Opportunity cost",
}


def item_label(key: str) -> str:
    """A line item's short name (its key in words when it has none)."""
    return ITEM_LABELS.get(key) or (key[:1].upper() + key[1:]).replace("_", " ")



@dataclass
class Layout:
    """Addresses one sheet builder publishes for the others (rows of totals, chart ranges ...)."""

    rows: dict[str, int] = field(default_factory=dict)


#: Defined names created so far (a formula that reads one links to another sheet).
NAMES: set[str] = set()


def name(wb: Any, key: str, ref: str) -> None:
    """A workbook-scoped defined name."""
    wb.defined_names[key] = DefinedName(key, attr_text=ref)
    NAMES.add(key)


def put(ws: Worksheet, ref: str, value: Any, style: str = "Label", fmt: str | None = None) -> None:
    cell = ws[ref]
    cell.value = value
    cell.style = style
    if fmt:
        cell.number_format = fmt


def formula(ws: Worksheet, ref: str, text: str, fmt: str | None = None) -> None:
    """A formula cell: green Link style when it reads another sheet or a defined name, black Calc otherwise."""
    style = "Link" if ("!" in text or _uses_name(text)) else "Calc"
    put(ws, ref, text, style, fmt)


def _uses_name(text: str) -> bool:
    import re

    bare = re.sub(r'"[^"]*"', "", text)
    return any(tok in NAMES for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare))


def title(ws: Worksheet, text: str, subtitle: str) -> None:
    """Row 1: the sheet title; row 2: its purpose and the master check (rule 18: on every sheet)."""
    put(ws, "A1", text, "Title")
    put(ws, "A2", subtitle, "Note")
    put(ws, "F2", "Master check (0 = all checks pass)", "Unit")
    formula(ws, "E2", "=check_total")
    ws["E2"].style = "Check"


def header(ws: Worksheet, row: int, texts: list[str], first_col: int = 1, numbers_from: int | None = None) -> None:
    """A header row; from the ``numbers_from``-th text on (0-based) the headers sit right-aligned, over numbers."""
    for i, t in enumerate(texts):
        style = "HeaderNumber" if numbers_from is not None and i >= numbers_from else "Header"
        put(ws, f"{get_column_letter(first_col + i)}{row}", t, style)


def widths(ws: Worksheet, cols: dict[str, float]) -> None:
    for col, w in cols.items():
        ws.column_dimensions[col].width = w


# One API request in USD x 1e6, every pricing dimension (issue 12), written independently of the engine:
# cache parts of the prompt, reasoning as output, long-context share, tier mix, regional uplift, commitment.
_API_IN = ("input_tokens_per_request*api_input_usd_per_mtok*((1-api_cached_input_share-api_cache_write_5m_share-"
           "api_cache_write_1h_share)+api_cached_input_share*(1-api_cached_input_discount)+api_cache_write_5m_share*"
           "(1+api_cache_write_5m_premium)+api_cache_write_1h_share*(1+api_cache_write_1h_premium))")
_API_OUT = "(output_tokens_per_request+api_reasoning_tokens_per_request)*api_output_usd_per_mtok"
API_REQUEST_NATIVE = (
    f"((1-api_long_context_share)*({_API_IN}+{_API_OUT})+api_long_context_share*({_API_IN}*"
    f"api_long_context_input_multiplier+{_API_OUT}*api_long_context_output_multiplier))*"
    "(1-api_batch_share*api_batch_discount-api_flex_share*api_flex_discount+api_priority_share*"
    "api_priority_premium)*(1+api_regional_uplift)*(1-api_committed_use_discount)")
