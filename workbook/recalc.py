"""Headless recalculation: compute every formula with a backend and store the results as cached values.

Only ``<v>`` values (and their ``t`` types) of formula cells, and of the cells inside their declared array
ranges, are changed; formulas, styles, names, validation, charts, images, VBA and every other part are copied
unchanged. See :mod:`buildbuy.workbook.xlsx`.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.refs import cells_in

from .backend import BACKENDS, DEFAULT_BACKEND, Evaluation, called_functions
from .xlsx import (
    Package,
    WorkbookFileError,
    clear_values,
    set_cells,
    sheet_formula_cells,
    to_bytes,
    write_cached,
    write_package,
)

#: Largest number of formula cells a recalculation takes on (memory and time stay bounded).
MAX_FORMULA_CELLS = 2_000_000


@dataclass
class CellError:
    sheet: str
    ref: str
    code: str
    formula: str
    message: str

    def line(self) -> str:
        tail = f": {self.message}" if self.message else ""
        return f"{self.sheet}!{self.ref} {self.code} {self.formula}{tail}"


@dataclass
class RecalcReport:
    path: Path
    backend: str
    formula_cells: int
    values_written: int
    seconds: float
    errors: list[CellError] = field(default_factory=list)
    check_total: Any = None
    named: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error value anywhere and, where the book has one, a Checks total of 0."""
        total_ok = self.check_total is None or (isinstance(self.check_total, (int, float))
                                                and not isinstance(self.check_total, bool)
                                                and self.check_total == 0)
        return not self.errors and total_ok


def recalc(src: str | Path, dst: str | Path | None = None, *, backend: str = DEFAULT_BACKEND) -> RecalcReport:
    """Recalculate ``src`` and write it (with cached values) to ``dst`` (default: ``src`` itself), atomically."""
    if backend not in BACKENDS:
        raise WorkbookFileError(f"--engine must be one of {', '.join(BACKENDS)}, got {backend!r}")
    t0 = time.perf_counter()
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    with Package(src) as pkg:
        roots, cells = read_formulas(pkg)
        data = _without_array_values(pkg, roots, cells) if backend == "formualizer" else None
        evaluation = _evaluate(src, backend, cells, data)
        replaced, written, notes = _apply(roots, cells, evaluation)
        report = RecalcReport(dst, backend, len(cells), written, 0.0, notes=notes)
        report.errors = _errors(cells, evaluation)
        report.named = named_values(pkg, evaluation)
        report.check_total = report.named.get("check_total")
        write_package(pkg, dst, {part: to_bytes(root) for part, root in replaced.items()})
    report.seconds = time.perf_counter() - t0
    return report


def read_formulas(pkg: Package) -> tuple[dict[str, Any], list[Any]]:
    """Parsed worksheet XML by part, and every formula cell of the book."""
    roots: dict[str, Any] = {}
    cells: list[Any] = []
    for sheet in pkg.sheets():
        root = pkg.xml(sheet.part)
        roots[sheet.part] = (sheet.name, root)
        cells.extend(sheet_formula_cells(root, sheet.name))
        if len(cells) > MAX_FORMULA_CELLS:
            raise WorkbookFileError(f"{pkg.path}: more than {MAX_FORMULA_CELLS:,} formula cells")
    return roots, cells


def _without_array_values(pkg: Package, roots: dict[str, Any], cells: list[Any]) -> bytes | None:
    """The package with the cached values inside legacy array ranges removed (None when it has none)."""
    import copy
    import io

    bodies: dict[str, list[str]] = {}
    for c in cells:
        if c.array_ref and ":" in c.array_ref:
            bodies.setdefault(c.sheet, []).extend(list(cells_in(c.array_ref))[1:])
    if not bodies:
        return None
    replaced = {}
    for part, (sheet, root) in roots.items():
        if sheet in bodies:
            clean = copy.deepcopy(root)
            clear_values(clean, set(bodies[sheet]))
            replaced[part] = to_bytes(clean)
    buf = io.BytesIO()
    write_package(pkg, buf, replaced)
    return buf.getvalue()


