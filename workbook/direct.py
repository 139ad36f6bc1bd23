"""BVB cells computed straight from the engine, without a spreadsheet backend in between.

A cell whose whole formula is one BVB call, every argument a literal, a constant cell or a defined name over
constant cells, cannot depend on anything a backend computes: its value is the engine's answer for those
arguments. Such cells are computed here, the timeline cells (``BVB_LINE_ITEM``) one option at a time in one
vectorized engine call instead of one call per month and line item, and handed to the backend as values, so the
backend evaluates only the native formulas. Any other cell (a BVB call inside a native formula, an argument that
is itself a formula, an empty argument, an error result) stays with the backend, which gives the same answer
more slowly. The generated template is almost entirely made of such cells; a user's own workbook gains where it
has them and is otherwise untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.refs import Cell, FormulaCell, cells_in, split_ref

from . import formula_text as ft
from .backend import CallLog, spelling_table
from .cached import MISSING, cell_value
from .xlsx import NS_MAIN

M = f"{{{NS_MAIN}}}"
_CALL = re.compile(r"^=\s*([A-Za-z_][\w.]*)\s*\((.*)\)\s*$", re.S)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_CELL = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")
_NAME_AREA = re.compile(r"^(?:'(?P<q>(?:[^']|'')+)'|(?P<s>[^'!]+))!\$?(?P<a>[A-Z]{1,3}\$?\d+)"
                        r"(?::\$?(?P<b>[A-Z]{1,3}\$?\d+))?$")
#: Functions that return an array (their cells stay with the backend, which spills them).
_ARRAY_FUNCTIONS = {"BVB_TIMELINE", "BVB_LINE_ITEMS", "BVB_COMPARE"}
_NOT_CONSTANT = object()
_BVB = re.compile("BVB")


class _Book:
    """Constant cell values of the book, read lazily per sheet."""

    def __init__(self, roots: dict[str, tuple[str, Any]], strings: Any, names: list[tuple[str, str, str | None]]
                 ) -> None:
        self.roots = {sheet: root for sheet, root in roots.values()}
        self._strings_loader = strings
        self._strings: list[str] | None = None
        self._cells: dict[str, dict[str, Any]] = {}
        self.names = {n.upper(): text for n, text, local in names if local is None}
        self._areas: dict[str, Any] = {}
        self.formula_cells: list[FormulaCell] = []
        self._formulas: dict[Cell, str] | None = None
        self._folded: dict[Cell, Any] = {}

    @property
    def formulas(self) -> dict[Cell, str]:
        """Formula of each (non-array) formula cell, indexed on first use (most books never need it)."""
        if self._formulas is None:
            self._formulas = {(c.sheet, c.ref): c.formula for c in self.formula_cells if not c.array_ref}
        return self._formulas

    def folded(self, sheet: str, ref: str) -> Any:
        """The value of a plain arithmetic formula over constants (see :func:`_fold`), else ``_NOT_CONSTANT``."""
        key = (sheet, ref)
        if key in self._folded:
            return self._folded[key]
        self._folded[key] = _NOT_CONSTANT  # a cycle folds to nothing
        formula = self.formulas.get(key)
        value = _NOT_CONSTANT if formula is None else _fold(formula, sheet, ref, self)
        self._folded[key] = value
        return value

    def _sheet(self, sheet: str) -> dict[str, Any] | None:
        if sheet not in self._cells:
            root = self.roots.get(sheet)
            if root is None:
                return None
            self._cells[sheet] = {c.get("r"): c for c in root.iter(f"{M}c")}
        return self._cells[sheet]

    def constant(self, sheet: str, ref: str) -> Any:
        """The value of a non-formula cell (None when blank); ``_NOT_CONSTANT`` for a formula or unknown sheet."""
        cells = self._sheet(sheet)
        if cells is None:
            return _NOT_CONSTANT
        c = cells.get(ref)
        if c is None:
            return None
        if c.find(f"{M}f") is not None:
            return self.folded(sheet, ref)
        if c.get("t") == "s" and self._strings is None:
            self._strings = self._strings_loader()
        v = cell_value(c, self._strings or [])
        if v is MISSING:
            return None
        if isinstance(v, XlError):
            return _NOT_CONSTANT
        return v

    def name_value(self, name: str) -> Any:
        """A defined name over constant cells: a value (one cell) or rows of values; ``_NOT_CONSTANT``
        otherwise."""
        key = name.upper()
        if key in self._areas:
            return self._areas[key]
        text = self.names.get(key)
        out: Any = _NOT_CONSTANT
        m = _NAME_AREA.match(text or "")
        if m:
            sheet = (m.group("q") or "").replace("''", "'") or m.group("s")
            a = m.group("a").replace("$", "")
            b = (m.group("b") or "").replace("$", "")
            if not b:
                out = self.constant(sheet, a)
            else:
                refs = cells_in(f"{a}:{b}")
                if len(refs) <= 10_000:
                    (_, c1), (_, c2) = split_ref(a), split_ref(b)
                    width = c2 - c1 + 1
                    vals = [self.constant(sheet, r) for r in refs]
                    if all(v is not _NOT_CONSTANT for v in vals):
                        out = [vals[i:i + width] for i in range(0, len(vals), width)]
        self._areas[key] = out
        return out


def _arg(text: str, sheet: str, book: _Book) -> Any:
    """An argument's value when it is a constant; ``_NOT_CONSTANT`` otherwise."""
    t = text.strip()
    if not t:
        return _NOT_CONSTANT  # an empty argument: the backend's reading of it is what lint reports
    if t.startswith('"') and t.endswith('"') and len(t) >= 2 and '"' not in t[1:-1].replace('""', ""):
        return t[1:-1].replace('""', '"')
    if _NUMBER.match(t):
        return float(t)
    if t.upper() in ("TRUE", "FALSE"):
        return t.upper() == "TRUE"
    m = _CELL.match(t)
    if m:
        sh = m.group("sheet")
        sh = sh[1:-1].replace("''", "'") if sh and sh.startswith("'") else (sh or sheet)
        return book.constant(sh, f"{m.group('col')}{m.group('row')}")
    if re.match(r"^[A-Za-z_][\w.]*$", t):
        return book.name_value(t)
    return _NOT_CONSTANT


