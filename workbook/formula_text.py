"""Reading formula text: string literals blanked, function calls and their top-level arguments.

Shared by lint and every backend's list of known gaps, so a formula is scanned the same way everywhere.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

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



#: Separates the formulas :func:`matching` scans at once: XML cannot hold NUL, so no formula read from a file has
#: one.
SEP = "\x00"


def matching(patterns: re.Pattern[str] | Sequence[re.Pattern[str]], texts: Sequence[str], *,
             upper: bool = False) -> list[int]:
    """Indices (ascending) of the texts in which one of ``patterns`` finds a match (in their upper-case form
    with ``upper``), found by one scan per pattern over all of them, each between two :data:`SEP`, instead of
    one call per text.

    A pattern is slow or fast in Python's engine by its shape, not by how it is called: one starting with a
    literal (``\\(``, ``\\x00``) or an alternation of upper-case words is fast, so callers write theirs that way
    (measured on 100,000 formulas: milliseconds). A pattern must not match across :data:`SEP`: it may start
    with ``\\x00`` (the start of a text) and look ahead to ``(?=\\x00)`` (its end); the text a match belongs to is
    the one holding its last character. Texts that hold :data:`SEP` themselves are searched one by one."""
    if isinstance(patterns, re.Pattern):
        patterns = [patterns]
    joined = SEP + SEP.join(texts) + SEP
    scanned = joined.upper() if upper else joined
    if joined.count(SEP) != len(texts) + 1 or len(scanned) != len(joined):  # (upper() may lengthen "ß")
        return [i for i, t in enumerate(texts)
                if any(p.search(SEP + (t.upper() if upper else t) + SEP) for p in patterns)]
    starts: list[int] = []  # where the SEP before each text is, listed on the first match
    found: set[int] = set()
    for pattern in patterns:
        pos = 0
        while (m := pattern.search(scanned, pos)) is not None:
            if m.end() == m.start():
                raise ValueError(f"matching: {pattern.pattern!r} matched an empty string")
            if not starts:
                starts = list(accumulate(map(len, texts), lambda a, n: a + n + 1, initial=0))
            i = bisect_right(starts, m.end() - 1) - 1
            found.add(i)
            pos = starts[i + 1]  # on to the next text: one match per text is enough
    return sorted(found)
