"""Inputs: every input of the engine vocabulary in grouped sections (label in words, engine name, value, unit,
default, description, source), then the model constants."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment
from openpyxl.worksheet.datavalidation import DataValidation

from buildbuy.engine import input_specs

from .common import TIMELINE_MONTHS, Layout, formula, header, name, put, title, widths
from .sensitivity import VOLUME_STEPS
from .styles import COUNT, DECIMAL, GENERAL, RATE

#: Sections of the sheet, in order: (title, engine input groups shown in it). A group the list does not name
#: (a new one in inputs.toml) gets its own section at the end, so no input is ever left off the sheet.
SECTIONS = [
    ("Volume", ("volume",)),
    ("Hosted API prices (layer 1: buy)", ("api",)),
    ("Serving your own model (layer 2: fine-tune and self-host)", ("serving", "finetune")),
    ("GPU ownership: rent, reserve or buy", ("ownership",)),
    ("Training (layer 3: train from scratch)", ("training", "train")),
    ("Team and hidden costs", ("team", "hidden")),
    ("Strategy: the article's four questions", ("strategy", "context")),
    ("Strategy: the data-moat litmus test", ("moat",)),
    ("Horizon, discounting and the phased plan", ("model",)),
]

#: Each input's label in words (the unit stands in its own column). An input without one gets its key in words.
LABELS = {
    "daily_active_users": "Daily active users",
    "requests_per_user_per_day": "Requests per user per day",
    "requests_per_day": "Requests per day (leave blank to derive)",
    "monthly_growth_rate": "Volume growth per month",
    "input_tokens_per_request": "Input (prompt) tokens per request",
    "output_tokens_per_request": "Output tokens per request",
    "api_input_usd_per_mtok": "API price of input tokens",
    "api_output_usd_per_mtok": "API price of output tokens",
    "api_cached_input_share": "Share of input tokens served from the prompt cache",
    "api_cached_input_discount": "Discount on cached input tokens",
    "api_price_change_per_year": "API price change per contract year",
    "api_latency_ms": "API latency per request",
    "api_model": "API model from the price catalog (optional)",
    "labeled_examples": "Labeled domain examples",
    "labeling_usd_per_example": "Labeling cost per example",
    "finetune_training_usd": "Cost of one fine-tuning run",
    "finetune_months": "Months to launch a fine-tuned model",
    "retrain_every_months": "Retrain the fine-tune every",
    "gpu_usd_per_hour": "GPU price per hour",
    "gpu_type": "GPU from the price catalog (optional)",
    "tokens_per_second_per_gpu": "Serving throughput of one GPU",
    "gpu_utilization": "Planned peak utilization of a GPU",
    "peak_to_average_ratio": "Peak-to-average traffic ratio",
    "min_gpus": "Minimum GPUs kept running",
    "selfhost_latency_ms": "Self-hosted latency per request",
    "api_fallback_share": "Share of requests still sent to the API",
    "corpus_tokens": "Proprietary corpus for pre-training",
    "model_parameters": "Parameters of the model to pre-train",
    "training_tokens": "Pre-training tokens (leave blank to derive)",
    "gpu_peak_tflops": "Peak throughput of one training GPU",
    "mfu": "Model FLOPs utilization (MFU)",
    "training_months": "Months to launch a pre-trained model",
    "training_data_usd": "Corpus acquisition and cleaning",
    "available_budget_usd": "Budget for a train-from-scratch program",
    "ml_engineers": "ML engineers (headcount)",
    "ml_engineer_usd_per_year": "Cost of one ML engineer per year",
    "mlops_usd_per_year": "MLOps tooling and infrastructure per year",
    "eval_usd_per_year": "Evaluation infrastructure per year",
    "opportunity_cost_usd_per_month": "Opportunity cost per month of building",
    "differentiator": "Where is the differentiator: in or around the model?",
    "latency_requirement_ms": "Latency the product needs (0 = none)",
    "regulated_industry": "Regulated industry?",
    "data_residency_required": "Data must stay in your infrastructure?",
    "frontier_moving_fast": "Frontier models improving fast in your domain?",
    "product_market_fit": "Product-market fit found?",
    "building_platform": "Building a platform, not a feature?",
    "domain_well_served": "Domain well served by frontier models?",
    "tried_prompt_engineering": "Prompt engineering tried and exhausted?",
    "has_rebase_plan": "Plan to rebase the fine-tune on newer models?",
    "data_proprietary": "Data proprietary (not on the public web)?",
    "data_growing": "Data growing with usage (a flywheel)?",
    "data_labeled": "Data expert-labeled?",
    "data_perishable": "Data perishable (freshness matters)?",
    "horizon_months": "Horizon of the TCO and NPV",
    "discount_rate_per_year": "Discount rate per year",
    "phase2_start_month": "Phased plan: fine-tune project starts in month",
    "phase3_start_month": "Phased plan: pre-training starts in month (if justified)",
    "currency": "Currency of all money figures",
}
_WORDS = {"usd": "USD", "api": "API", "gpu": "GPU", "gpus": "GPUs", "ml": "ML", "mlops": "MLOps", "mfu": "MFU",
          "mtok": "1M tokens", "tco": "TCO", "npv": "NPV", "per": "per", "capex": "capex"}

#: Text the yes/no inputs hold (the engine reads yes/no like TRUE/FALSE).
YES, NO = "yes", "no"

#: Inputs whose blank value the engine derives, and the cell that shows the value in use.
DERIVED_CELLS = {"requests_per_day": "rpd_effective", "training_tokens": "training_tokens_effective",
                 "serving_active_parameters": "serving_active_parameters_effective",
                 "kv_cache_bytes_per_token": "kv_cache_bytes_per_token_effective",
                 "training_gpu_usd_per_hour": "training_gpu_usd_per_hour_effective"}

#: Constants the native formulas use (rule 5: no numbers typed into formulas): name, label, value, unit, note.
CONSTANTS = [
    ("timeline_months", "Months of the timeline", TIMELINE_MONTHS, "months",
     "Columns of the monthly timeline (the largest horizon the template shows)"),
    ("months_per_year", "Months per year", 12, "months/year", "Calendar"),
    ("days_per_year", "Days per year", 365, "days/year", "A year of traffic; a month is 365/12 days"),
    ("hours_per_year", "Hours per year", 8760, "hours/year", "365 days x 24 hours"),
    ("seconds_per_day", "Seconds per day", 86400, "seconds/day", "24 x 60 x 60"),
    ("seconds_per_hour", "Seconds per hour", 3600, "seconds/hour", "60 x 60"),
    ("tokens_per_million", "Tokens per million", 1_000_000, "tokens", "Prices are per million tokens"),
    ("training_flops_per_param_token", "Training FLOPs per parameter per token", 6, "FLOPs/parameter/token",
     "Forward + backward pass (Kaplan et al. 2020)"),
    ("training_tokens_per_parameter", "Compute-optimal tokens per parameter", 20, "tokens/parameter",
     "Hoffmann et al. 2022 (Chinchilla)"),
    ("flops_per_tflop", "FLOPs per TFLOP", 1e12, "FLOP/TFLOP", "Unit conversion"),
    ("bytes_per_gb", "Bytes per GB", 1e9, "bytes/GB", "Unit conversion (decimal gigabytes)"),
    ("forward_flops_per_param_token", "Forward-pass FLOPs per parameter per token", 2, "FLOPs/parameter/token",
     "Prefill: one multiply and one add per active parameter"),
    ("kv_tensors_per_layer", "KV tensors per layer", 2, "tensors", "Keys and values"),
    ("kv_cache_bytes_per_value", "Bytes per KV cache value", 2, "bytes", "BF16 / FP16 KV cache"),
    ("tensor_parallel_step", "Tensor-parallel step", 2, "x GPUs",
     "A replica spans 1, 2, 4, 8 ... GPUs (powers of this)"),
    ("check_tolerance", "Check tolerance", 1e-6, "relative", "Largest relative difference a check accepts"),
    ("sensitivity_volume_low", "Sensitivity: lowest volume", 0.1, "x base volume",
     "Lowest volume of the sensitivity, as a multiple of today's"),
    ("sensitivity_volume_high", "Sensitivity: highest volume", 10, "x base volume",
     "Highest volume of the sensitivity; the steps between are even on a log scale"),
    ("sensitivity_volume_steps", "Sensitivity: volume steps", VOLUME_STEPS - 1, "steps",
     "Steps from the lowest to the highest volume"),
    ("sensitivity_price_step", "Sensitivity: price step", 0.25, "x base price",
     "Price multiple added at each step of a price sensitivity"),
    ("sensitivity_headcount_step", "Sensitivity: headcount step", 1, "FTE per step",
     "ML engineers added at each step of the headcount sensitivity"),
]

FIRST_ROW = 5
RIGHT = Alignment(horizontal="right", vertical="top")
#: Columns: label, engine name, value, unit, default, description, source, as-of.
COLUMNS = ["Input", "Name (engine key)", "Value", "Unit", "Default", "What it is", "Source", "As of"]
WRAP_CHARS = {"F": 80, "G": 66}  # characters per line of the wrapped columns (their widths)


def label(spec: Any) -> str:
    """The input's label in words."""
    if spec.key in LABELS:
        return LABELS[spec.key]
    words = [_WORDS.get(w, w) for w in spec.key.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


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


def shown(spec: Any, value: Any) -> Any:
    """A value as the sheet holds it: yes/no text for the yes/no inputs."""
    if spec.kind == "bool" and value is not None:
        return YES if value else NO
    return value


def sections() -> list[tuple[str, list[Any]]]:
    """The sheet's sections with their inputs, every input exactly once."""
    specs = list(input_specs().values())
    out = []
    placed: set[str] = set()
    for section_title, groups in SECTIONS:
        rows = [s for s in specs if s.group in groups]
        if rows:
            out.append((section_title, rows))
            placed.update(s.key for s in rows)
    for group in dict.fromkeys(s.group for s in specs if s.key not in placed):
        out.append((group[:1].upper() + group[1:].replace("_", " "), [s for s in specs if s.group == group]))
    return out


def build(wb: Any, layout: Layout) -> None:
    """Add the Inputs sheet."""
    ws = wb.create_sheet("Inputs")
    title(ws, "Inputs", "Every input of the engine: the blue cells on yellow are yours to change. Column B is the "
                        "name the engine and the scenario files use.")
    put(ws, "A3", "Scenario", "Label")
    put(ws, "C3", "default (the article's worked example)", "Input")
    name(wb, "scenario_name", "Inputs!$C$3")
    header(ws, 4, COLUMNS)
    widths(ws, {"A": 44, "B": 30, "C": 16, "D": 20, "E": 22, "F": 64, "G": 54, "H": 12})
    validations = {
        "bool": DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True,
                               errorTitle="Yes or no", error="Choose yes or no."),
        "share": DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                                allow_blank=True, errorTitle="A share", error="Enter a share between 0 and 1."),
    }
    for dv in validations.values():
        ws.add_data_validation(dv)
    row = FIRST_ROW
    for i, (section_title, specs) in enumerate(sections()):
        row += 1 if i else 0  # a blank row between sections
        put(ws, f"A{row}", section_title, "Section")
        row += 1
        for spec in specs:
            fmt = _fmt(spec)
            put(ws, f"A{row}", label(spec), "Label")
            put(ws, f"B{row}", spec.key, "Unit")
            value = spec.default if spec.default not in (None, "") else None
            put(ws, f"C{row}", shown(spec, value), "Input", fmt)
            ws[f"C{row}"].alignment = RIGHT
            put(ws, f"D{row}", spec.unit, "Unit")
            if spec.key in DERIVED_CELLS:
                shown_fmt = DECIMAL if fmt == DECIMAL else COUNT
                formula(ws, f"E{row}", f"={DERIVED_CELLS[spec.key]}", f'"derived "{shown_fmt}')
            elif spec.default in (None, ""):
                put(ws, f"E{row}", "(blank)", "Label")
            else:
                put(ws, f"E{row}", shown(spec, spec.default), "Label",
                    fmt if isinstance(spec.default, (int, float)) and spec.kind != "bool" else None)
            ws[f"E{row}"].alignment = RIGHT
            what = spec.description + (f" Left blank: {spec.derived}." if spec.derived else "")
            put(ws, f"F{row}", what, "Wrapped")
            put(ws, f"G{row}", spec.source, "Wrapped")
            put(ws, f"H{row}", spec.as_of, "Wrapped")
            _fit_height(ws, row, {"F": what, "G": spec.source})
            name(wb, spec.key, f"Inputs!$C${row}")
            _validate(ws, spec, f"C{row}", validations, layout)
            row += 1
    last = row - 1
    name(wb, "assumptions", f"Inputs!$B${FIRST_ROW}:$C${last}")
    layout.rows["inputs_last"] = last
    row += 1
    put(ws, f"A{row}", "Model constants (not engine inputs; used by the native formulas)", "Section")
    row += 1
    for key, text, value, unit, note in CONSTANTS:
        put(ws, f"A{row}", text, "Label")
        put(ws, f"B{row}", key, "Unit")
        put(ws, f"C{row}", value, "Input", COUNT if value >= 1000 else GENERAL)
        put(ws, f"D{row}", unit, "Unit")
        put(ws, f"F{row}", note, "Wrapped")
        name(wb, key, f"Inputs!$C${row}")
        row += 1
    ws.freeze_panes = "C5"
    ws.print_title_rows = "4:4"
    ws.print_title_cols = "A:A"


def _fit_height(ws: Any, row: int, texts: dict[str, str]) -> None:
    """Row height for wrapped text: lines of the longest cell at the column's width (15 points a line)."""
    lines = max(-(-len(t) // WRAP_CHARS[col]) for col, t in texts.items())
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines


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