def direct_values(cells: list[FormulaCell], roots: dict[str, tuple[str, Any]], strings: Any,
                  names: list[tuple[str, str, str | None]], log: CallLog | None = None,
                  errors: dict[Cell, XlError] | None = None) -> dict[Cell, Any]:
    """Values of the BVB cells that need no backend (see the module's docstring); error results are left out
    (the backend computes them too) and, when ``errors`` is given, kept there with the engine's message.

    ``roots``: part -> (sheet name, parsed worksheet); ``strings``: a callable returning the shared strings.
    """
    table = spelling_table()
    book = _Book(roots, strings, names)
    candidates = ft.matching(_BVB, [c.formula for c in cells], upper=True)  # one scan, not one call per cell
    if not candidates:
        return {}
    book.formula_cells = cells
    log = log or CallLog()
    out: dict[Cell, Any] = {}
    timeline: dict[tuple[Any, int], list[tuple[Cell, str, float]]] = {}
    assumptions_of: dict[int, Any] = {}
    memo: dict[Any, Any] = {}
    arg_memo: dict[tuple[str, str], Any] = {}
    for fc in map(cells.__getitem__, candidates):
        if fc.array_ref:
            continue
        parsed = _parse(fc.formula)
        if parsed is None:
            continue
        name = table.get(parsed[0])
        if name is None or name in _ARRAY_FUNCTIONS:
            continue
        args = []
        for text in parsed[1]:
            key_arg = (text, fc.sheet)
            if key_arg not in arg_memo:  # the same argument recurs along a timeline row or column
                arg_memo[key_arg] = _arg(text, fc.sheet, book)
            args.append(arg_memo[key_arg])
        if any(a is _NOT_CONSTANT for a in args):
            continue
        cell = (fc.sheet, fc.ref)
        if name == "BVB_LINE_ITEM" and len(args) == 4 and isinstance(args[3], float) and args[3].is_integer() \
                and 1 <= args[3] <= 600 and isinstance(args[0], str) and isinstance(args[2], str):
            assumptions_of[id(args[1])] = args[1]
            timeline.setdefault((args[0], id(args[1])), []).append((cell, args[2], args[3]))
            continue
        try:  # the same range argument is the same list object here (see _Book.name_value): keyed by identity
            key = (name, tuple(("id", id(a)) if isinstance(a, list) else (type(a), a) for a in args))
        except TypeError:
            key = None
        if key is not None and key in memo:
            result = memo[key]
        else:
            result = log.call(name, args)
            if key is not None:
                memo[key] = result
        if isinstance(result, XlError):
            if errors is not None:
                errors[cell] = result
        elif not isinstance(result, list):
            out[cell] = result
    for (option, aid), members in timeline.items():
        _timeline(option, assumptions_of[aid], members, out, log)
    return out


@lru_cache(maxsize=65_536)
def _parse(formula: str) -> tuple[str, tuple[str, ...]] | None:
    """(function name in upper case, argument texts) of a formula that is one call with no nested call; the
    same template formulas recur for every scenario of a batch, so this is cached."""
    m = _CALL.match(formula)
    if not m:
        return None
    body = ft.bare(m.group(2))
    if "(" in body or ")" in body:  # nested calls: not one plain call
        return None
    return m.group(1).upper(), tuple(ft.call_args(m.group(2) + ")", 0))


