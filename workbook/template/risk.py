"""Risk: ranges on the inputs, then the Monte Carlo the engine runs in one call (P-table, tornado, histogram).

The top block is an input block (blue on yellow, blank in the template): one row per uncertain input with its
distribution, low, mode and high (or values and weights), and the base value read from the Inputs sheet beside
it; then the rank correlations and the number of draws and seed. Every figure below is a formula: a
``BVB_RISK_CELL`` / ``BVB_RISK`` call per cell that reads one cached Monte Carlo run (the engine draws all the
scenarios at once; the workbook is not recalculated per draw).
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference, Series
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from buildbuy.engine.uncertainty import DEFAULT_DRAWS, DEFAULT_SEED, DISTRIBUTIONS, HISTOGRAM_BINS, MAX_DRAWS

from .common import OPTIONS, Layout, formula, header, name, put, title, widths
from .styles import COUNT, DECIMAL, GENERAL, MONEY, RATE

#: Input values of any size: 18,953 / 2.19 / 0.008.
VALUE = "[>=1000]#,##0;[>=1]#,##0.00;0.000"
#: Rows of the ranges table (uncertain inputs).
RANGE_ROWS = 20
CORRELATION_ROWS = 6
#: Header words of the ranges table (the engine reads the table by these) and what each column holds.
RANGE_HEADS = [("input", "input name, as on Inputs"), ("dist", "pert (blank), triangular, uniform, lognormal, "
                                                              "discrete"),
               ("low", "low (P10 for lognormal)"), ("base", "base: the value on Inputs"),
               ("high", "high (P90 for lognormal)"), ("mode", "mode (blank = base)"),
               ("values", "values: 1; 2; 3 (discrete)"), ("weights", "weights: 1; 2; 1 (blank = equal)")]
P_COLUMNS = [("p_cheapest", "P(cheapest)", RATE), ("npv_p10", "NPV P10", MONEY), ("npv_p50", "NPV P50", MONEY),
             ("npv_p90", "NPV P90", MONEY), ("npv_mean", "NPV mean", MONEY), ("tco_p10", "TCO P10", MONEY),
             ("tco_p50", "TCO P50", MONEY), ("tco_p90", "TCO P90", MONEY)]
T_COLUMNS = [("input", "Input", GENERAL), ("low", "P10", VALUE), ("high", "P90", VALUE),
             ("change_at_low_usd", "Change at P10", MONEY), ("change_at_high_usd", "Change at P90", MONEY),
             ("swing_usd", "Swing", MONEY), ("rank_correlation", "Rank corr.", DECIMAL)]
H_COLUMNS = [("from_usd", "From (USD)", MONEY), ("to_usd", "To (USD)", MONEY), ("share", "Share of draws", RATE)]
ARGS = "risk_correlations,risk_draws,risk_seed"
#: Rows past the last tornado input or histogram bin show "-": LibreOffice reads a cached blank text result of a
#: function it does not know as #NAME?, a dash it shows as it is.
PAST_END = '"-"'



def build(wb: Any, layout: Layout) -> None:
    """Add the Risk sheet."""
    ws = wb.create_sheet("Risk")
    title(ws, "Risk", "Ranges on any input and the Monte Carlo over every option, computed by the engine in one "
                      "call (BVB_RISK_CELL); blue-on-yellow cells are inputs.")
    widths(ws, {"A": 30, "B": 14, "C": 16, "D": 16, "E": 16, "F": 16, "G": 16, "H": 16, "I": 16})

    put(ws, "A4", "Ranges: one row per uncertain input (blank rows are ignored; the base is the Inputs value)",
        "Section")
    head = 6
    for j, (word, label) in enumerate(RANGE_HEADS):
        put(ws, f"{get_column_letter(1 + j)}{head - 1}", label, "Unit")
        put(ws, f"{get_column_letter(1 + j)}{head}", word, "Header")
    first = head + 1
    last = first + RANGE_ROWS - 1
    dists = DataValidation(type="list", formula1='"' + ",".join(DISTRIBUTIONS) + '"', allow_blank=True,
                           errorTitle="Distribution", error="Choose one of: " + ", ".join(DISTRIBUTIONS))
    ws.add_data_validation(dists)
    for r in range(first, last + 1):
        for col in "ABCEFGH":
            put(ws, f"{col}{r}", None, "Input")
        formula(ws, f"D{r}", f'=IF(A{r}="","",BVB_INPUT(assumptions,A{r}))', VALUE)
        dists.add(f"B{r}")
    # The table the engine reads: the header words, then the rows.
    name(wb, "risk_ranges", f"Risk!$A${head}:$H${last}")
    layout.rows["risk_ranges_first"] = first

    top = last + 2
    put(ws, f"A{top}", "Rank correlations between uncertain inputs (1 = they move together exactly)", "Section")
    header(ws, top + 1, ["Input", "Input", "Rank correlation"])
    c_first = top + 2
    c_last = c_first + CORRELATION_ROWS - 1
    for r in range(c_first, c_last + 1):
        for col in "ABC":
            put(ws, f"{col}{r}", None, "Input")
    name(wb, "risk_correlations", f"Risk!$A${c_first}:$C${c_last}")

    s = c_last + 2
    put(ws, f"A{s}", "Draws", "Label")
    put(ws, f"B{s}", None, "Input", COUNT)
    put(ws, f"C{s}", f"draws (blank = {DEFAULT_DRAWS:,})", "Unit")
    name(wb, "risk_draws", f"Risk!$B${s}")
    put(ws, f"A{s + 1}", "Seed", "Label")
    put(ws, f"B{s + 1}", None, "Input", GENERAL)
    put(ws, f"C{s + 1}", f"whole number (blank = {DEFAULT_SEED}); same seed, same numbers", "Unit")
    name(wb, "risk_seed", f"Risk!$B${s + 1}")
    for ref, lo, hi, what in ((f"B{s}", 10, MAX_DRAWS, "draws"), (f"B{s + 1}", 0, 2**31 - 1, "seed")):
        dv = DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True,
                            errorTitle=what, error=f"A whole number in [{lo:,}, {hi:,}], or blank for the default.")
        ws.add_data_validation(dv)
        dv.add(ref)

    r = s + 3
    put(ws, f"A{r}", "Result", "Section")
    summary = [("Under the ranges", "sentence", "text", GENERAL),
               ("Base-case answer", "base_recommendation", "option", GENERAL),
               ("Runner-up at base", "runner_up", "option", GENERAL),
               ("Recommendation differs from the base case", "p_recommendation_differs", "share of draws", RATE),
               ("NPV difference, answer minus runner-up, P10", "npv_difference_p10", "USD", MONEY),
               ("NPV difference, P50", "npv_difference_p50", "USD", MONEY),
               ("NPV difference, P90", "npv_difference_p90", "USD", MONEY),
               ("Draws", "draws", "draws", COUNT),
               ("Seed", "seed", "seed", GENERAL)]
    for i, (label, stat, unit, fmt) in enumerate(summary, 1):
        put(ws, f"A{r + i}", label, "Label")
        put(ws, f"B{r + i}", unit, "Unit")
        formula(ws, f"C{r + i}", f'=BVB_RISK(assumptions,risk_ranges,"{stat}",{ARGS})', fmt)
        if stat == "sentence":
            name(wb, "risk_sentence", f"Risk!$C${r + i}")
    r += len(summary) + 2

    p_first, _ = _risk_table(ws, r, "P-table: share of draws in which each option is the cheapest feasible one; "
                                    "NPV and TCO percentiles (USD)", "Option", "p_table", P_COLUMNS, OPTIONS, False)
    r = p_first + len(OPTIONS) + 1
    t_first, t_last = _risk_table(ws, r, "Tornado: change of the NPV difference (answer minus runner-up) as each "
                                         "input moves from its P10 to its P90, others at base; rank correlation "
                                         "over all draws", "#", "tornado", T_COLUMNS, [None] * RANGE_ROWS, True)
    r = t_last + 2
    h_first, h_last = _risk_table(ws, r, "Histogram of the NPV difference (answer minus runner-up) over all draws",
                                  "#", "histogram", H_COLUMNS, [None] * HISTOGRAM_BINS, True)
    ws.freeze_panes = "A4"
    _charts(ws, t_first, t_last, h_first, h_last)


def _risk_table(ws: Any, r: int, section: str, first_head: str, table: str, columns: Any, labels: list[Any],
                past_end: bool) -> tuple[int, int]:
    """One table of the Monte Carlo at row ``r``: its section title, header and key rows, then a row per label
    (a label, or None for a row number) with a BVB_RISK_CELL per column. Returns its first and last rows."""
    put(ws, f"A{r}", section, "Section")
    header(ws, r + 1, [first_head, *(label for _, label, _ in columns)])
    put(ws, f"A{r + 2}", "key", "Unit")
    for j, (key, _, _) in enumerate(columns):
        put(ws, f"{get_column_letter(2 + j)}{r + 2}", key, "Unit")
    first = r + 3
    tail = f",{PAST_END}" if past_end else ""
    for k, label in enumerate(labels):
        row = first + k
        if label is None:
            formula(ws, f"A{row}", f"=ROW()-ROW($A${r + 2})", "0")
        else:
            put(ws, f"A{row}", label, "Label")
        for j, (_, _, fmt) in enumerate(columns):
            col = get_column_letter(2 + j)
            formula(ws, f"{col}{row}", f'=BVB_RISK_CELL(assumptions,risk_ranges,"{table}",$A{row},{col}${r + 2},'
                                       f"{ARGS}{tail})", fmt)
    return first, first + len(labels) - 1


def _charts(ws: Any, t_first: int, t_last: int, h_first: int, h_last: int) -> None:
    tornado = BarChart()
    tornado.type = "bar"
    tornado.grouping = "clustered"
    tornado.overlap = 100
    tornado.title = "Tornado: change of the NPV difference, input at P10 and at P90 (USD)"
    tornado.height, tornado.width = 10, 18
    for col, label, colour in ((5, "Input at P10", "1F77B4"), (6, "Input at P90", "D62728")):
        s = Series(Reference(ws, min_col=col, min_row=t_first, max_row=t_last), title=label)
        s.graphicalProperties.solidFill = colour
        s.graphicalProperties.line.solidFill = colour
        tornado.series.append(s)
    tornado.set_categories(Reference(ws, min_col=2, min_row=t_first, max_row=t_last))
    tornado.y_axis.title = "USD"
    tornado.x_axis.scaling.orientation = "maxMin"  # largest swing on top
    ws.add_chart(tornado, f"K{t_first - 2}")

    hist = BarChart()
    hist.type = "col"
    hist.gapWidth = 10
    hist.title = "NPV difference (answer minus runner-up) over all draws"
    hist.height, hist.width = 10, 18
    s = Series(Reference(ws, min_col=4, min_row=h_first, max_row=h_last), title="Share of draws")
    s.graphicalProperties.solidFill = "1F3864"
    hist.series.append(s)
    hist.set_categories(Reference(ws, min_col=2, min_row=h_first, max_row=h_last))
    hist.x_axis.title = "USD (bin start)"
    hist.y_axis.title = "Share of draws"
    hist.legend = None
    ws.add_chart(hist, f"K{h_first - 2}")
