"""Lint: every construct a headless backend cannot evaluate faithfully, with its cell.

For ``formulas``: unsigned exponent literals (``1E6``), table references, OFFSET/INDIRECT, sheet-scoped names,
LAMBDA, multi-binding LET, UNIQUE/FILTER/SEQUENCE, circular references, unknown function names.
For ``formualizer``: the spill operator (``A1#``), circular references, unknown function names (a trial
evaluation shows ``#NAME?``). For both: an omitted middle argument of a BVB function (the backends pass 0, not
the default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbuy.udfs.headless import BACKENDS, DEFAULT_BACKEND, called_functions, spelling_table
from buildbuy.udfs.refs import cells_in

from .xlsx import Package, sheet_formula_cells


@dataclass(frozen=True)
class LintFinding:
    sheet: str
    ref: str
    code: str
    message: str

    def line(self) -> str:
        where = f"{self.sheet}!{self.ref}" if self.ref else self.sheet
        return f"{where}: {self.code}: {self.message}"


_STRINGS = re.compile(r'"(?:[^"]|"")*"')
_EXP = re.compile(r"(?<![A-Za-z_$\d.])\d+(?:\.\d*)?[eE]\d+")
_TABLE = re.compile(r"[A-Za-z_][\w.]*\[")
_FUNC = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_SPILL = re.compile(r"\$?[A-Z]{1,3}\$?\d+#")
_REF = re.compile(r"(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?(?P<a>\$?[A-Z]{1,3}\$?\d+)"
                  r"(?::(?P<b>\$?[A-Z]{1,3}\$?\d+))?(?![\w(])")
_NAME_TOKEN = re.compile(r"(?<![\w.!$'])([A-Za-z_][\w.]*)(?![\w(!])")
UNSUPPORTED_FORMULAS = {"OFFSET", "INDIRECT", "LAMBDA", "UNIQUE", "FILTER", "SEQUENCE"}
MAX_EXPANDED_RANGE = 20_000


def _bare(formula: str) -> str:
    return _STRINGS.sub('""', formula)


def _functions(bare: str) -> list[str]:
    out = []
    for name in _FUNC.findall(bare):
        up = name.upper()
        for prefix in ("_XLFN._XLWS.", "_XLFN.", "_XLWS."):
            if up.startswith(prefix):
                up = up[len(prefix):]
        out.append(up)
    return out


def _call_args(bare: str, start: int) -> list[str]:
    """The top-level arguments of the call whose "(" ends just before ``start`` (text, stripped)."""
    depth, i, args, current = 1, start, [], []
    while i < len(bare) and depth:
        ch = bare[i]
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if depth == 1 and ch == ",":
            args.append("".join(current).strip())
            current = []
        elif depth:
            current.append(ch)
        i += 1
    args.append("".join(current).strip())
    return args


def _let_bindings(bare: str) -> int:
    """Largest number of name bindings in a LET call of the formula."""
    calls = re.finditer(r"(?:_xlfn\.)?LET\s*\(", bare, re.IGNORECASE)
    return max(((len(_call_args(bare, m.end())) - 1) // 2 for m in calls), default=0)


def _omitted_bvb_args(bare: str) -> list[str]:
    """BVB functions called with an empty argument before a later one (``F(1,,3)``)."""
    table = spelling_table()
    found = []
    for m in _FUNC.finditer(bare):
        name = table.get(m.group(1).upper())
        if name and "" in _call_args(bare, m.end())[:-1]:
            found.append(name)
    return found


def lint(path: str | Path, backend: str = DEFAULT_BACKEND) -> list[LintFinding]:
    """Every construct the backend cannot evaluate faithfully, in sheet and cell order."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    findings: list[LintFinding] = []
    with Package(path) as pkg:
        cells = []
        for sheet in pkg.sheets():
            cells.extend(sheet_formula_cells(pkg.xml(sheet.part), sheet.name))
        names = pkg.defined_names()
        sheet_names = [s.name for s in pkg.sheets()]
    local_names = {n.upper(): sheet_names[int(i)] if i is not None and int(i) < len(sheet_names) else "?"
                   for n, _, i in names if i is not None}
    known = _known_functions(backend)
    for c in cells:
        bare = _bare(c.formula)
        for fn in sorted(set(_omitted_bvb_args(bare))):
            findings.append(LintFinding(c.sheet, c.ref, "OMITTED-ARGUMENT",
                                        f"{fn} has an empty argument: headless backends pass 0, not the default; "
                                        "write the value or leave trailing arguments off"))
        if backend == "formulas":
            for lit in _EXP.findall(bare):
                findings.append(LintFinding(c.sheet, c.ref, "EXPONENT-LITERAL",
                                            f"{lit} has an unsigned exponent, which formulas cannot parse; "
                                            f"write {lit.upper().replace('E', 'E+')}"))
            if _TABLE.search(bare):
                findings.append(LintFinding(c.sheet, c.ref, "TABLE-REFERENCE",
                                            "structured table references are not supported by formulas"))
            used = _functions(bare)
            for fn in sorted(set(used) & UNSUPPORTED_FORMULAS):
                findings.append(LintFinding(c.sheet, c.ref, "UNSUPPORTED-FUNCTION",
                                            f"{fn} cannot be evaluated by formulas"))
            if _let_bindings(bare) > 1:
                findings.append(LintFinding(c.sheet, c.ref, "MULTI-BINDING-LET",
                                            "LET with more than one binding is not supported by formulas"))
            for tok in _NAME_TOKEN.findall(bare):
                if tok.upper() in local_names:
                    findings.append(LintFinding(c.sheet, c.ref, "SHEET-SCOPED-NAME",
                                                f"{tok} is scoped to sheet {local_names[tok.upper()]}: formulas "
                                                "evaluates it as #REF!; make it workbook-scoped"))
            for fn in sorted(set(used) - known - set(UNSUPPORTED_FORMULAS)):
                findings.append(LintFinding(c.sheet, c.ref, "UNKNOWN-FUNCTION",
                                            f"{fn} is not a function formulas knows (#NAME?)"))
        else:
            if _SPILL.search(bare):
                findings.append(LintFinding(c.sheet, c.ref, "SPILL-OPERATOR",
                                            "the spill operator (A1#) is not evaluated faithfully by formualizer"))
    findings += _circular(cells, names)
    if backend == "formualizer":
        findings += _unknown_by_evaluation(path, cells)
    return findings


