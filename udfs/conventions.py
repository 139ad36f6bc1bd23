"""Excel value conventions, in one place for every runtime.

The common value model is what classic xlwings passes a Python function: ``None`` for a blank cell, ``float``,
``str``, ``bool``, ``datetime`` for dates, lists of lists for ranges; plus :class:`XlError` for an error value
(classic xlwings cannot see errors in cells; the headless backends and Office.js can). Each runtime's adapter
converts its own values to this model before a call and converts results back after it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from buildbuy.engine.errors import BuildBuyError, InputError

#: Excel error codes, as Excel spells them.
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


class XlError:
    """An Excel error value, with the readable message that explains it when we know one."""

    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str = "") -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"not an Excel error code: {code!r}")
        self.code = code
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XlError) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return f"XlError({self.code!r}, {self.message!r})"

    def text(self) -> str:
        """One readable line: the code, then the message (what classic xlwings shows in the cell)."""
        return f"{self.code} {self.message}".strip()


def error_from(exc: BuildBuyError) -> XlError:
    """The Excel error for an engine error: its typed code and its one-line message."""
    return XlError(exc.excel_code, str(exc))


_PLAIN = (float, int, str, bool, type(None))


def first_error(values: Any) -> XlError | None:
    """The first error value in an argument (scalar or nested lists), if any: errors propagate like in Excel."""
    kind = type(values)
    if kind in _PLAIN:
        return None
    if kind is XlError:
        return values
    if kind in (list, tuple):
        for v in values:
            if type(v) in (list, tuple):
                for c in v:
                    if type(c) is XlError:
                        return c
                    if type(c) in (list, tuple):
                        found = first_error(c)
                        if found is not None:
                            return found
            elif type(v) is XlError:
                return v
    return None


def date_to_serial(value: dt.date | dt.datetime) -> float:
    """Excel's 1900 date serial of a date: 1 Jan 1900 is 1, 1 Mar 1900 is 61 (Excel counts a 29 Feb 1900)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    serial = (value - EXCEL_EPOCH).total_seconds() / 86_400
    return serial - 1 if value < dt.datetime(1900, 3, 1) else serial


def scalar_of(name: str, value: Any) -> Any:
    """A single value from a cell or a 1x1 range; a bigger range is an input error."""
    while isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise InputError(name, _shape(value), "a single cell or value")
        value = value[0]
    if isinstance(value, (dt.date, dt.datetime)):
        return date_to_serial(value)
    if isinstance(value, str) and value == "":
        return None
    return value


def number_arg(name: str, value: Any) -> Any:
    """A number, or a numeric range as a 2-D numpy array (the engine broadcasts it: the result spills)."""
    if type(value) in (float, int):
        return value
    if isinstance(value, (list, tuple)) and _is_single(value):
        return scalar_of(name, value)
    if isinstance(value, (list, tuple)):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
        if len({len(r) for r in rows}) != 1:
            raise InputError(name, "a ragged range", "a rectangular range of numbers")
        out = np.empty((len(rows), len(rows[0])), dtype=float)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                cell = scalar_of(name, cell)
                if cell is None or isinstance(cell, (bool, str)):
                    raise InputError(name, cell if cell is not None else "a blank cell",
                                     f"numbers in every cell of the range (row {i + 1}, column {j + 1})")
                out[i, j] = float(cell)
        return out
    return scalar_of(name, value)


def text_arg(name: str, value: Any, allowed: str = "text") -> str:
    value = scalar_of(name, value)
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, value if value is not None else "a blank cell", allowed)
    return value.strip()


def assumptions_arg(name: str, value: Any) -> dict[str, Any]:
    """A two-column key/value range as a dict; blank values are left out (they take the defaults).

    A range laid out as two rows (keys on top) is read across as well. A header row whose key is ``key`` or
    ``input`` is skipped. A sheet passes the same range to many functions, so results are cached by content.
    """
    if type(value) is list and all(type(r) is list for r in value):
        try:
            # Keyed by type as well as value: TRUE == 1 in Python, but not as an input.
            key = (name, tuple(tuple((type(c), c) for c in r) for r in value))
            hit = _ASSUMPTIONS_CACHE.get(key)
        except TypeError:  # unhashable cells (dates are hashable; this is a defensive path)
            key, hit = None, None
        if hit is not None:
            return dict(hit)
        out = _assumptions_arg(name, value)
        if key is not None:
            if len(_ASSUMPTIONS_CACHE) > 256:
                _ASSUMPTIONS_CACHE.clear()
            _ASSUMPTIONS_CACHE[key] = out
        return dict(out)
    return _assumptions_arg(name, value)


_ASSUMPTIONS_CACHE: dict[Any, dict[str, Any]] = {}


def _assumptions_arg(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, (list, tuple)):
        raise InputError(name, value, "a two-column range of input names and values")
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    if rows and len(rows) == 2 and len(rows[0]) > 2:
        rows = [list(pair) for pair in zip(*rows, strict=True)]
    out: dict[str, Any] = {}
    for i, row in enumerate(rows, 1):
        if len(row) != 2:
            raise InputError(name, f"{len(row)} columns", "a two-column range of input names and values")
        key, val = row
        if key is None or (isinstance(key, str) and not key.strip()):
            if val is None or val == "":
                continue
            raise InputError(name, f"row {i} has a value but no input name", "a name in every used row")
        if not isinstance(key, str):
            raise InputError(name, f"row {i} name {key!r}", "input names as text in the first column")
        key = key.strip()
        if i == 1 and key.lower() in ("key", "input", "name"):
            continue
        if isinstance(val, (dt.date, dt.datetime)):
            val = date_to_serial(val)
        if val is None or val == "":
            continue
        if key in out:
            raise InputError(name, f"{key} given twice (rows)", "each input name once")
        out[key] = val
    return out


