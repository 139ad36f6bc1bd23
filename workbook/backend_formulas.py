"""The formulas backend (pure Python): the alternative headless evaluator.

Adapter duties: BVB arguments and results converted between formulas' values and the common model, and the
divergences of formulas 1.3.4 from Excel that matter to finance corrected once, in its function table.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from buildbuy.udfs.conventions import ERROR_CODES, XlError
from buildbuy.udfs.refs import Cell, FormulaCell, split_ref
from buildbuy.udfs.registry import REGISTRY

from . import formula_text as ft
from .backend import BookInfo, CallLog, Evaluation, Finding

NAME = "formulas"
NEEDS_EVALUATION = False
#: Functions formulas 1.3.4 does not evaluate.
UNSUPPORTED = {"OFFSET", "INDIRECT", "LAMBDA", "UNIQUE", "FILTER", "SEQUENCE"}

_REGISTERED = False
_LOG: list[CallLog] = [CallLog()]  # the log of the evaluation under way (formulas' function table is global)


def load(path: Path, data: bytes | None = None) -> Any:
    """Open and compile the book (formulas reads the file; ``data`` is not used)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars on stderr while loading
    import formulas

    _register_table()  # formulas binds function names while it compiles the book
    check_range_sizes(path)
    _LOG[0] = CallLog()  # it also computes constant formulas then: their failures are kept for register()
    with _quiet():
        return formulas.ExcelModel().loads(str(path)).finish()


def register(book: Any, log: CallLog) -> None:
    """Register every BVB function in formulas' process-wide function table; failed calls go to ``log``."""
    _register_table()
    for name, messages in _LOG[0].messages.items():
        seen = log.messages.setdefault(name, [])
        seen += [m for m in messages if m not in seen]
    _LOG[0] = log


def compute(book: Any) -> None:
    """Evaluate every formula; the solution is kept on the book."""
    with _quiet():
        book._buildbuy_solution = book.calculate()


class _quiet:
    """Silence schedula's and formulas' loggers: a cell whose function fails is an error value in the result,
    but they also log the exception with its traceback on stderr, which a command must never show."""

    def __enter__(self) -> None:
        import logging

        self._saved = []
        for name in ("schedula", "formulas"):
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level))
            logger.setLevel(logging.CRITICAL + 1)

    def __exit__(self, *exc: Any) -> None:
        for logger, level in self._saved:
            logger.setLevel(level)


def _in(v: Any) -> Any:
    import schedula as sh
    from formulas.functions import XlError as FoXlError

    if isinstance(v, np.ndarray):
        rows = [[_in(c) for c in row] for row in (v if v.ndim == 2 else np.atleast_2d(v))]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    if v is sh.EMPTY:
        return None
    if isinstance(v, FoXlError):
        code = str(v)
        return XlError(code if code in ERROR_CODES else "#VALUE!")
    if isinstance(v, np.generic):
        return v.item()
    return v


def _out(v: Any) -> Any:
    from formulas.functions import Array, Error

    if isinstance(v, XlError):
        return Error.errors[v.code] if v.code in Error.errors else Error.errors["#VALUE!"]
    if isinstance(v, list):
        return np.array([[_out(c) for c in row] for row in v], dtype=object).view(Array)
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


def _fix_divergences(table: Any) -> None:
    """Correct, once, the divergences of formulas 1.3.4 from Excel that matter to finance (tested against
    LibreOffice): ROUND/ROUNDUP/ROUNDDOWN of decimal halves, and number literals with an unsigned exponent
    (``1E6``), which its parser rejects."""
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


def _register_table() -> None:
    global _REGISTERED
    if _REGISTERED:
        return
    import formulas
    from formulas.functions import wrap_ranges_func

    table = formulas.get_functions()
    _fix_divergences(table)
    _fix_ranges()
    for name, fn in REGISTRY.items():
        def function(*args: Any, _name: str = name) -> Any:
            return _out(_LOG[0].call(_name, [_in(a) for a in args]))
        for spelling in fn.spellings():
            table[spelling.upper()] = wrap_ranges_func(function)
    _REGISTERED = True


_KEY_RE = re.compile(r"^'\[(?P<book>[^\]]+)\](?P<sheet>.+)'!(?P<a>[A-Z]+\d+)(?::(?P<b>[A-Z]+\d+))?$")


