"""Gaps common to every headless backend: Excel semantics none of them reproduces, found in the formula text.

``buildbuy lint`` lists them before a run; ``buildbuy recalc --check`` lists the same cells as "not evaluated
faithfully" after one.
"""

from __future__ import annotations

from buildbuy.udfs.refs import FormulaCell

from . import formula_text as ft
from .backend import Finding, spelling_table


def common_gaps(cells: list[FormulaCell]) -> list[Finding]:
    """Findings of the rules below for every cell, in cell order."""
    out: list[Finding] = []
    for c in cells:
        out += cell_gaps(c)
    return out


def cell_gaps(c: FormulaCell) -> list[Finding]:
    """The common findings of one formula cell."""
    bare = ft.bare(c.formula)
    if "(" not in bare:
        return []
    out = []
    table = spelling_table()
    omitted = []
    for name, args in ft.calls(bare):
        if "" in args[:-1] and len(args) > 1:
            omitted.append(table.get(name, name))
    for fn in sorted(set(omitted)):
        out.append(Finding(c.sheet, c.ref, "OMITTED-ARGUMENT",
                           f"{fn} has an empty argument: headless backends pass 0, not the default; "
                           "write the value or leave trailing arguments off"))
    return out