def to_excel(value: Any) -> Any:
    """An engine result in the common model: floats, text, booleans, lists of lists, or an XlError."""
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, XlError):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim else value.item()
        if isinstance(value, list) and value and not isinstance(value[0], list):
            value = [[v] for v in value]
    if isinstance(value, (list, tuple)):
        return [[_cell_out(c) for c in (row if isinstance(row, (list, tuple)) else [row])] for row in value]
    return _cell_out(value)


def _cell_out(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            return XlError("#NUM!", "the result is not a finite number")
        return x
    if value is None:
        return ""
    return value


def _is_single(value: Any) -> bool:
    while isinstance(value, (list, tuple)):
        if len(value) != 1:
            return False
        value = value[0]
    return True


def _shape(value: Any) -> str:
    rows = len(value)
    cols = len(value[0]) if rows and isinstance(value[0], (list, tuple)) else 1
    return f"a {rows}x{cols} range"


#: Columns of a ranges table, in the order read when it has no header row.
RANGE_COLUMNS = ("input", "dist", "low", "mode", "high", "values", "weights")
#: Header words a ranges table may use (the first word of the header cell, lower case), and what they mean.
RANGE_HEADERS = {"input": "input", "dist": "dist", "distribution": "dist", "low": "low", "mode": "mode",
                 "high": "high", "base": "base", "values": "values", "weights": "weights", "p10": "p10",
                 "p90": "p90"}


def ranges_arg(name: str, value: Any) -> dict[str, dict[str, Any]]:
    """A ranges table (one row per uncertain input) as ``{input: range table}`` for the engine.

    Columns: input, dist, low, mode, high, values, weights; or any of input, dist, low, mode, high, base, values,
    weights, p10, p90 named in a header row (the first word of each header cell counts). Rows with a blank
    input are skipped. dist blank = PERT (discrete when values are given); for a lognormal, low and high are its
    P10 and P90. values and weights are numbers separated by ";" (one number may be typed as a number).
    """
    if value is None:
        return {}
    if not isinstance(value, (list, tuple)):
        raise InputError(name, value, "a table with one row per uncertain input")
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    columns: tuple[str, ...] = RANGE_COLUMNS
    first = rows[0][0] if rows and rows[0] else None
    if isinstance(first, str) and first.strip().lower().split(" ")[:1] == ["input"]:
        heads = []
        for j, cell in enumerate(rows[0]):
            word = str(cell or "").strip().lower().split(" ")[0].strip("():,") if cell not in (None, "") else ""
            if word and word not in RANGE_HEADERS:
                raise InputError(name, f"header {cell!r} (column {j + 1})",
                                 "headers among " + ", ".join(sorted(set(RANGE_HEADERS))))
            heads.append(RANGE_HEADERS.get(word, ""))
        columns = tuple(heads)
        rows = rows[1:]
    out: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows, 1):
        cells = {col: row[j] for j, col in enumerate(columns) if col and j < len(row)}
        key = cells.pop("input", None)
        if key is None or (isinstance(key, str) and not key.strip()):
            continue
        if not isinstance(key, str):
            raise InputError(name, f"row {i} input {key!r}", "input names as text in the first column")
        key = key.strip()
        spec: dict[str, Any] = {}
        for col, cell in cells.items():
            cell = scalar_of(name, cell)
            if cell is None:
                continue
            if col in ("values", "weights"):
                spec[col] = _number_list(name, key, col, cell)
            elif col == "dist":
                spec[col] = str(cell).strip().lower()
            else:
                spec[col] = cell
        if spec.get("dist") == "lognormal":
            for src, dst in (("low", "p10"), ("high", "p90")):
                if src in spec and dst not in spec:
                    spec[dst] = spec.pop(src)
            spec.pop("mode", None)
        if "values" in spec and "dist" not in spec:
            spec["dist"] = "discrete"
        if spec.get("dist") == "discrete":
            for unused in ("low", "mode", "high"):
                spec.pop(unused, None)
        if spec.get("dist") == "uniform":
            spec.pop("mode", None)
        if key in out:
            raise InputError(name, f"{key} given twice (rows)", "one row per uncertain input")
        out[key] = spec
    return out


def _number_list(name: str, key: str, col: str, cell: Any) -> list[float]:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return [float(cell)]
    parts = [p.strip() for p in str(cell).split(";") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise InputError(name, f"{key} {col} {cell!r}", "numbers separated by ';', e.g. 1; 2; 3") from None


def correlations_arg(name: str, value: Any) -> list[dict[str, Any]]:
    """A correlations table: rows of input_a, input_b, rank correlation (a header row is skipped)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise InputError(name, value, "a three-column table: input, input, rank correlation")
    out = []
    for i, row in enumerate(value, 1):
        row = list(row) if isinstance(row, (list, tuple)) else [row]
        if len(row) != 3:
            raise InputError(name, f"{len(row)} columns", "a three-column table: input, input, rank correlation")
        a, b, rank = (scalar_of(name, c) for c in row)
        if a is None and b is None and rank is None:
            continue
        if i == 1 and isinstance(rank, str) and not isinstance(a, float):
            continue  # a header row
        out.append({"inputs": [a, b], "rank": rank})
    return out
