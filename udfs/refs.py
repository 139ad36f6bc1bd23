"""Cells of a workbook, backend-neutral: the formula-cell record and the A1 helpers.

The one place that turns 'B12' into (row 12, column 2) and back, and the one :class:`FormulaCell` type that the
formula reader (:func:`buildbuy.workbook.xlsx.sheet_formula_cells`), every headless backend and the writer share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Cell = tuple[str, str]  # (sheet name, "A1")


@dataclass(slots=True)  # slots: a 100,000-formula book makes 100,000 of them (twice as fast to create)
class FormulaCell:
    """One formula cell as saved in a workbook."""

    sheet: str
    ref: str  # "A1"
    formula: str  # with the leading "="
    array_ref: str | None = None  # "A1:A36" for a legacy array (CSE) formula
    shared: bool = False  # a shared-formula cell (its text translated from the anchor's)
    element: Any = field(default=None, repr=False, compare=False)  # a writer's handle on the cell

    def targets(self) -> list[str]:
        """The cells this formula writes: its declared array range, or itself."""
        return cells_in(self.array_ref) if self.array_ref else [self.ref]


@lru_cache(maxsize=20_000)
def _col_number(letters: str) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def split_ref(ref: str) -> tuple[int, int]:
    """'B12' -> (12, 2)."""
    digits = ref.lstrip(_LETTERS)
    letters = ref[: len(ref) - len(digits)]
    if not (0 < len(letters) <= 3 and digits.isdigit() and digits[0] != "0"):
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(digits), _col_number(letters)


def col_letter(col: int) -> str:
    """2 -> 'B', 28 -> 'AB'."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def cells_in(area: str) -> list[str]:
    """Every cell of 'A1:B2' (or of a single 'A1'), row by row; '$' signs are ignored."""
    a, _, b = area.replace("$", "").partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b or a)
    return [f"{col_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
