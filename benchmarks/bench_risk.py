"""Monte Carlo performance: the engine's chunked, vectorized run against two baselines measured in the same run.

1. ``simulate``: 10,000 draws of every option (API, FINE-TUNE, TRAIN, PHASED) over a 60-month horizon, with
   ranges on seven inputs and one rank correlation (examples/uncertain-growth.toml). Target: under 1 s.
2. Baseline (a): a Python loop over draws, one scalar engine evaluation per draw (timed on a sample, scaled to
   the same number of draws).
3. Baseline (b): what spreadsheet users do today, recalculating the filled workbook once per draw: write the
   draw into the template, then LibreOffice headless open-recalculate-save (timed on a few draws, scaled).
   LibreOffice cannot compute the BVB_* cells (they show #NAME?), so it does less work per draw than a real
   per-draw recalculation would: the ratio is a lower bound. Target: >= 1,000x.
   Also shown: the same per-draw loop with our own headless recalculation (formualizer) instead of LibreOffice.
4. Scale: 1,000,000 draws in a fresh process: time and peak memory (bounded by the chunk size, not the draws).

Run: python benchmarks/bench_risk.py [--draws 10000] [--loop-sample 200] [--lo-sample 3] [--no-million]
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

import numpy as np

from buildbuy.engine.inputs import resolve
from buildbuy.engine.scenario import read_uncertain_scenarios
from buildbuy.engine.uncertainty import _choose, sample, simulate
from buildbuy.workbook.fill import fill
from buildbuy.workbook.libreoffice import make_profile, soffice

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "uncertain-growth.toml"

PEAK_SCRIPT = """
import resource, sys, time
from buildbuy.engine.scenario import read_uncertain_scenarios
from buildbuy.engine.uncertainty import simulate
us = read_uncertain_scenarios(sys.argv[1])[0]
t0 = time.perf_counter()
r = simulate(us, int(sys.argv[2]), 1)
dt = time.perf_counter() - t0
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.p_cheapest[r.base_recommendation])
"""


def draws_as_scenarios(us, n: int, seed: int) -> list[dict]:
    """n draws of the ranged inputs, each as a plain scenario mapping (what a per-draw loop evaluates)."""
    drawn = sample(us.uncertainty, n, np.random.default_rng(seed))
    base = {k: us.base[k] for k in us.base.given}
    return [dict(base, **{k: float(v[i]) for k, v in drawn.items()}) for i in range(n)]


def engine(us, draws: int, runs: int = 3, workers: int = 1) -> float:
    simulate(us, 1000, 1)  # warm: imports, caches
    return statistics.median(_timed(lambda: simulate(us, draws, 1, workers=workers)) for _ in range(runs))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def python_loop(us, sample_draws: int) -> float:
    """Seconds per draw of a Python loop: validate one scalar scenario, evaluate every option, pick."""
    scenarios = draws_as_scenarios(us, sample_draws, 2)
    t0 = time.perf_counter()
    for raw in scenarios:
        _choose(resolve(raw, scenario=us.name))
    return (time.perf_counter() - t0) / sample_draws


def per_draw_workbook(us, sample_draws: int, tmp: Path, backend: str) -> float:
    """Seconds per draw of fill + recalculation of the template, with LibreOffice or our own backend."""
    scenarios = draws_as_scenarios(us, sample_draws, 3)
    times = []
    for i, raw in enumerate(scenarios):
        book = tmp / f"draw{i}.xlsx"
        t0 = time.perf_counter()
        fill(resolve(raw, scenario=f"draw{i}"), book)
        if backend == "libreoffice":
            out = tmp / f"lo{i}"
            out.mkdir()
            subprocess.run([soffice(), make_profile(tmp / f"profile{i}", recalc=True), "--headless", "--norestore",
                            "--convert-to", "xlsx", "--outdir", str(out), str(book)], check=True,
                           capture_output=True, timeout=600)
        else:
            from buildbuy.workbook.recalc import recalc

            recalc(book, book, backend=backend)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def million(draws: int) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(EXAMPLE), str(draws)], capture_output=True,
                         text=True, check=True)
    dt, peak_kb, p = out.stdout.split()
    return float(dt), int(peak_kb) / 1024, float(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--loop-sample", type=int, default=200, help="draws timed in the Python loop")
    ap.add_argument("--lo-sample", type=int, default=3, help="draws timed with per-draw LibreOffice recalc")
    ap.add_argument("--no-million", action="store_true", help="skip the 1,000,000-draw memory run")
    args = ap.parse_args()
    us = read_uncertain_scenarios(EXAMPLE)[0]
    horizon = us.base["horizon_months"]
    print(f"scenario {us.name}: {len(us.uncertainty.ranges)} ranged inputs, "
          f"{len(us.uncertainty.correlations)} correlation(s), 4 options, {horizon}-month horizon")

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work slows every "
          "figure alike; the ratios are measured in the same run)")
    t = engine(us, args.draws)
    t2 = engine(us, args.draws, workers=2)
    print(f"1. buildbuy simulate: {args.draws:,} draws in {t:.3f} s in one process ({args.draws / t:,.0f} draws/s), "
          f"{t2:.3f} s with 2 worker processes; target < 1 s: {'met' if min(t, t2) < 1 else 'NOT met'}")
    t = min(t, t2)

    per = python_loop(us, args.loop_sample)
    loop = per * args.draws
    print(f"2. (a) Python loop over draws: {per * 1e3:.2f} ms/draw (on {args.loop_sample} draws) -> "
          f"{loop:,.1f} s for {args.draws:,}; buildbuy is {loop / t:,.0f}x faster")

    with tempfile.TemporaryDirectory() as tmp:
        if soffice():
            per_lo = per_draw_workbook(us, args.lo_sample, Path(tmp), "libreoffice")
            lo = per_lo * args.draws
            ratio = lo / t
            print(f"3. (b) fill + LibreOffice headless recalc per draw: {per_lo:.2f} s/draw (median of "
                  f"{args.lo_sample}) -> {lo / 3600:,.1f} h for {args.draws:,}; buildbuy is {ratio:,.0f}x faster "
                  f"(target >= 1,000x: {'met' if ratio >= 1000 else 'NOT met'})")
        else:
            print("3. (b) LibreOffice is not installed: skipped (apt-get install -y libreoffice-calc-nogui)")
        per_fz = per_draw_workbook(us, args.lo_sample, Path(tmp), "formualizer")
        print(f"   fill + buildbuy recalc (formualizer) per draw: {per_fz:.2f} s/draw -> "
              f"{per_fz * args.draws / 3600:,.1f} h for {args.draws:,}; buildbuy simulate is "
              f"{per_fz * args.draws / t:,.0f}x faster")

    if not args.no_million:
        small_t, small_mb, _ = million(args.draws)
        big_t, big_mb, p = million(1_000_000)
        print(f"4. 1,000,000 draws: {big_t:.1f} s, peak memory {big_mb:,.0f} MB (process total; "
              f"{args.draws:,} draws: {small_t:.2f} s, {small_mb:,.0f} MB); P(base answer cheapest) = {p:.4f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
