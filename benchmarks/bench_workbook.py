"""Workbook performance against LibreOffice, measured in the same run; every figure a ratio to LibreOffice.

1. Cold recalculation of the filled template, whole command (load, compute, write): ``buildbuy recalc`` per
   backend against LibreOffice's headless open-recalculate-save of the same file. Target: >= 5x (default
   backend).
2. Batch fill + recalc of 200 scenarios on every core: workbooks per second against LibreOffice round trips
   (one soffice run per file, measured on a sample). Target: >= 50x.
3. Scale: a generated 100,000-formula monthly timeline model with some BVB_* calls: time and peak memory.
   Target: >= 3x LibreOffice and under 500 MB. (formulas is left out here by default: it needs minutes and
   gigabytes at this size; --scale-formulas includes it.)

Run: python benchmarks/bench_workbook.py [--scenarios 200] [--lo-sample 5] [--scale-rows 1000] [--only scale]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from buildbuy.engine import read_scenarios, resolve
from buildbuy.workbook.fill import fill, fill_many
from buildbuy.workbook.libreoffice import make_profile, soffice

ROOT = Path(__file__).resolve().parents[1]
PEAK_SCRIPT = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True)
dt = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{dt} {peak_kb} {proc.returncode}")
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a command, children included."""
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, *cmd], capture_output=True, text=True, check=True)
    dt, peak_kb, rc = out.stdout.split()
    if rc != "0":
        raise RuntimeError(f"command failed: {' '.join(cmd)}")
    return float(dt), int(peak_kb) / 1024


def lo_cmd(files: list[Path], outdir: Path, profile: Path) -> list[str]:
    return [soffice(), make_profile(profile, recalc=True), "--headless", "--norestore", "--convert-to", "xlsx",
            "--outdir", str(outdir), *map(str, files)]


