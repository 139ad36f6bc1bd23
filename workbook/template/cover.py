"""Cover: purpose, how to use, version history, price as-of date, colour key, contents, caveats."""

from __future__ import annotations

from typing import Any

from buildbuy.engine import __version__, default_catalog

from .common import Layout, formula, put, widths

CONTENTS = [
    ("Cover", "This page: purpose, use, version, colour key"),
    ("Inputs", "Every input with unit, default, source; named with the engine's input names"),
    ("Prices", "The bundled price catalog, dated and sourced"),
    ("Calculations", "Monthly timeline per option: line items, totals, cumulative cost"),
    ("Outputs", "Recommendation, options side by side, reasons, warnings, roadmap, charts"),
    ("Sensitivity", "Annual cost against volume and against API price"),
    ("Risk", "Ranges on inputs; Monte Carlo P(cheapest), P10/P50/P90, tornado and histogram"),
    ("Checks", "Engine against native recomputations; input sanity; the master check"),
    ("xlwings.conf", "Tells the xlwings add-in where the BVB_* functions live"),
]
VERSIONS = [("0.1.0", "2026-11-25", "First template: four options, 60-month timeline, checks, sensitivity")]


def build(wb: Any, layout: Layout) -> None:
    """Add the Cover sheet."""
    ws = wb.active
    ws.title = "Cover"
    widths(ws, {"A": 24, "B": 20, "C": 90})
    put(ws, "A1", "buildbuy: should we buy an AI model API, fine-tune and self-host, or train our own?", "Title")
    put(ws, "A2", "Purpose", "Section")
    put(ws, "B2", "Costs, TCO, NPV, break-evens and an explainable recommendation a CFO can audit.", "Label")
    formula(ws, "E2", "=check_total")
    ws["E2"].style = "Check"
    put(ws, "F2", "Master check (0 = all checks pass)", "Unit")
    put(ws, "A4", "How to use", "Section")
    steps = [
        "Change the blue-on-yellow cells on Inputs (or fill them with `buildbuy fill scenario.toml`).",
        "In Excel with the xlwings add-in (UDF Modules = buildbuy.udfs) the BVB_* functions recalculate live.",
        "Without Excel: `buildbuy recalc book.xlsx` computes every formula and stores the values in the file.",
        "Read Outputs: the recommendation, the options side by side, the reasons and the roadmap.",
        "Checks must total 0: each compares the engine with a native Excel recomputation.",
    ]
    for i, text in enumerate(steps):
        put(ws, f"B{5 + i}", f"Step {i + 1}", "Label")
        put(ws, f"C{5 + i}", text, "Note")
    r = 11
    put(ws, f"A{r}", "Version", "Section")
    put(ws, f"B{r}", __version__, "Label")
    put(ws, f"A{r + 1}", "Prices as of", "Label")
    put(ws, f"B{r + 1}", default_catalog().as_of(), "Label")
    put(ws, f"C{r + 1}", "Newest row of the bundled catalog; every row carries its own date and source (Prices).",
        "Note")
    put(ws, f"A{r + 2}", "Currency", "Label")
    formula(ws, f"B{r + 2}", "=currency")
    r = 15
    put(ws, f"A{r}", "Colour key", "Section")
    key = [("Input", "Input: a value you may change"), ("Calc", "Calculation: a formula on the same sheet"),
           ("Link", "Link: a formula reading another sheet or a named input"), ("Check", "Check: 0 when all is well"),
           ("Header", "Header")]
    for i, (style, text) in enumerate(key):
        put(ws, f"B{r + 1 + i}", style, style)
        put(ws, f"C{r + 1 + i}", text, "Note")
    r = 22
    put(ws, f"A{r}", "Contents", "Section")
    for i, (sheet, text) in enumerate(CONTENTS):
        put(ws, f"B{r + 1 + i}", sheet, "Label")
        ws[f"B{r + 1 + i}"].hyperlink = f"#'{sheet}'!A1"
        put(ws, f"C{r + 1 + i}", text, "Note")
    r = 32
    put(ws, f"A{r}", "Version history", "Section")
    put(ws, f"A{r + 1}", "Version", "Header")
    put(ws, f"B{r + 1}", "Date", "Header")
    put(ws, f"C{r + 1}", "What changed", "Header")
    for i, (version, date, change) in enumerate(VERSIONS):
        put(ws, f"A{r + 2 + i}", version, "Label")
        put(ws, f"B{r + 2 + i}", date, "Label")
        put(ws, f"C{r + 2 + i}", change, "Note")
    r = 36
    put(ws, f"A{r}", "Caveats", "Section")
    caveats = [
        "Default prices and rates are data with a source and a date; replace them with your own quotes.",
        "Annual cost is the steady-state run-rate at today's volume; one-off costs are in TCO and NPV.",
        "Money is in the currency input (USD by default); the engine does not convert currencies.",
    ]
    for i, text in enumerate(caveats):
        put(ws, f"C{r + 1 + i}", text, "Note")
