"""Checks: engine results against independent native-formula recomputations, and input sanity.

Independent means the native side never calls a BVB_* function: the API fees, the serving GPUs (sized from the
model and the GPU), what renting or buying them costs, capex, depreciation and the ML team are recomputed month
by month from the inputs (Calculations, last section), the NPV by Excel's own NPV over the monthly costs. A
wrong engine line item therefore moves a check off 0. Every check cell is 0 when all is well; ``check_total``
sums them and shows on every sheet's header.
"""

from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill

from buildbuy.udfs.registry import REGISTRY

from .common import (
    API_REQUEST_NATIVE,
    FIRST_MONTH,
    LAST_MONTH,
    OPTIONS,
    Layout,
    formula,
    header,
    name,
    put,
    title,
    widths,
)
from .styles import GENERAL, MONEY

TOKENS = "(input_tokens_per_request+output_tokens_per_request)"
TOTAL = "D"
#: Line items the Calculations sheet recomputes natively from the inputs: (option:item, what it is).
NATIVE_ITEMS = [
    ("API:api_usage", "API: hosted API fees"),
    ("FINE-TUNE:gpu_rental", "FINE-TUNE: rented GPUs (reserved ones are not recomputed)"),
    ("FINE-TUNE:hardware_purchase", "FINE-TUNE: GPU purchases and replacements"),
    ("FINE-TUNE:ml_team", "FINE-TUNE: ML engineers"),
]
#: Figures of the options table recomputed natively: (metric, what it is, Calculations row of the native value).
NATIVE_METRICS = [
    ("capex_usd", "FINE-TUNE: hardware purchases over the horizon (capex)", "native:FINE-TUNE:hardware_purchase"),
    ("depreciation_usd", "FINE-TUNE: depreciation over the horizon", "native:FINE-TUNE:depreciation"),
    ("gpus_per_replica", "FINE-TUNE: GPUs per replica (memory of weights and KV cache)", "native:tp"),
]


