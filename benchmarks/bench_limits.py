"""Bounded on any book: time and peak memory of pathological workbooks against a small ordinary one, measured
in the same run, each command in its own process (peak resident memory from the OS).

    python benchmarks/bench_limits.py

Also times the writer inserting 100,000 cells that do not exist yet (the legacy-array case that was quadratic)
against writing 100,000 values into cells that exist.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from buildbuy.workbook.xlsx import NS_MAIN, set_cells


def book(path: Path, cells: dict[str, object], names: dict[str, str] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, value in cells.items():
        ws[ref] = value
    for n, text in (names or {}).items():
        wb.defined_names[n] = DefinedName(n, attr_text=text)
    wb.save(path)
    return path


_CHILD = """
import resource, sys
from buildbuy.workbook.cli import main
try:
    code = main(sys.argv[1:])
finally:
    print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def measure(*args: str) -> tuple[float, float, int]:
    """Seconds, peak resident MB and exit code of ``buildbuy *args`` in a child process of its own."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak = [line for line in res.stderr.splitlines() if line.startswith("PEAK ")]
    return seconds, int(peak[-1].split()[1]) / 1024 if peak else float("nan"), res.returncode


def writer(n: int) -> tuple[float, float]:
    """Seconds to write n values into new rows, and into existing cells."""
    def sheet(rows: str) -> etree._Element:
        return etree.fromstring(f'<worksheet xmlns="{NS_MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode())

    values = {f"B{i}": float(i) for i in range(1, n + 1)}
    empty = sheet("")
    t0 = time.perf_counter()
    set_cells(empty, values)
    new = time.perf_counter() - t0
    full = sheet("".join(f'<row r="{i}"><c r="B{i}"><v>0</v></c></row>' for i in range(1, n + 1)))
    t0 = time.perf_counter()
    set_cells(full, values)
    return new, time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ordinary = book(d / "ordinary.xlsx", {"A1": 2, "A2": 3, "B1": "=SUM(A1:A2)", "B2": "=B1*2"})
        corners = book(d / "corners.xlsx", {"A1": "=1+1", "XFD1048576": "=2+2"})
        sheetwide = book(d / "sheetwide.xlsx", {"C3": 5, "A1": "=SUM(C1:XFD1048576)"})
        named = book(d / "named.xlsx", {"A1": "=1", "B2": "=A1+1"}, {"everything": "S!$A$1:$XFD$1048576"})
        column = book(d / "column.xlsx", {"B1": 2, "B2": 3, "C1": "=SUM(B1:B1048576)"})
        wb = Workbook()
        wb.active.title = "S"
        wb.active["B1"] = ArrayFormula("B1:B100000", "=1+1")
        wb.save(d / "array.xlsx")
        cases = [
            ("ordinary 4-cell book (baseline)", "recalc", ordinary, "formualizer"),
            ("formulas at A1 and XFD1048576", "recalc", corners, "formualizer"),
            ("formulas at A1 and XFD1048576", "recalc", corners, "formulas"),
            ("SUM(C1:XFD1048576)", "recalc", sheetwide, "formualizer"),
            ("SUM(C1:XFD1048576), refused in one line", "recalc", sheetwide, "formulas"),
            ("lint SUM(C1:XFD1048576)", "lint", sheetwide, "formualizer"),
            ("lint SUM(C1:XFD1048576)", "lint", sheetwide, "formulas"),
            ("whole-sheet defined name", "recalc", named, "formualizer"),
            ("SUM(B1:B1048576)", "recalc", column, "formulas"),
            ("legacy array over 100,000 cells", "recalc", d / "array.xlsx", "formualizer"),
        ]
        base = None
        print(f"{'case':44} {'backend':12} {'exit':>4} {'seconds':>8} {'peak MB':>8}  vs baseline")
        for label, command, path, engine in cases:
            args = [command, str(path), "--engine", engine]
            if command == "recalc":
                args += ["-o", str(d / "out.xlsx")]
            seconds, mb, code = measure(*args)
            base = base or (seconds, mb)
            print(f"{label:44} {engine:12} {code:>4} {seconds:8.2f} {mb:8.0f}  "
                  f"{seconds / base[0]:.1f}x time, {mb / base[1]:.1f}x memory")
    for n in (10_000, 100_000):
        new, existing = writer(n)
        print(f"writer: {n:,} cells into new rows {new:.2f} s; into existing cells {existing:.2f} s "
              f"({new / existing:.1f}x)")


if __name__ == "__main__":
    main()
