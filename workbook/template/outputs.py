"""Outputs: the recommendation, the options side by side, reasons and warnings, the roadmap, two charts."""

from __future__ import annotations

from typing import Any

from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .common import FIRST_MONTH_COL, LAST_MONTH_COL, OPTIONS, Layout, formula, header, name, put, title, widths
from .styles import COUNT, DECIMAL, GENERAL, MONEY, MONEY_4DP

METRICS = [
    ("Annual cost (run-rate)", "USD/year", "annual_cost_usd", MONEY),
    ("Total cost of ownership", "USD", "tco_usd", MONEY),
    ("NPV of costs", "USD", "npv_usd", MONEY),
    ("First-year cost", "USD", "year1_cost_usd", MONEY),
    ("Cost per 1M tokens", "USD/1M tokens", "cost_per_mtok_usd", DECIMAL),
    ("Cost per request", "USD/request", "cost_per_request_usd", MONEY_4DP),
    ("Latency", "ms", "latency_ms", COUNT),
    ("Meets the latency requirement", "yes/no", "meets_latency", GENERAL),
    ("Break-even month against API", "month", "breakeven_month_vs_api", GENERAL),
    ("Break-even volume against API", "requests/day", "breakeven_volume_vs_api", COUNT),
]
REASON_ROWS = 20
#: One colour per option in both charts: API, FINE-TUNE, TRAIN, PHASED.
COLOURS = ("1F77B4", "D62728", "2CA02C", "9467BD")
REASON_FIELDS = ["rule_id", "kind", "sentence"]


def build(wb: Any, layout: Layout) -> None:
    """Add the Outputs sheet."""
    ws = wb.create_sheet("Outputs")
    title(ws, "Outputs", "What the engine recommends and why, with every option side by side. No typed numbers: "
                         "every value is a formula.")
    widths(ws, {"A": 34, "B": 16, "C": 26, "D": 16, "E": 16, "F": 16, "G": 16})
    put(ws, "A4", "Recommended layer", "Section")
    formula(ws, "C4", "=BVB_RECOMMEND(assumptions)")
    name(wb, "out_recommendation", "Outputs!$C$4")
    ws["C4"].font = Font(name="Calibri", size=14, bold=True, color="008000")
    put(ws, "A6", "Score per option", "Label")
    put(ws, "B6", "points", "Unit")
    for i, option in enumerate(("API", "FINE-TUNE", "TRAIN")):
        col = get_column_letter(4 + i)
        put(ws, f"{col}5", option, "Header")
        formula(ws, f"{col}6", f"=BVB_SCORE(assumptions,{col}$5)", GENERAL)
    put(ws, "A7", "Data moat litmus test", "Label")
    put(ws, "B7", "score / 4", "Unit")
    moat = "data_proprietary,data_growing,data_labeled,data_perishable"
    formula(ws, "C7", f"=BVB_MOAT_SCORE({moat})", GENERAL)
    formula(ws, "D7", f"=BVB_MOAT_VERDICT({moat})", GENERAL)
    name(wb, "out_moat_score", "Outputs!$C$7")
    name(wb, "out_moat_verdict", "Outputs!$D$7")

    header(ws, 9, ["Figure", "Unit", "Key", *OPTIONS])
    for i, (label, unit, key, fmt) in enumerate(METRICS):
        r = 10 + i
        put(ws, f"A{r}", label, "Label")
        put(ws, f"B{r}", unit, "Unit")
        put(ws, f"C{r}", key, "Unit")
        for j in range(len(OPTIONS)):
            col = get_column_letter(4 + j)
            call = f"BVB_METRIC({col}$9,assumptions,$C{r})"
            if key == "meets_latency":  # as text: a cached TRUE/FALSE of an unknown function reads as #NAME? in LO
                formula(ws, f"{col}{r}", f'=IF({call},"yes","no")', fmt)
            else:
                formula(ws, f"{col}{r}", f'=IF(ISNA({call}),"-",{call})', fmt)
            slug = OPTIONS[j].lower().replace("-", "_")
            name(wb, f"out_{key}_{slug}", f"Outputs!${col}${r}")
    layout.rows["metrics_first"] = 10
    layout.rows["metrics_last"] = 10 + len(METRICS) - 1

    r0 = 22
    put(ws, f"A{r0 - 1}", "Reasons and warnings (rule id, kind, sentence)", "Section")
    header(ws, r0, ["#", *REASON_FIELDS])
    for k in range(1, REASON_ROWS + 1):
        r = r0 + k
        formula(ws, f"A{r}", f"=ROW()-ROW($A${r0})", "0")
        for j in range(len(REASON_FIELDS)):
            col = get_column_letter(2 + j)
            formula(ws, f"{col}{r}", f'=BVB_REASON(assumptions,$A{r},{col}${r0},"-")', GENERAL)
    rm = r0 + REASON_ROWS + 2
    put(ws, f"A{rm}", "Phased roadmap (the article's hybrid pattern)", "Section")
    header(ws, rm + 1, ["Phase", "layer", "start_month", "end_month", "status", "actions"])
    for k in range(1, 4):
        r = rm + 1 + k
        formula(ws, f"A{r}", f"=ROW()-ROW($A${rm + 1})", "0")
        for j in range(5):
            col = get_column_letter(2 + j)
            formula(ws, f"{col}{r}", f"=BVB_PHASE(assumptions,$A{r},{col}${rm + 1})", GENERAL)
    name(wb, "out_roadmap", f"Outputs!$A${rm + 2}:$F${rm + 4}")
    name(wb, "out_reasons", f"Outputs!$B${r0 + 1}:$D${r0 + REASON_ROWS}")
    layout.rows["outputs_last"] = rm + 4


