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
from buildbuy.udfs.refs import Cell, FormulaCell, cells_in
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
    _LOG[0] = CallLog()  # it also computes constant formulas then: their failures are kept for register()
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
    book._buildbuy_solution = book.calculate()


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
    for name, fn in REGISTRY.items():
        def function(*args: Any, _name: str = name) -> Any:
            return _out(_LOG[0].call(_name, [_in(a) for a in args]))
        for spelling in fn.spellings():
            table[spelling.upper()] = wrap_ranges_func(function)
    _REGISTERED = True


_KEY_RE = re.compile(r"^'\[(?P<book>[^\]]+)\](?P<sheet>.+)'!(?P<a>[A-Z]+\d+)(?::(?P<b>[A-Z]+\d+))?$")


def read(book: Any, cells: list[FormulaCell], ev: Evaluation) -> None:
    """Values of the formula cells (over their declared array ranges) from the solution."""
    sol = book._buildbuy_solution
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
            for ref, v in zip(cells_in(f"{m.group('a')}:{m.group('b')}"), arr.ravel(), strict=False):
                by_key.setdefault((sheet, ref), v)
        else:
            by_key[(sheet, m.group("a"))] = arr[0, 0]
    values: dict[Cell, Any] = ev.values
    for fc in cells:
        for ref in fc.targets():
            v = by_key.get((fc.sheet.upper(), ref))
            values[(fc.sheet, ref)] = _in(v) if v is not None else None


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
    known = known_functions()
    out = []
    for c in cells:
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
