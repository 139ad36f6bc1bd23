"""Reference docs generated from the declarations (inputs.toml, the rule table), never written twice.

Run ``python -m buildbuy.workbook.docs`` to rewrite ``docs/``; a test fails when the files are stale.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from buildbuy.engine import input_specs
from buildbuy.engine.decision import RULES
from buildbuy.engine.inputs import GROUP_TITLES


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def inputs_md() -> str:
    """The input reference, from inputs.toml."""
    lines = ["# Input reference", "",
             "Generated from `engine/data/inputs.toml` by `python -m buildbuy.workbook.docs`. The same names are "
             "used in scenario files, the template's named input cells and Excel assumption ranges.", ""]
    specs = input_specs()
    for group, title in GROUP_TITLES.items():
        lines += [f"## {title}", "", "| key | unit | default | allowed | meaning | source (as of) |",
                  "|---|---|---|---|---|---|"]
        for s in specs.values():
            if s.group != group:
                continue
            default = f"derived: {s.derived}" if s.derived else ("(blank)" if s.default == "" else s.default)
            lines.append(f"| `{s.key}` | {_cell(s.unit)} | {_cell(default)} | {_cell(s.allowed)} | "
                         f"{_cell(s.description)} | {_cell(s.source)} ({_cell(s.as_of)}) |")
        lines.append("")
    return "\n".join(lines)


def rules_md() -> str:
    """The rule reference, from RULES."""
    lines = ["# Rule reference", "",
             "Generated from `RULES` in `engine/decision.py`. How the answer is chosen: `constraint` rules rule "
             "options out (each broken constraint is listed with the option); among the options left, the "
             "cheapest by NPV over the horizon is the answer (`COST-CHEAPEST`); only the `decision` overrides "
             "`O-PRE-PMF` and `O-TRAIN-EARNED` may choose a dearer option, and the answer then states the premium; "
             "TRAIN is never recommended unless earned (`T-NOT-JUSTIFIED`). `reason` and `warning` rules are the "
             "article's four questions, decision matrix, data-moat test and common mistakes, fired with the "
             "inputs behind them; a reason's points go to the option it supports, a strategic-fit tally shown for "
             "audit that does not decide.", "", "| rule id | kind | supports | points | from the article |",
             "|---|---|---|---|---|"]
    for rule_id, (kind, supports, weight, source) in RULES.items():
        shown = supports or "-"
        lines.append(f"| `{rule_id}` | {kind} | {shown} | {weight} | {_cell(source)} |")
    return "\n".join(lines) + "\n"


#: file name -> generator; other modules append (the function reference joins here).
GENERATED: dict[str, Callable[[], str]] = {"inputs.md": inputs_md, "rules.md": rules_md}


def write_all(folder: Path) -> list[Path]:
    """Write every generated reference into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gen in GENERATED.items():
        path = folder / name
        path.write_text(gen(), encoding="utf-8")
        written.append(path)
    return written




def functions_md() -> str:
    """The Excel function reference, from the registry."""
    from buildbuy.udfs.registry import REGISTRY

    lines = ["# Excel function reference", "",
             "Generated from the declarations in `udfs/registry.py` by `python -m buildbuy.workbook.docs`. Money is "
             "in the scenario's currency (USD by default), annual unless the name says otherwise. `assumptions` "
             "is a two-column range of [input names](inputs.md) and values; blank values take the defaults.", "",
             "Every function also answers to the names an Office.js add-in saves in a file "
             "(`XLWINGS.BVB_X`, `_xldudf_XLWINGS_BVB_X`, and the `XLWINGS_DEV` forms), so workbooks saved from "
             "xlwings Server/Lite recalculate headless too.", "",
             "Errors: `#VALUE!` for a bad input (the message names the input, the value and what is allowed), "
             "`#N/A` when a break-even or catalog row does not exist, `#NUM!` for a non-finite result; an error "
             "in an argument propagates. Classic xlwings shows the message in the cell (`#VALUE! requests_per_day "
             "must be a number >= 0, got -5`); Office.js shows the real error. In the headless backends an omitted "
             "middle argument (`F(1,,3)`) arrives as 0, not as the default: leave trailing optional arguments off "
             "instead (`buildbuy lint` flags it).", ""]
    for name, fn in REGISTRY.items():
        sig = ", ".join(f"[{a.name}]" if a.optional else a.name for a in fn.args)
        lines += [f"## `{name}({sig})`", "", fn.summary, "", f"Returns: {fn.returns}."
                  + (" Spills." if fn.spills else ""), ""]
        if fn.args:
            lines += ["| argument | meaning and unit |", "|---|---|"]
            lines += [f"| `{a.name}`{' (optional)' if a.optional else ''} | {_cell(a.doc)} |" for a in fn.args]
            lines.append("")
    return "\n".join(lines)


GENERATED["functions.md"] = functions_md


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs"
    for p in write_all(target):
        print(p)
