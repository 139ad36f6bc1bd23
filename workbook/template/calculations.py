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
    API_REQUEST_NATIVE,
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


def _native_item(ws: Any, layout: Layout, row: int, option: str, item: str, text: str, template: str) -> int:
    """A native recomputation of one line item (USD/month) across the months, with its horizon total in the
    totals column; returns the next row."""
    _timeline_row(ws, row, text, "USD/month", template, MONEY, item)
    formula(ws, f"{TOTAL_COL}{row}", _horizon_total(row), MONEY)
    layout.rows[f"native:{option}:{item}"] = row
    return row + 1


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
    _native(wb, ws, layout, row)
    ws.freeze_panes = f"{FIRST_MONTH}8"
    ws.print_title_cols = "A:D"
    ws.print_title_rows = "7:7"


TOKENS = "(input_tokens_per_request+output_tokens_per_request)"
WEIGHTS_BYTES = "serving_model_parameters*serving_bytes_per_parameter"


def _scalar(ws: Any, layout: Layout, row: int, key: str, text: str, unit: str, body: str, fmt: str,
            wb: Any = None, named: str = "") -> int:
    """One native scalar in the totals column (a workbook name when ``named``); returns the next row."""
    put(ws, f"A{row}", text, "Label")
    put(ws, f"C{row}", unit, "Unit")
    formula(ws, f"{TOTAL_COL}{row}", body, fmt)
    layout.rows[f"native:{key}"] = row
    if named:
        name(wb, named, f"Calculations!${TOTAL_COL}${row}")
    return row + 1


