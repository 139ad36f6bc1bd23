"""Excel semantics for the compiled template (see :mod:`buildbuy.workbook.fast`): one helper per operator and
native function the template uses, on the common value model (float, bool, str, None for a blank cell,
:class:`XlError`).

Only what the template's formulas need is here, each with Excel's rules: blanks count as 0 (or "") in
arithmetic and comparison, booleans as 1/0, text in arithmetic is ``#VALUE!``, errors propagate, ranges skip
text and blanks where Excel's aggregate functions do. A case the helpers do not model raises :class:`Bail`,
and the caller hands the whole workbook to the general path (the formula backend) instead.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from buildbuy.udfs.conventions import XlError


class Bail(Exception):  # noqa: N818 - a signal, not an error: "leave this workbook to the general path"
    """A value or construct the compiled path does not model; the general path computes the workbook."""


#: The largest finite float (inline arithmetic in the plan checks its result against it).
_MAX = sys.float_info.max
_DIV0 = XlError("#DIV/0!")
_NUM = XlError("#NUM!")
_VALUE = XlError("#VALUE!")
_REF = XlError("#REF!")
_NA = XlError("#N/A")


def num(x: Any) -> Any:
    """A scalar as a number for arithmetic (blank 0, TRUE 1); an error stays an error; text bails (Excel would
    try to read it as a number, which the compiled path does not model)."""
    t = type(x)
    if t is float:
        return x
    if x is None:
        return 0.0
    if t is bool or t is int:
        return float(x)
    if t is XlError:
        return x
    raise Bail(f"text {x!r} in arithmetic")


def _binary(convert: Callable[[Any], Any], fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """An operator: both operands converted (to numbers, to text), the first error among them returned as is."""
    def op(a: Any, b: Any) -> Any:
        a, b = convert(a), convert(b)
        if type(a) is XlError:
            return a
        if type(b) is XlError:
            return b
        return fn(a, b)
    return op


def _arith(fn: Callable[[float, float], Any]) -> Callable[[Any, Any], Any]:
    return _binary(num, fn)


def _finite(x: float) -> Any:
    return x if math.isfinite(x) else _NUM


add = _arith(lambda a, b: _finite(a + b))
sub = _arith(lambda a, b: _finite(a - b))
mul = _arith(lambda a, b: _finite(a * b))
div = _arith(lambda a, b: _DIV0 if b == 0 else _finite(a / b))


def _pow(a: float, b: float) -> Any:
    if a == 0:
        return _NUM if b == 0 else (_DIV0 if b < 0 else 0.0)
    if a < 0 and not float(b).is_integer():
        return _NUM
    try:
        return _finite(math.pow(a, b))
    except (OverflowError, ValueError):
        return _NUM


power = _arith(_pow)


def neg(a: Any) -> Any:
    a = num(a)
    return a if type(a) is XlError else -a


def pos(a: Any) -> Any:
    return a


def percent(a: Any) -> Any:
    a = num(a)
    return a if type(a) is XlError else a / 100


def text(x: Any) -> Any:
    """A scalar as text, the way ``&`` joins it (numbers in Excel's General format)."""
    t = type(x)
    if t is str:
        return x
    if x is None:
        return ""
    if t is bool:
        return "TRUE" if x else "FALSE"
    if t is float:
        return general(x)
    if t is XlError:
        return x
    raise Bail(f"{x!r} as text")


def general(x: float) -> str:
    """A number in Excel's General format, for the values the template joins (whole numbers and short
    decimals); anything that would need scientific notation bails."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if not 1e-9 <= abs(x) < 1e15:
        raise Bail(f"{x!r} in General format")
    out = f"{x:.15g}"
    if "e" in out:
        raise Bail(f"{x!r} in General format")
    return out


concat = _binary(text, lambda a, b: a + b)


def _rank(x: Any) -> tuple[int, Any]:
    """Excel's order across types: numbers < text < logicals (text compared case-insensitively)."""
    t = type(x)
    if t is float:
        return (0, x)
    if t is str:
        return (1, x.lower())
    if t is bool:
        return (2, x)
    raise Bail(f"{x!r} compared")


def _blank_as(other: Any) -> Any:
    t = type(other)
    return "" if t is str else (False if t is bool else 0.0)


def _compare(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def op(a: Any, b: Any) -> Any:
        if type(a) is XlError:
            return a
        if type(b) is XlError:
            return b
        if a is None:
            a = _blank_as(b)
        if b is None:
            b = _blank_as(a)
        return fn(_rank(a), _rank(b))
    return op


eq = _compare(lambda a, b: a == b)
ne = _compare(lambda a, b: a != b)
lt = _compare(lambda a, b: a < b)
le = _compare(lambda a, b: a <= b)
gt = _compare(lambda a, b: a > b)
ge = _compare(lambda a, b: a >= b)


def truth(x: Any) -> bool:
    """A condition (IF, AND): numbers are TRUE unless 0, a blank is FALSE; text or an error bails (Excel gives
    #VALUE! or the error, which the general path reports with its message)."""
    t = type(x)
    if t is bool:
        return x
    if t is float:
        return x != 0
    if x is None:
        return False
    raise Bail(f"{x!r} as a condition")


def top(x: Any) -> Any:
    """A cell's own value: a reference to a blank cell shows 0."""
    return 0.0 if x is None else x


# --- functions over ranges: a range arrives as a flat list of its cells' values ------------------------------


def _numbers(args: Sequence[Any], ranges: Sequence[bool]) -> Any:
    """The numbers an aggregate (SUM, MAX, MIN) takes: from a range only its numbers; a direct argument as a
    number. Returns the first error instead, if any."""
    out: list[float] = []
    for arg, is_range in zip(args, ranges, strict=True):
        if is_range:
            for v in arg:
                t = type(v)
                if t is float:
                    out.append(v)
                elif t is XlError:
                    return v
        else:
            v = num(arg)
            if type(v) is XlError:
                return v
            out.append(v)
    return out


def SUM_RANGE(values: Sequence[Any]) -> Any:  # noqa: N802
    """SUM of one range (the common case, without the general argument handling)."""
    out = 0.0
    for v in values:
        t = type(v)
        if t is float:
            out += v
        elif t is XlError:
            return v
    return _finite(out)


def SUM(args: Sequence[Any], ranges: Sequence[bool]) -> Any:  # noqa: N802 - Excel's names
    xs = _numbers(args, ranges)
    return xs if type(xs) is XlError else _finite(sum(xs))


def MAX(args: Sequence[Any], ranges: Sequence[bool]) -> Any:  # noqa: N802
    xs = _numbers(args, ranges)
    return xs if type(xs) is XlError else (max(xs) if xs else 0.0)


def MIN(args: Sequence[Any], ranges: Sequence[bool]) -> Any:  # noqa: N802
    xs = _numbers(args, ranges)
    return xs if type(xs) is XlError else (min(xs) if xs else 0.0)


def AND(*args: Any) -> Any:  # noqa: N802
    for a in args:
        if type(a) is XlError:
            return a
    return all(truth(a) for a in args)


def _numeric(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An Excel function of numbers: every argument read as a number (:func:`num`), the first error among them
    returned as is."""
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        xs = [num(a) for a in args]
        for x in xs:
            if type(x) is XlError:
                return x
        return fn(*xs)
    return wrapper


def _half_away(x: float) -> int:
    """``x`` rounded to a whole number, halves away from zero (Excel's ROUND)."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


@_numeric
def ABS(x: float) -> Any:  # noqa: N802
    return abs(x)


@_numeric
def INT(x: float) -> Any:  # noqa: N802
    return float(math.floor(x))


@_numeric
def MOD(a: float, b: float) -> Any:  # noqa: N802
    if b == 0:
        return _DIV0
    return a - b * math.floor(a / b)


@_numeric
def ROUND(x: float, digits: float) -> Any:  # noqa: N802
    if int(digits) != 0:
        raise Bail("ROUND to a non-zero number of digits")
    return float(_half_away(x))


def FIXED(x: Any, decimals: Any = 2.0, no_commas: Any = False) -> Any:  # noqa: N802
    return _fixed(x, decimals, truth(no_commas))


@_numeric
def _fixed(x: float, decimals: float, no_commas: float) -> Any:
    if int(decimals) != 0 or abs(x) >= 1e15:
        raise Bail("FIXED with decimals")
    n = _half_away(x)
    return f"{n:d}" if no_commas else f"{n:,d}"


@_numeric
def CEILING(x: float, s: float) -> Any:  # noqa: N802
    if s == 0 or x == 0:
        return 0.0
    if x > 0 and s < 0:
        return _NUM
    if s < 0:
        raise Bail("CEILING with a negative significance")
    return math.ceil(x / s) * s


@_numeric
def LOG(x: float, base: float = 10.0) -> Any:  # noqa: N802
    if x <= 0 or base <= 0:
        return _NUM
    if base == 1:
        return _DIV0
    return math.log(x) / math.log(base)


def ISNUMBER(x: Any) -> bool:  # noqa: N802
    return type(x) is float


def ISTEXT(x: Any) -> bool:  # noqa: N802
    return type(x) is str


def ISBLANK(x: Any) -> bool:  # noqa: N802
    return x is None


def ISNA(x: Any) -> bool:  # noqa: N802
    return type(x) is XlError and x.code == "#N/A"


def ISERROR(x: Any) -> bool:  # noqa: N802
    return type(x) is XlError


def ISERROR_ARRAY(xs: Sequence[Any]) -> list[bool]:  # noqa: N802
    return [type(x) is XlError for x in xs]


def IFERROR(x: Any, alt: Any) -> Any:  # noqa: N802
    return alt if type(x) is XlError else x


def INDEX(values: Sequence[Any], rows: int, cols: int, r: Any, c: Any = None) -> Any:  # noqa: N802
    """INDEX over a range of ``rows`` x ``cols`` cells (flat, row by row); one index on a single row or column
    picks along it."""
    r = num(r)
    if type(r) is XlError:
        return r
    if c is None:
        if rows == 1:
            i, j = 1, int(r)
        elif cols == 1:
            i, j = int(r), 1
        else:
            raise Bail("INDEX of a 2-D range with one index")
    else:
        c = num(c)
        if type(c) is XlError:
            return c
        i, j = int(r), int(c)
    if i < 1 or j < 1 or i > rows or j > cols:
        return _REF
    return top(values[(i - 1) * cols + (j - 1)])


def CHOOSE_INDEX(n: Any, count: int) -> Any:  # noqa: N802
    n = num(n)
    if type(n) is XlError:
        raise Bail("CHOOSE of an error")
    i = int(n)
    if i < 1 or i > count:
        raise Bail("CHOOSE out of range")
    return i


def _criterion(crit: Any) -> Callable[[Any], bool]:
    """A SUMIFS criterion as a test of one cell: a number (equal numbers), or text with an optional comparison
    operator before a number. Text matching (wildcards, text equality) bails."""
    if type(crit) is float:
        return lambda v: type(v) is float and v == crit
    if type(crit) is not str:
        raise Bail(f"SUMIFS criterion {crit!r}")
    for op in ("<=", ">=", "<>", "<", ">", "="):
        if crit.startswith(op):
            rest = crit[len(op):]
            break
    else:
        op, rest = "=", crit
    try:
        bound = float(rest)
    except ValueError:
        raise Bail(f"SUMIFS criterion {crit!r}") from None
    tests = {"<": lambda v: v < bound, "<=": lambda v: v <= bound, ">": lambda v: v > bound,
             ">=": lambda v: v >= bound, "=": lambda v: v == bound, "<>": lambda v: v != bound}
    test = tests[op]
    if op == "<>":
        raise Bail("SUMIFS <> criterion")  # Excel's <> also matches text and blanks
    return lambda v: type(v) is float and test(v)


def SUMIFS(total: Sequence[Any], *pairs: Any) -> Any:  # noqa: N802
    keep = [True] * len(total)
    for k in range(0, len(pairs), 2):
        rng, crit = pairs[k], pairs[k + 1]
        if type(crit) is XlError:
            return crit
        if len(rng) != len(total):
            return _VALUE
        test = _criterion(crit)
        keep = [m and test(x) for m, x in zip(keep, rng, strict=True)]
    out = 0.0
    for m, v in zip(keep, total, strict=True):
        if m:
            if type(v) is float:
                out += v
            elif type(v) is XlError:
                return v
    return out


def SUMPRODUCT(*arrays: Sequence[Any]) -> Any:  # noqa: N802
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        return _VALUE
    out = 0.0
    for i in range(n):
        p = 1.0
        for a in arrays:
            v = a[i]
            t = type(v)
            if t is XlError:
                return v
            p *= v if t is float else 0.0
        out += p
    return _finite(out)


def NPV(rate: Any, values: Sequence[Any]) -> Any:  # noqa: N802
    rate = num(rate)
    if type(rate) is XlError:
        return rate
    if rate == -1:
        return _DIV0
    out, i = 0.0, 0
    for v in values:
        t = type(v)
        if t is XlError:
            return v
        if t is float:
            i += 1
            out += v / (1 + rate) ** i
    return _finite(out)


def array_op(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> list[Any]:
    """An operator applied cell by cell (an array formula's arithmetic inside SUMPRODUCT)."""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise Bail("arrays of different sizes")
        return [fn(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, list):
        return [fn(x, b) for x in a]
    return [fn(a, y) for y in b]
