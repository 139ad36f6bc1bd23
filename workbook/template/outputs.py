"""Outputs: the answer and its price on top, then the options side by side, the cost breakdown, cost by year,
the roadmap, three charts and the reasons behind the recommendation.

Every value is a formula. Figures sit right-aligned under right-aligned headers; every figure has its unit and
its definition beside it.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from buildbuy.engine.model import LINE_ITEMS
from buildbuy.engine.report import COMPARE_COLUMNS, DEFINITIONS
from buildbuy.udfs.registry import REGISTRY

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
from .styles import COUNT, DECIMAL, GENERAL, MONEY, MONEY_4DP

#: The options table: (label, unit, engine key, number format, definition). Rows whose key the engine does not
#: report are left out, so the table follows the engine.
METRICS = [
    ("Feasible", "yes/no", "feasible", GENERAL, "Meets every hard constraint (residency, latency, budget, model fit)"),
    ("Annual run-rate today", "USD/year", "annual_cost_usd", MONEY, None),
    ("Run-rate at the horizon's end", "USD/year", "run_rate_end_usd", MONEY,
     "The same run-rate at the volume and API prices of the horizon's last month"),
    ("Total cost of ownership (cash)", "USD", "tco_usd", MONEY, "Sum of the monthly costs over the horizon"),
    ("NPV of costs", "USD", "npv_usd", MONEY, "Monthly costs discounted at the discount rate (end of month)"),
    ("First-year cost", "USD", "year1_cost_usd", MONEY, "Sum of the costs of months 1 to 12"),
    ("Cost over the horizon, P&L view", "USD", "pnl_tco_usd", MONEY,
     "The TCO with bought GPUs as depreciation instead of cash"),
    ("Hardware purchases (capex)", "USD", "capex_usd", MONEY, "Cash for GPUs bought over the horizon"),
    ("Depreciation over the horizon", "USD", "depreciation_usd", MONEY,
     "Straight line: (price - residual value) / useful life, per GPU owned"),
    ("Cost per 1M tokens", "USD/1M tokens", "cost_per_mtok_usd", DECIMAL, "TCO per million tokens processed"),
    ("Cost per request", "USD/request", "cost_per_request_usd", MONEY_4DP, "TCO per request served"),
    ("Serving GPUs at the horizon's end", "GPUs", "serving_gpus", COUNT,
     "GPUs running for the peak load in the horizon's last month"),
    ("GPUs per model replica", "GPUs", "gpus_per_replica", COUNT,
     "GPUs one copy of the served model spans so that weights and KV cache fit"),
    ("Training GPU-hours (one run)", "GPU-hours", "training_gpu_hours", COUNT, "GPU-hours of one pre-training run"),
    ("Training run wall-clock", "months", "training_run_months", DECIMAL, "Months one pre-training run takes"),
    ("Latency", "ms", "latency_ms", COUNT, "Latency of the option's main serving path"),
    ("Meets the latency requirement", "yes/no", "meets_latency", GENERAL, "Latency at or below the requirement"),
    ("Break-even month against API", "month", "breakeven_month_vs_api", DECIMAL, None),
    ("Lasting break-even month against API", "month", "lasting_breakeven_month_vs_api", DECIMAL, None),
    ("Break-even volume against API", "requests/day", "breakeven_volume_vs_api", COUNT, None),
    ("Rent-or-buy break-even", "GPU-hours", "rent_vs_buy_breakeven_hours", COUNT, None),
]
TEXT_METRICS = ("feasible", "meets_latency")
REASON_ROWS = 20
#: The Risk sheet's named inputs a Monte Carlo call takes after the ranges.
RISK_ARGS = "risk_correlations,risk_draws,risk_seed"
#: One colour and one dash per option in every chart: API, FINE-TUNE, TRAIN, PHASED.
COLOURS = ("1F77B4", "D62728", "2CA02C", "9467BD")
DASHES = ("solid", "dash", "sysDot", "lgDashDot")
MARKERS = ("circle", "triangle", "square", "diamond")
#: Line-item colours of the stacked bar chart.
ITEM_COLOURS = ("1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F", "BCBD22",
                "17BECF", "AEC7E8", "FFBB78", "98DF8A", "FF9896")
#: Characters per line of the wrapped definition column.
DEFINITION_CHARS = 64
#: Text as it is, zero as nothing (rows past the last reason).
HIDE_ZERO = 'General;-General;;@'
RIGHT = Alignment(horizontal="right", vertical="top")
WRAP = Alignment(wrap_text=True, vertical="top")
#: Rows kept free for a chart anchored on the sheet (a 9 cm chart over 20-point rows).
CHART_ROWS = 21
#: Height and width of each chart (cm): two side by side fill the printed width of the sheet.
CHART_CM = (10, 18.5)


def _slug(option: str) -> str:
    return option.lower().replace("-", "_")


def _has(fn: str) -> bool:
    return fn in REGISTRY


def build(wb: Any, layout: Layout) -> None:
    """Add the Outputs sheet."""
    ws = wb.create_sheet("Outputs")
    title(ws, "Outputs", "The answer and its price, the options side by side, what the cost is made of, and why. "
                         "No typed numbers: every value is a formula.")
    widths(ws, {"A": 40, "B": 15, "C": 24, "D": 16, "E": 16, "F": 16, "G": 16, "H": 58})
    row = _top_block(wb, ws, layout, 4)
    row = _options_table(wb, ws, layout, row + 1)
    ws.row_breaks.append(Break(id=row))  # printed: the answer and the options; then what the costs are made of
    row = _line_item_table(wb, ws, layout, row + 1)
    row = _year_table(wb, ws, layout, row + 1)
    row = _roadmap(wb, ws, layout, row + 1)
    layout.rows["charts_top"] = row + 1
    row = row + 2 + 2 * CHART_ROWS + 2
    _reasons(wb, ws, layout, row)
    ws.freeze_panes = "A4"


def _top_block(wb: Any, ws: Any, layout: Layout, r: int) -> int:
    put(ws, f"A{r}", "Recommended option", "Section")
    formula(ws, f"C{r}", "=BVB_RECOMMEND(assumptions)")
    ws[f"C{r}"].font = Font(name="Calibri", size=14, bold=True, color="008000")
    name(wb, "out_recommendation", f"Outputs!$C${r}")
    r += 1
    if _has("BVB_CHEAPEST"):
        put(ws, f"A{r}", "Cheapest feasible option (lowest NPV of costs)", "Label")
        formula(ws, f"C{r}", "=BVB_CHEAPEST(assumptions)")
        ws[f"C{r}"].font = Font(name="Calibri", size=12, bold=True)
        name(wb, "out_cheapest_feasible", f"Outputs!$C${r}")
        r += 1
    if _has("BVB_PREMIUM"):
        put(ws, f"A{r}", "Premium of the recommendation over the cheapest", "Label")
        put(ws, f"B{r}", "USD (NPV)", "Unit")
        formula(ws, f"C{r}", '=BVB_PREMIUM(assumptions,"NPV")', MONEY)
        formula(ws, f"D{r}", '=BVB_PREMIUM(assumptions,"RATIO")', '0.00"x"')
        ws[f"D{r}"].alignment = RIGHT
        put(ws, f"E{r}", "times the cheapest", "Unit")
        name(wb, "out_premium_usd", f"Outputs!$C${r}")
        r += 1
        put(ws, f"A{r}", "Premium over the horizon, undiscounted", "Label")
        put(ws, f"B{r}", "USD (TCO)", "Unit")
        formula(ws, f"C{r}", '=BVB_PREMIUM(assumptions,"TCO")', MONEY)
        r += 1
    if _has("BVB_DECISION_SENTENCE"):
        put(ws, f"A{r}", "In words", "Label")
        formula(ws, f"B{r}", "=BVB_DECISION_SENTENCE(assumptions)")
        ws.merge_cells(f"B{r}:H{r}")
        ws[f"B{r}"].alignment = WRAP
        ws.row_dimensions[r].height = 32
        r += 1
    if _has("BVB_DECIDING_RULES"):
        put(ws, f"A{r}", "Rules that decided it", "Label")
        formula(ws, f"B{r}", "=BVB_DECIDING_RULES(assumptions)")
        ws.merge_cells(f"B{r}:H{r}")
        ws[f"B{r}"].alignment = WRAP
        r += 1
    if _has("BVB_RISK_CELL"):  # the Risk sheet's Monte Carlo over its input ranges
        put(ws, f"A{r}", "Probability the recommendation is the cheapest", "Label")
        put(ws, f"B{r}", "share of draws", "Unit")
        formula(ws, f"C{r}", f'=BVB_RISK_CELL(assumptions,risk_ranges,"p_table",$C$4,"p_cheapest",{RISK_ARGS})',
                "0%")
        ws[f"C{r}"].alignment = Alignment(horizontal="left", vertical="top")
        put(ws, f"D{r}", "Share of the Risk sheet's draws in which it is the cheapest feasible option", "Note")
        name(wb, "out_p_cheapest", f"Outputs!$C${r}")
        r += 1
        put(ws, f"A{r}", "Under the input ranges (Risk sheet)", "Label")
        formula(ws, f"B{r}", "=risk_sentence")
        ws.merge_cells(f"B{r}:H{r}")
        ws[f"B{r}"].alignment = WRAP
        r += 1
    put(ws, f"A{r}", "Data moat litmus test", "Label")
    put(ws, f"B{r}", "score / 4", "Unit")
    moat = "data_proprietary,data_growing,data_labeled,data_perishable"
    formula(ws, f"C{r}", f"=BVB_MOAT_SCORE({moat})", GENERAL)
    ws[f"C{r}"].alignment = Alignment(horizontal="left", vertical="top")
    formula(ws, f"D{r}", f"=BVB_MOAT_VERDICT({moat})", GENERAL)
    ws[f"D{r}"].alignment = RIGHT
    name(wb, "out_moat_score", f"Outputs!$C${r}")
    name(wb, "out_moat_verdict", f"Outputs!$D${r}")
    return r + 1


def _definition(key: str, text: str | None) -> str:
    """A figure's definition: the engine's own where it has one ("-" in the table: it does not exist)."""
    if key in DEFINITIONS:
        text = DEFINITIONS[key][:1].upper() + DEFINITIONS[key][1:]
        if key.startswith("breakeven") or key.startswith("lasting") or key.startswith("rent"):
            text += " ('-': none)"
    return text or ""


def _options_table(wb: Any, ws: Any, layout: Layout, r: int) -> int:
    reported = {k for k, _, _ in COMPARE_COLUMNS}
    metrics = [(label, unit, key, fmt, _definition(key, text)) for label, unit, key, fmt, text in METRICS
               if key in reported]
    put(ws, f"A{r}", "The options side by side", "Section")
    r += 1
    head = r
    header(ws, head, ["Figure", "Unit", "Key", *OPTIONS, "Definition"], numbers_from=3)
    ws[f"H{head}"].style = "Header"
    layout.rows["options_header"] = head
    first = head + 1
    for i, (label, unit, key, fmt, definition) in enumerate(metrics):
        r = first + i
        put(ws, f"A{r}", label, "Label")
        put(ws, f"B{r}", unit, "Unit")
        put(ws, f"C{r}", key, "Unit")
        put(ws, f"H{r}", definition, "Wrapped")
        ws[f"H{r}"].alignment = Alignment(wrap_text=True, vertical="top", indent=1)
        for j, option in enumerate(OPTIONS):
            col = get_column_letter(4 + j)
            call = f"BVB_METRIC({col}${head},assumptions,$C{r})"
            if key in ("feasible", "meets_latency"):  # text: a cached TRUE/FALSE of an unknown function is #NAME? in LO
                text = f'=IF({call},"yes","no")'
            else:
                text = f'=IF(ISNA({call}),"-",{call})'
            formula(ws, f"{col}{r}", text, fmt)
            ws[f"{col}{r}"].alignment = RIGHT
            name(wb, f"out_{key}_{_slug(option)}", f"Outputs!${col}${r}")
        layout.rows[f"metric:{key}"] = r
        lines = -(-len(definition) // DEFINITION_CHARS)
        if lines > 1:
            ws.row_dimensions[r].height = 14 * lines
    last = first + len(metrics) - 1
    if _has("BVB_SCORE"):
        last += 1
        r = last
        put(ws, f"A{r}", "Strategic score (the article's rules)", "Label")
        put(ws, f"B{r}", "points", "Unit")
        put(ws, f"H{r}", "Points of the reasons below that support the layer (PHASED follows its phases)", "Wrapped")
        for j, option in enumerate(OPTIONS):
            col = get_column_letter(4 + j)
            text = f"=BVB_SCORE(assumptions,{col}${head})" if option != "PHASED" else '="-"'
            formula(ws, f"{col}{r}", text, GENERAL)
            ws[f"{col}{r}"].alignment = RIGHT
    layout.rows["metrics_first"] = first
    layout.rows["metrics_last"] = last
    if "metric:feasible" in layout.rows:  # an infeasible option's column turns red, its reason in the table
        flag = layout.rows["metric:feasible"]
        ws.conditional_formatting.add(f"D{first}:G{last}", FormulaRule(
            formula=[f'D${flag}="no"'], fill=PatternFill("solid", fgColor="FFC7CE"), font=Font(color="9C0006")))
        last = _ruled_out(wb, ws, layout, last + 1, head, flag)
    return last + 1


def _ruled_out(wb: Any, ws: Any, layout: Layout, r: int, head: int, flag: int) -> int:
    """Why each infeasible option is ruled out, in full (the constraints it breaks, with their rule ids)."""
    if not _has("BVB_INFEASIBLE_BECAUSE"):
        return r - 1
    put(ws, f"A{r}", "Options ruled out by a hard constraint (red above)", "Label")
    ws[f"A{r}"].font = Font(name="Calibri", size=11, bold=True)
    for j, option in enumerate(OPTIONS):
        r += 1
        col = get_column_letter(4 + j)
        put(ws, f"B{r}", option, "Label")
        # "feasible" when it is: a cached blank text shows as #NAME? in LibreOffice
        formula(ws, f"C{r}", f'=IF({col}${flag}="yes","feasible",BVB_INFEASIBLE_BECAUSE(assumptions,{col}${head}))')
        ws.merge_cells(f"C{r}:H{r}")
        ws[f"C{r}"].alignment = WRAP
        ws.row_dimensions[r].height = 30
        name(wb, f"out_infeasible_because_{_slug(option)}", f"Outputs!$C${r}")
    return r


def _line_item_table(wb: Any, ws: Any, layout: Layout, r: int) -> int:
    put(ws, f"A{r}", "Cost by line item over the horizon (TCO, USD)", "Section")
    r += 1
    head = r
    header(ws, head, ["Line item", "Unit", "Key", *OPTIONS], numbers_from=3)
    first = head + 1
    for i, key in enumerate(LINE_ITEMS):
        r = first + i
        put(ws, f"A{r}", item_label(key), "Label")
        put(ws, f"B{r}", "USD", "Unit")
        put(ws, f"C{r}", key, "Unit")
        for j, option in enumerate(OPTIONS):
            col = get_column_letter(4 + j)
            src = layout.rows.get(f"item:{option}:{key}")
            if src is not None:  # an option without this line item leaves its cell empty (not part of it)
                formula(ws, f"{col}{r}", f"=Calculations!$D${src}", MONEY)
    last = first + len(LINE_ITEMS) - 1
    r = last + 1
    put(ws, f"A{r}", "Total (= TCO)", "Label")
    put(ws, f"B{r}", "USD", "Unit")
    for j in range(len(OPTIONS)):
        col = get_column_letter(4 + j)
        formula(ws, f"{col}{r}", f"=SUM({col}{first}:{col}{last})", MONEY)
        ws[f"{col}{r}"].font = Font(name="Calibri", size=11, bold=True)
    layout.rows["items_header"] = head
    layout.rows["items_first"] = first
    layout.rows["items_last"] = last
    return r + 1


def _year_table(wb: Any, ws: Any, layout: Layout, r: int) -> int:
    put(ws, f"A{r}", "Cost by year (within the horizon, USD)", "Section")
    r += 1
    head = r
    header(ws, head, ["Year", "Unit", "Year number", *OPTIONS], numbers_from=2)
    years = -(-(LAST_MONTH_COL - FIRST_MONTH_COL + 1) // 12)
    year_row = layout.rows["year"]
    for y in range(1, years + 1):
        r = head + y
        put(ws, f"A{r}", f"Year {y}", "Label")
        put(ws, f"B{r}", "USD", "Unit")
        formula(ws, f"C{r}", f"=ROW()-ROW($C${head})", "0")
        ws[f"C{r}"].alignment = RIGHT
        for j, option in enumerate(OPTIONS):
            col = get_column_letter(4 + j)
            flows = layout.rows[f"in_horizon:{option}"]
            formula(ws, f"{col}{r}", f"=SUMIFS(Calculations!${FIRST_MONTH}${flows}:${LAST_MONTH}${flows},"
                                     f"Calculations!${FIRST_MONTH}${year_row}:${LAST_MONTH}${year_row},$C{r})",
                    MONEY)
    return r + 1


def _roadmap(wb: Any, ws: Any, layout: Layout, r: int) -> int:
    put(ws, f"A{r}", "Phased roadmap (the article's hybrid pattern)", "Section")
    head = r + 1
    header(ws, head, ["Phase", "Layer", "Status", "Start month", "End month", "", "", "Actions"])
    ws[f"D{head}"].style = "HeaderNumber"
    ws[f"E{head}"].style = "HeaderNumber"
    fields = {"B": "layer", "C": "status", "D": "start_month", "E": "end_month", "H": "actions"}
    for k in range(1, 4):
        r = head + k
        formula(ws, f"A{r}", f"=ROW()-ROW($A${head})", "0")
        ws[f"A{r}"].alignment = Alignment(horizontal="left", vertical="top")
        for col, field in fields.items():
            formula(ws, f"{col}{r}", f'=BVB_PHASE(assumptions,$A{r},"{field}")', GENERAL)
            ws[f"{col}{r}"].alignment = RIGHT if col in "DE" else WRAP
        ws.row_dimensions[r].height = 45
    name(wb, "out_roadmap", f"Outputs!$A${head + 1}:$H${head + 3}")
    return head + 4


def _reasons(wb: Any, ws: Any, layout: Layout, r0: int) -> None:
    """Reasons and warnings: rule id, kind, the option a reason supports, its points, the sentence.

    Rows past the scenario's last finding hold 0, which the number format prints as nothing: a cached empty
    text would make LibreOffice recompute the cell (and show #NAME? for a BVB function it does not have).
    """
    put(ws, f"A{r0 - 1}", "Why: the reasons and warnings behind the recommendation", "Section")
    header(ws, r0, ["Rule id", "Kind", "Supports", "Points", "Sentence"])
    ws[f"D{r0}"].alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(f"E{r0}:H{r0}")
    for k in range(1, REASON_ROWS + 1):
        r = r0 + k
        n = f"ROW()-ROW($A${r0})"
        formula(ws, f"A{r}", f'=BVB_REASON(assumptions,{n},"rule_id",0)', HIDE_ZERO)
        formula(ws, f"B{r}", f'=BVB_REASON(assumptions,{n},"kind",0)', HIDE_ZERO)
        # supports and points exist for reasons only: "-" for other findings, nothing past the last one
        pick = f'CHOOSE(1+ISTEXT(B{r})+(B{r}="reason")'
        formula(ws, f"C{r}", f'={pick},0,"-",BVB_REASON(assumptions,{n},"supports",0))', HIDE_ZERO)
        formula(ws, f"D{r}", f'={pick},-1,"-",BVB_REASON(assumptions,{n},"weight",-1))', "0;;0;@")
        ws[f"D{r}"].alignment = Alignment(horizontal="center", vertical="top")
        formula(ws, f"E{r}", f'=BVB_REASON(assumptions,{n},"sentence",0)', HIDE_ZERO)
        ws.merge_cells(f"E{r}:H{r}")
        ws[f"E{r}"].alignment = Alignment(wrap_text=True, vertical="top", indent=1)
        ws.row_dimensions[r].height = 42  # up to three lines of a sentence
    name(wb, "out_reasons", f"Outputs!$A${r0 + 1}:$E${r0 + REASON_ROWS}")
    layout.rows["reasons_first"] = r0 + 1
    layout.rows["outputs_last"] = r0 + REASON_ROWS


def _style_series(s: Series, j: int, markers: bool) -> None:
    s.graphicalProperties.line.solidFill = COLOURS[j]
    s.graphicalProperties.line.dashStyle = DASHES[j]
    s.graphicalProperties.line.width = 28575  # 2.25 pt
    s.smooth = False
    if markers:
        s.marker.symbol = MARKERS[j]
        s.marker.size = 6
        s.marker.graphicalProperties.solidFill = COLOURS[j]
        s.marker.graphicalProperties.line.solidFill = COLOURS[j]
    else:
        s.marker.symbol = "none"


def _title(text: str) -> Title:
    """A chart title in 12-point bold (the default 18-point title crowds a 9 cm chart)."""
    font = CharacterProperties(sz=1200, b=True)
    rich = RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])])
    return Title(tx=Text(rich=rich), overlay=False)


def add_charts(wb: Any, layout: Layout) -> None:
    """Cost by line item (stacked bars), cumulative cost over the horizon, annual cost against volume."""
    ws = wb["Outputs"]
    top = layout.rows["charts_top"]
    put(ws, f"A{top}", "Charts", "Section")
    ws.row_breaks.append(Break(id=top - 1))  # the charts start a printed page, the reasons the next one
    ws.row_breaks.append(Break(id=layout.rows["reasons_first"] - 3))

    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.title = _title("What each option costs over the horizon, by line item (USD)")
    bars.y_axis.title = "USD over the horizon"
    bars.height, bars.width = CHART_CM
    head, first, last = layout.rows["items_header"], layout.rows["items_first"], layout.rows["items_last"]
    for i, r in enumerate(range(first, last + 1)):
        s = Series(Reference(ws, min_col=4, max_col=7, min_row=r), title_from_data=False)
        s.tx = SeriesLabel(strRef=StrRef(f"'Outputs'!$A${r}"))
        s.graphicalProperties.solidFill = ITEM_COLOURS[i % len(ITEM_COLOURS)]
        s.graphicalProperties.line.solidFill = ITEM_COLOURS[i % len(ITEM_COLOURS)]
        bars.series.append(s)
    names = AxDataSource(strRef=StrRef(f"'Outputs'!$D${head}:$G${head}"))  # text categories: the options
    for s in bars.series:
        s.cat = names
    bars.legend.position = "r"
    bars.x_axis.delete = False
    bars.y_axis.delete = False
    ws.add_chart(bars, f"A{top + 1}")

    calc = wb["Calculations"]
    line = ScatterChart()
    line.title = _title("Cumulative cost per option, month by month over the horizon (USD)")
    line.style = 13
    line.y_axis.title = "Cumulative cost, USD"
    line.x_axis.title = "Month (ends at the horizon)"
    line.height, line.width = CHART_CM
    xs = Reference(calc, min_col=FIRST_MONTH_COL, max_col=LAST_MONTH_COL, min_row=layout.rows["chart_month"])
    for j, option in enumerate(OPTIONS):
        r = layout.rows[f"cumulative:{option}"]
        s = Series(Reference(calc, min_col=FIRST_MONTH_COL, max_col=LAST_MONTH_COL, min_row=r), xs, title=option)
        _style_series(s, j, markers=False)
        line.series.append(s)
    line.x_axis.scaling.min = 0
    line.x_axis.delete = False
    line.y_axis.delete = False
    line.legend.position = "b"
    ws.add_chart(line, f"E{top + 1}")

    sens = wb["Sensitivity"]
    first, last = layout.rows["sens_volume_first"], layout.rows["sens_volume_last"]
    scatter = ScatterChart()
    scatter.title = _title("Annual run-rate cost against volume, 0.1x to 10x today's, break-even marked (USD/year)")
    scatter.style = 13
    scatter.x_axis.title = "Requests per day (log scale)"
    scatter.y_axis.title = "USD/year"
    scatter.height, scatter.width = CHART_CM
    xs = Reference(sens, min_col=3, min_row=first, max_row=last)
    for j, option in enumerate(OPTIONS):
        ys = Reference(sens, min_col=4 + j, min_row=first, max_row=last)
        s = Series(ys, xs, title=option)
        _style_series(s, j, markers=True)
        scatter.series.append(s)
    mark = layout.rows["sens_breakeven_first"]
    be = Series(Reference(sens, min_col=4, min_row=mark, max_row=mark + 1),
                Reference(sens, min_col=3, min_row=mark, max_row=mark + 1), title_from_data=False)
    be.tx = SeriesLabel(strRef=StrRef(f"'Sensitivity'!$A${mark - 1}"))
    be.graphicalProperties.line.solidFill = "000000"
    be.graphicalProperties.line.dashStyle = "sysDash"
    be.marker.symbol = "none"
    scatter.series.append(be)
    scatter.x_axis.scaling.logBase = 10
    scatter.x_axis.number_format = "#,##0"
    scatter.x_axis.delete = False
    scatter.y_axis.delete = False
    scatter.legend.position = "r"
    ws.add_chart(scatter, f"A{top + 1 + CHART_ROWS}")
