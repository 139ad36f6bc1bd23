"""The formualizer backend (Rust core): the default, fastest headless evaluator.

Adapter duties: BVB arguments and results converted between formualizer's values and the common model, dates
and times read back as Excel serial numbers, legacy array formulas read over their declared range.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from buildbuy.udfs.conventions import XlError, date_to_serial
from buildbuy.udfs.refs import Cell, FormulaCell, cells_in, split_ref
from buildbuy.udfs.registry import REGISTRY

from . import formula_text as ft
from .backend import BookInfo, CallLog, Evaluation, Finding, spelling_table

NAME = "formualizer"
#: The gap list reads a trial evaluation (unknown names show as #NAME?).
NEEDS_EVALUATION = True

_KIND_TO_CODE = {"DIV": "#DIV/0!", "NA": "#N/A", "NUM": "#NUM!", "VALUE": "#VALUE!", "NAME": "#NAME?",
                 "REF": "#REF!", "NULL": "#NULL!", "SPILL": "#SPILL!", "CALC": "#CALC!"}


def load(path: Path, data: bytes | None = None) -> Any:
    """Open the book; ``data`` (the package's bytes) is loaded instead of the file when given."""
    import formualizer as fz

    return fz.load_workbook_bytes(data) if data is not None else fz.load_workbook(str(path))


def register(wb: Any, log: CallLog) -> None:
    """Register every BVB function, under every spelling, in one formualizer workbook."""
    for name, fn in REGISTRY.items():
        def callback(*args: Any, _name: str = name) -> Any:
            values, error = _args(args)
            if error is not None:
                return _out(error)
            return _out(log.call(_name, values, errors_checked=True))
        for spelling in fn.spellings():
            wb.register_function(spelling, callback, min_args=fn.min_args, max_args=len(fn.args))


def compute(wb: Any) -> None:
    """Evaluate every formula."""
    wb.evaluate_all()


def _args(args: tuple[Any, ...]) -> tuple[list[Any], XlError | None]:
    """Arguments from formualizer in the common model, and the first error value among them (one pass)."""
    out: list[Any] = []
    first: XlError | None = None
    for a in args:
        kind = type(a)
        if kind is list:
            rows = []
            for row in a:
                if type(row) is list:
                    if dict in map(type, row) or list in map(type, row):
                        row = [_in(c) for c in row]
                        if first is None:
                            first = next((c for c in row if type(c) is XlError), None)
                    rows.append(row)
                else:
                    row = _in(row)
                    if first is None and type(row) is XlError:
                        first = row
                    rows.append(row)
            out.append(rows)
        elif kind is dict:
            v = _in(a)
            if first is None and type(v) is XlError:
                first = v
            out.append(v)
        else:
            out.append(a)
    return out, first


def _in(v: Any) -> Any:
    kind = type(v)
    if kind is dict:
        if v.get("type") == "Error":
            return XlError(_KIND_TO_CODE.get(str(v.get("kind", "")).upper(), "#VALUE!"))
        return v
    if kind is list:
        return [[_in(c) if type(c) in (dict, list) else c for c in row] if type(row) is list
                else (_in(row) if type(row) is dict else row) for row in v]
    return v


def _out(v: Any) -> Any:
    if isinstance(v, XlError):
        return {"type": "Error", "kind": v.code, "message": v.message}
    if isinstance(v, list):
        return [[_out(c) for c in row] for row in v]
    return v


def value(v: Any) -> Any:
    """A value read back from formualizer, in the common model (dates and times as serial numbers)."""
    if isinstance(v, (dt.date, dt.datetime)):
        return date_to_serial(v)
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    if isinstance(v, dt.timedelta):
        return v.total_seconds() / 86400
    return _in(v)


_PLAIN_REF = re.compile(r"^=\s*(?:'(?:[^']|'')+'!|[\w.]+!)?\$?[A-Z]{0,3}\$?\d*:\$?[A-Z]{0,3}\$?\d*\s*$")
#: What makes a formula one that may spill: a range or an array constant, a function call (a "(" after a name,
#: or after a space, to be safe), a bare name or reference. Written for :func:`formula_text.matching` (each one
#: starts with a literal, which Python's engine scans fast; one alternation of the three was 30 times slower).
_MAY_SPILL = (re.compile(r"[:{]"), re.compile(r"\((?<=[\w.\s]\()"),
              re.compile(r"\x00=\s*+[A-Za-z_][\w.]*+\s*+(?=\x00)"))
_PLAIN_OUT = (float, str, bool, type(None))


def read(wb: Any, cells: list[FormulaCell], ev: Evaluation) -> None:
    """Values of the formula cells (and of what they spill into), read in bulk per sheet. Only the cells that
    may spill are inspected one by one; the others (the bulk of a large model) are located in one pass."""
    import formualizer as fz

    formulas = [fc.formula for fc in cells]
    may_spill = set(ft.matching(_MAY_SPILL, formulas))
    preset = ev.preset
    plan: list[tuple[FormulaCell, list[tuple[str, int, int]], set[str] | None]] = []
    plain: dict[str, list[str]] = {}
    for i, fc in enumerate(cells):
        if not fc.array_ref and (i not in may_spill or (preset and (fc.sheet, fc.ref) in preset)):
            plain.setdefault(fc.sheet, []).append(fc.ref)
            continue
        targets = [fc.ref]
        spilled: set[str] | None = None
        spill = wb.inspect_cell(f"'{fc.sheet}'!{fc.ref}").cell.to_dict().get("spill") or {}
        extent = spill.get("extent") if spill.get("kind") == "Anchor" else None
        if extent:
            area = extent.split("!")[-1].replace("$", "")
            targets = cells_in(area)
            spilled = set(targets)
            if not fc.array_ref and len(targets) > 1:
                ev.spills[(fc.sheet, fc.ref)] = area
        if fc.array_ref:
            # Excel's legacy array semantics: the declared range is the result; cells past a smaller result
            # show #N/A.
            targets = cells_in(fc.array_ref)
        plan.append((fc, [(t, *split_ref(t)) for t in targets], spilled))
    values: dict[Cell, Any] = ev.values
    for sheet, refs in plain.items():  # the bulk: one read per sheet where the cells lie close together
        got = _read_cells(wb, fz, sheet, list(map(split_ref, refs)))
        values.update(zip([(sheet, ref) for ref in refs], [v if type(v) in _PLAIN_OUT else value(v) for v in got],
                          strict=True))
    wanted: dict[str, list[tuple[int, int]]] = {}
    for fc, located, _ in plan:
        wanted.setdefault(fc.sheet, []).extend((r, c) for _, r, c in located)
    grids = {sheet: _read_blocks(wb, fz, sheet, rc) for sheet, rc in wanted.items()}
    for fc, targets, spilled in plan:
        got = grids[fc.sheet]
        anchor: Any = None
        for ref, r, c in targets:
            if fc.array_ref and spilled is not None and ref not in spilled:
                # Past a smaller result Excel shows #N/A; but a plain reference (=Data!1:1) has the size of the
                # range it names, whose blank cells formualizer leaves out of its spill: Excel shows 0 there.
                values[(fc.sheet, ref)] = 0.0 if _PLAIN_REF.match(fc.formula) else XlError("#N/A")
                continue
            if fc.array_ref and spilled is None and ref != fc.ref:
                # One value for a legacy array range: Excel shows it in every cell of the range, but where Excel
                # computes one value per cell formualizer did not, so the cells are reported.
                values[(fc.sheet, ref)] = anchor
                if not isinstance(anchor, XlError):
                    ev.unfaithful[(fc.sheet, ref)] = ("legacy array formula: formualizer computed one value for "
                                                      f"the range {fc.array_ref}, Excel may compute one per cell")
                continue
            v = got.get((r, c))
            values[(fc.sheet, ref)] = anchor = v if type(v) in _PLAIN_OUT else value(v)


#: A block read in bulk may hold at most this many cells besides the ones wanted (memory follows the cells that
#: exist, never the span between two far-apart cells).
_BLOCK_SLACK = 65_536


def _read_cells(wb: Any, fz: Any, sheet: str, wanted: list[tuple[int, int]]) -> list[Any]:
    """Values at (row, column) positions, in their order: one read of the rectangle around them when it is
    small enough (see :func:`_read_blocks`), else by bands of rows."""
    rows = [r for r, _ in wanted]
    cols = [c for _, c in wanted]
    r1, r2, c1, c2 = min(rows), max(rows), min(cols), max(cols)
    height, width = r2 - r1 + 1, c2 - c1 + 1
    if height * width <= 2 * len(wanted) + _BLOCK_SLACK:
        grid = wb.sheet(sheet).get_values(fz.RangeAddress(sheet, r1, c1, r2, c2))
        if len(grid) == height and all(len(row) == width for row in grid):
            return [grid[r - r1][c - c1] for r, c in wanted]
    got = _read_blocks(wb, fz, sheet, wanted)
    return [got[rc] for rc in wanted]


def _read_blocks(wb: Any, fz: Any, sheet: str, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """Values at (row, column) positions, read in bulk by bands of rows whose rectangle stays close to the
    number of cells wanted: two cells at A1 and XFD1048576 are two small reads, not one of 17 billion cells."""
    by_row: dict[int, set[int]] = {}
    for r, c in wanted:
        by_row.setdefault(r, set()).add(c)
    out: dict[tuple[int, int], Any] = {}

    def read(r1: int, r2: int, c1: int, c2: int, rows: list[int]) -> None:
        grid = wb.sheet(sheet).get_values(fz.RangeAddress(sheet, r1, c1, r2, c2))
        for r in rows:
            row = grid[r - r1] if r - r1 < len(grid) else []
            for c in by_row[r]:
                out[(r, c)] = row[c - c1] if c - c1 < len(row) else None

    band: list[int] = []
    r1 = c1 = c2 = count = 0
    for r in sorted(by_row):
        cols = by_row[r]
        lo, hi, n = min(cols), max(cols), len(cols)
        if band and (r - r1 + 1) * (max(c2, hi) - min(c1, lo) + 1) <= 2 * (count + n) + _BLOCK_SLACK:
            band.append(r)
            c1, c2, count = min(c1, lo), max(c2, hi), count + n
            continue
        if band:
            read(r1, band[-1], c1, c2, band)
            band = []
        if hi - lo + 1 > 2 * n + _BLOCK_SLACK:  # a sparse wide row: each cell on its own
            for c in sorted(cols):
                grid = wb.sheet(sheet).get_values(fz.RangeAddress(sheet, r, c, r, c))
                out[(r, c)] = grid[0][0] if grid and grid[0] else None
            continue
        band, r1, c1, c2, count = [r], r, lo, hi, n
    if band:
        read(r1, band[-1], c1, c2, band)
    return out


_SPILL_REF = re.compile(r"\$?[A-Z]{1,3}\$?\d+#")
_HASH = re.compile("#")


def gaps(cells: list[FormulaCell], info: BookInfo, ev: Evaluation | None) -> list[Finding]:
    """The spill operator (``A1#``), and unknown functions or names (``#NAME?`` in a trial evaluation)."""
    from .gaps import value_gap_cells, value_gaps

    out = []
    table = spelling_table()
    value_of = info.value_of(ev)
    # Only the cells a rule can flag are read: found in one scan of the formulas, and by their error values.
    look = set(value_gap_cells(cells)) | set(ft.matching(_HASH, [c.formula for c in cells]))
    named = {cell for cell, v in ev.values.items() if type(v) is XlError and v.code == "#NAME?"} if ev else set()
    if named:
        look.update(i for i, c in enumerate(cells) if (c.sheet, c.ref) in named)
    for i in sorted(look):
        c = cells[i]
        for why in value_gaps(c, NAME, value_of):
            out.append(Finding(c.sheet, c.ref, "NOT-FAITHFUL", why))
        unknown = (c.sheet, c.ref) in named
        if "#" not in c.formula and not unknown:
            continue
        bare = ft.bare(c.formula)
        if "#" in bare and _SPILL_REF.search(bare):
            out.append(Finding(c.sheet, c.ref, "SPILL-OPERATOR",
                               "the spill operator (A1#) is not evaluated faithfully by formualizer"))
        if unknown:
            names = [f for f in ft.functions(bare) if f not in table]
            out.append(Finding(c.sheet, c.ref, "UNKNOWN-FUNCTION",
                               f"#NAME? in formualizer (unknown function or name: {', '.join(names) or '?'})"))
    return out
