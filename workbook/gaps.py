"""Gaps common to every headless backend: Excel semantics none of them reproduces, found in the formula text.

``buildbuy lint`` lists them before a run; ``buildbuy recalc --check`` lists the same cells as "not evaluated
faithfully" after one.
"""

from __future__ import annotations

import re
from typing import Any

from buildbuy.udfs.refs import FormulaCell

from . import formula_text as ft
from .backend import Finding, spelling_table

#: Functions whose empty argument Excel reads as 0 / FALSE / "" (a missing value), as both backends do: checked
#: call by call against LibreOffice (tests/test_recalc_check.py and benchmarks/bench_parity.py). Any other
#: function with an empty argument is reported, since Excel may read it as the argument's default
#: (``LINEST(y,x,,TRUE)``: const is TRUE when omitted; ``OFFSET(A1,0,0,,)``: the reference's own size).
EMPTY_MEANS_ZERO = frozenset("""
    AND AVERAGE CHOOSE COUNT COUNTA COUNTIF DATE DAYS360 EXACT FIND FV HLOOKUP IF IFERROR INDEX IRR LEFT MATCH MAX
    MEDIAN MID MIN MOD NETWORKDAYS NORMDIST NPER NPV OR PERCENTILE PMT POWER PRODUCT PV QUARTILE RANK REPT RIGHT
    ROUND ROUNDDOWN ROUNDUP SEARCH STDEV SUBSTITUTE SUM TRUNC VAR VLOOKUP WORKDAY YEARFRAC
""".split())
#: ... and those where only one backend agrees with Excel.
EMPTY_MEANS_ZERO_IN = {"formualizer": frozenset({"CONCATENATE", "RATE", "TEXT"}), "formulas": frozenset()}


#: Where an empty argument may be (a comma followed by a comma or ")"): the formulas :func:`cell_gaps` reads.
_EMPTY_ARG = re.compile(r",\s*[,)]")


def common_gaps(cells: list[FormulaCell], backend: str) -> list[Finding]:
    """Findings of the rules below for every cell, in cell order (only the cells whose formula text may hold an
    empty argument are read, found in one scan)."""
    out: list[Finding] = []
    for i in ft.matching(_EMPTY_ARG, [c.formula for c in cells]):
        out += cell_gaps(cells[i], backend)
    return out


def cell_gaps(c: FormulaCell, backend: str) -> list[Finding]:
    """The common findings of one formula cell."""
    bare = ft.bare(c.formula)
    if ",," not in bare.replace(" ", "") and ",)" not in bare.replace(" ", ""):
        return []
    out = []
    table = spelling_table()
    fine = EMPTY_MEANS_ZERO | EMPTY_MEANS_ZERO_IN.get(backend, frozenset())
    omitted = set()
    for name, args in ft.calls(bare):
        if len(args) > 1 and "" in args and name not in fine:
            omitted.add(table.get(name, name))
    for fn in sorted(omitted):
        if fn in table.values():
            why = (f"{fn} has an empty argument: headless backends pass 0, not the argument's default; write the "
                   "value or leave trailing arguments off")
        else:
            why = (f"{fn} has an empty argument, which Excel may read as the argument's default and {backend} reads "
                   "as 0/FALSE; write the value")
        out.append(Finding(c.sheet, c.ref, "OMITTED-ARGUMENT", why))
    return out


# ------------------------------------------------------------------------------------------- value-aware rules
#: What a rule may know about a value: unknown.
UNKNOWN = object()
_BOOL_FUNCS = {"AND", "OR", "NOT", "XOR", "TRUE", "FALSE", "EXACT", "ISBLANK", "ISERROR", "ISERR", "ISNA",
               "ISNUMBER", "ISTEXT", "ISLOGICAL", "ISNONTEXT", "ISREF", "ISEVEN", "ISODD", "ISFORMULA"}
_CELL_ARG = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")
_AREA_ARG = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?(?P<a>\$?[A-Z]{1,3}\$?\d+):"
                       r"(?P<b>\$?[A-Z]{1,3}\$?\d+)$")


def arg_value(text: str, sheet: str, value_of: Any) -> Any:
    """What an argument's text is known to evaluate to: a literal, or a referenced cell's value (``value_of``:
    (sheet, ref) -> value or UNKNOWN); ``True`` for an expression that can only be a boolean (a comparison, a
    logical function); UNKNOWN otherwise. ``text`` has its string literals intact."""
    t = text.strip()
    if not t:
        return UNKNOWN
    up = t.upper()
    if up in ("TRUE", "FALSE", "TRUE()", "FALSE()"):
        return up.startswith("TRUE")
    if t.startswith('"') and t.endswith('"') and len(t) >= 2 and '"' not in t[1:-1].replace('""', ""):
        return t[1:-1].replace('""', '"')
    try:
        return float(t)
    except ValueError:
        pass
    m = _CELL_ARG.match(t)
    if m and value_of is not None:
        sh = m.group("sheet")
        sh = sh[1:-1].replace("''", "'") if sh and sh.startswith("'") else (sh or sheet)
        return value_of(sh, f"{m.group('col')}{m.group('row')}")
    b = ft.bare(t)
    if re.search(r"[<>]|(?<![<>])=", b):
        return True  # a comparison: a boolean (its value does not matter to the rules)
    calls = ft.calls(b)
    if calls and b.upper().startswith(calls[0][0]) and calls[0][0] in _BOOL_FUNCS:
        return True
    return UNKNOWN


