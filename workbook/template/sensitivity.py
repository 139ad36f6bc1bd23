"""Sensitivity: annual run-rate cost per option as one input moves, computed by the engine cell by cell.

Volume (0.1x to 10x today's, even steps on a log scale), API price, ML headcount and GPU price. Excel what-if
data tables (TABLE) cannot be computed headless, so each cell is an explicit BVB_SENSITIVITY call.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from .common import OPTIONS, Layout, formula, header, put, title, widths
from .styles import COUNT, DECIMAL, MONEY

STEPS = 10
VOLUME_STEPS = 21


def _table(ws: Any, layout: Layout, top: int, key: str, heading: str, heads: tuple[str, str], steps: int,
           multiple: str, value: str, engine_key: str, value_fmt: str, engine_col: str = "C") -> int:
    """One sensitivity table at row ``top``; ``multiple`` (column B) and ``value`` (column C) are formula
    templates of ``{r}``; the engine takes column ``engine_col`` as the input's value.

    Returns the first free row below the table.
    """
    put(ws, f"A{top}", heading, "Section")
    head = top + 1
    header(ws, head, ["Step", *heads, *OPTIONS], numbers_from=1)
    ws.row_dimensions[head].height = 30
    for k in range(1, steps + 1):
        r = head + k
        formula(ws, f"A{r}", f"=ROW()-ROW($A${head})", "0")
        formula(ws, f"B{r}", multiple.format(r=r), DECIMAL)
        formula(ws, f"C{r}", value.format(r=r), value_fmt)
        for j in range(len(OPTIONS)):
            col = get_column_letter(4 + j)
            formula(ws, f"{col}{r}", f'=BVB_SENSITIVITY({col}${head},assumptions,"{engine_key}",${engine_col}{r})',
                    MONEY)
    layout.rows[f"sens_{key}_first"] = head + 1
    layout.rows[f"sens_{key}_last"] = head + steps
    return head + steps + 2


def _breakeven_marker(ws: Any, layout: Layout, top: int) -> int:
    """The API / FINE-TUNE break-even volume, and the two points of the vertical line that marks it on the
    volume chart (a zero-length line at today's volume when the two never cross)."""
    first, last = layout.rows["sens_volume_first"], layout.rows["sens_volume_last"]
    costs = f"$D${first}:$G${last}"
    put(ws, f"A{top}", "Break-even volume of FINE-TUNE against API (marked on the Outputs volume chart)", "Section")
    put(ws, f"B{top + 1}", "Break-even", "Label")
    put(ws, f"D{top + 1}", "requests/day", "Unit")
    formula(ws, f"C{top + 1}", '=IFERROR(BVB_BREAKEVEN_VOLUME(assumptions,"API","FINE-TUNE"),"never")', COUNT)
    formula(ws, f"A{top + 2}", f'=IF(ISNUMBER($C${top + 1}),"API / FINE-TUNE break-even: "&'
                               f'FIXED(ROUND($C${top + 1},0),0)&" requests/day","API and FINE-TUNE never break even")')
    put(ws, f"B{top + 3}", "Line bottom", "Label")
    formula(ws, f"C{top + 3}", f"=IF(ISNUMBER($C${top + 1}),$C${top + 1},rpd_effective)", COUNT)
    formula(ws, f"D{top + 3}", f"=MIN({costs})", MONEY)
    put(ws, f"B{top + 4}", "Line top", "Label")
    formula(ws, f"C{top + 4}", f"=C{top + 3}", COUNT)
    formula(ws, f"D{top + 4}", f"=IF(ISNUMBER($C${top + 1}),MAX({costs}),D{top + 3})", MONEY)
    layout.rows["sens_breakeven_first"] = top + 3
    return top + 6


def build(wb: Any, layout: Layout) -> None:
    """Add the Sensitivity sheet."""
    ws = wb.create_sheet("Sensitivity")
    title(ws, "Sensitivity", "Annual run-rate cost per option (USD/year) as one input moves, the others as on "
                             "Inputs; explicit engine calls (BVB_SENSITIVITY), not a data table.")
    widths(ws, {"A": 8, "B": 14, "C": 22, "D": 16, "E": 16, "F": 16, "G": 16})
    row = _table(ws, layout, 4, "volume", "Annual cost against volume (0.1x to 10x today's, log steps)",
                 ("Volume multiple", "Requests per day"), VOLUME_STEPS,
                 "=sensitivity_volume_low*(sensitivity_volume_high/sensitivity_volume_low)^(($A{r}-1)/"
                 "sensitivity_volume_steps)", "=rpd_effective*B{r}", "requests_per_day", COUNT)
    row = _breakeven_marker(ws, layout, row)
    ws.row_breaks.append(Break(id=row - 1))  # printed pages: volume; API price and headcount; GPU price
    # BVB_SENSITIVITY's "api_price_factor" scales both API prices by the multiple (column B).
    row = _table(ws, layout, row, "price", "Annual cost against API price (input and output prices scaled)",
                 ("Price multiple", "Input price (USD/1M tokens)"), STEPS, "=sensitivity_price_step*$A{r}",
                 "=api_input_usd_per_mtok*B{r}", "api_price_factor", DECIMAL, engine_col="B")
    row = _table(ws, layout, row, "headcount", "Annual cost against ML headcount (the biggest build cost)",
                 ("ML engineers (FTE)", "Change from Inputs (FTE)"), STEPS,
                 "=sensitivity_headcount_step*($A{r}-1)", "=B{r}-ml_engineers", "ml_engineers", DECIMAL,
                 engine_col="B")
    ws.row_breaks.append(Break(id=row - 1))
    _table(ws, layout, row, "gpu", "Annual cost against GPU price per hour",
           ("Price multiple", "GPU price (USD/GPU-hour)"), STEPS, "=sensitivity_price_step*$A{r}",
           "=gpu_usd_per_hour*B{r}", "gpu_usd_per_hour", DECIMAL)
    ws.freeze_panes = "A4"
