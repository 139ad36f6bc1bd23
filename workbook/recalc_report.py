"""What a recalculation reports: error cells, cells not evaluated faithfully, the named outputs.

Kept apart from :mod:`.recalc` so that the template's fast path (:mod:`.fast`) reports the same way without
loading the formula backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.refs import cells_in

from .xlsx import Package, area_size


@dataclass
class CellError:
    """An error value a recalculation left in a cell."""

    sheet: str
    ref: str
    code: str
    formula: str
    message: str
    preexisting: bool = False  # the file already held this error here before the recalculation

    def line(self) -> str:
        tail = f": {self.message}" if self.message else ""
        return f"{self.sheet}!{self.ref} {self.code} {self.formula}{tail}"


@dataclass
class Unfaithful:
    """A cell the backend did not evaluate as Excel would (its value is written, but not to be trusted)."""

    sheet: str
    ref: str
    formula: str
    reason: str

    def line(self) -> str:
        return f"{self.sheet}!{self.ref} {self.formula}: not evaluated faithfully: {self.reason}"


@dataclass
class RecalcReport:
    path: Path
    backend: str
    formula_cells: int
    values_written: int
    seconds: float
    errors: list[CellError] = field(default_factory=list)  # every error value, pre-existing ones included
    check_total: Any = None
    named: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unfaithful: list[Unfaithful] = field(default_factory=list)
    fallback: str | None = None
    fallback_cells: list[str] = field(default_factory=list)  # "Sheet!A1" taken from the fallback
    input_cells: dict[str, str] = field(default_factory=dict)  # single-cell defined name -> "Sheet!A1"

    @property
    def introduced(self) -> list[CellError]:
        """Error values the recalculation produced (not already cached in the file at that cell)."""
        return [e for e in self.errors if not e.preexisting]

    @property
    def preexisting(self) -> list[CellError]:
        """Error values the file already held (the application that saved it showed them too)."""
        return [e for e in self.errors if e.preexisting]

    @property
    def ok(self) -> bool:
        """No error the recalculation introduced, no cell evaluated unfaithfully, and, where the book has one, a
        Checks total of 0."""
        total_ok = self.check_total is None or (isinstance(self.check_total, (int, float))
                                                and not isinstance(self.check_total, bool)
                                                and self.check_total == 0)
        return not self.introduced and not self.unfaithful and total_ok


_NAME_REF = re.compile(r"^'?(?P<sheet>[^'!]+)'?!\$?(?P<a>[A-Z]+)\$?(?P<r>\d+)(?::\$?(?P<b>[A-Z]+)\$?(?P<s>\d+))?$")


def _single_cell_names(names: list[tuple[str, str, str | None]]) -> dict[str, str]:
    out = {}
    for name, text, local in names:
        m = _NAME_REF.match(text)
        if local is None and m and not m.group("b"):
            out[name] = f"{m.group('sheet')}!{m.group('a')}{m.group('r')}"
    return out


#: Largest range a defined name may span to be listed among the named values (``--json``).
MAX_NAMED_CELLS = 100_000


def named_values(pkg: Package, ev: Any) -> dict[str, Any]:
    """Values of the workbook-scoped defined names that point at computed cells (scalars or 2-D lists; names
    over more than :data:`MAX_NAMED_CELLS` cells are left out). ``ev``: anything with ``values``, a dict
    (sheet, cell) -> value."""
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
            if area_size(area) > MAX_NAMED_CELLS:
                continue  # a whole-sheet name is not listed cell by cell
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
