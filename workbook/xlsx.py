"""Reading and writing the parts of an .xlsx/.xlsm package without round-tripping it through a library.

Only cell values in worksheet XML are ever changed; every other part is copied unchanged, so styles, defined
names, data validation, charts, images, VBA and custom XML survive exactly. XML is parsed with lxml (so
namespaces and ``mc:Ignorable`` prefixes survive) with entities, DTDs and the network switched off, and the
package is checked against zip bombs before anything is inflated. Writes go to a temporary file in the target
folder and are renamed into place: on any failure the existing file is untouched.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from buildbuy.engine.errors import BuildBuyError
from buildbuy.udfs.refs import FormulaCell, split_ref

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
M = f"{{{NS_MAIN}}}"
_V, _IS, _F, _EXT = f"{M}v", f"{M}is", f"{M}f", f"{M}extLst"

#: Limits against hostile files (stated in the README): the file's own size, its parts, the bytes it inflates to
#: (counted as they are inflated, never trusting the zip headers), one part's size, and the compression ratio of
#: a large part.
MAX_FILE_BYTES = 256 << 20
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 1 << 30
MAX_PART_BYTES = 256 << 20
MAX_RATIO = 200
#: How far into an XML part its prolog (declaration, comments) may run before the root element.
MAX_PROLOG_BYTES = 1 << 20
_CHUNK = 1 << 16
_FINITE_MAX = sys.float_info.max
_FINITE_MIN = -_FINITE_MAX


class WorkbookFileError(BuildBuyError):
    """The file is not a readable, safe .xlsx/.xlsm package."""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=False)


def _dtd_error(part: str) -> WorkbookFileError:
    return WorkbookFileError(f"{part}: XML with a DTD or entity declarations is not allowed in a workbook")


def parse_xml(data: bytes, part: str, book: str | Path | None = None) -> etree._Element:
    """Parse one XML part safely: no DTD (OOXML never has one), no entities, no network. ``book`` (the file
    the part comes from) prefixes every message and is kept as the document's URL for later messages."""
    if book is not None:
        part = f"{book}: {part}"
    if prolog_has_dtd(data[:MAX_PROLOG_BYTES]) is not False or b"<!entity" in data[:65536].lower():
        raise _dtd_error(part)
    try:
        root = etree.fromstring(data, _PARSER, base_url=str(book) if book is not None else None)
    except etree.XMLSyntaxError as exc:
        raise WorkbookFileError(f"{part}: broken XML ({_short(str(exc))})") from None
    if root.getroottree().docinfo.doctype:
        raise _dtd_error(part)
    return root


