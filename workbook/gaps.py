"""Gaps common to every headless backend: Excel semantics none of them reproduces, found in the formula text.

``buildbuy lint`` lists them before a run; ``buildbuy recalc --check`` lists the same cells as "not evaluated
faithfully" after one.
"""

from __future__ import annotations

from buildbuy.udfs.refs import FormulaCell

from . import formula_text as ft
from .backend import Finding, spelling_table

#: Functions whose empty argument Excel reads as 0 / FALSE / "" (a missing value), as both backends do: checked
#: call by call against LibreOffice (tests/test_recalc_check.py and benchmarks/bench_parity.py). Any other
#: function with an empty argument is reported, since Excel may read it as the argument's default
#: (``LINEST(y,x,,TRUE)``: const is TRUE when omitted; ``OFFSET(A1,0,0,,)``: the reference's own size).
EMPTY_MEANS_ZERO = frozenset("""
    AND AVERAGE CHOOSE COUNT COUNTA COUNTIF DATE DAYS360 EXACT FIND FV HLOOKUP IF IFERROR INDEX IRR LEFT MATCH MAX
    MEDIAN MID MIN MOD NETWORKDAYS NORMDIST NPER NPV OR PERCENTILE PMT POWER PRODUCT PV QUARTILE RANK REPT RIGHT
    ROUND ROUNDDOWN ROUNDUP SEARCH STDEV SUBSTITUTE SUM TRUNC VAR VLOOKUP WORKDAY YEARFRAC
""".split())
#: ... and those where only one backend agrees with Excel.
EMPTY_MEANS_ZERO_IN = {"formualizer": frozenset({"CONCATENATE", "RATE", "TEXT"}), "formulas": frozenset()}


def common_gaps(cells: list[FormulaCell], backend: str) -> list[Finding]:
    """Findings of the rules below for every cell, in cell order."""
    out: list[Finding] = []
    for c in cells:
        if "," in c.formula:
            out += cell_gaps(c, backend)
    return out


def cell_gaps(c: FormulaCell, backend: str) -> list[Finding]:
    """The common findings of one formula cell."""
    bare = ft.bare(c.formula)
    if ",," not in bare.replace(" ", "") and ",)" not in bare.replace(" ", ""):
        return []
    out = []
    table = spelling_table()
    fine = EMPTY_MEANS_ZERO | EMPTY_MEANS_ZERO_IN.get(backend, frozenset())
    omitted = set()
    for name, args in ft.calls(bare):
        if len(args) > 1 and "" in args and name not in fine:
            omitted.add(table.get(name, name))
    for fn in sorted(omitted):
        if fn in table.values():
            why = (f"{fn} has an empty argument: headless backends pass 0, not the argument's default; write the "
                   "value or leave trailing arguments off")
        else:
            why = (f"{fn} has an empty argument, which Excel may read as the argument's default and {backend} reads "
                   "as 0/FALSE; write the value")
        out.append(Finding(c.sheet, c.ref, "OMITTED-ARGUMENT", why))
    return out
