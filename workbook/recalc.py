"""Headless recalculation: compute every formula with a backend and store the results as cached values.

Only ``<v>`` values (and their ``t`` types) of formula cells, and of the cells inside their declared array
ranges, are changed; formulas, styles, names, validation, charts, images, VBA and every other part are copied
unchanged. See :mod:`buildbuy.workbook.xlsx`.
"""

from __future__ import annotations

import contextlib
import gc
import math
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.refs import Cell, FormulaCell, cells_in

from .backend import BACKENDS, DEFAULT_BACKEND, BookInfo, Evaluation, called_functions
from .cached import cached_values
from .engines import FALLBACKS
from .recalc_report import (  # noqa: F401 - the report's types, importable from here as before
    MAX_NAMED_CELLS,
    CellError,
    RecalcReport,
    Unfaithful,
    _single_cell_names,
    named_values,
)
from .xlsx import (
    Package,
    WorkbookFileError,
    clear_values,
    set_cells,
    sheet_formula_cells,
    to_bytes,
    write_cached_many,
    write_package,
)

#: Largest number of formula cells a recalculation takes on (memory and time stay bounded).
MAX_FORMULA_CELLS = 2_000_000


def recalc(src: str | Path, dst: str | Path | None = None, *, backend: str = DEFAULT_BACKEND,
           fallback: str | None = None, inputs: dict[str, dict[str, Any]] | None = None,
           plan: bool = True) -> RecalcReport:
    """Recalculate ``src`` and write it (with cached values) to ``dst`` (default: ``src`` itself), atomically.

    A filled template as built (every formula, sheet and defined name unchanged) is computed by the template's
    compiled plan (:mod:`.fast`), with the same values, unless ``plan=False`` or another backend or a fallback
    is asked for; the plan hands anything it does not vouch for (an error value, an edited formula) to the
    general path below.

    ``fallback="libreoffice"``: cells the backend flags as not evaluated faithfully that call no BVB function
    and depend on none take LibreOffice's value instead.
    ``inputs``: sheet -> {cell: value} written into ``src``'s cells first (as :func:`buildbuy.workbook.fill.fill`
    does), so a template is filled and recalculated in one pass (formualizer, no fallback).
    """
    if inputs and (backend != "formualizer" or fallback):
        raise WorkbookFileError("inputs are applied in one pass with formualizer and no fallback only")
    if backend not in BACKENDS:
        raise WorkbookFileError(f"--engine must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if fallback is not None and fallback not in FALLBACKS:
        raise WorkbookFileError(f"--fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    from .fast import applies

    if applies(backend, fallback, plan):
        from .fast import recalc_fast

        fast = recalc_fast(src, dst, inputs)
        if fast is not None:
            return fast
    t0 = time.perf_counter()
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    with Package(src) as pkg, _collector_paused(backend == "formualizer"):
        roots, cells = read_formulas(pkg, inputs)
        info = BookInfo(src, [s.name for s in pkg.sheets()], pkg.defined_names(),
                        {sheet: root for sheet, root in roots.values()}, _strings_of(pkg))
        direct_errors: dict[Cell, XlError] = {}
        preset = _direct(pkg, roots, cells, info, direct_errors) if backend == "formualizer" else None
        changed = {part for part, (sheet, _) in roots.items() if inputs and sheet in inputs}
        data = _engine_copy(pkg, roots, cells, preset, changed) if backend == "formualizer" else None
        evaluation = _evaluate(src, backend, cells, data, preset)
        for cell, err in direct_errors.items():  # the backend's copy of the error lost the engine's message
            got = evaluation.values.get(cell)
            if isinstance(got, XlError) and got.code == err.code and not got.message:
                evaluation.values[cell] = err
        values = evaluation.values
        odd = _unusual(values)  # the checks below read only cells that do not hold a finite number
        if any(type(values[k]) is XlError for k in odd):
            _messages_for_errors(pkg, roots, cells, info, evaluation)  # the engine's own message per error cell
            _check_syntax(src, cells, evaluation)
        if any(values[k] is None or type(values[k]) is XlError for k in odd):
            _mark_circular(cells, info, evaluation)  # a cycle shows as an error (formualizer) or a blank (formulas)
            odd = _unusual(values)
        unfaithful = _unfaithful(cells, info, evaluation)
        # What the file held before, for the cells that now hold an error (pre-existing or introduced?)
        failed = {k for k in odd if type(values[k]) is XlError}
        before = cached_values(pkg, [c for c in cells if any((c.sheet, r) in failed for r in c.targets())],
                               roots) if failed else {}
        report = RecalcReport(dst, backend, len(cells), 0, 0.0, fallback=fallback)
        if fallback:
            report.fallback_cells = _fall_back(src, cells, info, evaluation, unfaithful, before)
        replaced, written, notes = _apply(roots, cells, evaluation)
        for part in changed:
            replaced[part] = roots[part][1]
        report.values_written, report.notes = written, notes
        if report.fallback_cells:
            odd = _unusual(values)
        report.errors = _errors(cells, evaluation, before) if any(type(values[k]) in (XlError, float)
                                                                  for k in odd) else []
        report.unfaithful = [Unfaithful(s, r, f, why) for (s, r), (f, why) in unfaithful.items()]
        report.named = named_values(pkg, evaluation)
        report.check_total = report.named.get("check_total")
        report.input_cells = _single_cell_names(info.defined_names)
        write_package(pkg, dst, {part: to_bytes(root) for part, root in replaced.items()})
    report.seconds = time.perf_counter() - t0
    return report


@contextlib.contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (back to its previous state after). A large book
    makes hundreds of thousands of objects (cells, values, XML elements) that reference counting frees, none of
    them in cycles (a 100,000-formula book left 5 cyclic objects); yet each full collection walks them all, which
    took 0.15-0.25 s of a 1.1 s recalculation. Not for the formulas backend, whose model is a graph of cycles."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def read_formulas(pkg: Package, inputs: dict[str, dict[str, Any]] | None = None
                  ) -> tuple[dict[str, Any], list[Any]]:
    """Parsed worksheet XML by part (with ``inputs``, sheet -> {cell: value}, written in), and every formula
    cell of the book."""
    roots: dict[str, Any] = {}
    cells: list[Any] = []
    for sheet in pkg.sheets():
        root = pkg.xml(sheet.part)
        if inputs and sheet.name in inputs:
            set_cells(root, inputs[sheet.name], as_input=True)
        roots[sheet.part] = (sheet.name, root)
        cells.extend(sheet_formula_cells(root, sheet.name))
        if len(cells) > MAX_FORMULA_CELLS:
            raise WorkbookFileError(f"{pkg.path}: more than {MAX_FORMULA_CELLS:,} formula cells")
    return roots, cells


def _engine_copy(pkg: Package, roots: dict[str, Any], cells: list[Any], preset: dict[Cell, Any] | None,
                 changed: set[str] | None = None) -> bytes | None:
    """The package the backend loads (None: the file as it is): cached values inside legacy array ranges
    removed (formualizer evaluates such an array as a spill, which a leftover value would block), and the cells
    of ``preset`` turned into plain values, so the backend computes only what is left."""
    import copy
    import io

    bodies: dict[str, list[str]] = {}
    for c in cells:
        if c.array_ref and ":" in c.array_ref:
            bodies.setdefault(c.sheet, []).extend(list(cells_in(c.array_ref))[1:])
    values: dict[str, dict[str, Any]] = {}
    for (sheet, ref), v in (preset or {}).items():
        values.setdefault(sheet, {})[ref] = v
    if not bodies and not values and not changed:
        return None
    replaced = {}
    for part, (sheet, root) in roots.items():
        if part in (changed or ()) and sheet not in bodies and sheet not in values:
            replaced[part] = to_bytes(root)
        elif sheet in bodies or sheet in values:
            clean = copy.deepcopy(root)
            if sheet in bodies:
                clear_values(clean, set(bodies[sheet]))
            if sheet in values:
                set_cells(clean, values[sheet], as_input=True)
            replaced[part] = to_bytes(clean)
    buf = io.BytesIO()
    write_package(pkg, buf, replaced)
    return buf.getvalue()


def _strings_of(pkg: Package) -> Any:
    """A callable returning the package's shared strings, read once on first use."""
    from .cached import shared_strings_loader

    return shared_strings_loader(pkg)


def _direct(pkg: Package, roots: dict[str, Any], cells: list[FormulaCell], info: BookInfo,
            errors: dict[Cell, XlError]) -> dict[Cell, Any]:
    """The BVB cells the engine answers directly (see :mod:`.direct`); their errors, with the engine's message
    per cell, go to ``errors``."""
    from .direct import direct_values

    return direct_values(cells, roots, info.strings, info.defined_names, errors=errors)


def _evaluate(path: Path, backend: str, cells: list[Any], data: bytes | None = None,
              preset: dict[Cell, Any] | None = None) -> Evaluation:
    from .backend import evaluate

    try:
        return evaluate(path, backend, cells, data, preset)
    except WorkbookFileError:
        raise
    except MemoryError:
        raise WorkbookFileError(f"{path}: the {backend} backend ran out of memory") from None
    except Exception as exc:  # noqa: BLE001 - any backend failure becomes one clear line
        bad = _unparsable(cells, backend)
        if bad is not None:
            raise WorkbookFileError(f"{path}: {bad}") from None
        text = " ".join(str(exc).split())
        if len(text) > 300:
            text = text[:297] + "..."
        raise WorkbookFileError(f"{path}: the {backend} backend cannot evaluate this workbook "
                                f"({type(exc).__name__}: {text})") from None


def _short_formula(formula: str) -> str:
    return formula if len(formula) <= 80 else formula[:77] + "..."


def _parse_problem(formula: str, backend: str) -> str | None:
    """Why a backend cannot parse a formula (None when it can). formualizer's parser (fast) screens every
    formula; for the formulas backend, a formula it rejects is tried again with formulas' own parser."""
    import formualizer as fz

    try:
        fz.parse(formula)
        return None
    except Exception as exc:  # noqa: BLE001 - ParserError and its kin
        why = " ".join(str(exc).split())[:160]
    if backend == "formulas":
        import formulas

        try:
            formulas.Parser().ast(formula)
            return None
        except Exception as exc:  # noqa: BLE001 - formulas' own parse errors
            why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:140]}"
    return why


