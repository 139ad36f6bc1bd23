"""Inputs: every input of the engine vocabulary (named with its key), then the model constants."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.datavalidation import DataValidation

from buildbuy.engine import input_specs
from buildbuy.engine.inputs import GROUP_TITLES

from .common import TIMELINE_MONTHS, Layout, header, name, put, title, widths
from .styles import COUNT, DECIMAL, GENERAL, RATE

#: Constants the native check formulas use (rule 5: no numbers typed into formulas): name, value, unit, note.
CONSTANTS = [
    ("timeline_months", TIMELINE_MONTHS, "months", "Columns of the monthly timeline (largest horizon shown)"),
    ("hours_per_year", 8760, "hours/year", "365 days x 24 hours"),
    ("seconds_per_day", 86400, "seconds/day", "24 x 60 x 60"),
    ("seconds_per_hour", 3600, "seconds/hour", "60 x 60"),
    ("tokens_per_million", 1_000_000, "tokens", "Prices are per million tokens"),
    ("training_flops_per_param_token", 6, "FLOPs/parameter/token", "Forward + backward pass (Kaplan et al. 2020)"),
    ("training_tokens_per_parameter", 20, "tokens/parameter", "Compute-optimal ratio (Hoffmann et al. 2022)"),
    ("flops_per_tflop", 1e12, "FLOP/TFLOP", "Unit conversion"),
    ("check_tolerance", 1e-6, "relative", "Largest relative difference a check accepts"),
    ("sensitivity_volume_start", 0.25, "x base volume", "First volume of the sensitivity, as a multiple of today's"),
    ("sensitivity_volume_factor", 2, "x per step", "Each sensitivity volume is this multiple of the previous"),
    ("sensitivity_price_step", 0.25, "x base price", "API price multiple added at each sensitivity step"),
]

FIRST_ROW = 5


def _fmt(spec: Any) -> str:
    if spec.kind == "share" or spec.unit.startswith("share"):
        return RATE
    if spec.kind == "integer":
        return "0"
    if spec.kind in ("bool", "choice", "text"):
        return GENERAL
    if "USD" in spec.unit and "mtok" not in spec.key and "hour" not in spec.key:
        return COUNT
    return DECIMAL if "USD" in spec.unit else COUNT


def build(wb: Any, layout: Layout) -> None:
    """Add the Inputs sheet."""
    ws = wb.create_sheet("Inputs")
    title(ws, "Inputs", "Every input of the engine, named with its key. Blue cells on yellow are yours to change.")
    put(ws, "A3", "Scenario", "Label")
    put(ws, "B3", "default (the article's worked example)", "Input")
    name(wb, "scenario_name", "Inputs!$B$3")
    header(ws, 4, ["Input (name)", "Value", "Unit", "Default", "What it is", "Source", "As of"])
    widths(ws, {"A": 32, "B": 16, "C": 20, "D": 14, "E": 70, "F": 70, "G": 14})
    validations = {
        "bool": DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True,
                               errorTitle="Yes or no", error="Choose TRUE or FALSE."),
        "share": DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                allow_blank=True, errorTitle="A share", error="Enter a share between 0 and 1."),
    }
    for dv in validations.values():
        ws.add_data_validation(dv)
    row = FIRST_ROW
    specs = input_specs()
    for group, group_title in GROUP_TITLES.items():
        put(ws, f"C{row}", group_title, "Section")
        row += 1
        for spec in (s for s in specs.values() if s.group == group):
            put(ws, f"A{row}", spec.key, "Label")
            value = spec.default if spec.default not in (None, "") else None
            put(ws, f"B{row}", value, "Input", _fmt(spec))
            put(ws, f"C{row}", spec.unit, "Unit")
            shown = spec.default if spec.default not in (None, "") else (f"derived: {spec.derived}" if spec.derived
                                                                         else "(blank)")
            put(ws, f"D{row}", shown, "Label", _fmt(spec) if isinstance(shown, (int, float)) else None)
            put(ws, f"E{row}", spec.description, "Note")
            put(ws, f"F{row}", spec.source, "Note")
            put(ws, f"G{row}", spec.as_of, "Note")
            name(wb, spec.key, f"Inputs!$B${row}")
            _validate(ws, spec, f"B{row}", validations, layout)
            row += 1
    last = row - 1
    name(wb, "assumptions", f"Inputs!$A${FIRST_ROW}:$B${last}")
    layout.rows["inputs_last"] = last
    row += 1
    put(ws, f"C{row}", "Model constants (not engine inputs; used by the native check formulas)", "Section")
    row += 1
    for key, value, unit, note in CONSTANTS:
        put(ws, f"A{row}", key, "Label")
        put(ws, f"B{row}", value, "Input", GENERAL)
        put(ws, f"C{row}", unit, "Unit")
        put(ws, f"E{row}", note, "Note")
        name(wb, key, f"Inputs!$B${row}")
        row += 1
    ws.freeze_panes = "C5"


def _validate(ws: Any, spec: Any, ref: str, shared: dict[str, DataValidation], layout: Layout) -> None:
    if spec.kind == "bool":
        shared["bool"].add(ref)
    elif spec.kind == "share":
        shared["share"].add(ref)
    elif spec.kind == "choice":
        dv = DataValidation(type="list", formula1='"' + ",".join(spec.choices) + '"', allow_blank=True,
                            errorTitle=spec.key, error="Choose one of: " + ", ".join(spec.choices))
        ws.add_data_validation(dv)
        dv.add(ref)
    elif spec.kind in ("number", "integer"):
        kind = "whole" if spec.kind == "integer" else "decimal"
        lo = spec.minimum
        hi = spec.maximum
        if spec.key == "horizon_months":
            hi = TIMELINE_MONTHS
        if lo is not None and hi is not None:
            dv = DataValidation(type=kind, operator="between", formula1=_n(lo), formula2=_n(hi), allow_blank=True)
        elif lo is not None:
            op = "greaterThan" if spec.min_exclusive else "greaterThanOrEqual"
            dv = DataValidation(type=kind, operator=op, formula1=_n(lo), allow_blank=True)
        else:
            return
        dv.errorTitle = spec.key
        dv.error = f"{spec.key} must be {spec.allowed}."
        ws.add_data_validation(dv)
        dv.add(ref)
    elif spec.key in ("api_model", "gpu_type"):
        table = "api_model_ids" if spec.key == "api_model" else "gpu_ids"
        dv = DataValidation(type="list", formula1=f"={table}", allow_blank=True)
        if spec.key == "api_model":  # any model genai-prices knows is accepted: the list only suggests
            dv.errorStyle = "warning"
            dv.errorTitle = spec.key
            dv.error = "Not in the bundled catalog list; any model the genai-prices library knows is accepted."
        ws.add_data_validation(dv)
        dv.add(ref)


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
