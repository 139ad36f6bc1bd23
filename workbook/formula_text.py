"""Reading formula text: string literals blanked, function calls and their top-level arguments.

Shared by lint and every backend's list of known gaps, so a formula is scanned the same way everywhere.
"""

from __future__ import annotations

import re

STRINGS = re.compile(r'"(?:[^"]|"")*"')
FUNC = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.")


def bare(formula: str) -> str:
    """The formula with every string literal emptied (so nothing inside quotes is read as syntax)."""
    return STRINGS.sub('""', formula)


def canonical(name: str) -> str:
    """A function name as Excel shows it: upper case, without the ``_xlfn.``/``_xlws.`` prefixes of a file."""
    up = name.upper()
    for prefix in _PREFIXES:
        if up.startswith(prefix):
            return up[len(prefix):]
    return up


def functions(bare_formula: str) -> list[str]:
    """Canonical names of every function called, in order (repeats kept)."""
    return [canonical(n) for n in FUNC.findall(bare_formula)]


def call_args(bare_formula: str, start: int) -> list[str]:
    """The top-level arguments of the call whose "(" ends just before ``start`` (text, stripped)."""
    depth, i, args, current = 1, start, [], []
    text = bare_formula
    while i < len(text) and depth:
        ch = text[i]
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if depth == 1 and ch == ",":
            args.append("".join(current).strip())
            current = []
        elif depth:
            current.append(ch)
        i += 1
    args.append("".join(current).strip())
    return args


def calls(bare_formula: str) -> list[tuple[str, list[str]]]:
    """Every call of the formula as (canonical name, top-level argument texts), outer calls first."""
    return [(canonical(m.group(1)), call_args(bare_formula, m.end())) for m in FUNC.finditer(bare_formula)]