def _unparsable(cells: list[FormulaCell], backend: str, limit: int = 5_000) -> str | None:
    """The first formula (of the first ``limit``) the backend cannot parse, as a sentence naming the cell."""
    for c in cells[:limit]:
        why = _parse_problem(c.formula, backend)
        if why:
            return f"{c.sheet}!{c.ref}: the formula {_short_formula(c.formula)} cannot be parsed ({why})"
    return None


def _check_syntax(path: Path, cells: list[FormulaCell], ev: Evaluation) -> None:
    """A formula the backend could not parse stops the run naming the cell (formualizer would quietly show
    #VALUE! there). Only cells holding an error are parsed again, so a sound book pays nothing."""
    for c in cells:
        if isinstance(ev.values.get((c.sheet, c.ref)), XlError):
            why = _parse_problem(c.formula, "formualizer")
            if why:
                raise WorkbookFileError(f"{path}: {c.sheet}!{c.ref}: the formula {_short_formula(c.formula)} "
                                        f"cannot be parsed ({why})")


def _apply(roots: dict[str, Any], cells: list[Any], ev: Evaluation) -> tuple[dict[str, Any], int, list[str]]:
    by_sheet: dict[str, dict[str, Any]] = {}
    touched: set[str] = set()
    notes: list[str] = []
    values = ev.values
    plain: list[tuple[Any, Any]] = []
    for c in cells:
        key = (c.sheet, c.ref)
        if c.array_ref:
            in_range = by_sheet.setdefault(c.sheet, {})
            for ref in cells_in(c.array_ref):
                if (c.sheet, ref) in values:
                    in_range[ref] = _storable(values[(c.sheet, ref)])
            continue
        v = values.get(key, _ABSENT)
        if v is not _ABSENT:
            plain.append((c.element, v if type(v) is float and -_FLOAT_MAX <= v <= _FLOAT_MAX else _storable(v)))
            touched.add(c.sheet)
        if key in ev.spills:
            notes.append(f"{c.sheet}!{c.ref} spills over {ev.spills[key]} in {ev.backend}, but the "
                         f"file declares no array range there: only the first value was written")
    written = write_cached_many(plain)
    replaced = {}
    for part, (sheet, root) in roots.items():
        in_range = by_sheet.get(sheet)
        if in_range:
            set_cells(root, in_range)
            written += len(in_range)
        if in_range or sheet in touched:
            replaced[part] = root
    return replaced, written, notes