def area_values(text: str, sheet: str, value_of: Any, limit: int = 10_000) -> list[Any] | None:
    """Values of a rectangular range argument, row by row (None when not a plain range or too big)."""
    m = _AREA_ARG.match(text.strip())
    if not m or value_of is None:
        return None
    from buildbuy.udfs.refs import cells_in

    sh = m.group("sheet")
    sh = sh[1:-1].replace("''", "'") if sh and sh.startswith("'") else (sh or sheet)
    refs = cells_in(f"{m.group('a')}:{m.group('b')}")
    if len(refs) > limit:
        return None
    return [value_of(sh, r) for r in refs]


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


_KEYWORDS = re.compile("LEFT|RIGHT|EDATE|EOMONTH|YEARFRAC|TEXT|LOOKUP|SUBTOTAL|IPMT|PPMT|CEILING|ISEVEN|ISODD|DATE"
                       "|N\\(", re.I)
#: Characters a number format may hold that formualizer's TEXT is known to apply as Excel does.
_PLAIN_FORMAT = re.compile(r'^(?:[0#?,.%\s$€£¥()+\-/:;]|"[^"]*"|E[+-]|[ymdhsYMDHS]+|AM/PM|\[(?:Red|Black|Green|Blue|'
                           r'h|hh|m|mm|s|ss)\])*$')


#: :data:`_KEYWORDS` for upper-case text (a faster scan than a case-blind one).
_KEYWORDS_UPPER = re.compile(_KEYWORDS.pattern)


def value_gap_cells(cells: list[FormulaCell]) -> list[int]:
    """Indices of the cells :func:`value_gaps` may flag (their formulas name one of the functions it is about),
    found in one scan; the others need not be read one by one."""
    return ft.matching(_KEYWORDS_UPPER, [c.formula for c in cells], upper=True)


def value_gaps(c: FormulaCell, backend: str, value_of: Any) -> list[str]:
    """Reasons a cell is not evaluated as Excel would, from its calls and what its arguments hold."""
    if not _KEYWORDS.search(c.formula):
        return []
    out = []
    for name, args in _calls_with_text(c.formula):
        if backend == "formualizer":
            if name in ("LEFT", "RIGHT") and args and _is_bool(arg_value(args[0], c.sheet, value_of)):
                out.append(f"{name} of a boolean: formualizer gives lower-case text (Excel: LEFT(TRUE,2) = \"TR\")")
            if name in ("EDATE", "EOMONTH", "YEARFRAC") and any(
                    _is_bool(arg_value(a, c.sheet, value_of)) for a in args):
                out.append(f"{name} of a boolean: Excel gives #VALUE!, formualizer a date")
            if name == "TEXT" and len(args) == 2:
                fmt = arg_value(args[1], c.sheet, value_of)
                if isinstance(fmt, str) and (re.search(r"\[[<>=]", fmt) or re.search(r"[eE][+-]", ft.bare(fmt))):
                    out.append("TEXT with a conditional or scientific format section: formualizer does not apply it")
                elif isinstance(fmt, str) and (not _PLAIN_FORMAT.match(fmt) or '"' in fmt or "\\" in fmt):
                    out.append("TEXT with a format holding literal characters: formualizer does not place them as "
                               "Excel does")
                if _is_bool(arg_value(args[0], c.sheet, value_of)):
                    out.append("TEXT of a boolean: Excel gives \"TRUE\"/\"FALSE\", formualizer a number")
            if name == "CEILING" and len(args) == 2:
                sig = arg_value(args[1], c.sheet, value_of)
                if isinstance(sig, float) and sig < 0:
                    out.append("CEILING with a negative significance: formualizer rounds differently from Excel")
            if name in ("ISEVEN", "ISODD") and args and _is_bool(arg_value(args[0], c.sheet, value_of)):
                out.append(f"{name} of a boolean: Excel gives #VALUE!, formualizer TRUE/FALSE")
            if name == "DATE" and args:
                year = arg_value(args[0], c.sheet, value_of)
                result = value_of(c.sheet, c.ref) if value_of is not None else None
                if isinstance(year, float) and not 0 <= year < 10000 or \
                        (c.formula.upper().startswith("=DATE(") and isinstance(result, float) and result < 0):
                    out.append("DATE out of Excel's range (a year outside 0-9999 or a day before 1900): Excel gives "
                               "#NUM!, formualizer a number")
            if name == "LOOKUP":
                out += _lookup_gaps(args, c.sheet, value_of, backend)
            if name == "SUBTOTAL" and any(re.search(r"[A-Za-z_][\w.]*\[", ft.bare(a)) for a in args[1:]):
                out.append("SUBTOTAL over a table column: formualizer counts values Excel leaves out")
            if name in ("IPMT", "PPMT") and len(args) >= 6 and \
                    arg_value(args[5], c.sheet, value_of) not in (0.0, False, None):
                out.append(f"{name} with payments at the start of a period (type 1): formualizer's figure differs")
        else:
            if name == "LOOKUP":
                out += _lookup_gaps(args, c.sheet, value_of, backend)
            if name == "N" and args and _is_bool(arg_value(args[0], c.sheet, value_of)):
                out.append("N of a boolean: Excel gives 1/0, formulas the boolean")
            if name == "YEARFRAC" and (arg_value(args[2], c.sheet, value_of) if len(args) >= 3 else 0.0) \
                    not in (2.0, 3.0, 4.0):
                out.append("YEARFRAC with basis 0 or 1: formulas counts days differently from Excel")
            if name == "TEXT" and len(args) == 2:
                fmt = arg_value(args[1], c.sheet, value_of)
                if not isinstance(fmt, str) or ";" in ft.bare(fmt):
                    out.append("TEXT with format sections: formulas mishandles the negative and zero sections")
                elif '"' in fmt or "\\" in fmt:
                    out.append("TEXT with literal characters in the format: not checked against Excel for formulas")
                elif re.search(r"[0#]", fmt):
                    num = arg_value(args[0], c.sheet, value_of)
                    decimals = len(fmt.split(".", 1)[1]) if "." in fmt else 0
                    if not isinstance(num, float) or (abs(num) * 10 ** decimals) % 1 == 0.5:
                        out.append("TEXT of a number: formulas rounds halves to even (Excel: away from zero)")
    return list(dict.fromkeys(out))


