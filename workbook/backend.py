"""The headless backend interface: one small protocol, one module per backend.

A backend loads a workbook, registers the ``BVB_*`` functions (under every spelling a saved file may use),
evaluates every formula, and reads the values of the formula cells (and of the cells their arrays spill into)
back in the common value model of :mod:`buildbuy.udfs.conventions`. It also knows its own gaps: the constructs
it cannot evaluate as Excel does, which ``buildbuy lint`` reports before a run and ``buildbuy recalc --check``
reports after one ("not evaluated faithfully").

Backends: :mod:`.backend_formualizer` (Rust core, default) and :mod:`.backend_formulas` (pure Python).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.refs import Cell, FormulaCell
from buildbuy.udfs.registry import REGISTRY, invoke

from .engines import BACKENDS, DEFAULT_BACKEND  # noqa: F401 - the names, importable from here as before

_MODULES = {"formualizer": "backend_formualizer", "formulas": "backend_formulas"}


@dataclass(frozen=True)
class Finding:
    """A construct in one cell that a backend does not evaluate as Excel does."""

    sheet: str
    ref: str
    code: str  # e.g. "OMITTED-ARGUMENT"
    message: str  # the reason, for a person

    def line(self) -> str:
        where = f"{self.sheet}!{self.ref}" if self.ref else self.sheet
        return f"{where}: {self.code}: {self.message}"


@dataclass
class BookInfo:
    """What a backend's gap list may need to know about the book besides its formulas."""

    path: Path
    sheet_names: list[str]
    defined_names: list[tuple[str, str, str | None]]  # (name, text, local sheet index or None)
    roots: dict[str, Any] = field(default_factory=dict, repr=False)  # sheet name -> parsed worksheet XML
    strings: Any = field(default=None, repr=False)  # () -> the shared strings

    def value_of(self, ev: Evaluation | None) -> Any:
        """A ``value_of(sheet, ref)`` over the computed values of ``ev`` and the constants of the sheets."""
        from .gaps import cell_values

        return cell_values(self.roots, self.strings or list, ev.values if ev is not None else None)


@dataclass
class Evaluation:
    """Values of a computed workbook, the engine messages behind its error values, and the cells the backend
    knows it did not compute as Excel would (cell -> reason)."""

    backend: str
    values: dict[Cell, Any]
    messages: dict[str, list[str]] = field(default_factory=dict)  # function name -> distinct messages
    spills: dict[Cell, str] = field(default_factory=dict)  # plain formulas that spilled -> their extent
    unfaithful: dict[Cell, str] = field(default_factory=dict)
    preset: set[Cell] = field(default_factory=set)  # cells handed to the backend as values (see .direct)

    def message_for(self, formula: str) -> str:
        """The engine messages of the BVB functions a formula calls, joined (empty when none failed)."""
        out = []
        for name in called_functions(formula):
            out += self.messages.get(name, [])
        return "; ".join(dict.fromkeys(out))


class CallLog:
    """Distinct messages of failed BVB calls, per canonical function name (thread-safe)."""

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


class Backend(Protocol):
    """What every backend module provides (as module-level names)."""

    NAME: str

    def load(self, path: Path, data: bytes | None = None) -> Any:
        """Open the book (``data``: the package's bytes to use instead of the file, when given)."""

    def register(self, book: Any, log: CallLog) -> None:
        """Make every BVB function callable from the book's formulas, logging failed calls in ``log``."""

    def compute(self, book: Any) -> None:
        """Evaluate every formula."""

    def read(self, book: Any, cells: list[FormulaCell], ev: Evaluation) -> None:
        """Fill ``ev.values`` (and ``ev.spills``, ``ev.unfaithful``) for ``cells``."""

    def gaps(self, cells: list[FormulaCell], info: BookInfo, ev: Evaluation | None) -> list[Finding]:
        """Known gaps, per cell; ``ev`` (a trial evaluation) is given when :data:`NEEDS_EVALUATION` is true."""


def get_backend(name: str) -> Backend:
    """The backend module called ``name``."""
    if name not in _MODULES:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    return importlib.import_module(f"{__package__}.{_MODULES[name]}")  # type: ignore[return-value]


@lru_cache(maxsize=1)
def spelling_table() -> dict[str, str]:
    """Every registered spelling (upper case) -> canonical name."""
    return {s.upper(): name for name, fn in REGISTRY.items() for s in fn.spellings()}


_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


def called_functions(formula: str) -> list[str]:
    """Canonical names of the BVB functions a formula calls, in order of appearance."""
    table = spelling_table()
    found = []
    for token in _CALL.findall(formula):
        name = table.get(token.upper())
        if name and name not in found:
            found.append(name)
    return found


def read_cells(path: str | Path) -> tuple[list[FormulaCell], BookInfo]:
    """Every formula cell of a book (the one formula reader), and its sheet and defined names."""
    from .cached import shared_strings
    from .xlsx import Package, sheet_formula_cells

    cells: list[FormulaCell] = []
    with Package(path) as pkg:
        sheets = pkg.sheets()
        roots = {}
        for sheet in sheets:
            roots[sheet.name] = pkg.xml(sheet.part)
            cells.extend(sheet_formula_cells(roots[sheet.name], sheet.name))
        strings = shared_strings(pkg)
        info = BookInfo(Path(path), [s.name for s in sheets], pkg.defined_names(), roots, lambda: strings)
    return cells, info


def evaluate(path: str | Path, backend: str = DEFAULT_BACKEND, cells: list[FormulaCell] | None = None,
             data: bytes | None = None, preset: dict[Cell, Any] | None = None) -> Evaluation:
    """Compute a workbook with a backend; values of every formula cell and spilled cell.

    ``preset``: formula cells whose values ``data`` already holds as plain values
    (:func:`buildbuy.workbook.direct.direct_values`); they are read back, not computed again.
    """
    impl = get_backend(backend)
    if cells is None:
        cells, _ = read_cells(path)
    book = impl.load(Path(path), data)
    log = CallLog()
    impl.register(book, log)
    ev = Evaluation(backend, {}, log.messages)
    if preset and data is not None:
        ev.preset = set(preset)
    impl.compute(book)
    impl.read(book, cells, ev)
    return ev


def gaps(path: str | Path, backend: str = DEFAULT_BACKEND, cells: list[FormulaCell] | None = None,
         info: BookInfo | None = None, ev: Evaluation | None = None) -> list[Finding]:
    """The backend's known gaps in this book (a trial evaluation is run when the backend needs one)."""
    impl = get_backend(backend)
    if cells is None or info is None:
        cells, info = read_cells(path)
    if ev is None and getattr(impl, "NEEDS_EVALUATION", False):
        try:
            ev = evaluate(path, backend, cells)
        except Exception as exc:  # noqa: BLE001 - reported as a finding, not a crash
            text = " ".join(str(exc).split())[:300]
            return [Finding("(book)", "", "BACKEND-FAILED", f"{backend} cannot load the book: {text}")]
    return impl.gaps(cells, info, ev)
