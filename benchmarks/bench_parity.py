"""Excel parity of the headless backends on Excel-saved workbooks, against LibreOffice, in the same run.

Corpus: workbooks saved by Microsoft Excel (docProps/app.xml says so) whose cached formula values are the ground
truth. By default the Excel test workbooks shipped in the xlcalculator source distribution on PyPI are downloaded
once (``pip download``) into a cache folder; add folders of your own with ``--corpus DIR`` (repeatable).

For every book the cached values of its formula cells are removed, the copy is recalculated by each backend (with
and without ``--fallback libreoffice``) and by LibreOffice's forced recalculation, and every formula cell is
compared with Excel's value (numbers to 1e-9 relative, text exactly, booleans, error codes). Printed per engine:
parity, and the cells that are wrong without being reported (neither an error value nor listed as "not evaluated
faithfully"), the figure that must be 0. Cells calling volatile functions (NOW, TODAY, RAND...) are left out.

Run: python benchmarks/bench_parity.py [--corpus DIR ...] [--no-download] [--show-wrong 20]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from buildbuy.udfs.conventions import XlError
from buildbuy.workbook.cached import cached_values
from buildbuy.workbook.libreoffice import convert, soffice
from buildbuy.workbook.recalc import read_formulas, recalc
from buildbuy.workbook.xlsx import M, Package, clear_values, to_bytes, write_package

CACHE = Path.home() / ".cache" / "buildbuy" / "parity"
SDISTS = ["xlcalculator==0.5.0"]
VOLATILE = ("NOW(", "TODAY(", "RAND(", "RANDBETWEEN(", "RANDARRAY(", "INFO(", "CELL(")
BACKENDS = ("formualizer", "formulas")


def download(cache: Path) -> list[Path]:
    """The Excel workbooks of the sdists in :data:`SDISTS`, fetched once with pip into ``cache``."""
    folder = cache / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in SDISTS:
        name = spec.split("==")[0]
        if not any(folder.glob(f"{name}-*")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            "-d", str(folder), spec], check=True)
    books = cache / "books"
    books.mkdir(exist_ok=True)
    for archive in folder.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.lower().endswith((".xlsx", ".xlsm")):
                    target = books / (archive.name.split(".tar")[0] + "__" + member.name.replace("/", "_"))
                    if not target.exists():
                        target.write_bytes(tar.extractfile(member).read())
    return sorted(books.glob("*.xls[xm]"))


def saved_by_excel(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            app = z.read("docProps/app.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    return "<Application>Microsoft Excel" in app


def truth_and_stripped(path: Path, out: Path) -> tuple[dict[Any, Any], dict[Any, str]]:
    """Excel's cached values of the formula cells, and a copy of the book at ``out`` without them."""
    with Package(path) as pkg:
        roots, cells = read_formulas(pkg)
        truth = cached_values(pkg, cells, roots)
        formulas = {}
        for c in cells:
            for ref in c.targets():
                formulas[(c.sheet, ref)] = c.formula
        replaced = {}
        for part, (sheet, root) in roots.items():
            bodies = set()
            for c in cells:
                if c.sheet != sheet:
                    continue
                for tag in ("v", "is"):
                    for old in c.element.findall(f"{M}{tag}"):
                        c.element.remove(old)
                c.element.attrib.pop("t", None)
                if c.array_ref:
                    bodies.update(c.targets()[1:])
            clear_values(root, bodies)
            replaced[part] = to_bytes(root)
        write_package(pkg, out, replaced)
    keep = {k: v for k, v in truth.items() if not any(f in formulas[k].upper() for f in VOLATILE)}
    return keep, formulas


def same(excel: Any, got: Any) -> bool:
    if isinstance(excel, XlError) or isinstance(got, XlError):
        return isinstance(excel, XlError) and isinstance(got, XlError) and excel.code == got.code
    if isinstance(excel, bool) or isinstance(got, bool):
        return excel is got or (isinstance(excel, bool) and isinstance(got, bool) and excel == got)
    if isinstance(excel, float) and isinstance(got, float):
        return math.isclose(excel, got, rel_tol=1e-9, abs_tol=1e-9)
    if excel in (None, "") and got in (None, ""):
        return True
    return excel == got


def values_of(path: Path) -> dict[Any, Any]:
    with Package(path) as pkg:
        roots, cells = read_formulas(pkg)
        return cached_values(pkg, cells, roots)


