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


def render_sheet(book: str | Path, sheet: str, png: str | Path, *, dpi: int = 90, timeout: float = 180,
                 page: int = 1) -> Path:
    """Render one printed page (default the first) of ``sheet`` of ``book`` to ``png``, cropped to its content;
    returns the PNG path. Needs soffice and pdftoppm."""
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
        crop = _content_box(pdf, dpi, timeout, page)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), *crop, str(pdf),
                        str(stem)],
                       check=True, capture_output=True, timeout=timeout)
        pages = sorted(tmpdir.glob("page*.png"))
        if not pages:
            raise WorkbookFileError("pdftoppm produced no page")
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pages[0], png)
    return png


def _content_box(pdf: Path, dpi: int, timeout: float, page: int = 1) -> list[str]:
    """pdftoppm crop options around the text on a page (charts carry titles and axis labels), with a margin."""
    import re

    if shutil.which("pdftotext") is None:
        return []
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, timeout=timeout).stdout
    boxes = [tuple(float(v) for v in m) for m in re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', out)]
    if not boxes:
        return []
    scale = dpi / 72.0
    margin = 14
    x0 = max(0.0, min(b[0] for b in boxes) - margin)
    y0 = max(0.0, min(b[1] for b in boxes) - margin)
    x1 = max(b[2] for b in boxes) + margin
    y1 = max(b[3] for b in boxes) + margin
    return ["-x", str(int(x0 * scale)), "-y", str(int(y0 * scale)), "-W", str(int((x1 - x0) * scale)),
            "-H", str(int((y1 - y0) * scale))]


#: The README's pictures: (sheet, printed page, file under docs/).
README_PICTURES = [("Outputs", 1, "outputs.png"), ("Outputs", 2, "outputs-breakdown.png"),
                   ("Outputs", 3, "outputs-charts.png"), ("Risk", 1, "risk.png")]


def readme_pictures(docs: str | Path | None = None, dpi: int = 110) -> list[Path]:
    """Fill the bundled regulated-SaaS example, recalculate it and render the README's pictures into ``docs``."""
    from buildbuy.engine import read_scenarios

    from .fill import fill
    from .recalc import recalc

    root = Path(__file__).resolve().parents[1]
    docs = Path(docs) if docs else root / "docs"
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "regulated-saas.xlsx"
        fill(read_scenarios(root / "examples" / "regulated-saas.toml")[0], book)
        recalc(book, book)
        with Package(book) as pkg:
            sheets = {s.name for s in pkg.sheets()}
        for sheet, page, name in README_PICTURES:
            if sheet in sheets:
                out.append(render_sheet(book, sheet, docs / name, dpi=dpi, page=page))
    return out


if __name__ == "__main__":  # python -m buildbuy.workbook.render: refresh the README's pictures
    for path in readme_pictures():
        print(path)