def _timeline(option: str, assumptions: Any, members: list[tuple[Cell, str, float]], out: dict[Cell, Any],
              log: CallLog) -> None:
    """Every BVB_LINE_ITEM cell of one option: one BVB_LINE_ITEMS call per horizon the months need (the
    single-cell function computes month m over max(horizon, m rounded up to whole 60-month blocks))."""
    from buildbuy.engine.model import LINE_ITEMS
    from buildbuy.udfs.registry import base_horizon, timeline_horizon

    base = base_horizon(assumptions)
    if base is None:
        return  # a bad input: the backend computes these cells and reports the engine's message
    by_horizon: dict[int, list[tuple[Cell, str, float]]] = {}
    for member in members:
        by_horizon.setdefault(timeline_horizon(base, int(member[2])), []).append(member)
    for h, group in by_horizon.items():
        rows = log.call("BVB_LINE_ITEMS", [option, assumptions, float(h)])
        if not isinstance(rows, list):
            return
        for cell, item, month in group:
            if item in LINE_ITEMS:
                v = rows[list(LINE_ITEMS).index(item)][int(month) - 1]
                if isinstance(v, float):
                    out[cell] = v


_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|(?P<fn>(?:ROW|COLUMN)\s*\()"
                    r"|(?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_][\w.]*!)?\$?[A-Z]{1,3}\$?\d+(?![\w(]))"
                    r"|(?P<name>[A-Za-z_][\w.]*(?![\w(!]))|(?P<op>[-+*/^()]))", re.I)


def _fold(formula: str, sheet: str, ref: str, book: _Book) -> Any:
    """The value of a formula made only of numbers, references, defined names, ``+ - * / ^``, parentheses and
    ``ROW()``/``COLUMN()`` (with or without a reference), when every operand is a number; else
    ``_NOT_CONSTANT``. Only used for BVB arguments (the month number of a timeline column, a scaled volume);
    anything else, or any doubt (text, blanks, errors, division by zero), leaves the cell to the backend."""
    text = formula[1:]
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            return _NOT_CONSTANT
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind).strip()))
        pos = m.end()
    i = 0

    def operand_of(kind: str, tok: str) -> float:
        if kind == "num":
            return float(tok)
        if kind == "ref":
            sh, _, cell = tok.rpartition("!")
            sh = sh[1:-1].replace("''", "'") if sh.startswith("'") else (sh or sheet)
            v = book.constant(sh, cell.replace("$", ""))
        else:
            v = book.name_value(tok)
        if type(v) is not float:
            raise ValueError
        return v

    def atom() -> float:
        nonlocal i
        if i >= len(tokens):
            raise ValueError
        kind, tok = tokens[i]
        i += 1
        if kind == "op" and tok in "+-":  # Excel: negation binds tighter than ^ (-3^2 = 9)
            v = atom()
            return v if tok == "+" else -v
        if kind == "op" and tok == "(":
            v = expr()
            if i >= len(tokens) or tokens[i] != ("op", ")"):
                raise ValueError
            i += 1
            return v
        if kind == "fn":
            which = tok[:-1].strip().upper()
            target = ref
            if i < len(tokens) and tokens[i][0] == "ref" and "!" not in tokens[i][1]:
                target = tokens[i][1].replace("$", "")
                i += 1
            if i >= len(tokens) or tokens[i] != ("op", ")"):
                raise ValueError
            i += 1
            row, col = split_ref(target)
            return float(row if which == "ROW" else col)
        if kind in ("num", "ref", "name"):
            return operand_of(kind, tok)
        raise ValueError

    def power() -> float:
        nonlocal i
        v = atom()
        while i < len(tokens) and tokens[i] == ("op", "^"):
            i += 1
            e = atom()
            if v == 0 and e <= 0 or v < 0 and not e.is_integer():
                raise ValueError
            v = float(v ** e)
        return v

    def term() -> float:
        nonlocal i
        v = power()
        while i < len(tokens) and tokens[i][1] in ("*", "/") and tokens[i][0] == "op":
            op = tokens[i][1]
            i += 1
            w = power()
            if op == "/" and w == 0:
                raise ValueError
            v = v * w if op == "*" else v / w
        return v

    def expr() -> float:
        nonlocal i
        v = term()
        while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in ("+", "-"):
            op = tokens[i][1]
            i += 1
            w = term()
            v = v + w if op == "+" else v - w
        return v

    try:
        value = expr()
    except (ValueError, OverflowError, ZeroDivisionError):
        return _NOT_CONSTANT
    if i != len(tokens) or value != value or value in (float("inf"), float("-inf")):
        return _NOT_CONSTANT
    return value
