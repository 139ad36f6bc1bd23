"""Calculations: a monthly timeline (months across) with each option's line items, totals and cumulative cost.

One formula per row across the timeline: line items ask the engine for one cell each (``BVB_LINE_ITEM``), so
every spreadsheet application, headless backend included, reads the same cached values; totals, the horizon
flag, discount factors and cumulative sums are native formulas.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from buildbuy.engine.model import LINE_ITEMS, OPTION_LINE_ITEMS

from .common import (
    FIRST_MONTH,
    FIRST_MONTH_COL,
    LAST_MONTH,
    LAST_MONTH_COL,
    OPTIONS,
    Layout,
    formula,
    header,
    name,
    put,
    title,
    widths,
)
from .styles import COUNT, MONEY

TOTAL_COL = "D"


def _row_formula(ws: Any, row: int, template: str, fmt: str) -> None:
    """One formula across the timeline; ``{c}`` is the month's column letter."""
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        formula(ws, f"{get_column_letter(col)}{row}", template.format(c=get_column_letter(col)), fmt)


def _horizon_total(row: int) -> str:
    """Sum of a row's months that fall within the horizon (flag row 8)."""
    return f"=SUMPRODUCT({FIRST_MONTH}{row}:{LAST_MONTH}{row},${FIRST_MONTH}$8:${LAST_MONTH}$8)"


def build(wb: Any, layout: Layout) -> None:
    """Add the Calculations sheet."""
    ws = wb.create_sheet("Calculations")
    title(ws, "Calculations", "Monthly timeline per option: line items from the engine (BVB_LINE_ITEM), native "
                              "totals and cumulative sums. USD unless the currency says otherwise.")
    widths(ws, {"A": 52, "B": 22, "C": 13, "D": 16})
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11

    put(ws, "A4", "Requests per day at month 1 (effective)", "Label")
    put(ws, "C4", "requests/day", "Unit")
    formula(ws, "D4", "=IF(ISBLANK(requests_per_day),daily_active_users*requests_per_user_per_day,requests_per_day)",
            COUNT)
    name(wb, "rpd_effective", "Calculations!$D$4")
    put(ws, "A5", "Pre-training tokens (effective)", "Label")
    put(ws, "C5", "tokens", "Unit")
    formula(ws, "D5", "=IF(ISBLANK(training_tokens),training_tokens_per_parameter*model_parameters,training_tokens)",
            COUNT)
    name(wb, "training_tokens_effective", "Calculations!$D$5")

    header(ws, 7, ["Timeline", "Key", "Unit", "Horizon total"])
    _row_formula(ws, 7, f"=COLUMN()-COLUMN(${TOTAL_COL}$7)", "0")
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        ws.cell(7, col).style = "Header"
    put(ws, "A8", "In horizon (1 = yes)", "Label")
    put(ws, "C8", "flag", "Unit")
    _row_formula(ws, 8, "=IF({c}$7<=horizon_months,1,0)", "0")
    put(ws, "A9", "Discount factor (end of month)", "Label")
    put(ws, "C9", "factor", "Unit")
    _row_formula(ws, 9, "=(1+discount_rate_per_year)^(-1*{c}$7/12)", "0.0000")
    put(ws, "A10", "Requests per day", "Label")
    put(ws, "C10", "requests/day", "Unit")
    _row_formula(ws, 10, "=rpd_effective*(1+monthly_growth_rate)^({c}$7-1)", COUNT)

    row = 12
    for option in OPTIONS:
        put(ws, f"A{row}", option, "Section")
        put(ws, f"C{row}", "option", "Unit")
        head = row
        row += 1
        first = row
        for key in OPTION_LINE_ITEMS[option]:
            meaning = LINE_ITEMS[key]
            put(ws, f"A{row}", f"{option}: {meaning}", "Label")
            put(ws, f"B{row}", key, "Unit")
            put(ws, f"C{row}", "USD/month", "Unit")
            formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
            _row_formula(ws, row, f"=BVB_LINE_ITEM($A${head},assumptions,$B{row},{{c}}$7)", MONEY)
            row += 1
        last = row - 1
        put(ws, f"A{row}", f"{option}: total", "Label")
        put(ws, f"C{row}", "USD/month", "Unit")
        formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
        _row_formula(ws, row, f"=SUM({{c}}{first}:{{c}}{last})", MONEY)
        layout.rows[f"total:{option}"] = row
        row += 1
        put(ws, f"A{row}", f"{option}: cumulative cost (whole timeline)", "Label")
        put(ws, f"C{row}", "USD", "Unit")
        _row_formula(ws, row, f"=SUM(${FIRST_MONTH}{row - 1}:{{c}}{row - 1})", MONEY)
        layout.rows[f"cumulative:{option}"] = row
        row += 2
    ws.freeze_panes = f"{FIRST_MONTH}8"