def _native(wb: Any, ws: Any, layout: Layout, row: int) -> None:
    """Line items recomputed from the inputs by native formulas alone, for the Checks (no BVB_* call).

    The API fees of the API option; for FINE-TUNE the serving GPUs sized from the model and the GPU (memory for
    the weights and KV cache, prefill and decode rates, replicas for the peak), what renting or buying them
    costs (purchases with replacements at the end of their life, straight-line depreciation) and the ML team.
    """
    put(ws, f"A{row}", "Native recomputations from the inputs (no engine call; compared on Checks)", "Section")
    row += 1
    d = TOTAL_COL
    n = layout.rows
    row = _scalar(ws, layout, row, "price", "API price of one request at year-1 prices", "USD/request",
                  "=" + API_REQUEST_NATIVE + "/tokens_per_million",
                  "0.000000")
    row = _scalar(ws, layout, row, "active", "FINE-TUNE model: active parameters per token (effective)",
                  "parameters", "=IF(ISBLANK(serving_active_parameters),serving_model_parameters,"
                  "serving_active_parameters)", COUNT, wb, "serving_active_parameters_effective")
    row = _scalar(ws, layout, row, "kv", "FINE-TUNE model: KV cache per token (effective)", "bytes/token",
                  "=IF(ISBLANK(kv_cache_bytes_per_token),kv_tensors_per_layer*serving_layers*serving_kv_heads*"
                  "serving_head_dim*kv_cache_bytes_per_value,kv_cache_bytes_per_token)", COUNT, wb,
                  "kv_cache_bytes_per_token_effective")
    row = _scalar(ws, layout, row, "training_price", "Training GPU price per hour (effective)", "USD/GPU-hour",
                  "=IF(ISBLANK(training_gpu_usd_per_hour),gpu_usd_per_hour,training_gpu_usd_per_hour)", "#,##0.00",
                  wb, "training_gpu_usd_per_hour_effective")
    row = _scalar(ws, layout, row, "memory", "FINE-TUNE replica memory: weights and KV cache", "GB",
                  f"=({WEIGHTS_BYTES}+${d}${n['native:kv']}*{TOKENS}*concurrent_sequences_per_replica)/bytes_per_gb",
                  "#,##0.0")
    row = _scalar(ws, layout, row, "memory_ratio", "FINE-TUNE replica memory per usable GPU memory", "ratio",
                  f"=${d}${n['native:memory']}/(gpu_memory_gb*(1-gpu_memory_reserve_share))", "0.000")
    row = _scalar(ws, layout, row, "tp", "FINE-TUNE GPUs per replica (tensor parallel, powers of two)", "GPUs",
                  f"=IF(${d}${n['native:memory_ratio']}<=1,1,tensor_parallel_step^CEILING(LOG("
                  f"${d}${n['native:memory_ratio']},tensor_parallel_step),1))", COUNT)
    tp = f"${d}${n['native:tp']}"
    row = _scalar(ws, layout, row, "decode", "FINE-TUNE replica decode rate (memory-bandwidth bound)", "tokens/s",
                  f"=concurrent_sequences_per_replica*{tp}*gpu_memory_bandwidth_gb_per_s*bytes_per_gb/("
                  f"{WEIGHTS_BYTES}+${d}${n['native:kv']}*{TOKENS}*concurrent_sequences_per_replica)*"
                  "decode_efficiency", COUNT)
    row = _scalar(ws, layout, row, "prefill", "FINE-TUNE replica prefill rate (compute bound)", "tokens/s",
                  f"={tp}*serving_gpu_peak_tflops*prefill_mfu*flops_per_tflop/(forward_flops_per_param_token*"
                  f"${d}${n['native:active']})", COUNT)
    row = _scalar(ws, layout, row, "seconds", "FINE-TUNE replica seconds per request", "seconds",
                  f"=IF(tokens_per_second_per_gpu>0,{TOKENS}/(MAX(tokens_per_second_per_gpu,1)*{tp}),"
                  f"input_tokens_per_request/${d}${n['native:prefill']}+output_tokens_per_request/"
                  f"${d}${n['native:decode']})", "0.000000")
    row = _scalar(ws, layout, row, "served", "FINE-TUNE share of traffic it serves (after the API fallback)",
                  "share", '=1-IF(AND(data_residency_required="yes",compliant_api_available="no"),0,'
                           "api_fallback_share)", "0.000")
    row = _scalar(ws, layout, row, "replicas", "FINE-TUNE replicas per request/day at the peak", "replicas",
                  f"=days_per_year/months_per_year/(serving_hours_per_month*seconds_per_hour)*"
                  f"peak_to_average_ratio*${d}${n['native:seconds']}/gpu_utilization", "0.000000000")
    row = _native_item(ws, layout, row, "API", "api_usage", "API: API fees (native)",
                       f"={{c}}$10*days_per_year/months_per_year*${d}${n['native:price']}*"
                       "(1+api_price_change_per_year)^({c}$11-1)")
    _timeline_row(ws, row, "FINE-TUNE: self-hosted model serves (1 = yes, native)", "flag",
                  "=IF({c}$7>finetune_months,1,0)", "0")
    serves = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: serving GPUs for the peak (native)", "GPUs",
                  f"=IF(serving_gpus>0,serving_gpus,MAX(min_gpus,{tp}*MAX(min_replicas,CEILING({{c}}$10*"
                  f"${d}${n['native:served']}*${d}${n['native:replicas']},1))))*{{c}}{serves}", "0")
    gpus = row
    layout.rows["native:FINE-TUNE:gpus"] = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: GPUs owned if bought (the most needed so far, native)", "GPUs",
                  f"=MAX(${FIRST_MONTH}{gpus}:{{c}}{gpus})", "0")
    owned = row
    row += 1
    _timeline_row(ws, row, "FINE-TUNE: GPUs bought new in the month (native)", "GPUs",
                  f"={{c}}{owned}-INDEX(${FIRST_MONTH}{owned}:${LAST_MONTH}{owned},MAX(1,{{c}}$7-1))*"
                  "MIN(1,{c}$7-1)", "0")
    bought = row
    row += 1
    _timeline_row(ws, row, "Month within a GPU's useful life (native)", "month mod life",
                  "=MOD({c}$7,gpu_useful_life_months)", "0")
    cycle = row
    row += 1
    # GPUs bought k x life months earlier are replaced now: same place in the life cycle, an earlier month.
    _timeline_row(ws, row, "FINE-TUNE: GPUs replaced at the end of their useful life (native)", "GPUs",
                  f"=SUMIFS(${FIRST_MONTH}{bought}:${LAST_MONTH}{bought},${FIRST_MONTH}{cycle}:${LAST_MONTH}{cycle},"
                  f'{{c}}{cycle},${FIRST_MONTH}$7:${LAST_MONTH}$7,"<"&{{c}}$7)', "0")
    replaced = row
    row += 1
    row = _native_item(ws, layout, row, "FINE-TUNE", "gpu_rental", "FINE-TUNE: rented GPUs on demand (native)",
                       f'=IF(gpu_ownership="rent",{{c}}{gpus}*serving_hours_per_month*gpu_usd_per_hour,0)')
    row = _native_item(ws, layout, row, "FINE-TUNE", "hardware_purchase",
                       "FINE-TUNE: GPU purchases and replacements (native)",
                       f'=IF(gpu_ownership="buy",{{c}}{bought}*gpu_purchase_usd+{{c}}{replaced}*gpu_purchase_usd*'
                       "(1-gpu_residual_value_share),0)")
    row = _native_item(ws, layout, row, "FINE-TUNE", "depreciation", "FINE-TUNE: depreciation of bought GPUs (native)",
                       f'=IF(gpu_ownership="buy",{{c}}{owned}*gpu_purchase_usd*(1-gpu_residual_value_share)/'
                       "gpu_useful_life_months,0)")
    row = _native_item(ws, layout, row, "FINE-TUNE", "ml_team", "FINE-TUNE: ML engineers (native)",
                       "=ml_engineers*ml_engineer_usd_per_year/months_per_year")
    layout.rows["calculations_last"] = row - 1
