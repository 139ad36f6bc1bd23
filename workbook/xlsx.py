"""Reading and writing the parts of an .xlsx/.xlsm package without round-tripping it through a library.

Only cell values in worksheet XML are ever changed; every other part is copied unchanged, so styles, defined
names, data validation, charts, images, VBA and custom XML survive exactly. XML is parsed with lxml (so
namespaces and ``mc:Ignorable`` prefixes survive) with entities, DTDs and the network switched off, and the
package is checked against zip bombs before anything is inflated. Writes go to a temporary file in the target
folder and are renamed into place: on any failure the existing file is untouched.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from buildbuy.engine.errors import BuildBuyError
from buildbuy.udfs.headless import FormulaCell
from buildbuy.udfs.refs import split_ref

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
M = f"{{{NS_MAIN}}}"

#: Limits against hostile files: entries, total inflated size, one part's size, compression ratio.
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 1 << 30
MAX_PART_BYTES = 512 << 20
MAX_RATIO = 200


class WorkbookFileError(BuildBuyError):
    """The file is not a readable, safe .xlsx/.xlsm package."""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=False)


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one XML part safely: no DTD (OOXML never has one), no entities, no network."""
    head = data[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in data[:65536].lower():
        raise WorkbookFileError(f"{part}: XML with a DTD or entity declarations is not allowed in a workbook")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise WorkbookFileError(f"{part}: broken XML ({exc})") from None


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
        if not self.path.exists():
            raise WorkbookFileError(f"{self.path} does not exist")
        if not zipfile.is_zipfile(self.path):
            raise WorkbookFileError(f"{self.path} is not an .xlsx/.xlsm file (not a zip package)")
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise WorkbookFileError(f"{self.path}: damaged or truncated zip package ({exc})") from None
        if len(infos) > MAX_ENTRIES:
            raise WorkbookFileError(f"{self.path}: {len(infos)} parts, more than the {MAX_ENTRIES} allowed")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise WorkbookFileError(f"{self.path}: inflates to {total:,} bytes, more than {MAX_TOTAL_BYTES:,}")
        for i in infos:
            if i.file_size > MAX_PART_BYTES or (i.compress_size and i.file_size / i.compress_size > MAX_RATIO
                                                 and i.file_size > 10 << 20):
                raise WorkbookFileError(f"{self.path}: part {i.filename} looks like a zip bomb "
                                        f"({i.compress_size:,} -> {i.file_size:,} bytes)")
        self.infos = {i.filename: i for i in infos}
        if "[Content_Types].xml" not in self.infos or "xl/workbook.xml" not in self.infos:
            raise WorkbookFileError(f"{self.path}: not a spreadsheet package (no xl/workbook.xml)")
        self._cache: dict[str, bytes] = {}

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def read(self, name: str) -> bytes:
        """The inflated bytes of one part (size-checked, cached)."""
        if name not in self._cache:
            try:
                with self._zip.open(name) as fh:
                    data = fh.read(MAX_PART_BYTES + 1)
            except KeyError:
                raise WorkbookFileError(f"{self.path}: missing part {name}") from None
            except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
                raise WorkbookFileError(f"{self.path}: cannot read part {name} ({exc})") from None
            if len(data) > MAX_PART_BYTES:
                raise WorkbookFileError(f"{self.path}: part {name} is larger than {MAX_PART_BYTES:,} bytes")
            self._cache[name] = data
        return self._cache[name]

    def xml(self, name: str) -> etree._Element:
        """One part parsed safely as XML."""
        return parse_xml(self.read(name), name)

    def sheets(self) -> list[SheetInfo]:
        """The worksheets in workbook order, with their part paths (chartsheets left out)."""
        wb = self.xml("xl/workbook.xml")
        rels = self._rels("xl/workbook.xml")
        out = []
        for s in wb.iter(f"{M}sheet"):
            rid = s.get(f"{{{NS_REL}}}id")
            target = rels.get(rid or "")
            if target is None:
                continue
            if not target.startswith("xl/worksheets/"):
                continue  # chartsheets and dialog sheets hold no cells
            out.append(SheetInfo(s.get("name", ""), target, s.get("state", "visible")))
        return out

    def defined_names(self) -> list[tuple[str, str, str | None]]:
        """(name, reference text, local sheet index or None) of every defined name."""
        wb = self.xml("xl/workbook.xml")
        return [(d.get("name", ""), (d.text or "").strip(), d.get("localSheetId"))
                for d in wb.iter(f"{M}definedName")]

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


# ----------------------------------------------------------------------------------------------- cells
def sheet_formula_cells(root: etree._Element, sheet: str) -> list[FormulaCell]:
    """Formula cells of one worksheet's XML."""
    anchors: dict[str, tuple[str, str]] = {}
    out = []
    for f in root.iter(f"{M}f"):
        c = f.getparent()
        ref = c.get("r", "")
        kind = f.get("t")
        text = f.text or ""
        if kind == "shared":
            si = f.get("si", "")
            if text:
                anchors[si] = (ref, text)
            elif si in anchors:
                from openpyxl.formula.translate import Translator

                origin, anchor_text = anchors[si]
                text = Translator("=" + anchor_text, origin=origin).translate_formula(ref)[1:]
            out.append(FormulaCell(sheet, ref, "=" + text, None, True, c))
        elif kind == "array":
            out.append(FormulaCell(sheet, ref, "=" + text, f.get("ref") or ref, False, c))
        else:
            out.append(FormulaCell(sheet, ref, "=" + text, None, False, c))
    return out


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
    for ref, value in values.items():
        cell = cells.get(ref)
        if cell is None:
            r, col = split_ref(ref)
            row = rows.get(r)
            if row is None:
                row = etree.Element(f"{M}row", r=str(r))
                _insert_sorted(sheet_data, row, r, lambda e: int(e.get("r", "0")))
                rows[r] = row
            cell = etree.Element(f"{M}c", r=ref)
            _insert_sorted(row, cell, col, lambda e: split_ref(e.get("r"))[1])
            cells[ref] = cell
        _write(cell, value, as_input)


def clear_values(root: etree._Element, refs: set[str]) -> None:
    """Remove the cached values (not formulas) of some cells, in place."""
    for c in root.iter(f"{M}c"):
        if c.get("r") in refs and c.find(f"{M}f") is None:
            for tag in ("v", "is"):
                for old in c.findall(f"{M}{tag}"):
                    c.remove(old)
            c.attrib.pop("t", None)


def _insert_sorted(parent: etree._Element, child: etree._Element, key: int, key_of: Any) -> None:
    tag = child.tag
    for i, existing in enumerate(parent):
        if existing.tag == tag and key_of(existing) > key:
            parent.insert(i, child)
            return
        if existing.tag != tag and existing.tag != f"{M}c" and tag == f"{M}c":
            parent.insert(i, child)  # keep <extLst> last inside a row
            return
    parent.append(child)


_V, _IS, _F, _EXT = f"{M}v", f"{M}is", f"{M}f", f"{M}extLst"


def write_cached(cell: etree._Element, value: Any) -> None:
    """Store a formula's result in its own ``<c>`` element (formula kept)."""
    _write(cell, value, False)


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
        t.text = str(value)
        if str(value) != str(value).strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        cell.set("t", "str")
        _append_value(cell, str(value))


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

    ``dst`` may also be a binary file object (an in-memory copy for a backend).
    """
    if hasattr(dst, "write"):
        _write_zip(src, dst, replaced)
        return
    dst = Path(dst)
    folder = dst.resolve().parent
    if not folder.is_dir():
        raise WorkbookFileError(f"cannot write {dst}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            _write_zip(src, fh, replaced)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if dst.exists():
            os.chmod(tmp, dst.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_zip(src: Package, fh: Any, replaced: Mapping[str, bytes]) -> None:
    # Level 1 deflate: a few percent larger than level 6, several times faster on big sheets.
    with zipfile.ZipFile(fh, "w", compresslevel=1) as out:
        for name, info in src.infos.items():
            data = replaced.get(name)
            if data is None:
                data = src.read(name)
            new = zipfile.ZipInfo(name, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = info.create_system
            out.writestr(new, data, compresslevel=1)
