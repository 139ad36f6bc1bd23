"""Reference docs generated from the declarations (inputs.toml, the rule table), never written twice.

Run ``python -m buildbuy.workbook.docs`` to rewrite ``docs/``; a test fails when the files are stale.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from buildbuy.engine import input_specs
from buildbuy.engine.decision import RULES

GROUP_TITLES = {
    "volume": "Volume", "api": "Hosted API (layer 1)", "finetune": "Fine-tune and self-host (layer 2)",
    "train": "Train from scratch (layer 3)", "hidden": "Hidden costs", "context": "Context: the four questions",
    "moat": "Data moat litmus test", "model": "Model settings",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def inputs_md() -> str:
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
    lines = ["# Rule reference", "",
             "Generated from `RULES` in `engine/decision.py`. Reasons add their weight to the option they support; "
             "the higher score of API and FINE-TUNE wins (a tie goes to API); TRAIN is recommended only when all "
             "five train conditions hold.", "", "| rule id | kind | supports | weight | from the article |",
             "|---|---|---|---|---|"]
    for rule_id, (kind, supports, weight, source) in RULES.items():
        shown = supports or ("the cheaper of API and FINE-TUNE" if kind == "reason" else "-")
        lines.append(f"| `{rule_id}` | {kind} | {shown} | {weight} | {_cell(source)} |")
    return "\n".join(lines) + "\n"


#: file name -> generator; other modules append (the function reference joins here).
GENERATED: dict[str, Callable[[], str]] = {"inputs.md": inputs_md, "rules.md": rules_md}


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gen in GENERATED.items():
        path = folder / name
        path.write_text(gen(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs"
    for p in write_all(target):
        print(p)
