"""Checks: engine results against independent native-formula recomputations, and input sanity.

Every check cell is 0 when all is well; ``check_total`` sums them and shows on every sheet's header.
"""

from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill

from .common import FIRST_MONTH, LAST_MONTH, OPTIONS, Layout, formula, header, name, put, title, widths
from .styles import GENERAL, MONEY

TOKENS = "(input_tokens_per_request+output_tokens_per_request)"
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


def build(wb: Any, layout: Layout) -> None:
    """Add the Checks sheet."""
    ws = wb.create_sheet("Checks")
    title(ws, "Checks", "Each check is 0 when the engine agrees with an independent native formula, or an input "
                        "is sane; 1 flags a problem.")
    widths(ws, {"A": 58, "B": 18, "C": 18, "D": 10})
    header(ws, 4, ["Check", "Engine", "Native recomputation", "Flag"])
    rows: list[tuple[str, str, str]] = [
        ("API annual cost (run-rate)", '=BVB_ANNUAL_COST("API",assumptions)',
         "=rpd_effective*365*" + API_REQUEST_NATIVE + "/tokens_per_million"),
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
    for option in OPTIONS:
        total = layout.rows[f"total:{option}"]
        rows.append((f"{option}: TCO = sum of the monthly timeline within the horizon",
                     f'=BVB_TCO("{option}",assumptions)', f"=Calculations!$D${total}"))
    for option in OPTIONS:
        total = layout.rows[f"total:{option}"]
        rows.append((f"{option}: NPV = discounted monthly timeline",
                     f'=BVB_NPV("{option}",assumptions)',
                     f"=SUMPRODUCT(Calculations!{FIRST_MONTH}{total}:{LAST_MONTH}{total},"
                     f"Calculations!{FIRST_MONTH}$8:{LAST_MONTH}$8,Calculations!{FIRST_MONTH}$9:{LAST_MONTH}$9)"))
    r = 5
    for label, engine, native in rows:
        put(ws, f"A{r}", label, "Label")
        formula(ws, f"B{r}", engine, MONEY)
        formula(ws, f"C{r}", native, MONEY)
        formula(ws, f"D{r}", f"=IF(ABS(B{r}-C{r})<=check_tolerance*MAX(1,ABS(C{r})),0,1)", GENERAL)
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
