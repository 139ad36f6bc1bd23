"""Headless evaluation: the ``BVB_*`` functions inside formualizer (Rust core) and formulas (pure Python).

Both backends sit behind one small interface: :func:`evaluate` loads a workbook, registers every function of
the registry under every spelling a saved file may use, computes every formula and returns the values of all
formula cells and of the cells their arrays spill into, in the common value model of :mod:`.conventions`.
Engine error messages are kept per function so a report can show them next to the cell.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .conventions import ERROR_CODES, XlError
from .refs import cells_in as _cells_of
from .refs import split_ref as _split
from .registry import REGISTRY, invoke

BACKENDS = ("formualizer", "formulas")
DEFAULT_BACKEND = "formualizer"

Cell = tuple[str, str]  # (sheet name, "A1")


@dataclass
class FormulaCell:
    sheet: str
    ref: str  # "A1"
    formula: str  # with the leading "="
    array_ref: str | None = None  # "A1:A36" for a legacy array (CSE) formula
    shared: bool = False  # a shared-formula cell (its text translated from the anchor's)
    element: Any = field(default=None, repr=False, compare=False)  # a writer's handle on the cell


@dataclass
class Evaluation:
    """Values of a computed workbook, and the engine messages behind its error values."""

    backend: str
    values: dict[Cell, Any]
    messages: dict[str, list[str]] = field(default_factory=dict)  # function name -> distinct messages
    spills: dict[Cell, str] = field(default_factory=dict)  # plain formulas that spilled -> their extent

    def message_for(self, formula: str) -> str:
        """The engine messages of the BVB functions a formula calls, joined (empty when none failed)."""
        out = []
        for name in called_functions(formula):
            out += self.messages.get(name, [])
        return "; ".join(dict.fromkeys(out))


class CallLog:
    """Distinct messages of failed calls, per canonical function name (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: dict[str, list[str]] = {}

    def call(self, name: str, args: Iterable[Any], errors_checked: bool = False) -> Any:
        result = invoke(name, *args, errors_checked=errors_checked)
        if isinstance(result, XlError) and result.message:
            with self._lock:
                seen = self.messages.setdefault(name, [])
                if result.message not in seen:
                    seen.append(result.message)
        return result


def spelling_table() -> dict[str, str]:
    """Every registered spelling (upper case) -> canonical name."""
    return {s.upper(): name for name, fn in REGISTRY.items() for s in fn.spellings()}


def called_functions(formula: str) -> list[str]:
    """Canonical names of the BVB functions a formula calls, in order of appearance."""
    table = spelling_table()
    found = []
    for token in re.findall(r"([A-Za-z_][\w.]*)\s*\(", formula):
        name = table.get(token.upper())
        if name and name not in found:
            found.append(name)
    return found


def formula_cells(path: str | Path) -> list[FormulaCell]:
    """Every formula cell of a workbook (openpyxl, read-only), legacy array formulas with their range."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    wb = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    out = []
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    v = getattr(c, "value", None)
                    if isinstance(v, ArrayFormula):
                        out.append(FormulaCell(ws.title, c.coordinate, v.text, v.ref))
                    elif isinstance(v, str) and getattr(c, "data_type", None) == "f":
                        out.append(FormulaCell(ws.title, c.coordinate, v))
    finally:
        wb.close()
    return out


def evaluate(path: str | Path, backend: str = DEFAULT_BACKEND, cells: list[FormulaCell] | None = None,
             data: bytes | None = None) -> Evaluation:
    """Compute a workbook with a backend; values of every formula cell and spilled cell.

    ``data`` may carry the package's bytes to load instead of ``path`` (formualizer): a recalculation passes a
    copy whose legacy array ranges hold no cached values, since formualizer evaluates such an array as a
    spill and a leftover value in its way would block it (#SPILL!).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    cells = formula_cells(path) if cells is None else cells
    if backend == "formualizer":
        return _evaluate_formualizer(Path(path), cells, data)
    return _evaluate_formulas(Path(path), cells)




# ------------------------------------------------------------------------------------------- formualizer
_FZ_KIND_TO_CODE = {"DIV": "#DIV/0!", "NA": "#N/A", "NUM": "#NUM!", "VALUE": "#VALUE!", "NAME": "#NAME?",
                    "REF": "#REF!", "NULL": "#NULL!", "SPILL": "#SPILL!", "CALC": "#CALC!"}


def _fz_args(args: tuple[Any, ...]) -> tuple[list[Any], XlError | None]:
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
                        row = [_fz_in(c) for c in row]
                        if first is None:
                            first = next((c for c in row if type(c) is XlError), None)
                    rows.append(row)
                else:
                    row = _fz_in(row)
                    if first is None and type(row) is XlError:
                        first = row
                    rows.append(row)
            out.append(rows)
        elif kind is dict:
            v = _fz_in(a)
            if first is None and type(v) is XlError:
                first = v
            out.append(v)
        else:
            out.append(a)
    return out, first


def _fz_in(v: Any) -> Any:
    kind = type(v)
    if kind is dict:
        if v.get("type") == "Error":
            return XlError(_FZ_KIND_TO_CODE.get(str(v.get("kind", "")).upper(), "#VALUE!"))
        return v
    if kind is list:
        return [[_fz_in(c) if type(c) in (dict, list) else c for c in row] if type(row) is list
                else (_fz_in(row) if type(row) is dict else row) for row in v]
    return v


def _fz_out(v: Any) -> Any:
    if isinstance(v, XlError):
        return {"type": "Error", "kind": v.code, "message": v.message}
    if isinstance(v, list):
        return [[_fz_out(c) for c in row] for row in v]
    return v


def formualizer_value(v: Any) -> Any:
    """A value read back with ``get_value``, in the common model."""
    import datetime as dt

    from .conventions import date_to_serial

    if isinstance(v, (dt.date, dt.datetime)):
        return date_to_serial(v)
    return _fz_in(v)


def register_formualizer(wb: Any, log: CallLog) -> None:
    """Register every BVB function, under every spelling, in one formualizer workbook."""
    for name, fn in REGISTRY.items():
        def callback(*args: Any, _name: str = name) -> Any:
            values, error = _fz_args(args)
            if error is not None:
                return _fz_out(error)
            return _fz_out(log.call(_name, values, errors_checked=True))
        for spelling in fn.spellings():
            wb.register_function(spelling, callback, min_args=fn.min_args, max_args=len(fn.args))


def _evaluate_formualizer(path: Path, cells: list[FormulaCell], data: bytes | None = None) -> Evaluation:
    import formualizer as fz

    wb = fz.load_workbook_bytes(data) if data is not None else fz.load_workbook(str(path))
    log = CallLog()
    register_formualizer(wb, log)
    wb.evaluate_all()
    spills: dict[Cell, str] = {}
    values = read_formualizer(wb, cells, spills)
    return Evaluation("formualizer", values, log.messages, spills)


_MAY_SPILL = re.compile(r"[:{]|[A-Za-z_][\w.]*\s*\(|^=\s*[A-Za-z_][\w.]*\s*$")


def read_formualizer(wb: Any, cells: list[FormulaCell], spills: dict[Cell, str] | None = None
                     ) -> dict[Cell, Any]:
    """Values of the formula cells (and of what they spill into), read in bulk per sheet."""
    import formualizer as fz

    bounds: dict[str, list[int]] = {}
    plan: list[tuple[FormulaCell, Any, set[str] | None]] = []
    for fc in cells:
        located: Any
        spilled: set[str] | None = None
        if fc.array_ref or _MAY_SPILL.search(fc.formula):
            targets = [fc.ref]
            spill = wb.inspect_cell(f"'{fc.sheet}'!{fc.ref}").cell.to_dict().get("spill") or {}
            extent = spill.get("extent") if spill.get("kind") == "Anchor" else None
            if extent:
                area = extent.split("!")[-1].replace("$", "")
                targets = _cells_of(area)
                spilled = set(targets)
                if not fc.array_ref and spills is not None and len(targets) > 1:
                    spills[(fc.sheet, fc.ref)] = area
            if fc.array_ref:
                # Excel's legacy array semantics: the declared range is the result; cells past a smaller result
                # show #N/A.
                targets = _cells_of(fc.array_ref)
            located = [(t, *_split(t)) for t in targets]
        else:
            located = ((fc.ref, *_split(fc.ref)),)
        plan.append((fc, located, spilled))
        b = bounds.get(fc.sheet)
        for _, r, c in located:
            if b is None:
                b = bounds[fc.sheet] = [r, r, c, c]
            else:
                if r < b[0]:
                    b[0] = r
                elif r > b[1]:
                    b[1] = r
                if c < b[2]:
                    b[2] = c
                elif c > b[3]:
                    b[3] = c
    grids = {sheet: (r1, c1, wb.sheet(sheet).get_values(fz.RangeAddress(sheet, r1, c1, r2, c2)))
             for sheet, (r1, r2, c1, c2) in bounds.items()}
    values: dict[Cell, Any] = {}
    for fc, targets, spilled in plan:
        r1, c1, grid = grids[fc.sheet]
        for ref, r, c in targets:
            if fc.array_ref and spilled is not None and ref not in spilled:
                values[(fc.sheet, ref)] = XlError("#N/A")
                continue
            row = grid[r - r1] if r - r1 < len(grid) else []
            v = row[c - c1] if c - c1 < len(row) else None
            values[(fc.sheet, ref)] = v if type(v) in _PLAIN_OUT else formualizer_value(v)
    return values


_PLAIN_OUT = (float, str, bool, type(None))


# ------------------------------------------------------------------------------------------- formulas
_FORMULAS_REGISTERED = False
_FORMULAS_LOG = CallLog()


def _fo_in(v: Any) -> Any:
    import schedula as sh
    from formulas.functions import XlError as FoXlError

    if isinstance(v, np.ndarray):
        rows = [[_fo_in(c) for c in row] for row in (v if v.ndim == 2 else np.atleast_2d(v))]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    if v is sh.EMPTY:
        return None
    if isinstance(v, FoXlError):
        code = str(v)
        return XlError(code if code in ERROR_CODES else "#VALUE!")
    if isinstance(v, np.generic):
        return v.item()
    return v


def _fo_out(v: Any) -> Any:
    from formulas.functions import Array, Error

    if isinstance(v, XlError):
        return Error.errors[v.code] if v.code in Error.errors else Error.errors["#VALUE!"]
    if isinstance(v, list):
        return np.array([[_fo_out(c) for c in row] for row in v], dtype=object).view(Array)
    return v


def excel_round(x: float, digits: float, mode: str = "ROUND_HALF_UP") -> float:
    """Excel's ROUND / ROUNDUP / ROUNDDOWN: decimal rounding of the 15-significant-digit value.

    Binary floats make ``1.005 * 100`` = 100.49999999999999, so a float-based ROUND gives 1.00 where Excel gives
    1.01; Excel rounds the number as it displays it (15 significant digits), half away from zero.
    """
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 80
        q = decimal.Decimal(1).scaleb(-int(digits))
        value = decimal.Decimal(format(float(x), ".15g")).quantize(q, rounding=getattr(decimal, mode))
    return float(value)


def _fix_formulas_divergences(table: Any) -> None:
    """Correct, once, the divergences of formulas 1.3.4 from Excel that matter to finance (tested against
    LibreOffice): ROUND/ROUNDUP/ROUNDDOWN of decimal halves, and number literals with an unsigned exponent
    (``1E6``), which its parser rejects."""
    import functools

    import regex
    from formulas.functions import wrap_ufunc
    from formulas.tokens import operand

    table["ROUND"] = wrap_ufunc(excel_round)
    table["ROUNDUP"] = wrap_ufunc(functools.partial(excel_round, mode="ROUND_UP"))
    table["ROUNDDOWN"] = wrap_ufunc(functools.partial(excel_round, mode="ROUND_DOWN"))
    pattern = operand.Number._re.pattern
    if "(?>E[+-][0-9]+)?" in pattern:
        operand.Number._re = regex.compile(pattern.replace("(?>E[+-][0-9]+)?", "(?>E[+-]?[0-9]+)?"),
                                           operand.Number._re.flags)


def register_formulas() -> CallLog:
    """Register every BVB function, under every spelling, in formulas' process-wide function table."""
    global _FORMULAS_REGISTERED
    if not _FORMULAS_REGISTERED:
        import formulas

        table = formulas.get_functions()
        _fix_formulas_divergences(table)
        for name, fn in REGISTRY.items():
            def function(*args: Any, _name: str = name) -> Any:
                return _fo_out(_FORMULAS_LOG.call(_name, [_fo_in(a) for a in args]))
            for spelling in fn.spellings():
                table[spelling.upper()] = _wrap_formulas(function)
        _FORMULAS_REGISTERED = True
    return _FORMULAS_LOG


def _wrap_formulas(function: Any) -> Any:
    from formulas.functions import wrap_ranges_func

    return wrap_ranges_func(function)


def _evaluate_formulas(path: Path, cells: list[FormulaCell]) -> Evaluation:
    import os

    os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars on stderr while loading
    import formulas

    log = register_formulas()
    log.messages.clear()
    xl = formulas.ExcelModel().loads(str(path)).finish()
    sol = xl.calculate()
    return Evaluation("formulas", read_formulas(sol, cells), dict(log.messages))


_KEY_RE = re.compile(r"^'\[(?P<book>[^\]]+)\](?P<sheet>.+)'!(?P<a>[A-Z]+\d+)(?::(?P<b>[A-Z]+\d+))?$")


def read_formulas(sol: Any, cells: list[FormulaCell]) -> dict[Cell, Any]:
    by_key: dict[tuple[str, str], Any] = {}
    for key, ranges in sol.items():
        m = _KEY_RE.match(str(key))
        if not m:
            continue
        sheet = m.group("sheet").upper()
        value = getattr(ranges, "value", None)
        if value is None:
            continue
        arr = np.asarray(value, dtype=object)
        if arr.ndim != 2:
            continue
        if m.group("b"):
            for ref, v in zip(_cells_of(f"{m.group('a')}:{m.group('b')}"), arr.ravel(), strict=False):
                by_key.setdefault((sheet, ref), v)
        else:
            by_key[(sheet, m.group("a"))] = arr[0, 0]
    values: dict[Cell, Any] = {}
    for fc in cells:
        targets = _cells_of(fc.array_ref) if fc.array_ref else [fc.ref]
        for ref in targets:
            v = by_key.get((fc.sheet.upper(), ref))
            values[(fc.sheet, ref)] = _fo_in(v) if v is not None else None
    return values
