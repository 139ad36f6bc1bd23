"""Typed errors of the engine.

Each error carries the Excel error code that an adapter (classic xlwings, Office.js, formulas, formualizer)
should show for it, so the mapping lives in one place and every runtime agrees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class BuildBuyError(Exception):
    """Base class of every error the engine raises on purpose."""

    excel_code = "#VALUE!"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(BuildBuyError, ValueError):
    """An input is unknown, missing, of the wrong type, or out of its allowed range.

    The message names the input, the value given and what is allowed.
    """

    excel_code = "#VALUE!"

    def __init__(self, key: str, value: Any, allowed: str, scenario: str | None = None,
                 unknown: bool = False) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.scenario = scenario
        where = f"scenario {scenario!r}: " if scenario else ""
        if unknown:
            text = f"{where}unknown input {key!r} (value {_show(value)}); allowed: {allowed}"
        else:
            text = f"{where}{key} must be {allowed}, got {_show(value)}"
        super().__init__(text)


class NoSolutionError(BuildBuyError):
    """A solve (break-even volume or month) has no answer for these inputs: Excel's #N/A."""

    excel_code = "#N/A"


class NumericError(BuildBuyError, ArithmeticError):
    """A computation is undefined for otherwise valid inputs (e.g. zero throughput): Excel's #NUM!."""

    excel_code = "#NUM!"


class CatalogError(BuildBuyError, LookupError):
    """A catalog look-up names a row or field that does not exist, or a catalog file is malformed."""

    excel_code = "#N/A"


def _show(value: Any) -> str:
    """Render a bad value for a message: short, and the same in every front door."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 80 else f"{text[:60]}...' ({len(value):,} characters)"
    if isinstance(value, float) and value != value:
        return "NaN"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_text_file(path: str | Path, what: str, error: type[BuildBuyError], encoding: str = "utf-8") -> str:
    """The text of a file the user names, or ``error`` in one line naming it: "<what> <path> does not exist",
    or "<what> <path>: cannot read (<reason>)" (a folder, no permission, not ``encoding``)."""
    p = Path(path)
    try:
        return p.read_text(encoding)
    except FileNotFoundError:
        raise error(f"{what} {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{what} {p}: cannot read ({exc})") from None