def read(book: Any, cells: list[FormulaCell], ev: Evaluation) -> None:
    """Values of the formula cells (over their declared array ranges) from the solution.

    The solution also holds every range a formula reads (``B1:B1048576`` is a million values): only the
    positions of formula cells are taken from them, so memory follows the formula cells, not the ranges."""
    sol = book._buildbuy_solution
    wanted: dict[str, dict[tuple[int, int], str]] = {}
    for fc in cells:
        spots = wanted.setdefault(fc.sheet.upper(), {})
        for ref in fc.targets():
            spots[split_ref(ref)] = ref
    by_key: dict[tuple[str, str], Any] = {}
    for key, ranges in sol.items():
        m = _KEY_RE.match(str(key))
        if not m:
            continue
        sheet = m.group("sheet").upper()
        spots = wanted.get(sheet)
        if not spots:
            continue
        value = getattr(ranges, "value", None)
        if value is None:
            continue
        arr = np.asarray(value, dtype=object)
        if arr.ndim != 2:
            continue
        if m.group("b"):
            r1, c1 = split_ref(m.group("a"))
            r2, c2 = split_ref(m.group("b"))
            if (r2 - r1 + 1) * (c2 - c1 + 1) <= len(spots):
                inside = ((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if (r, c) in spots)
            else:
                inside = (rc for rc in spots if r1 <= rc[0] <= r2 and c1 <= rc[1] <= c2)
            for r, c in inside:
                if r - r1 < arr.shape[0] and c - c1 < arr.shape[1]:
                    by_key.setdefault((sheet, spots[(r, c)]), arr[r - r1, c - c1])
        else:
            by_key[(sheet, m.group("a"))] = arr[0, 0]
    values: dict[Cell, Any] = ev.values
    for fc in cells:
        targets = fc.targets()
        for ref in targets:
            v = by_key.get((fc.sheet.upper(), ref))
            values[(fc.sheet, ref)] = _in(v) if v is not None else None
        if len(targets) > 1:
            anchor = values[(fc.sheet, targets[0])]
            if not isinstance(anchor, (XlError, type(None))) and \
                    all(values[(fc.sheet, r)] == anchor for r in targets[1:]):
                # One value repeated over an array range: formulas computed a single value where Excel
                # computes one per cell (INDEX of a whole row, ROW of a range, ...), so the cells are reported.
                for ref in targets[1:]:
                    ev.unfaithful[(fc.sheet, ref)] = (f"array formula: formulas repeated one value over "
                                                      f"{fc.array_ref}, Excel may compute one per cell")


def known_functions() -> set[str]:
    """Every function name formulas evaluates (BVB functions included)."""
    import formulas
    from formulas.functions import not_implemented

    _register_table()
    return {k.upper() for k, v in formulas.get_functions().items() if v is not not_implemented}


_EXP = re.compile(r"(?<![A-Za-z_$\d.])\d+(?:\.\d*)?[eE]\d+")
_TABLE = re.compile(r"[A-Za-z_][\w.]*\[")
_NAME_TOKEN = re.compile(r"(?<![\w.!$'])([A-Za-z_][\w.]*)(?![\w(!])")
_LET = re.compile(r"(?:_xlfn\.)?LET\s*\(", re.IGNORECASE)


def gaps(cells: list[FormulaCell], info: BookInfo, ev: Evaluation | None) -> list[Finding]:
    """Unsigned exponent literals, table references, unsupported or unknown functions, multi-binding LET,
    sheet-scoped names."""
    names = info.sheet_names
    local_names = {n.upper(): names[int(i)] if int(i) < len(names) else "?"
                   for n, _, i in info.defined_names if i is not None}
    from .gaps import value_gap_cells, value_gaps

    known = known_functions()
    out = []
    value_of = info.value_of(ev)
    look = set(value_gap_cells(cells))
    for i, c in enumerate(cells):
        if i in look:
            out.extend(Finding(c.sheet, c.ref, "NOT-FAITHFUL", why) for why in value_gaps(c, NAME, value_of))
        bare = ft.bare(c.formula)
        for lit in _EXP.findall(bare):
            out.append(Finding(c.sheet, c.ref, "EXPONENT-LITERAL",
                               f"{lit} has an unsigned exponent, which formulas cannot parse; "
                               f"write {lit.upper().replace('E', 'E+')}"))
        if _TABLE.search(bare):
            out.append(Finding(c.sheet, c.ref, "TABLE-REFERENCE",
                               "structured table references are not supported by formulas"))
        used = ft.functions(bare)
        for fn in sorted(set(used) & UNSUPPORTED):
            out.append(Finding(c.sheet, c.ref, "UNSUPPORTED-FUNCTION", f"{fn} cannot be evaluated by formulas"))
        lets = [len(ft.call_args(bare, m.end())) for m in _LET.finditer(bare)]
        if any((n - 1) // 2 > 1 for n in lets):
            out.append(Finding(c.sheet, c.ref, "MULTI-BINDING-LET",
                               "LET with more than one binding is not supported by formulas"))
        for tok in _NAME_TOKEN.findall(bare):
            if tok.upper() in local_names:
                out.append(Finding(c.sheet, c.ref, "SHEET-SCOPED-NAME",
                                   f"{tok} is scoped to sheet {local_names[tok.upper()]}: formulas evaluates it "
                                   "as #REF!; make it workbook-scoped"))
        for fn in sorted(set(used) - known - UNSUPPORTED):
            out.append(Finding(c.sheet, c.ref, "UNKNOWN-FUNCTION", f"{fn} is not a function formulas knows (#NAME?)"))
    return out


# ------------------------------------------------------------------------------------------- ranges and memory
def _build_cel(c: Any, r: Any) -> tuple[str, str]:
    """formulas' ``_build_cel`` without dropping a last column or row: it names the cell XFD1048576 '' (its
    value was lost). Runs with formulas.tokens.operand's globals."""
    return c or "", str(r and int(r) or "")


def _build_ref(c1: Any, r1: Any, c2: Any, r2: Any, anchor: str = "") -> str:
    """formulas' ``_build_ref`` keeping full-height and full-width ends when the start names a row or column:
    formulas 1.3.4 writes ``B1:B1048576`` as ``B1:B`` and ``A5:XFD5`` as ``A5:5``, which it then reads as one cell
    (``SUM(B1:B1048576)`` gave B1 alone). ``B:B`` and ``5:5`` stay as they are. Runs with operand's globals."""
    c1, r1 = c1 or "", str(r1 and int(r1) or "")
    c2, r2 = c2 or "", str(r2 and int(r2) or "")
    if not r1 and r2 == _maxrow():  # noqa: F821 - operand's globals
        r2 = ""
    if not c1 and c2 == _maxcol():  # noqa: F821 - operand's globals
        c2 = ""
    v1, v2 = f"{c1}{r1}{anchor}", f"{c2}{r2}"
    if v1 == v2 and c1 and r1:
        return v1
    if anchor:
        raise ValueError
    return f"{v1}:{v2}"


def _fix_ranges() -> None:
    """Correct full-height/full-width ranges (see :func:`_build_ref`), and make formulas walk only the cells that
    exist: it lists a sheet or a range by creating every cell of the rectangle (openpyxl's ``iter_rows``), so two
    cells at A1 and XFD1048576 made it create 17 billion."""
    from formulas.excel import ExcelModel
    from formulas.tokens import operand

    if getattr(operand, "_buildbuy_fixed", False):
        return
    operand._build_ref.__code__ = _build_ref.__code__  # also reaches the copy its parser holds
    operand._build_cel.__code__ = _build_cel.__code__
    original_add_book = ExcelModel.add_book

    def add_book(self: Any, *args: Any, **kwargs: Any) -> Any:
        book, context = original_add_book(self, *args, **kwargs)
        for ws in getattr(book, "worksheets", ()):
            if "iter_rows" not in vars(ws):
                ws.iter_rows = functools.partial(_existing_rows, ws, type(ws).iter_rows)
        return book, context

    ExcelModel.add_book = add_book
    operand._buildbuy_fixed = True


def _existing_rows(ws: Any, iter_rows: Any, min_row: int | None = None, max_row: int | None = None,
                   min_col: int | None = None, max_col: int | None = None, values_only: bool = False) -> Any:
    """Rows of the cells that exist in a rectangle (a plain ``iter_rows`` when the rectangle is small)."""
    r1, r2 = min_row or 1, max_row or ws.max_row
    c1, c2 = min_col or 1, max_col or ws.max_column
    area = max(0, r2 - r1 + 1) * max(0, c2 - c1 + 1)
    if values_only or area <= 4 * len(ws._cells) + 4096:
        return iter_rows(ws, min_row, max_row, min_col, max_col, values_only)
    found = sorted((r, c) for r, c in ws._cells if r1 <= r <= r2 and c1 <= c <= c2)
    rows: list[list[Any]] = []
    last = None
    for r, c in found:
        if r != last:
            rows.append([])
            last = r
        rows[-1].append(ws._cells[(r, c)])
    return iter(rows)


#: Most cells the ranges of a book's formulas may span, in total, for this backend: formulas lists every cell of
#: a range while it compiles (about 700 bytes and 6 microseconds each), whether the cells exist or not. One
#: full column (1,048,576 cells) fits; a whole sheet would need terabytes.
MAX_RANGE_CELLS = 1_200_000
#: Most formula cells a book may have for this backend (20,000 took 61 s and 1.0 GB; formualizer: 0.6 s).
MAX_FORMULA_CELLS = 40_000

_AREA = re.compile(r"(?<![\w.$])(\$?[A-Z]{1,3})?(\$?\d+)?:(\$?[A-Z]{1,3})?(\$?\d+)?(?![\w(])")


def range_cells(text: str) -> list[tuple[str, int]]:
    """Each range of a formula or name (string literals ignored) with the number of cells it spans."""
    out = []
    for m in _AREA.finditer(ft.bare(text)):
        a, r1, b, r2 = (g.replace("$", "") if g else "" for g in m.groups())
        if not ((a and b) or (r1 and r2)) or (bool(a) != bool(b)) or (bool(r1) != bool(r2)):
            continue  # not a reference (a time, a label); one-sided forms are not ranges either
        rows = abs(int(r2) - int(r1)) + 1 if r1 else 1_048_576
        cols = abs(_col(b) - _col(a)) + 1 if a else 16_384
        out.append((m.group(0), rows * cols))
    return out


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def check_range_sizes(path: Path) -> None:
    """Refuse, in one line naming the cell and the range, a book whose ranges would take formulas past
    :data:`MAX_RANGE_CELLS` (memory and time grow with a range's nominal size in formulas), or that has more
    than :data:`MAX_FORMULA_CELLS` formula cells."""
    from .backend import read_cells
    from .xlsx import WorkbookFileError

    cells, info = read_cells(path)
    if len(cells) > MAX_FORMULA_CELLS:
        raise WorkbookFileError(
            f"{path}: {len(cells):,} formula cells; the formulas backend takes about 2.5 ms and 45 KB per formula "
            f"cell, so it stops at {MAX_FORMULA_CELLS:,}: use --engine formualizer")
    total = 0
    # Excel's built-in names (_xlnm.Print_Titles, _xlnm.Print_Area ...) are print settings: openpyxl reads them
    # as such and formulas never compiles them, so their whole-column ranges cost nothing.
    names = {n.upper(): text for n, text, _ in info.defined_names if not n.lower().startswith("_xlnm.")}
    for c in cells:
        for rng, size in range_cells(c.formula):
            total += size
            if total > MAX_RANGE_CELLS:
                raise WorkbookFileError(
                    f"{path}: {c.sheet}!{c.ref} reads {rng} ({size:,} cells); the formulas backend lists every "
                    f"cell of a range, and this book's ranges pass {MAX_RANGE_CELLS:,} cells: use "
                    f"--engine formualizer, or ranges that end at the data")
    for name in sorted(names):  # formulas compiles every defined name, used or not
        if name.startswith("_XLNM."):  # print titles and areas: openpyxl keeps them on the sheet, never compiled
            continue
        for rng, size in range_cells(names[name]):
            total += size
            if total > MAX_RANGE_CELLS:
                raise WorkbookFileError(
                    f"{path}: the defined name {name} spans {rng} ({size:,} cells); the formulas backend lists "
                    f"every cell of a range, past {MAX_RANGE_CELLS:,} cells in all: use --engine formualizer")
