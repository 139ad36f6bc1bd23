"""A1 cell references: the one place that turns 'B12' into (row 12, column 2) and back."""

from __future__ import annotations

from functools import lru_cache


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
