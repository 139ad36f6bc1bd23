"""Named styles and number formats of the template (a test reads ``cell.style``)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

MONEY = '#,##0_);(#,##0);"-"_)'
MONEY_2DP = '#,##0.00_);(#,##0.00);"-"_)'
MONEY_4DP = '#,##0.0000_);(#,##0.0000);"-"_)'
RATE = "0.0%"
COUNT = "#,##0"
DECIMAL = "#,##0.00"
GENERAL = "General"

_thin = Side(style="thin", color="BFBFBF")


def named_styles() -> list[NamedStyle]:
    """Input (blue on pale yellow), Calc (black), Link (green, cross-sheet), Check, Header (HeaderNumber: right-
    aligned, over a column of numbers), Title, Section, Label, Unit, Note, Wrapped (long text)."""
    return [
        NamedStyle("Input", font=Font(name="Calibri", size=11, color="0000FF"),
                   fill=PatternFill("solid", fgColor="FFF2CC"), border=Border(_thin, _thin, _thin, _thin),
                   alignment=Alignment(vertical="top")),
        NamedStyle("Calc", font=Font(name="Calibri", size=11, color="000000"), alignment=Alignment(vertical="top")),
        NamedStyle("Link", font=Font(name="Calibri", size=11, color="008000"), alignment=Alignment(vertical="top")),
        NamedStyle("Check", font=Font(name="Calibri", size=11, bold=True, color="000000"),
                   alignment=Alignment(horizontal="center")),
        NamedStyle("Header", font=Font(name="Calibri", size=11, bold=True, color="FFFFFF"),
                   fill=PatternFill("solid", fgColor="1F3864"),
                   alignment=Alignment(vertical="center", wrap_text=True)),
        NamedStyle("HeaderNumber", font=Font(name="Calibri", size=11, bold=True, color="FFFFFF"),
                   fill=PatternFill("solid", fgColor="1F3864"),
                   alignment=Alignment(horizontal="right", vertical="center", wrap_text=True)),
        NamedStyle("Title", font=Font(name="Calibri", size=16, bold=True, color="1F3864")),
        NamedStyle("Section", font=Font(name="Calibri", size=12, bold=True, color="1F3864"),
                   border=Border(bottom=Side(style="medium", color="1F3864"))),
        NamedStyle("Label", font=Font(name="Calibri", size=11, color="000000"), alignment=Alignment(vertical="top")),
        NamedStyle("Unit", font=Font(name="Calibri", size=10, italic=True, color="7F7F7F"),
                   alignment=Alignment(vertical="top")),
        NamedStyle("Note", font=Font(name="Calibri", size=10, color="595959"),
                   alignment=Alignment(wrap_text=False)),
        NamedStyle("Wrapped", font=Font(name="Calibri", size=10, color="595959"),
                   alignment=Alignment(wrap_text=True, vertical="top")),
    ]