_ABSENT = object()
_FLOAT_MAX = sys.float_info.max


def _unusual(values: dict[Cell, Any]) -> set[Cell]:
    """Cells whose value is not a finite number (errors, blanks, text, booleans, infinities, arrays): the only
    ones the error and cycle checks need to read, so a numeric model pays one pass for them."""
    return {k for k, v in values.items() if type(v) is not float or not -_FLOAT_MAX <= v <= _FLOAT_MAX}


def _storable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return XlError("#NUM!")
    if isinstance(v, (list, tuple)):
        return XlError("#VALUE!", "an array where one value belongs")
    return v


def _messages_for_errors(pkg: Package, roots: dict[str, Any], cells: list[FormulaCell], info: BookInfo,
                         ev: Evaluation) -> None:
    """Give each BVB error cell the engine's message for its own arguments (a backend reports the messages per
    function, so two cells calling one function would share them). Only error cells are asked again: a cell
    that is one BVB call as it stands, else each BVB call inside its formula whose arguments are constants."""
    failed = [c for c in cells if isinstance(ev.values.get((c.sheet, c.ref)), XlError)
              and not ev.values[(c.sheet, c.ref)].message and called_functions(c.formula)][:2_000]
    if not failed:
        return
    probes: list[FormulaCell] = []
    owner: dict[Cell, Cell] = {}
    for c in failed:
        probes.append(c)
        for i, call in enumerate(_bvb_calls(c.formula)):
            if call != c.formula:
                probe = FormulaCell(c.sheet, f"{c.ref}#{i}", call)
                probes.append(probe)
                owner[(c.sheet, probe.ref)] = (c.sheet, c.ref)
    errors: dict[Cell, XlError] = {}
    _direct(pkg, roots, probes, info, errors)
    found: dict[Cell, list[XlError]] = {}
    for cell, err in errors.items():
        found.setdefault(owner.get(cell, cell), []).append(err)
    for cell, errs in found.items():
        got = ev.values.get(cell)
        if isinstance(got, XlError):
            text = "; ".join(dict.fromkeys(e.message for e in errs if e.message))
            ev.values[cell] = XlError(got.code, text)


