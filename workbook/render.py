"""Render one sheet of a workbook to PDF and PNG with LibreOffice (for the README picture and the tests).

Works on a throw-away copy in which every other sheet is hidden, so the original file is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .libreoffice import convert, soffice
from .xlsx import M, Package, WorkbookFileError, to_bytes, write_package


def render_sheet(book: str | Path, sheet: str, png: str | Path, *, dpi: int = 90, timeout: float = 180) -> Path:
    """Render ``sheet`` of ``book`` to ``png`` (first page); returns the PNG path. Needs soffice and pdftoppm."""
    if soffice() is None or shutil.which("pdftoppm") is None:
        raise WorkbookFileError("rendering needs LibreOffice (soffice) and pdftoppm (poppler-utils)")
    png = Path(png)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        only = tmpdir / "sheet.xlsx"
        with Package(book) as pkg:
            root = pkg.xml("xl/workbook.xml")
            names = [s.get("name") for s in root.iter(f"{M}sheet")]
            if sheet not in names:
                raise WorkbookFileError(f"{book} has no sheet {sheet!r}")
            for i, s in enumerate(root.iter(f"{M}sheet")):
                if s.get("name") != sheet:
                    s.set("state", "hidden")
                else:
                    active = i
            for view in root.iter(f"{M}workbookView"):
                view.set("activeTab", str(active))
                view.set("firstSheet", str(active))
            write_package(pkg, only, {"xl/workbook.xml": to_bytes(root)})
        convert([only], "pdf", tmpdir, recalc=False, timeout=timeout)
        pdf = tmpdir / "sheet.pdf"
        if not pdf.exists():
            raise WorkbookFileError("LibreOffice did not produce a PDF")
        stem = tmpdir / "page"
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", str(pdf), str(stem)],
                       check=True, capture_output=True, timeout=timeout)
        pages = sorted(tmpdir.glob("page*.png"))
        if not pages:
            raise WorkbookFileError("pdftoppm produced no page")
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pages[0], png)
    return png