def run(paths: list[Path], show_wrong: int, with_lo: bool) -> None:
    totals: Counter = Counter()
    wrong_examples: dict[str, list[str]] = {}
    classes: dict[str, Counter] = {}
    books = 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for path in paths:
            stripped = tmp / "in" / path.name
            stripped.parent.mkdir(exist_ok=True)
            try:
                truth, formulas = truth_and_stripped(path, stripped)
            except Exception as exc:  # noqa: BLE001 - an unreadable corpus file is skipped, and said so
                print(f"skipped {path.name}: {exc}", file=sys.stderr)
                continue
            if not truth:
                continue
            books += 1
            totals["cells"] += len(truth)
            got: dict[str, dict[Any, Any]] = {}
            flagged: dict[str, set[Any]] = {}
            for backend in BACKENDS:
                for fallback in (None, "libreoffice") if with_lo else (None,):
                    label = backend + (" + fallback" if fallback else "")
                    out = tmp / "out" / f"{label}.xlsx"
                    out.parent.mkdir(exist_ok=True)
                    try:
                        rep = recalc(stripped, out, backend=backend, fallback=fallback)
                        got[label] = values_of(out)
                        flagged[label] = {(u.sheet, u.ref) for u in rep.unfaithful}
                    except Exception as exc:  # noqa: BLE001 - the backend refused the book: every cell missed,
                        # but loudly (a one-line error), so none of them is silently wrong
                        print(f"{label} failed on {path.name}: {' '.join(str(exc).split())[:150]}", file=sys.stderr)
                        got[label], flagged[label] = {}, set(truth)
            if with_lo:
                lo_dir = tmp / "lo"
                shutil.rmtree(lo_dir, ignore_errors=True)
                lo_dir.mkdir()
                try:
                    convert([stripped], "xlsx", lo_dir, recalc=True)
                    got["LibreOffice"] = values_of(lo_dir / (stripped.stem + ".xlsx"))
                except Exception as exc:  # noqa: BLE001
                    print(f"LibreOffice failed on {path.name}: {exc}", file=sys.stderr)
                    got["LibreOffice"] = {}
                flagged["LibreOffice"] = set()
            source = path.name.split("__")[0] if "__" in path.name else path.parent.name
            totals[source, "cells"] += len(truth)
            totals[("book", path.name), "cells"] += len(truth)
            for cell, excel in truth.items():
                for label, values in got.items():
                    v = values.get(cell)
                    ok = same(excel, v)
                    totals[label, "ok"] += ok
                    totals[source, label] += ok
                    totals[("book", path.name), label] += ok
                    if not ok and not isinstance(v, XlError) and cell not in flagged[label]:
                        totals[label, "silent"] += 1
                        fn = _first_function(formulas[cell])
                        classes.setdefault(label, Counter())[fn] += 1
                        wrong_examples.setdefault(label, []).append(
                            f"{path.name} {cell[0]}!{cell[1]} {formulas[cell]}: Excel {excel!r}, got {v!r}")
                    if not ok and cell in flagged[label]:
                        totals[label, "flagged-wrong"] += 1
                if with_lo:
                    for backend in BACKENDS:
                        if same(excel, got[backend].get(cell)) or same(excel, got["LibreOffice"].get(cell)):
                            totals[f"best of {backend} and LibreOffice", "ok"] += 1
    n = totals["cells"]
    print(f"Excel parity on {n:,} formula cells of {books} Excel-saved workbooks (cached values stripped, "
          f"recalculated, compared):")
    labels = [lbl for lbl, _ in sorted({k for k in totals if isinstance(k, tuple)}, key=str) if _ == "ok"]
    order = [*(b for b in BACKENDS), *(f"{b} + fallback" for b in BACKENDS), "LibreOffice",
             *(f"best of {b} and LibreOffice" for b in BACKENDS)]
    for label in [lbl for lbl in order if lbl in labels]:
        ok = totals[label, "ok"]
        silent = totals[label, "silent"]
        extra = "" if label.startswith("best") else f"; wrong and not reported: {silent}"
        print(f"   {label:<36} {100 * ok / n:6.1f}%  ({ok:,} cells){extra}")
    books_n = {k[0][1]: v for k, v in totals.items() if isinstance(k[0], tuple) and k[1] == "cells"}
    biggest = max(books_n, key=books_n.get)
    rest = n - books_n[biggest]
    print(f"   without the largest book ({biggest}, {books_n[biggest]:,} cells), {rest:,} cells: " + ", ".join(
        f"{lbl} {100 * (totals[lbl, 'ok'] - totals[('book', biggest), lbl]) / rest:.1f}%"
        for lbl in [*BACKENDS, *(f"{b} + fallback" for b in BACKENDS), "LibreOffice"] if (lbl, "ok") in totals))
    sources = sorted(k[0] for k in totals if isinstance(k[0], str) and k[1] == "cells")
    print("   by source (parity %): " + "; ".join(
        f"{src} ({totals[src, 'cells']:,} cells): " + ", ".join(
            f"{lbl} {100 * totals[src, lbl] / totals[src, 'cells']:.1f}" for lbl in [*BACKENDS, "LibreOffice"]
            if (src, lbl) in totals) for src in sources))
    for label in BACKENDS:
        if classes.get(label):
            print(f"   {label}: silently wrong cells by function: "
                  + ", ".join(f"{k} {v}" for k, v in classes[label].most_common(12)))
        for line in wrong_examples.get(label, [])[:show_wrong]:
            print(f"      {line}")


def _first_function(formula: str) -> str:
    import re

    names = re.findall(r"([A-Za-z_][\w.]*)\s*\(", formula)
    return names[0].upper().replace("_XLFN.", "") if names else "(no function)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", default=[], help="a folder of Excel-saved .xlsx/.xlsm files")
    parser.add_argument("--no-download", action="store_true", help="do not fetch the default corpus")
    parser.add_argument("--cache", default=str(CACHE))
    parser.add_argument("--show-wrong", type=int, default=10, help="examples of silently wrong cells to print")
    args = parser.parse_args()
    paths = [] if args.no_download else download(Path(args.cache))
    for folder in args.corpus:
        paths += sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".xlsx", ".xlsm"))
    paths = [p for p in paths if saved_by_excel(p)]
    if not paths:
        sys.exit("no Excel-saved workbook found")
    with_lo = soffice() is not None
    if not with_lo:
        print("LibreOffice (soffice) not found: its parity and the fallback are left out", file=sys.stderr)
    run(paths, args.show_wrong, with_lo)


if __name__ == "__main__":
    main()