def prolog_has_dtd(head: bytes) -> bool | None:
    """Whether an XML document's prolog declares a DTD: True, False, or None when ``head`` ends before the
    root element (a longer prolog is needed to tell). Reads UTF-8 and UTF-16 (with or without a BOM)."""
    if head.startswith((codecs.BOM_UTF16_LE, b"<\x00")):
        text = head.decode("utf-16-le", "ignore")
    elif head.startswith((codecs.BOM_UTF16_BE, b"\x00<")):
        text = head.decode("utf-16-be", "ignore")
    else:
        text = head.decode("utf-8", "ignore")
    text = text.lstrip("\ufeff")
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return None
        if text.startswith("<?", i):
            end, close = text.find("?>", i), 2
        elif text.startswith("<!--", i):
            end, close = text.find("-->", i + 4), 3
        elif text[i:i + 9].upper().startswith("<!DOCTYPE"[:n - i]):
            return True if n - i >= 9 else None
        else:
            return False
        if end < 0:
            return None
        i = end + close


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def to_bytes(root: etree._Element) -> bytes:
    """Serialize a parsed part back to bytes (UTF-8, standalone declaration, namespaces as they were)."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True)
class SheetInfo:
    name: str
    part: str  # e.g. "xl/worksheets/sheet1.xml"
    state: str  # visible / hidden / veryHidden


class Package:
    """An opened, checked .xlsx/.xlsm package (read-only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise WorkbookFileError(f"{self.path} does not exist") from None
        except OSError as exc:
            raise WorkbookFileError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        if not stat.S_ISREG(st.st_mode):
            raise WorkbookFileError(f"{self.path} is not a regular file ({_kind(st.st_mode)})")
        if st.st_size > MAX_FILE_BYTES:
            raise WorkbookFileError(f"{self.path}: {st.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
        try:
            with open(self.path, "rb") as fh:
                magic = fh.read(8)
        except OSError as exc:
            raise WorkbookFileError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        if magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise WorkbookFileError(f"{self.path} is a password-protected workbook or a legacy .xls (an OLE compound "
                                    f"file), not an .xlsx/.xlsm: save it as .xlsx without a password")
        if not zipfile.is_zipfile(self.path):
            raise WorkbookFileError(f"{self.path} is not an .xlsx/.xlsm file (not a zip package)")
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise WorkbookFileError(f"{self.path}: damaged or truncated zip package ({_short(str(exc))})") from None
        try:
            self._check(infos)
        except BaseException:
            self._zip.close()
            raise
        self.infos = {i.filename: i for i in infos}
        self._cache: dict[str, bytes] = {}
        self._inflated = 0

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        if len(infos) > MAX_ENTRIES:
            raise WorkbookFileError(f"{self.path}: {len(infos)} parts, more than the {MAX_ENTRIES} allowed")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise WorkbookFileError(f"{self.path}: inflates to {total:,} bytes, more than {MAX_TOTAL_BYTES:,}")
        names = set()
        for i in infos:
            if i.file_size > MAX_PART_BYTES or (i.compress_size and i.file_size / i.compress_size > MAX_RATIO
                                                 and i.file_size > 10 << 20):
                raise WorkbookFileError(f"{self.path}: part {_short(i.filename, 80)} looks like a zip bomb "
                                        f"({i.compress_size:,} -> {i.file_size:,} bytes)")
            if i.flag_bits & 0x1:
                raise WorkbookFileError(f"{self.path}: encrypted zip entries ({_short(i.filename, 80)}); "
                                        f"save the workbook without a password")
            if i.filename in names:
                raise WorkbookFileError(f"{self.path}: the part {_short(i.filename, 80)} appears twice in the zip")
            names.add(i.filename)
        if "mimetype" in names and "[Content_Types].xml" not in names:
            kind = self._zip.read("mimetype")[:100].decode("ascii", "replace") if self._zip.getinfo(
                "mimetype").file_size < 200 else ""
            if "opendocument" in kind:
                raise WorkbookFileError(f"{self.path} is an OpenDocument file ({kind}), not an .xlsx/.xlsm: "
                                        f"save it as .xlsx")
        if "[Content_Types].xml" not in names:
            raise WorkbookFileError(f"{self.path}: not an Office Open XML package (no [Content_Types].xml)")
        if "xl/workbook.xml" not in names:
            raise WorkbookFileError(f"{self.path}: not a spreadsheet package (no xl/workbook.xml)")
        if "xl/_rels/workbook.xml.rels" not in names:
            raise WorkbookFileError(f"{self.path}: damaged package: no xl/_rels/workbook.xml.rels (where the "
                                    f"workbook's sheets are found)")
        for i in infos:
            if _is_xml_part(i.filename):
                self._check_prolog(i.filename)

    def _check_prolog(self, name: str) -> None:
        """Refuse a DTD in any XML part (only its prolog is inflated)."""
        head = b""
        for chunk in self._chunks(name, count=False):
            head += chunk
            found = prolog_has_dtd(head)
            if found is not None:
                if found:
                    raise _dtd_error(f"{self.path}: {_short(name, 80)}")
                return
            if len(head) > MAX_PROLOG_BYTES:
                raise WorkbookFileError(f"{self.path}: {_short(name, 80)}: an XML prolog longer than "
                                        f"{MAX_PROLOG_BYTES:,} bytes")

    def _chunks(self, name: str, count: bool = True) -> Any:
        """The inflated bytes of a part in chunks, counted against the package's budget as they come."""
        try:
            with self._zip.open(name) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        return
                    if count:
                        self._inflated += len(chunk)
                        if self._inflated > MAX_TOTAL_BYTES:
                            raise WorkbookFileError(f"{self.path}: inflates to more than {MAX_TOTAL_BYTES:,} bytes")
                    yield chunk
        except KeyError:
            raise WorkbookFileError(f"{self.path}: missing part {name}") from None
        except WorkbookFileError:
            raise
        except Exception as exc:  # BadZipFile (bad CRC), zlib.error, EOFError...: a damaged part
            raise WorkbookFileError(f"{self.path}: cannot read part {_short(name, 80)} "
                                    f"({type(exc).__name__}: {_short(str(exc), 120)})") from None

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def read(self, name: str) -> bytes:
        """The inflated bytes of one part (size-checked as it inflates; small parts are cached)."""
        if name in self._cache:
            return self._cache[name]
        parts = []
        size = 0
        for chunk in self._chunks(name):
            size += len(chunk)
            if size > MAX_PART_BYTES:
                raise WorkbookFileError(f"{self.path}: part {_short(name, 80)} is larger than {MAX_PART_BYTES:,} bytes")
            parts.append(chunk)
        data = b"".join(parts)
        if len(data) < 1 << 20:
            self._cache[name] = data
        return data

    def copy_part(self, name: str, out: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Stream one part, unchanged, into ``out`` (bounded memory)."""
        if name in self._cache:
            out.writestr(info, self._cache[name])
            return
        with out.open(info, "w") as fh:
            for chunk in self._chunks(name):
                fh.write(chunk)

    def xml(self, name: str) -> etree._Element:
        """One part parsed safely as XML."""
        return parse_xml(self.read(name), name, self.path)

    def sheets(self) -> list[SheetInfo]:
        """The worksheets in workbook order, with their part paths (chartsheets left out)."""
        memo = self.__dict__.setdefault("_memo", {})
        if "sheets" not in memo:
            memo["sheets"] = self._sheets()
        return list(memo["sheets"])

    def _sheets(self) -> list[SheetInfo]:
        wb = self.xml("xl/workbook.xml")
        rels = self._rels("xl/workbook.xml")
        out = []
        for s in wb.iter(f"{M}sheet"):
            rid = s.get(f"{{{NS_REL}}}id")
            target = rels.get(rid or "")
            if target is None:
                raise WorkbookFileError(f"{self.path}: damaged package: sheet {s.get('name', '')!r} has no "
                                        f"relationship {rid!r} in xl/_rels/workbook.xml.rels")
            if not target.startswith("xl/worksheets/"):
                continue  # chartsheets and dialog sheets hold no cells
            if target not in self.infos:
                raise WorkbookFileError(f"{self.path}: damaged package: sheet {s.get('name', '')!r} points at "
                                        f"{target}, which is missing")
            out.append(SheetInfo(s.get("name", ""), target, s.get("state", "visible")))
        return out

    def defined_names(self) -> list[tuple[str, str, str | None]]:
        """(name, reference text, local sheet index or None) of every defined name."""
        memo = self.__dict__.setdefault("_memo", {})
        if "names" not in memo:
            wb = self.xml("xl/workbook.xml")
            memo["names"] = [(d.get("name", ""), (d.text or "").strip(), d.get("localSheetId"))
                             for d in wb.iter(f"{M}definedName")]
        return list(memo["names"])

    def _rels(self, part: str) -> dict[str, str]:
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name not in self.infos:
            return {}
        root = self.xml(rels_name)
        out = {}
        for r in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
            target = r.get("Target", "")
            if r.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[r.get("Id", "")] = full
        return out


def _is_xml_part(name: str) -> bool:
    low = name.lower()
    return low.endswith((".xml", ".rels", ".vml")) or low == "[content_types].xml"


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a plain file"


# ----------------------------------------------------------------------------------------------- cells
#: Excel's own limit on the length of a formula; a longer one cannot come from Excel, and evaluating it can take
#: minutes (formulas) or fail (formualizer).
MAX_FORMULA_CHARS = 8_192
#: Most cells the legacy array formulas of one sheet may cover: each of them gets a stored value, so memory and
#: time follow this count, not the count of formulas.
MAX_ARRAY_CELLS = 2_000_000


def area_size(area: str) -> int:
    """Cells in 'A1:B2' (or 1 for 'A1'), without listing them."""
    a, _, b = area.replace("$", "").partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b or a)
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def sheet_formula_cells(root: etree._Element, sheet: str) -> list[FormulaCell]:
    """Formula cells of one worksheet's XML (refused when its array formulas cover more than
    :data:`MAX_ARRAY_CELLS` cells)."""
    anchors: dict[str, tuple[str, str]] = {}
    out = []
    array_cells = 0
    book = root.getroottree().docinfo.URL
    where = f"{book}: sheet {sheet!r}" if book else f"sheet {sheet!r}"
    for f in root.iter(_F):
        text = f.text or ""
        kind = f.get("t")
        c = f.getparent()
        ref = c.get("r", "")
        if len(text) > MAX_FORMULA_CHARS:
            raise WorkbookFileError(f"{where}: the formula at {ref} has {len(text):,} characters, more than "
                                    f"Excel's limit of {MAX_FORMULA_CHARS:,}")
        if kind is None or kind == "normal":  # the common case first
            if text and not text.isspace():
                out.append(FormulaCell(sheet, ref, "=" + text, None, False, c))
            # else an empty <f> (Excel writes <f ca="1"/> in some cells): nothing to compute, the value stays
        elif kind == "shared":
            si = f.get("si", "")
            if text:
                anchors[si] = (ref, text)
            elif si in anchors:
                from openpyxl.formula.translate import Translator

                origin, anchor_text = anchors[si]
                text = Translator("=" + anchor_text, origin=origin).translate_formula(ref)[1:]
            if not text.strip():
                continue  # a shared formula whose anchor is missing: nothing to compute, the cached value stays
            out.append(FormulaCell(sheet, ref, "=" + text, None, True, c))
        elif kind == "array":
            area = f.get("ref") or ref
            try:
                array_cells += area_size(area)
            except (ValueError, KeyError, TypeError):
                raise WorkbookFileError(f"{where}: the array formula at {ref} has a bad range "
                                        f"{_short(area, 40)!r}") from None
            if array_cells > MAX_ARRAY_CELLS:
                raise WorkbookFileError(f"{where}: the array formula at {ref} over {_short(area, 40)} "
                                        f"takes the sheet's array formulas past {MAX_ARRAY_CELLS:,} cells")
            out.append(FormulaCell(sheet, ref, "=" + text, area, False, c))
        elif text.strip():
            out.append(FormulaCell(sheet, ref, "=" + text, None, False, c))
        # else an empty <f> (data tables, t="dataTable", have no text): nothing to compute, the value stays
    return out


_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPE_LIKE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def xml_unsafe_char(text: str) -> str | None:
    """The first character a worksheet cannot store as text (control characters, lone surrogates, U+FFFE,
    U+FFFF), or None."""
    m = _XML_BAD.search(text)
    return m.group() if m else None


def xml_text(text: str) -> str:
    """Text as a cell stores it: characters XML cannot hold become Excel's ``_xHHHH_`` escapes (and a literal
    ``_xHHHH_`` is itself escaped, as Excel does), so results with control characters round-trip."""
    if _XML_BAD.search(text) is None and "_x" not in text:
        return text
    text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    return _XML_BAD.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _num_text(x: float) -> str:
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def set_cells(root: etree._Element, values: Mapping[str, Any], *, as_input: bool = False) -> None:
    """Write values into the cells of a worksheet (in place), creating rows and cells where missing.

    ``as_input=False`` writes cached results of formula cells (formulas kept); ``as_input=True`` writes input
    values: any formula in the cell is removed and text is always an inline string, never a formula.
    Values: float/int, bool, str, None (blank), or an object with ``code`` (an Excel error).
    """
    sheet_data = root.find(f"{M}sheetData")
    if sheet_data is None:
        raise WorkbookFileError("worksheet without sheetData")
    rows: dict[int, etree._Element] = {}
    cells: dict[str, etree._Element] = {}
    for row in sheet_data.iterchildren(f"{M}row"):
        if row.get("r"):
            rows[int(row.get("r"))] = row
        for c in row.iterchildren(f"{M}c"):
            cells[c.get("r", "")] = c
    new_cells: dict[int, list[tuple[int, etree._Element]]] = {}
    for ref, value in values.items():
        cell = cells.get(ref)
        if cell is None:
            r, col = split_ref(ref)
            cell = etree.Element(f"{M}c", r=ref)
            new_cells.setdefault(r, []).append((col, cell))
            cells[ref] = cell
        _write(cell, value, as_input)
    new_rows: list[tuple[int, etree._Element]] = []
    for r, items in new_cells.items():
        row = rows.get(r)
        if row is None:
            row = rows[r] = etree.Element(f"{M}row", r=str(r))
            new_rows.append((r, row))
        _merge_sorted(row, items, f"{M}c", lambda e: split_ref(e.get("r", "A1"))[1])
    if new_rows:
        _merge_sorted(sheet_data, new_rows, f"{M}row", lambda e: int(e.get("r", "0")))


def _merge_sorted(parent: etree._Element, items: list[tuple[int, etree._Element]], tag: str, key_of: Any) -> None:
    """Insert children, each with its sort key, among ``parent``'s ``tag`` children in key order, in one pass
    (other children, such as ``<extLst>``, stay after them). Linear in the children, never quadratic."""
    items.sort(key=lambda kv: kv[0])
    same = [e for e in parent if e.tag == tag]
    others = [e for e in parent if e.tag != tag]
    if not same and not others:
        parent.extend(e for _, e in items)
    elif not same:
        for _, e in items:
            others[0].addprevious(e)
    elif key_of(same[-1]) < items[0][0]:  # the common case: everything goes after the last existing child
        for _, e in reversed(items):
            same[-1].addnext(e)
    else:
        merged = [(key_of(e), 0, i, e) for i, e in enumerate(same)]
        merged += [(k, 1, i, e) for i, (k, e) in enumerate(items)]
        merged.sort(key=lambda t: t[:3])
        parent[:] = [t[3] for t in merged] + others


def clear_values(root: etree._Element, refs: set[str]) -> None:
    """Remove the cached values (not formulas) of some cells, in place."""
    for c in root.iter(f"{M}c"):
        if c.get("r") in refs and c.find(f"{M}f") is None:
            for tag in ("v", "is"):
                for old in c.findall(f"{M}{tag}"):
                    c.remove(old)
            c.attrib.pop("t", None)




def write_cached(cell: etree._Element, value: Any) -> None:
    """Store a formula's result in its own ``<c>`` element (formula kept)."""
    _write(cell, value, False)


def write_cached_many(items: Iterable[tuple[etree._Element, Any]]) -> int:
    """:func:`write_cached` for many (cell, value) pairs; returns how many. The common case, a finite number
    into a cell that already ends with its ``<v>``, is done here without a call per cell. A value that is not a
    finite number is written as :func:`write_cached` writes it (callers turn infinities into errors first)."""
    n = 0
    for cell, value in items:
        n += 1
        if type(value) is float and _FINITE_MIN <= value <= _FINITE_MAX and len(cell):
            last = cell[-1]
            if last.tag == _V:
                last.text = str(int(value)) if value.is_integer() and -1e15 < value < 1e15 else repr(value)
                if cell.get("t") is not None:
                    del cell.attrib["t"]
                continue
        _write(cell, value, False)
    return n


def _write(cell: etree._Element, value: Any, as_input: bool) -> None:
    if not as_input and type(value) is float:  # the common case: a formula's numeric result
        n = len(cell)
        last = cell[n - 1] if n else None
        if last is not None and last.tag == _V:
            last.text = _num_text(value)
            cell.attrib.pop("t", None)
            return
        if n == 1 and last.tag == _F:
            cell.attrib.pop("t", None)
            etree.SubElement(cell, _V).text = _num_text(value)
            return
    for old in list(cell):
        if old.tag == _V or old.tag == _IS or (as_input and old.tag == _F):
            cell.remove(old)
    cell.attrib.pop("t", None)
    if value is None or (value == "" and as_input):
        return
    if isinstance(value, bool):
        cell.set("t", "b")
        _append_value(cell, "1" if value else "0")
    elif isinstance(value, (int, float)):
        _append_value(cell, _num_text(float(value)))
    elif hasattr(value, "code"):
        cell.set("t", "e")
        _append_value(cell, value.code)
    elif as_input:
        cell.set("t", "inlineStr")
        is_el = etree.SubElement(cell, f"{M}is")
        t = etree.SubElement(is_el, f"{M}t")
        t.text = xml_text(str(value))
        if str(value) != str(value).strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        cell.set("t", "str")
        _append_value(cell, xml_text(str(value)))


def _append_value(cell: etree._Element, text: str) -> None:
    ext = cell.find(_EXT) if len(cell) > 1 else None
    if ext is not None:
        v = etree.Element(_V)
        v.text = text
        ext.addprevious(v)
    else:
        etree.SubElement(cell, _V).text = text


# ----------------------------------------------------------------------------------------------- writing
def write_package(src: Package, dst: str | Path | Any, replaced: Mapping[str, bytes]) -> None:
    """Write ``src`` to ``dst`` with some parts replaced, every other part copied unchanged; atomically.

    A symbolic link is written through: its target is replaced, the link stays. A path that exists but is not a
    regular file (a folder, a device, a named pipe) is refused. On any failure the existing file is untouched
    and the error names ``dst``, never the temporary file. ``dst`` may also be a binary file object (an
    in-memory copy for a backend).
    """
    if hasattr(dst, "write"):
        _write_zip(src, dst, replaced)
        return
    dst = Path(dst)
    target = writable_target(dst)
    folder = target.parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            _write_zip(src, fh, replaced)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise WorkbookFileError(f"cannot write {dst}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def writable_target(dst: str | Path) -> Path:
    """The file a write to ``dst`` replaces (a symbolic link's target), refused unless it is a regular file or
    does not exist yet in an existing folder."""
    dst = Path(dst)
    target = Path(os.path.realpath(dst))
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WorkbookFileError(f"cannot write {dst}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise WorkbookFileError(f"cannot write {dst}: it is {_kind(st.st_mode)}, not a regular file")
    if not target.parent.is_dir():
        raise WorkbookFileError(f"cannot write {dst}: folder {target.parent} does not exist")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Where a ZipInfo keeps its deflate level (renamed in Python 3.13).
_LEVEL_SLOT = "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ else "_compresslevel"


def _write_zip(src: Package, fh: Any, replaced: Mapping[str, bytes]) -> None:
    # Level 1 deflate: a few percent larger than level 6, several times faster on big sheets.
    with zipfile.ZipFile(fh, "w", compresslevel=1) as out:
        for name, info in src.infos.items():
            new = zipfile.ZipInfo(name, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = info.create_system
            setattr(new, _LEVEL_SLOT, 1)
            data = replaced.get(name)
            if data is None:
                new.file_size = info.file_size  # sizes zip64 correctly when streaming
                src.copy_part(name, out, new)
            else:
                out.writestr(new, data, compresslevel=1)
