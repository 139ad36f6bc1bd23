"""Build the template reproducibly: the same code gives the same bytes (fixed timestamps, fixed zip dates).

``python -m buildbuy.workbook.template.build`` rewrites ``templates/buildbuy-template.xlsx`` and its compiled
plan ``templates/template_plan.json`` (:mod:`buildbuy.workbook.fast`); tests prove both committed files equal a
fresh build.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

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
    conf = wb.create_sheet("xlwings.conf")
    widths(conf, {"A": 20, "B": 30})
    put(conf, "A1", "UDF Modules", "Label")
    put(conf, "B1", "buildbuy.udfs", "Input")
    for ws in wb.worksheets:
        _page_setup(ws)
    return wb


#: Sheets printed one page wide and as many pages tall as they need; Cover and Checks fit one page; the
#: Calculations timeline runs across pages at a fixed scale, its titles (columns A:D, month row) on every page;
#: Inputs prints two pages wide (values, then descriptions and sources), its labels on both.
ONE_PAGE = ("Cover", "Checks")
CALC_SCALE = 60


def _page_setup(ws: Any) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "&A, page &P of &N"
    if ws.title == "Calculations":
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = CALC_SCALE
        ws.page_setup.pageOrder = "overThenDown"
        return
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 2 if ws.title == "Inputs" else 1
    ws.page_setup.fitToHeight = 1 if ws.title in ONE_PAGE else 0


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
    """Write the template to ``path`` (default: the committed one, and then its compiled plan with it, which
    :mod:`buildbuy.workbook.fast` runs)."""
    path = Path(path)
    path.write_bytes(template_bytes())
    if path.resolve() == TEMPLATE_PATH.resolve():
        from ..fastcompile import write_plan

        write_plan(TEMPLATE_PATH)
    return path


if __name__ == "__main__":
    print(build_template(sys.argv[1] if len(sys.argv) > 1 else TEMPLATE_PATH))