_STRING = re.compile(r'"(?:[^"]|"")*"')


def _bvb_calls(formula: str) -> list[str]:
    """The text of every BVB call in a formula (``=NAME(args)``), string literals kept as written."""
    masked = _STRING.sub(lambda m: '"' + "x" * (len(m.group()) - 2) + '"', formula)
    out = []
    for m in re.finditer(r"([A-Za-z_][\w.]*)\s*\(", masked):
        if not called_functions(m.group(0)):
            continue
        depth, i = 1, m.end()
        while i < len(masked) and depth:
            depth += {"(": 1, ")": -1}.get(masked[i], 0)
            i += 1
        if depth == 0:
            out.append("=" + formula[m.start():i])
    return out


def _errors(cells: list[Any], ev: Evaluation, before: dict[Cell, Any]) -> list[CellError]:
    """Every error value (non-finite numbers count as the ``#NUM!`` they are stored as), with the cell's own
    message when the value carries one, else the messages of the BVB functions the formula calls."""
    out = []
    for c in cells:
        for ref in c.targets():
            v = ev.values.get((c.sheet, ref))
            if isinstance(v, float) and not math.isfinite(v):
                v = XlError("#NUM!", "the result is not a finite number")
            if isinstance(v, XlError):
                old = before.get((c.sheet, ref))
                message = v.message or (ev.message_for(c.formula) if called_functions(c.formula) else "")
                out.append(CellError(c.sheet, ref, v.code, c.formula, message,
                                     preexisting=isinstance(old, XlError) and old.code == v.code))
    return out


