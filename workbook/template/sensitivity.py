"""Sensitivity: annual cost against volume and against API price, computed by the engine cell by cell.

Excel what-if data tables (TABLE) cannot be computed headless, so each cell is an explicit BVB_SENSITIVITY call.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from .common import OPTIONS, Layout, formula, header, put, title, widths
from .styles import COUNT, DECIMAL, MONEY

STEPS = 10


def build(wb: Any, layout: Layout) -> None:
    """Add the Sensitivity sheet."""
    ws = wb.create_sheet("Sensitivity")
    title(ws, "Sensitivity", "Annual run-rate cost per option as one input moves; explicit engine calls "
                             "(BVB_SENSITIVITY), not a data table.")
    widths(ws, {"A": 10, "B": 16, "C": 18, "D": 16, "E": 16, "F": 16, "G": 16})
    put(ws, "A4", "Annual cost against volume (USD/year)", "Section")
    header(ws, 5, ["Step", "Volume multiple", "Requests per day", *OPTIONS])
    for k in range(1, STEPS + 1):
        r = 5 + k
        formula(ws, f"A{r}", "=ROW()-ROW($A$5)", "0")
        formula(ws, f"B{r}", f"=sensitivity_volume_start*sensitivity_volume_factor^($A{r}-1)", DECIMAL)
        formula(ws, f"C{r}", f"=rpd_effective*B{r}", COUNT)
        for j in range(len(OPTIONS)):
            col = get_column_letter(4 + j)
            formula(ws, f"{col}{r}", f'=BVB_SENSITIVITY({col}$5,assumptions,"requests_per_day",$C{r})', MONEY)
    layout.rows["sens_volume_first"] = 6
    layout.rows["sens_volume_last"] = 5 + STEPS

    top = 5 + STEPS + 2
    put(ws, f"A{top}", "Annual cost against API price (USD/year; both input and output prices scaled)", "Section")
    header(ws, top + 1, ["Step", "Price multiple", "Input price (USD/1M)", *OPTIONS])
    for k in range(1, STEPS + 1):
        r = top + 1 + k
        formula(ws, f"A{r}", f"=ROW()-ROW($A${top + 1})", "0")
        formula(ws, f"B{r}", f"=sensitivity_price_step*$A{r}", DECIMAL)
        formula(ws, f"C{r}", f"=api_input_usd_per_mtok*B{r}", DECIMAL)
        for j in range(len(OPTIONS)):
            col = get_column_letter(4 + j)
            formula(ws, f"{col}{r}", f'=BVB_SENSITIVITY({col}${top + 1},assumptions,"api_price_factor",$B{r})',
                    MONEY)
    ws.freeze_panes = "A4"
