"""Calculations: a monthly timeline (months across) with each option's line items, totals and cumulative cost.

One formula per row across the timeline: line items ask the engine for one cell each (``BVB_LINE_ITEM``), so
every spreadsheet application, headless backend included, reads the same cached values; totals, the horizon
flag, discount factors and cumulative sums are native formulas.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from buildbuy.engine.model import OPTION_LINE_ITEMS

from .common import (
    FIRST_MONTH,
    FIRST_MONTH_COL,
    LAST_MONTH,
    LAST_MONTH_COL,
    OPTIONS,
    Layout,
    formula,
    header,
    item_label,
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


def _timeline_row(ws: Any, row: int, text: str, unit: str, template: str, fmt: str, key: str = "") -> None:
    put(ws, f"A{row}", text, "Label")
    if key:
        put(ws, f"B{row}", key, "Unit")
    put(ws, f"C{row}", unit, "Unit")
    _row_formula(ws, row, template, fmt)


def build(wb: Any, layout: Layout) -> None:
    """Add the Calculations sheet."""
    ws = wb.create_sheet("Calculations")
    title(ws, "Calculations", "Monthly timeline per option: line items from the engine (BVB_LINE_ITEM), native "
                              "totals and cumulative sums, then native recomputations for the Checks. USD unless "
                              "the currency says otherwise.")
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
        ws.cell(7, col).style = "HeaderNumber"
    ws["D7"].style = "HeaderNumber"
    _timeline_row(ws, 8, "In horizon (1 = yes)", "flag", "=IF({c}$7<=horizon_months,1,0)", "0")
    _timeline_row(ws, 9, "Discount factor (end of month)", "factor",
                  "=(1+discount_rate_per_year)^(-1*{c}$7/months_per_year)", "0.0000")
    _timeline_row(ws, 10, "Requests per day", "requests/day", "=rpd_effective*(1+monthly_growth_rate)^({c}$7-1)",
                  COUNT)
    _timeline_row(ws, 11, "Year of the month", "year", "=INT(({c}$7-1)/months_per_year)+1", "0")
    _timeline_row(ws, 12, "Month on the charts (the horizon's last month after it)", "month",
                  "=MIN({c}$7,horizon_months)", "0")
    layout.rows["year"] = 11
    layout.rows["chart_month"] = 12

    row = 14
    for option in OPTIONS:
        put(ws, f"A{row}", option, "Section")
        put(ws, f"C{row}", "option", "Unit")
        head = row
        row += 1
        first = row
        for key in OPTION_LINE_ITEMS[option]:
            put(ws, f"A{row}", f"{option}: {item_label(key)}", "Label")
            put(ws, f"B{row}", key, "Unit")
            put(ws, f"C{row}", "USD/month", "Unit")
            formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
            _row_formula(ws, row, f"=BVB_LINE_ITEM($A${head},assumptions,$B{row},{{c}}$7)", MONEY)
            layout.rows[f"item:{option}:{key}"] = row
            row += 1
        last = row - 1
        put(ws, f"A{row}", f"{option}: total", "Label")
        put(ws, f"C{row}", "USD/month", "Unit")
        formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
        _row_formula(ws, row, f"=SUM({{c}}{first}:{{c}}{last})", MONEY)
        layout.rows[f"total:{option}"] = row
        row += 1
        put(ws, f"A{row}", f"{option}: cost within the horizon (0 after it)", "Label")
        put(ws, f"C{row}", "USD/month", "Unit")
        formula(ws, f"{TOTAL_COL}{row}", f"=SUM({FIRST_MONTH}{row}:{LAST_MONTH}{row})", MONEY)
        _row_formula(ws, row, f"={{c}}{row - 1}*{{c}}$8", MONEY)
        layout.rows[f"in_horizon:{option}"] = row
        row += 1
        put(ws, f"A{row}", f"{option}: cumulative cost within the horizon", "Label")
        put(ws, f"C{row}", "USD", "Unit")
        _row_formula(ws, row, f"=SUM(${FIRST_MONTH}{row - 1}:{{c}}{row - 1})", MONEY)
        layout.rows[f"cumulative:{option}"] = row
        row += 2
    _native(ws, layout, row)
    ws.freeze_panes = f"{FIRST_MONTH}8"
    ws.print_title_cols = "A:D"
    ws.print_title_rows = "7:7"


def _native(ws: Any, layout: Layout, row: int) -> None:
    """Line items recomputed from the inputs by native formulas alone, for the Checks (no BVB_* call)."""
    put(ws, f"A{row}", "Native recomputations from the inputs (no engine call; compared on Checks)", "Section")
    row += 1
    put(ws, f"A{row}", "API price of one request at year-1 prices", "Label")
    put(ws, f"C{row}", "USD/request", "Unit")
    formula(ws, f"{TOTAL_COL}{row}", "=(input_tokens_per_request*api_input_usd_per_mtok*(1-api_cached_input_share*"
            "api_cached_input_discount)+output_tokens_per_request*api_output_usd_per_mtok)/tokens_per_million",
            "0.000000")
    price = row
    row += 1
    _timeline_row(ws, row, "API: API fees (native)", "USD/month",
                  f"={{c}}$10*days_per_year/months_per_year*${TOTAL_COL}${price}*(1+api_price_change_per_year)^"
                  "({c}$11-1)", MONEY, "api_usage")
    formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
    layout.rows["native:API:api_usage"] = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: self-hosted model serves (1 = yes, native)", "flag",
                  "=IF({c}$7>finetune_months,1,0)", "0")
    serves = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: serving GPUs for the peak (native)", "GPUs",
                  "=MAX(min_gpus,CEILING({c}$10*(1-api_fallback_share)*(input_tokens_per_request+"
                  "output_tokens_per_request)*peak_to_average_ratio/(seconds_per_day*tokens_per_second_per_gpu*"
                  "gpu_utilization),1))", "0")
    gpus = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: serving GPUs (native)", "USD/month",
                  f"={{c}}{gpus}*hours_per_year/months_per_year*gpu_usd_per_hour*{{c}}{serves}", MONEY, "gpu_serving")
    formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
    layout.rows["native:FINE-TUNE:gpu_serving"] = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: ML engineers (native)", "USD/month",
                  "=ml_engineers*ml_engineer_usd_per_year/months_per_year", MONEY, "ml_team")
    formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
    layout.rows["native:FINE-TUNE:ml_team"] = row
    layout.rows["calculations_last"] = row