def _lookup_gaps(args: list[str], sheet: str, value_of: Any, backend: str) -> list[str]:
    if len(args) == 2:
        return [f"LOOKUP in array form: {backend} does not follow Excel's rules for it"]
    if len(args) != 3:
        return []
    vec, res = area_values(args[1], sheet, value_of), area_values(args[2], sheet, value_of)
    if vec is None or res is None:
        return ["LOOKUP over a vector whose contents are not known before evaluation (blanks change the result)"]
    if len(vec) != len(res):
        return [f"LOOKUP with vectors of different lengths: Excel's result differs from {backend}'s"]
    if any(v is None or v == "" or v is UNKNOWN for v in vec):
        return [f"LOOKUP with blank cells in the lookup vector: {backend} does not skip them as Excel does"]
    return []


def _calls_with_text(formula: str) -> list[tuple[str, list[str]]]:
    """Like :func:`formula_text.calls`, but the argument texts keep their string literals."""
    masked = _mask_strings(formula)
    out = []
    for m in ft.FUNC.finditer(masked):
        out.append((ft.canonical(m.group(1)), [formula[a:b].strip() for a, b in _arg_spans(masked, m.end())]))
    return out


def _arg_spans(masked: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of each top-level argument of the call whose "(" ends just before ``start``."""
    depth, i, spans, begin = 1, start, [], start
    while i < len(masked) and depth:
        ch = masked[i]
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if depth == 0:
                break
        elif ch == "," and depth == 1:
            spans.append((begin, i))
            begin = i + 1
        i += 1
    spans.append((begin, i))
    return spans


def _mask_strings(formula: str) -> str:
    """The formula with every character inside a string literal replaced by a space (same length)."""
    return ft.STRINGS.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', formula)


def cell_values(roots: dict[str, Any], strings: Any, computed: dict[Any, Any] | None) -> Any:
    """A ``value_of(sheet, ref)`` for the rules: a computed value, a constant of the sheet XML, None for a blank
    cell, UNKNOWN for a formula not computed. ``roots``: sheet name -> parsed worksheet; ``strings``: a callable
    returning the shared strings."""
    from .cached import MISSING, cell_value
    from .xlsx import NS_MAIN

    tag_c, tag_f = f"{{{NS_MAIN}}}c", f"{{{NS_MAIN}}}f"
    index: dict[str, dict[str, Any]] = {}
    shared: list[list[str]] = []

    def value_of(sheet: str, ref: str) -> Any:
        if computed is not None and (sheet, ref) in computed:
            return computed[(sheet, ref)]
        if sheet not in index:
            root = roots.get(sheet)
            index[sheet] = {} if root is None else {c.get("r"): c for c in root.iter(tag_c)}
        c = index[sheet].get(ref)
        if c is None:
            return None if sheet in roots else UNKNOWN
        if c.find(tag_f) is not None:
            return UNKNOWN
        if c.get("t") == "s" and not shared:
            shared.append(strings())
        v = cell_value(c, shared[0] if shared else [])
        return None if v is MISSING else v

    return value_of