def median_time(cmd: list[str], runs: int) -> tuple[float, float]:
    results = [timed(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def cold(tmp: Path, runs: int) -> None:
    book = tmp / "filled.xlsx"
    fill(read_scenarios(ROOT / "examples" / "regulated-saas.toml")[0], book)
    lo_out = tmp / "lo-out"
    lo_out.mkdir()
    with tempfile.TemporaryDirectory() as prof:
        timed(lo_cmd([book], lo_out, Path(prof)))  # first start creates the profile: not counted
        lo_s, lo_mb = median_time(lo_cmd([book], lo_out, Path(prof)), runs)
    print(f"1. Cold recalculation of the filled template (median of {runs}, whole command):")
    print(f"   LibreOffice open-recalculate-save  {lo_s:7.3f} s  {lo_mb:7.0f} MB  (baseline)")
    rows = (("(default: the compiled plan)", []), ("--no-plan (formualizer)", ["--no-plan"]),
            ("--engine formulas", ["--engine", "formulas"]))
    for label, extra in rows:
        out = tmp / "ours.xlsx"
        cmd = [sys.executable, "-m", "buildbuy.workbook.cli", "recalc", str(book), "-o", str(out), *extra]
        s, mb = median_time(cmd, runs)
        target = " (target >= 5x: " + ("met" if lo_s / s >= 5 else "NOT met") + ")" if not extra else ""
        print(f"   buildbuy recalc {label:<29} {s:7.3f} s  {mb:7.0f} MB  {lo_s / s:6.1f}x faster than "
              f"LibreOffice{target}")


def scenarios(n: int) -> list:
    base = {k: v for k, v in read_scenarios(ROOT / "examples" / "regulated-saas.toml")[0].items()}
    given = read_scenarios(ROOT / "examples" / "regulated-saas.toml")[0].given
    raw = {k: base[k] for k in given}
    return [resolve(dict(raw, daily_active_users=100.0 * (i + 1), name=f"s{i:03d}")) for i in range(n)]


def batch(tmp: Path, n: int, sample: int) -> None:
    out = tmp / "batch"
    t0 = time.perf_counter()
    results = fill_many(scenarios(n), out, recalc_backend="formualizer", workers=os.cpu_count(), progress=False)
    ours_s = time.perf_counter() - t0
    assert all(r.recalc[0] == 0 and not r.recalc[1] for r in results), "a batch workbook failed its checks"
    # (one pass per scenario: the template filled in memory, its BVB cells answered by the engine, the timeline
    # one vectorized call per option, the backend left with the native formulas)
    files = sorted(out.glob("*.xlsx"))[:sample]
    lo_out = tmp / "lo-batch"
    lo_out.mkdir()
    with tempfile.TemporaryDirectory() as prof:
        timed(lo_cmd(files[:1], lo_out, Path(prof)))
        t0 = time.perf_counter()
        for f in files:
            timed(lo_cmd([f], lo_out, Path(prof)))
        lo_each = (time.perf_counter() - t0) / len(files)
    ours_rate, lo_rate = n / ours_s, 1 / lo_each
    print(f"2. Batch fill + recalc of {n} scenarios ({os.cpu_count()} processes, formualizer):")
    print(f"   LibreOffice round trips            {lo_rate:7.2f} workbooks/s  (measured on {len(files)} files, "
          f"{lo_each:.2f} s each; baseline)")
    print(f"   buildbuy fill --recalc             {ours_rate:7.2f} workbooks/s  {ours_rate / lo_rate:6.1f}x "
          f"LibreOffice (target >= 50x: {'met' if ours_rate / lo_rate >= 50 else 'NOT met'})")


def scale_book(path: Path, rows: int, months: int = 99) -> int:
    """A monthly timeline model: each row grows a cost line month by month; a BVB call every 10th row."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Model")
    count = 0
    ws.append(["line", "base", "growth"] + [f"m{m}" for m in range(1, months + 1)])
    for r in range(2, rows + 2):
        line = [f"line {r}", 1000 + r, 0.01]
        for m in range(months):
            prev = "B" if m == 0 else get_column_letter(3 + m)
            if m == 0 and r % 10 == 0:
                line.append(f"=BVB_API_COST($B{r},400,100,10,10)/12")
            else:
                line.append(f"={prev}{r}*(1+$C{r})")
            count += 1
        ws.append(line)
    ws.append(["total", None, None] + [f"=SUM({get_column_letter(4 + m)}2:{get_column_letter(4 + m)}{rows + 1})"
                                       for m in range(months)])
    count += months
    wb.save(path)
    return count


def scale(tmp: Path, rows: int, with_formulas: bool, runs: int = 1) -> None:
    book = tmp / "scale.xlsx"
    cells = scale_book(book, rows)
    lo_out = tmp / "lo-scale"
    lo_out.mkdir()
    warm = tmp / "filled.xlsx"
    if not warm.exists():
        fill(read_scenarios(ROOT / "examples" / "regulated-saas.toml")[0], warm)
    with tempfile.TemporaryDirectory() as prof:
        timed(lo_cmd([warm], lo_out, Path(prof)))  # first start creates the profile: not counted
        lo_s, lo_mb = median_time(lo_cmd([book], lo_out, Path(prof)), runs)
    print(f"3. Scale: {cells:,} formula cells ({rows:,} rows x 99 months, a BVB call every 10th row; median of "
          f"{runs}, whole command):")
    print(f"   LibreOffice open-recalculate-save  {lo_s:7.2f} s  {lo_mb:7.0f} MB  (baseline)")
    for backend in ("formualizer", "formulas") if with_formulas else ("formualizer",):
        cmd = [sys.executable, "-m", "buildbuy.workbook.cli", "recalc", str(book), "-o", str(tmp / "s.xlsx"),
               "--engine", backend, "--timeout", "3000"]
        s, mb = median_time(cmd, runs)
        target = (f" (target >= 3x: {'met' if lo_s / s >= 3 else 'NOT met'})" if backend == "formualizer" else "")
        print(f"   buildbuy recalc --engine {backend:<11} {s:7.2f} s  {mb:7.0f} MB  {lo_s / s:6.1f}x faster than "
              f"LibreOffice{target}; memory {'under' if mb < 500 else 'OVER'} 500 MB")


def _bytecode(compile_first: bool) -> None:
    """Byte-compile buildbuy's modules, as ``pip install`` does for a regular install (``pip install -e`` does
    not, and with PYTHONDONTWRITEBYTECODE set Python never writes them itself: every command then compiles
    ~6,000 lines of our source before it starts)."""
    import compileall
    import importlib

    folders = {Path(importlib.import_module(m).__file__).parent for m in
               ("buildbuy.engine", "buildbuy.udfs", "buildbuy.workbook", "buildbuy.templates")}
    if compile_first:
        for folder in sorted(folders):
            compileall.compile_dir(str(folder), quiet=1)
        print("buildbuy's modules byte-compiled first, as a regular pip install leaves them (--no-compile: not)")
    else:
        for folder in folders:
            for cache in folder.rglob("__pycache__"):
                for f in cache.glob("*.pyc"):
                    f.unlink()
        print(f"buildbuy's modules not byte-compiled in advance (PYTHONDONTWRITEBYTECODE="
              f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}; when it is set, every command compiles them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--lo-sample", type=int, default=5, help="LibreOffice round trips actually timed")
    parser.add_argument("--scale-rows", type=int, default=1000)
    parser.add_argument("--scale-formulas", action="store_true", help="also time formulas on the scale book")
    parser.add_argument("--only", choices=("cold", "batch", "scale"), action="append",
                        help="run only this section (repeatable; default: all three)")
    parser.add_argument("--no-compile", action="store_true",
                        help="do not byte-compile buildbuy's modules first (measures an editable install on a "
                             "machine that sets PYTHONDONTWRITEBYTECODE, where every command compiles them)")
    args = parser.parse_args()
    if soffice() is None:
        sys.exit("LibreOffice (soffice) is needed for the baseline: apt-get install libreoffice-calc-nogui")
    _bytecode(not args.no_compile)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        only = set(args.only or ("cold", "batch", "scale"))
        if "cold" in only:
            cold(tmp, args.runs)
        if "batch" in only:
            batch(tmp, args.scenarios, args.lo_sample)
        if "scale" in only:
            scale(tmp, args.scale_rows, args.scale_formulas, args.runs)


if __name__ == "__main__":
    main()