def build(wb: Any, layout: Layout) -> None:
    """Add the Checks sheet."""
    ws = wb.create_sheet("Checks")
    title(ws, "Checks", "Each check is 0 when the engine agrees with an independent native formula, or an input "
                        "is sane; 1 flags a problem.")
    widths(ws, {"A": 78, "B": 18, "C": 18, "D": 10})
    header(ws, 4, ["Check", "Engine", "Native recomputation", "Flag"], numbers_from=1)
    ws.row_dimensions[4].height = 30
    rows: list[tuple[str, str, str]] = [
        ("API annual cost (run-rate)", '=BVB_ANNUAL_COST("API",assumptions)',
         "=rpd_effective*days_per_year*" + API_REQUEST_NATIVE + "/tokens_per_million"),
        ("Self-hosted GPU cost per year at month-1 volume (when a measured tokens/s per GPU is given)",
         f"=IF(tokens_per_second_per_gpu>0,BVB_SELFHOST_COST(rpd_effective*(1-api_fallback_share),{TOKENS},"
         "gpu_usd_per_hour,tokens_per_second_per_gpu,gpu_utilization,peak_to_average_ratio,min_gpus),0)",
         f"=IF(tokens_per_second_per_gpu>0,MAX(min_gpus,CEILING(rpd_effective*(1-api_fallback_share)*{TOKENS}*"
         "peak_to_average_ratio/(seconds_per_day*MAX(tokens_per_second_per_gpu,1)*gpu_utilization),1))*"
         "hours_per_year*gpu_usd_per_hour,0)"),
        ("Pre-training compute cost (6 x N x D FLOPs)",
         "=BVB_TRAIN_COMPUTE_COST(model_parameters,training_tokens_effective,gpu_peak_tflops,mfu,gpu_usd_per_hour)",
         "=training_flops_per_param_token*model_parameters*training_tokens_effective/(gpu_peak_tflops*"
         "flops_per_tflop*mfu)/seconds_per_hour*gpu_usd_per_hour"),
    ]
    for key, text in NATIVE_ITEMS:
        engine_row = layout.rows[f"item:{key}"]
        native = f"=Calculations!${TOTAL}${layout.rows[f'native:{key}']}"
        if key.endswith("gpu_rental"):
            native = f'=IF(gpu_ownership="reserved","not recomputed",{native[1:]})'
        rows.append((f"{text}: engine line item = native recomputation (horizon total)",
                     f"=Calculations!${TOTAL}${engine_row}", native))
    for metric, text, native_row in NATIVE_METRICS:
        rows.append((f"{text}: engine = native recomputation", f'=BVB_METRIC("FINE-TUNE",assumptions,"{metric}")',
                     f"=Calculations!${TOTAL}${layout.rows[native_row]}"))
    gpus = layout.rows["native:FINE-TUNE:gpus"]
    rows.append(("FINE-TUNE: serving GPUs in the horizon's last month: engine = native recomputation",
                 '=BVB_METRIC("FINE-TUNE",assumptions,"serving_gpus")',
                 f"=INDEX(Calculations!${FIRST_MONTH}${gpus}:${LAST_MONTH}${gpus},horizon_months)"))
    for option in OPTIONS:
        total = layout.rows[f"total:{option}"]
        rows.append((f"{option}: TCO = sum of its monthly line items within the horizon",
                     f'=BVB_TCO("{option}",assumptions)', f"=Calculations!${TOTAL}${total}"))
    for option in OPTIONS:
        flows = layout.rows[f"in_horizon:{option}"]
        rows.append((f"{option}: NPV = Excel's NPV of the monthly costs (monthly rate)",
                     f'=BVB_NPV("{option}",assumptions)',
                     f"=NPV((1+discount_rate_per_year)^(1/months_per_year)-1,"
                     f"Calculations!{FIRST_MONTH}{flows}:{LAST_MONTH}{flows})"))
    if "BVB_COST_BY_YEAR" in REGISTRY:  # the engine's cost by year against the timeline's year-1 months
        year = layout.rows["year"]
        for option in OPTIONS:
            flows = layout.rows[f"in_horizon:{option}"]
            rows.append((f"{option}: cost in year 1 = sum of the timeline's first 12 months",
                         f'=BVB_COST_BY_YEAR("{option}",assumptions,1)',
                         f"=SUMIFS(Calculations!${FIRST_MONTH}${flows}:${LAST_MONTH}${flows},"
                         f"Calculations!${FIRST_MONTH}${year}:${LAST_MONTH}${year},1)"))
    r = 5
    for label, engine, native in rows:
        put(ws, f"A{r}", label, "Label")
        formula(ws, f"B{r}", engine, MONEY)
        formula(ws, f"C{r}", native, MONEY)
        # 1 when they differ by more than the tolerance; 0 when equal or not recomputed (a note, not a number)
        formula(ws, f"D{r}", f"=IF(ISNUMBER(C{r}),1*(ABS(B{r}-C{r})>check_tolerance*MAX(1,ABS(C{r}))),0)",
                GENERAL)
        r += 1
    # Break-even volume: at it, the two engine run-rates are equal (skipped when they never cross).
    put(ws, f"A{r}", "At the API / FINE-TUNE break-even volume both annual costs are equal", "Label")
    formula(ws, f"B{r}", '=BVB_BREAKEVEN_VOLUME(assumptions,"API","FINE-TUNE")', MONEY)
    formula(ws, f"C{r}", f'=IF(ISNA(B{r}),0,BVB_SENSITIVITY("API",assumptions,"requests_per_day",B{r})'
                         f'-BVB_SENSITIVITY("FINE-TUNE",assumptions,"requests_per_day",B{r}))', MONEY)
    formula(ws, f"D{r}", f"=IF(ABS(C{r})<=check_tolerance*MAX(1,B5),0,1)", GENERAL)
    r += 1
    sanity = [
        ("Shares are within [0, 1] and utilizations above 0",
         "=IF(AND(gpu_utilization>0,gpu_utilization<=1,mfu>0,mfu<=1,api_fallback_share>=0,api_fallback_share<=1,"
         "api_cached_input_share>=0,api_cached_input_share<=1,api_cached_input_discount>=0,"
         "api_cached_input_discount<=1),0,1)"),
        ("Phase 3 starts no earlier than phase 2", "=IF(phase3_start_month>=phase2_start_month,0,1)"),
        ("The horizon fits the template's timeline", "=IF(horizon_months<=timeline_months,0,1)"),
        ("The engine accepts every input (no error from BVB_RECOMMEND)",
         "=IF(ISERROR(BVB_RECOMMEND(assumptions)),1,0)"),
        ("The Monte Carlo accepts the Risk sheet's ranges (no error from BVB_RISK)",
         '=IF(ISERROR(BVB_RISK(assumptions,risk_ranges,"draws",risk_correlations,risk_draws,risk_seed)),1,0)'),
        ("No error values among the headline outputs",
         f"=IF(SUMPRODUCT(ISERROR(Outputs!D{layout.rows['metrics_first']}:G{layout.rows['metrics_last']})*1)=0,0,1)"),
    ]
    for label, text in sanity:
        put(ws, f"A{r}", label, "Label")
        formula(ws, f"D{r}", text, GENERAL)
        r += 1
    last = r - 1
    r += 1
    put(ws, f"A{r}", "Total of all checks (0 = all pass)", "Section")
    formula(ws, f"D{r}", f"=SUM(D5:D{last})", GENERAL)
    ws[f"D{r}"].style = "Check"
    name(wb, "check_total", f"Checks!$D${r}")
    green = PatternFill("solid", fgColor="C6EFCE")
    red = PatternFill("solid", fgColor="FFC7CE")
    area = f"D5:D{r}"
    ws.conditional_formatting.add(area, CellIsRule(operator="equal", formula=["0"], fill=green,
                                                   font=Font(color="006100")))
    ws.conditional_formatting.add(area, CellIsRule(operator="notEqual", formula=["0"], fill=red,
                                                   font=Font(color="9C0006")))
    ws.freeze_panes = "A5"
