"""LibreOffice as an independent spreadsheet application: read what it shows, or make it recalculate.

Used by the cross-check tests and the benchmark; never by the product's own path. Each call runs headless with
a throw-away user profile, so the user's own LibreOffice settings are neither read nor changed.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
from pathlib import Path

from .xlsx import Package, WorkbookFileError

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
#: CSV filter: comma, double quote, UTF-8, raw (not as shown) values, every sheet to its own file.
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def soffice() -> str | None:
    """The LibreOffice executable, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(folder: Path, recalc: bool) -> str:
    """A fresh user profile; with ``recalc`` LibreOffice recalculates every OOXML file on load."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    if recalc:
        (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return f"-env:UserInstallation=file://{folder}"


def convert(files: list[Path], target: str, outdir: Path, *, recalc: bool, timeout: float = 600) -> None:
    """Run one headless LibreOffice conversion of ``files`` into ``outdir``."""
    exe = soffice()
    if exe is None:
        raise WorkbookFileError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory() as prof:
        cmd = [exe, make_profile(Path(prof), recalc), "--headless", "--norestore", "--convert-to", target,
               "--outdir", str(outdir), *map(str, files)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)


def sheet_values(book: str | Path, *, recalc: bool = False) -> dict[str, list[list[str]]]:
    """Every sheet's cells as LibreOffice shows them (raw values as text), by sheet name.

    ``recalc=False`` keeps LibreOffice's default (cached values are shown); ``recalc=True`` makes it compute
    every formula itself first.
    """
    book = Path(book)
    with Package(book) as pkg:
        names = [s.name for s in pkg.sheets()]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        src = out / "book.xlsx"
        shutil.copy(book, src)
        convert([src], CSV_ALL_SHEETS, out, recalc=recalc)
        values = {}
        for name in names:
            f = out / f"book-{name}.csv"
            if f.exists():
                with open(f, newline="", encoding="utf-8") as fh:
                    values[name] = list(csv.reader(fh))
        return values


def cell(values: dict[str, list[list[str]]], sheet: str, ref: str) -> str:
    """One cell of :func:`sheet_values` ('' when outside the exported area)."""
    from buildbuy.udfs.refs import split_ref

    row, col = split_ref(ref)
    rows = values.get(sheet, [])
    if row - 1 < len(rows) and col - 1 < len(rows[row - 1]):
        return rows[row - 1][col - 1]
    return ""