def _mark_circular(cells: list[FormulaCell], info: BookInfo, ev: Evaluation) -> None:
    """Cells on a circular reference hold an error with a message, in every backend (formulas would leave them
    blank, formualizer a bare error): Excel cannot compute them either; it shows 0 and a warning."""
    from .lint import _graph, _on_cycles

    graph = _graph(cells, info.defined_names)
    cycle = _on_cycles(graph)
    for sheet, ref in sorted(cycle):
        nxt = next((d for d in graph.get((sheet, ref), ()) if d in cycle), None)
        via = f" (reads {nxt[0]}!{nxt[1]}, which leads back to it)" if nxt and nxt != (sheet, ref) else ""
        ev.values[(sheet, ref)] = XlError("#VALUE!", f"circular reference{via}: Excel cannot compute it either "
                                                     f"(it shows 0 and a warning)")


def _unfaithful(cells: list[FormulaCell], info: BookInfo, ev: Evaluation) -> dict[Cell, tuple[str, str]]:
    """Cells not evaluated as Excel would -> (formula, reason): the common and the backend's known gaps, what
    the backend noticed while computing, and every cell that reads one of those."""
    from .backend import get_backend
    from .gaps import common_gaps

    reasons: dict[Cell, list[str]] = {}
    findings = common_gaps(cells, ev.backend) + get_backend(ev.backend).gaps(cells, info, ev)
    for f in findings:
        if f.code != "UNKNOWN-FUNCTION":  # an unknown function is an error value, listed as such
            reasons.setdefault((f.sheet, f.ref), []).append(f.message)
    for cell, why in ev.unfaithful.items():
        reasons.setdefault(cell, []).append(why)
    if not reasons:
        return {}
    for c in cells:  # a flagged array formula: every cell of its range
        if c.array_ref and (c.sheet, c.ref) in reasons:
            for ref in c.targets()[1:]:
                reasons.setdefault((c.sheet, ref), []).extend(reasons[(c.sheet, c.ref)])
    formula_of = {(c.sheet, c.ref): c.formula for c in cells}
    from .lint import dependents

    for cell in dependents(cells, info.defined_names, set(reasons)):
        if cell not in reasons:
            reasons[cell] = ["reads a cell that was not evaluated faithfully"]
    return {cell: (formula_of.get(cell, ""), "; ".join(dict.fromkeys(why))) for cell, why in reasons.items()}


def _fall_back(src: Path, cells: list[FormulaCell], info: BookInfo, ev: Evaluation,
               unfaithful: dict[Cell, tuple[str, str]], before: dict[Cell, Any]) -> list[str]:
    """Replace, in place, the values of flagged cells that LibreOffice can compute (no BVB function anywhere
    upstream) by LibreOffice's; returns the cells taken ("Sheet!A1")."""
    from .lint import bvb_dependents, dependents

    # Only the flagged cells: an error value is visible, and the backends agree with Excel's errors more often
    # than LibreOffice does (measured by benchmarks/bench_parity.py).
    wanted = set(unfaithful)
    if not wanted:
        return []
    wanted |= dependents(cells, info.defined_names, wanted)
    wanted -= bvb_dependents(cells, info.defined_names)
    if not wanted:
        return []
    lo = libreoffice_values(src, cells)
    taken = []
    for c in cells:
        if (c.sheet, c.ref) not in wanted:
            continue
        for ref in c.targets():
            if (c.sheet, ref) in lo:
                ev.values[(c.sheet, ref)] = lo[(c.sheet, ref)]
        unfaithful.pop((c.sheet, c.ref), None)
        taken.append(f"{c.sheet}!{c.ref}")
    return taken


def libreoffice_values(src: Path, cells: list[FormulaCell]) -> dict[Cell, Any]:
    """Every formula cell's value as LibreOffice computes it (forced recalculation of a copy)."""
    import shutil
    import tempfile

    from .libreoffice import convert

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy = folder / "in" / "book.xlsx"
        copy.parent.mkdir()
        shutil.copyfile(src, copy)
        (folder / "out").mkdir()
        convert([copy], "xlsx", folder / "out", recalc=True)
        result = folder / "out" / "book.xlsx"
        if not result.exists():
            raise WorkbookFileError(f"{src}: LibreOffice could not recalculate the book for --fallback")
        with Package(result) as pkg:
            lo_cells = []
            for sheet in pkg.sheets():
                lo_cells.extend(sheet_formula_cells(pkg.xml(sheet.part), sheet.name))
            wanted = {(c.sheet, c.ref) for c in cells}
            return cached_values(pkg, [c for c in lo_cells if (c.sheet, c.ref) in wanted])