def _evaluate(path: Path, backend: str, cells: list[Any], data: bytes | None = None) -> Evaluation:
    from .backend import evaluate

    try:
        return evaluate(path, backend, cells, data)
    except WorkbookFileError:
        raise
    except MemoryError:
        raise WorkbookFileError(f"{path}: the {backend} backend ran out of memory") from None
    except Exception as exc:  # noqa: BLE001 - any backend failure becomes one clear line
        text = " ".join(str(exc).split())
        if len(text) > 300:
            text = text[:297] + "..."
        raise WorkbookFileError(f"{path}: the {backend} backend cannot evaluate this workbook "
                                f"({type(exc).__name__}: {text})") from None


def _apply(roots: dict[str, Any], cells: list[Any], ev: Evaluation) -> tuple[dict[str, Any], int, list[str]]:
    by_sheet: dict[str, dict[str, Any]] = {}
    touched: set[str] = set()
    written = 0
    notes: list[str] = []
    for c in cells:
        if c.array_ref:
            values = by_sheet.setdefault(c.sheet, {})
            for ref in cells_in(c.array_ref):
                if (c.sheet, ref) in ev.values:
                    values[ref] = _storable(ev.values[(c.sheet, ref)])
        elif (c.sheet, c.ref) in ev.values:
            write_cached(c.element, _storable(ev.values[(c.sheet, c.ref)]))
            touched.add(c.sheet)
            written += 1
        if not c.array_ref and (c.sheet, c.ref) in ev.spills:
            notes.append(f"{c.sheet}!{c.ref} spills over {ev.spills[(c.sheet, c.ref)]} in {ev.backend}, but the "
                         f"file declares no array range there: only the first value was written")
    replaced = {}
    for part, (sheet, root) in roots.items():
        values = by_sheet.get(sheet)
        if values:
            set_cells(root, values)
            written += len(values)
        if values or sheet in touched:
            replaced[part] = root
    return replaced, written, notes


def _storable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return XlError("#NUM!")
    if isinstance(v, (list, tuple)):
        return XlError("#VALUE!", "an array where one value belongs")
    return v


def _errors(cells: list[Any], ev: Evaluation) -> list[CellError]:
    out = []
    for c in cells:
        targets = list(cells_in(c.array_ref)) if c.array_ref else [c.ref]
        for ref in targets:
            v = ev.values.get((c.sheet, ref))
            if isinstance(v, XlError):
                out.append(CellError(c.sheet, ref, v.code, c.formula, ev.message_for(c.formula) if
                                     called_functions(c.formula) else ""))
    return out


_NAME_REF = re.compile(r"^'?(?P<sheet>[^'!]+)'?!\$?(?P<a>[A-Z]+)\$?(?P<r>\d+)(?::\$?(?P<b>[A-Z]+)\$?(?P<s>\d+))?$")


def named_values(pkg: Package, ev: Evaluation) -> dict[str, Any]:
    """Values of the workbook-scoped defined names that point at computed cells (scalars or 2-D lists)."""
    out: dict[str, Any] = {}
    for name, text, local in pkg.defined_names():
        if local is not None:
            continue
        m = _NAME_REF.match(text)
        if not m:
            continue
        sheet = m.group("sheet")
        if m.group("b"):
            area = f"{m.group('a')}{m.group('r')}:{m.group('b')}{m.group('s')}"
            refs = list(cells_in(area))
            if not any((sheet, r) in ev.values for r in refs):
                continue
            r1 = int(m.group("r"))
            rows: dict[int, list[Any]] = {}
            for ref in refs:
                row = int(re.sub(r"[A-Z]+", "", ref))
                rows.setdefault(row - r1, []).append(_json(ev.values.get((sheet, ref))))
            out[name] = [rows[k] for k in sorted(rows)]
        else:
            ref = f"{m.group('a')}{m.group('r')}"
            if (sheet, ref) in ev.values:
                out[name] = _json(ev.values[(sheet, ref)])
    return out


def _json(v: Any) -> Any:
    if isinstance(v, XlError):
        return v.code
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return v
    return v
