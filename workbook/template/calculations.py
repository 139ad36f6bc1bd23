"""Calculations: a monthly timeline (months across) with each option's line items, totals and cumulative cost.

Line items come from the engine in one array formula per option (``BVB_LINE_ITEMS``); totals, the horizon
flag, discount factors and cumulative sums are native formulas, one per row across the timeline.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from buildbuy.engine.model import LINE_ITEMS

from .common import (
    FIRST_MONTH,
    FIRST_MONTH_COL,
    LAST_MONTH,
    LAST_MONTH_COL,
    OPTIONS,
    Layout,
    array,
    formula,
    header,
    name,
    put,
    title,
    widths,
)
from .styles import COUNT, MONEY


def _row_formula(ws: Any, row: int, template: str, fmt: str) -> None:
    """One formula across the timeline; ``{c}`` is the month's column letter."""
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        formula(ws, f"{get_column_letter(col)}{row}", template.format(c=get_column_letter(col)), fmt)


def _horizon_total(row: int) -> str:
    """Sum of a row's months that fall within the horizon (flag row 8)."""
    return f"=SUMPRODUCT({FIRST_MONTH}{row}:{LAST_MONTH}{row},${FIRST_MONTH}$8:${LAST_MONTH}$8)"


def build(wb: Any, layout: Layout) -> None:
    ws = wb.create_sheet("Calculations")
    title(ws, "Calculations", "Monthly timeline per option. Line items come from the engine (BVB_LINE_ITEMS); "
                              "totals and cumulative sums are native formulas. USD unless the currency says otherwise.")
    widths(ws, {"A": 34, "B": 16, "C": 16})
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11

    put(ws, "A4", "Requests per day at month 1 (effective)", "Label")
    put(ws, "B4", "requests/day", "Unit")
    formula(ws, "C4", "=IF(ISBLANK(requests_per_day),daily_active_users*requests_per_user_per_day,requests_per_day)",
            COUNT)
    name(wb, "rpd_effective", "Calculations!$C$4")
    put(ws, "A5", "Pre-training tokens (effective)", "Label")
    put(ws, "B5", "tokens", "Unit")
    formula(ws, "C5", "=IF(ISBLANK(training_tokens),training_tokens_per_parameter*model_parameters,training_tokens)",
            COUNT)
    name(wb, "training_tokens_effective", "Calculations!$C$5")

    header(ws, 7, ["Timeline", "Unit", "Horizon total"])
    put(ws, "A7", "Month", "Header")
    _row_formula(ws, 7, "=COLUMN()-COLUMN($C$7)", "0")
    for col in range(FIRST_MONTH_COL, LAST_MONTH_COL + 1):
        ws.cell(7, col).style = "Header"
    put(ws, "A8", "In horizon (1 = yes)", "Label")
    put(ws, "B8", "flag", "Unit")
    _row_formula(ws, 8, "=IF({c}$7<=horizon_months,1,0)", "0")
    put(ws, "A9", "Discount factor (end of month)", "Label")
    put(ws, "B9", "factor", "Unit")
    _row_formula(ws, 9, "=(1+discount_rate_per_year)^(-{c}$7/12)", "0.0000")
    put(ws, "A10", "Requests per day", "Label")
    put(ws, "B10", "requests/day", "Unit")
    _row_formula(ws, 10, "=rpd_effective*(1+monthly_growth_rate)^({c}$7-1)", COUNT)

    row = 12
    for option in OPTIONS:
        put(ws, f"A{row}", option, "Section")
        put(ws, f"B{row}", "option", "Unit")
        head = row
        row += 1
        first = row
        for meaning in LINE_ITEMS.values():
            put(ws, f"A{row}", meaning, "Label")
            put(ws, f"B{row}", "USD/month", "Unit")
            formula(ws, f"C{row}", _horizon_total(row), MONEY)
            row += 1
        last = row - 1
        array(ws, f"{FIRST_MONTH}{first}:{LAST_MONTH}{last}",
              f"=BVB_LINE_ITEMS($A${head},assumptions,timeline_months)", MONEY)
        put(ws, f"A{row}", "Total", "Label")
        put(ws, f"B{row}", "USD/month", "Unit")
        formula(ws, f"C{row}", _horizon_total(row), MONEY)
        _row_formula(ws, row, f"=SUM({{c}}{first}:{{c}}{last})", MONEY)
        layout.rows[f"total:{option}"] = row
        row += 1
        put(ws, f"A{row}", "Cumulative cost (whole timeline)", "Label")
        put(ws, f"B{row}", "USD", "Unit")
        _row_formula(ws, row, f"=SUM(${FIRST_MONTH}{row - 1}:{{c}}{row - 1})", MONEY)
        layout.rows[f"cumulative:{option}"] = row
        row += 2
    ws.freeze_panes = f"{FIRST_MONTH}8"
    layout.refs["months_row"] = "7"