def _known_functions(backend: str) -> set[str]:
    if backend != "formulas":
        return set()
    import formulas

    from buildbuy.udfs.headless import register_formulas

    register_formulas()
    from formulas.functions import not_implemented

    table = formulas.get_functions()
    return {k.upper() for k, v in table.items() if v is not not_implemented}


def _unknown_by_evaluation(path: str | Path, cells: list[Any]) -> list[LintFinding]:
    from buildbuy.udfs.conventions import XlError
    from buildbuy.udfs.headless import FormulaCell, evaluate

    try:
        ev = evaluate(path, "formualizer", [FormulaCell(c.sheet, c.ref, c.formula, c.array_ref) for c in cells])
    except Exception as exc:  # noqa: BLE001 - reported as a finding, not a crash
        return [LintFinding("(book)", "", "BACKEND-FAILED", f"formualizer cannot load the book: {exc}")]
    out = []
    table = spelling_table()
    for c in cells:
        if ev.values.get((c.sheet, c.ref)) == XlError("#NAME?"):
            names = [f for f in _functions(_bare(c.formula)) if f not in table]
            out.append(LintFinding(c.sheet, c.ref, "UNKNOWN-FUNCTION",
                                   f"#NAME? in formualizer (unknown function or name: {', '.join(names) or '?'})"))
    return out


def _circular(cells: list[Any], names: list[tuple[str, str, str | None]]) -> list[LintFinding]:
    """Cells on a reference cycle (ranges up to 20,000 cells are expanded; defined names are followed)."""
    return [LintFinding(s, r, "CIRCULAR-REFERENCE", "the cell is on a circular reference")
            for s, r in sorted(_on_cycles(_graph(cells, names)))]


def bvb_dependent_cells(path: str | Path) -> set[tuple[str, str]]:
    """Formula cells that call a BVB function or depend on one (another application cannot compute them)."""
    with Package(path) as pkg:
        cells = []
        for sheet in pkg.sheets():
            cells.extend(sheet_formula_cells(pkg.xml(sheet.part), sheet.name))
        names = pkg.defined_names()
    graph = _graph(cells, names)
    users: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node, deps in graph.items():
        for d in deps:
            users.setdefault(d, []).append(node)
    todo = [(c.sheet, c.ref) for c in cells if called_functions(c.formula)]
    seen = set(todo)
    while todo:
        node = todo.pop()
        for user in users.get(node, ()):
            if user not in seen:
                seen.add(user)
                todo.append(user)
    return seen


def _graph(cells: list[Any], names: list[tuple[str, str, str | None]]) -> dict[tuple[str, str], list[Any]]:
    """Formula cell -> the formula cells it reads (directly, through ranges or defined names)."""
    name_refs: dict[str, list[tuple[str, str]]] = {}
    for n, text, local in names:
        if local is None:
            name_refs[n.upper()] = _refs(text, "")
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    formula_at = {(c.sheet, c.ref) for c in cells}
    for c in cells:
        bare = _bare(c.formula)
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
