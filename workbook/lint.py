"""Lint: every construct a headless backend cannot evaluate faithfully, with its cell.

Each backend lists its own gaps (:func:`buildbuy.workbook.backend.gaps`); for both, lint adds the rules common
to every backend (:mod:`.gaps`: omitted arguments and the other Excel semantics no backend reproduces) and
circular references.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from buildbuy.udfs.refs import split_ref

from . import formula_text as ft
from .backend import BACKENDS, DEFAULT_BACKEND, Finding, called_functions, read_cells
from .backend import gaps as backend_gaps

LintFinding = Finding

_REF = re.compile(r"(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?(?P<a>\$?[A-Z]{1,3}\$?\d+)"
                  r"(?::(?P<b>\$?[A-Z]{1,3}\$?\d+))?(?![\w(])")
_NAME_TOKEN = re.compile(r"(?<![\w.!$'])([A-Za-z_][\w.]*)(?![\w(!])")


def lint(path: str | Path, backend: str = DEFAULT_BACKEND) -> list[Finding]:
    """Every construct the backend cannot evaluate faithfully, in sheet and cell order."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    from .gaps import common_gaps

    cells, info = read_cells(path)
    findings = common_gaps(cells, backend) + backend_gaps(path, backend, cells, info)
    findings += _circular(cells, info.defined_names)
    findings += _cannot_evaluate(path, cells, backend)
    order = {(c.sheet, c.ref): i for i, c in enumerate(cells)}
    return sorted(findings, key=lambda f: order.get((f.sheet, f.ref), -1))


def _cannot_evaluate(path: str | Path, cells: list[Any], backend: str) -> list[Finding]:
    """What stops a recalculation outright: a formula the backend cannot parse (syntax, nesting deeper than the
    parser takes), and, for formulas, ranges too large for it."""
    from .recalc import _parse_problem, _short_formula
    from .xlsx import WorkbookFileError

    out = [Finding(c.sheet, c.ref, "CANNOT-PARSE", f"{_short_formula(c.formula)}: {why}")
           for c in cells if (why := _parse_problem(c.formula, backend))]
    if backend == "formulas":
        from .backend_formulas import check_range_sizes

        try:
            check_range_sizes(Path(path))
        except WorkbookFileError as exc:
            out.append(Finding("(book)", "", "TOO-LARGE-FOR-BACKEND", str(exc).split(": ", 1)[-1]))
    return out


def _circular(cells: list[Any], names: list[tuple[str, str, str | None]]) -> list[Finding]:
    """Cells on a reference cycle (through ranges of any size and defined names)."""
    return [Finding(s, r, "CIRCULAR-REFERENCE", "the cell is on a circular reference")
            for s, r in sorted(_on_cycles(_graph(cells, names)))]


def bvb_dependent_cells(path: str | Path) -> set[tuple[str, str]]:
    """Formula cells that call a BVB function or depend on one (another application cannot compute them)."""
    cells, info = read_cells(path)
    return bvb_dependents(cells, info.defined_names)


def bvb_dependents(cells: list[Any], names: list[tuple[str, str, str | None]]) -> set[tuple[str, str]]:
    """Of ``cells``, those that call a BVB function or depend on one."""
    seeds = {(c.sheet, c.ref) for c in cells if called_functions(c.formula)}
    return seeds | dependents(cells, names, seeds) if seeds else set()


def dependents(cells: list[Any], names: list[tuple[str, str, str | None]],
               seeds: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Formula cells that read any of ``seeds``, directly or through other cells (seeds not included)."""
    users: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node, deps in _graph(cells, names).items():
        for d in deps:
            users.setdefault(d, []).append(node)
    todo = list(seeds)
    seen = set(seeds)
    while todo:
        node = todo.pop()
        for user in users.get(node, ()):
            if user not in seen:
                seen.add(user)
                todo.append(user)
    return seen - seeds


def _graph(cells: list[Any], names: list[tuple[str, str, str | None]]) -> dict[tuple[str, str], list[Any]]:
    """Formula cell -> the formula cells it reads (directly, through ranges or defined names).

    A range is matched against the formula cells that exist (per column, by bisection), never listed cell by
    cell: ``SUM(C1:XFD1048576)`` costs what the sheet holds, not 17 billion cells."""
    index = _FormulaIndex(cells)
    name_refs: dict[str, list[tuple[str, str]]] = {}
    for n, text, local in names:
        if local is None:
            name_refs[n.upper()] = _refs(text, "", index)
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for c in cells:
        bare = _POSITION_ONLY.sub("0", ft.bare(c.formula))
        deps = _refs(bare, c.sheet, index)
        for tok in _NAME_TOKEN.findall(bare):
            deps += name_refs.get(tok.upper(), [])
        graph[(c.sheet, c.ref)] = deps
    return graph


#: Calls that read where their argument is, not its value: ROW(B1:B9) in B1 is not a circular reference.
_POSITION_ONLY = re.compile(r"(?<![\w.])(?:_xlfn\.)?(?:ROW|COLUMN|ROWS|COLUMNS)\s*\([^()]*\)", re.IGNORECASE)


class _FormulaIndex:
    """Where the formula cells are: sheet -> sorted columns, and column -> sorted (row, ref)."""

    def __init__(self, cells: list[Any]) -> None:
        by_col: dict[str, dict[int, list[tuple[int, str]]]] = {}
        for c in cells:
            row, col = split_ref(c.ref)
            by_col.setdefault(c.sheet, {}).setdefault(col, []).append((row, c.ref))
        self.cols = {sheet: sorted(cols) for sheet, cols in by_col.items()}
        self.rows = {sheet: {col: sorted(v) for col, v in cols.items()} for sheet, cols in by_col.items()}

    def within(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> list[tuple[str, str]]:
        cols = self.cols.get(sheet)
        if not cols:
            return []
        out = []
        for col in cols[bisect.bisect_left(cols, c1):bisect.bisect_right(cols, c2)]:
            rows = self.rows[sheet][col]
            lo = bisect.bisect_left(rows, (r1, ""))
            for row, ref in rows[lo:]:
                if row > r2:
                    break
                out.append((sheet, ref))
        return out


def _refs(text: str, sheet: str, index: _FormulaIndex) -> list[tuple[str, str]]:
    out = []
    for m in _REF.finditer(text):
        sh = m.group("sheet")
        sh = sh.strip("'").replace("''", "'") if sh else sheet
        a = m.group("a").replace("$", "")
        b = (m.group("b") or "").replace("$", "")
        try:
            r1, c1 = split_ref(a)
            r2, c2 = split_ref(b or a)
        except ValueError:
            continue
        out.extend(index.within(sh, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return out


def _on_cycles(graph: dict[Any, list[Any]]) -> set[Any]:
    """Nodes in a strongly connected component with a cycle (Tarjan, iterative)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set[Any] = set()
    stack: list[Any] = []
    result: set[Any] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1 or node in graph.get(node, ()):
                    result.update(comp)
    return result
