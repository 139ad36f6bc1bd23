"""Lint: every construct a headless backend cannot evaluate faithfully, with its cell.

Each backend lists its own gaps (:func:`buildbuy.workbook.backend.gaps`); for both, lint adds the rules common
to every backend (:mod:`.gaps`: omitted arguments and the other Excel semantics no backend reproduces) and
circular references.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from buildbuy.udfs.refs import cells_in

from . import formula_text as ft
from .backend import BACKENDS, DEFAULT_BACKEND, Finding, called_functions, read_cells
from .backend import gaps as backend_gaps

LintFinding = Finding

_REF = re.compile(r"(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?(?P<a>\$?[A-Z]{1,3}\$?\d+)"
                  r"(?::(?P<b>\$?[A-Z]{1,3}\$?\d+))?(?![\w(])")
_NAME_TOKEN = re.compile(r"(?<![\w.!$'])([A-Za-z_][\w.]*)(?![\w(!])")
MAX_EXPANDED_RANGE = 20_000


def lint(path: str | Path, backend: str = DEFAULT_BACKEND) -> list[Finding]:
    """Every construct the backend cannot evaluate faithfully, in sheet and cell order."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    from .gaps import common_gaps

    cells, info = read_cells(path)
    findings = common_gaps(cells, backend) + backend_gaps(path, backend, cells, info)
    findings += _circular(cells, info.defined_names)
    order = {(c.sheet, c.ref): i for i, c in enumerate(cells)}
    return sorted(findings, key=lambda f: order.get((f.sheet, f.ref), -1))


def _circular(cells: list[Any], names: list[tuple[str, str, str | None]]) -> list[Finding]:
    """Cells on a reference cycle (ranges up to 20,000 cells are expanded; defined names are followed)."""
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
    """Formula cell -> the formula cells it reads (directly, through ranges or defined names)."""
    name_refs: dict[str, list[tuple[str, str]]] = {}
    for n, text, local in names:
        if local is None:
            name_refs[n.upper()] = _refs(text, "")
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    formula_at = {(c.sheet, c.ref) for c in cells}
    for c in cells:
        bare = ft.bare(c.formula)
        deps = _refs(bare, c.sheet)
        for tok in _NAME_TOKEN.findall(bare):
            deps += name_refs.get(tok.upper(), [])
        graph[(c.sheet, c.ref)] = [d for d in deps if d in formula_at]
    return graph


def _refs(text: str, sheet: str) -> list[tuple[str, str]]:
    out = []
    for m in _REF.finditer(text):
        sh = m.group("sheet")
        sh = sh.strip("'").replace("''", "'") if sh else sheet
        a = m.group("a").replace("$", "")
        b = (m.group("b") or "").replace("$", "")
        if b:
            area = f"{a}:{b}"
            refs = list(cells_in(area))
            if len(refs) > MAX_EXPANDED_RANGE:
                continue
            out.extend((sh, r) for r in refs)
        else:
            out.append((sh, a))
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
