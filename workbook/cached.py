"""The values a workbook already holds for its formula cells (what the application that saved it computed).

``recalc --check`` compares against them to tell errors the file already had from errors a recalculation
introduced; the parity benchmark uses an Excel-saved file's cached values as the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from buildbuy.udfs.conventions import ERROR_CODES, XlError
from buildbuy.udfs.refs import Cell, FormulaCell

from .xlsx import NS_MAIN, Package

M = f"{{{NS_MAIN}}}"
#: A cached value that is not there (a formula never computed, as openpyxl saves it).
MISSING = object()


def shared_strings(pkg: Package) -> list[str]:
    """The shared-string table (empty when the package has none)."""
    name = "xl/sharedStrings.xml"
    if name not in pkg.infos:
        return []
    root = pkg.xml(name)
    return ["".join(t.text or "" for t in si.iter(f"{M}t") if t.getparent().tag != f"{M}rPh")
            for si in root.iter(f"{M}si")]


def shared_strings_loader(pkg: Package) -> Any:
    """A callable returning the package's shared strings, read once on first use (most books computed here
    never need them)."""
    memo: list[list[str]] = []

    def strings() -> list[str]:
        if not memo:
            memo.append(shared_strings(pkg))
        return memo[0]

    return strings


def cell_value(c: etree._Element, strings: list[str]) -> Any:
    """The cached value of one ``<c>`` element in the common model (:data:`MISSING` when it has none)."""
    kind = c.get("t", "n")
    if kind == "inlineStr":
        is_el = c.find(f"{M}is")
        return "".join(t.text or "" for t in is_el.iter(f"{M}t")) if is_el is not None else MISSING
    v = c.find(f"{M}v")
    if v is None:
        return MISSING
    return stored_value(kind, v.text or "", lambda: strings)


def stored_value(kind: str, text: str, strings: Callable[[], list[str]]) -> Any:
    """A cell's stored ``<v>`` text read as its type ``t`` says (:data:`MISSING` when it cannot be read);
    ``strings`` gives the shared strings, asked only for a ``t="s"`` cell."""
    if kind == "n":
        try:
            return float(text)
        except ValueError:
            return MISSING
    if kind == "b":
        return text.strip() in ("1", "true", "TRUE")
    if kind == "e":
        return XlError(text if text in ERROR_CODES else "#VALUE!")
    if kind == "s":
        try:
            return strings()[int(text)]
        except (ValueError, IndexError):
            return MISSING
    return text  # "str"


def cached_values(pkg: Package, cells: list[FormulaCell], roots: dict[str, Any] | None = None
                  ) -> dict[Cell, Any]:
    """Cached values of every formula cell and of every cell of a declared array range (missing ones left out).

    ``roots``: the already parsed worksheets (part -> (sheet name, root)), to save parsing them again.
    """
    strings: list[str] | None = None
    by_sheet: dict[str, list[FormulaCell]] = {}
    for fc in cells:
        by_sheet.setdefault(fc.sheet, []).append(fc)
    if roots is None:
        roots = {s.part: (s.name, pkg.xml(s.part)) for s in pkg.sheets() if s.name in by_sheet}
    out: dict[Cell, Any] = {}
    for _part, (sheet, root) in roots.items():
        fcs = by_sheet.get(sheet)
        if not fcs:
            continue
        wanted: set[str] = set()
        for fc in fcs:
            if fc.array_ref:
                wanted.update(fc.targets())
        elements = {c.get("r"): c for c in root.iter(f"{M}c") if c.get("r") in wanted} if wanted else {}
        for fc in fcs:
            for ref in fc.targets():
                el = fc.element if ref == fc.ref and fc.element is not None else elements.get(ref)
                if el is None:
                    continue
                if strings is None and el.get("t") == "s":
                    strings = shared_strings(pkg)
                v = cell_value(el, strings or [])
                if v is not MISSING:
                    out[(sheet, ref)] = v
    return out