def add_charts(wb: Any, layout: Layout) -> None:
    """Cumulative cost per option by month (break-even where lines cross); annual cost against volume."""
    ws = wb["Outputs"]
    calc = wb["Calculations"]
    line = LineChart()
    line.title = "Cumulative cost by month (lines cross at break-even)"
    line.y_axis.title = "USD"
    line.x_axis.title = "Month"
    line.height, line.width = 9, 18
    for option in OPTIONS:
        r = layout.rows[f"cumulative:{option}"]
        s = Series(Reference(calc, min_col=FIRST_MONTH_COL, max_col=LAST_MONTH_COL, min_row=r), title=option)
        s.graphicalProperties.line.solidFill = COLOURS[OPTIONS.index(option)]
        s.smooth = False
        line.series.append(s)
    line.set_categories(Reference(calc, min_col=FIRST_MONTH_COL, max_col=LAST_MONTH_COL, min_row=7))
    line.x_axis.tickLblSkip = 6
    below = layout.rows["outputs_last"] + 3
    put(ws, f"A{below - 1}", "Charts", "Section")
    ws.add_chart(line, f"A{below}")

    sens = wb["Sensitivity"]
    first, last = layout.rows["sens_volume_first"], layout.rows["sens_volume_last"]
    scatter = ScatterChart()
    scatter.title = "Annual cost against volume"
    scatter.x_axis.title = "Requests per day"
    scatter.y_axis.title = "USD/year"
    scatter.height, scatter.width = 9, 18
    xs = Reference(sens, min_col=3, min_row=first, max_row=last)
    for j, option in enumerate(OPTIONS):
        ys = Reference(sens, min_col=4 + j, min_row=first, max_row=last)
        s = Series(ys, xs, title=option)
        s.marker.symbol = "circle"
        s.graphicalProperties.line.solidFill = COLOURS[j]
        s.marker.graphicalProperties.solidFill = COLOURS[j]
        s.marker.graphicalProperties.line.solidFill = COLOURS[j]
        scatter.series.append(s)
    ws.add_chart(scatter, f"E{layout.rows['outputs_last'] + 3}")
