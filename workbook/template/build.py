"""Build the template reproducibly: the same code gives the same bytes (fixed timestamps, fixed zip dates).

``python -m buildbuy.workbook.template.build`` rewrites ``templates/buildbuy-template.xlsx``; a test proves
the committed file equals a fresh build.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook

from . import calculations, checks, cover, inputs, outputs, prices, risk, sensitivity
from .common import NAMES, Layout, put, widths
from .styles import named_styles

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "templates" / "buildbuy-template.xlsx"
FIXED_TIME = "2026-11-25T00:00:00Z"


def build_workbook() -> Workbook:
    """The template as an openpyxl workbook (sheets in order, names, styles, charts)."""
    NAMES.clear()
    wb = Workbook()
    for style in named_styles():
        wb.add_named_style(style)
    layout = Layout()
    cover.build(wb, layout)
    inputs.build(wb, layout)
    prices.build(wb, layout)
    calculations.build(wb, layout)
    outputs.build(wb, layout)
    sensitivity.build(wb, layout)
    risk.build(wb, layout)
    checks.build(wb, layout)
    outputs.add_charts(wb, layout)
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1 if ws.title in ("Outputs", "Cover", "Checks") else 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False
    conf = wb.create_sheet("xlwings.conf")
    widths(conf, {"A": 20, "B": 30})
    put(conf, "A1", "UDF Modules", "Label")
    put(conf, "B1", "buildbuy.udfs", "Input")
    return wb


def template_bytes() -> bytes:
    """The template as bytes, identical on every build."""
    buf = io.BytesIO()
    build_workbook().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: _order(i.filename)):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rb"\g<1>" + FIXED_TIME.encode() + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 25, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def _order(name: str) -> tuple[int, str]:
    return (0 if name == "[Content_Types].xml" else 1, name)


def build_template(path: str | Path = TEMPLATE_PATH) -> Path:
    """Write the template to ``path`` (default: the committed one)."""
    path = Path(path)
    path.write_bytes(template_bytes())
    return path


if __name__ == "__main__":
    print(build_template(sys.argv[1] if len(sys.argv) > 1 else TEMPLATE_PATH))
