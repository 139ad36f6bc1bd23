"""Engine throughput: scenarios per second, a Python loop of scalar calls against one vectorized call.

Both paths compute the 36-month TCO and NPV of all four options for the same random scenarios, in the same run,
with the cost model v2: serving sized from the model and the GPU (roofline), bought GPUs (capex, power,
colocation, replacement), training runs. A third timing runs the vectorized recommendation (decision.choose:
feasibility, cheapest feasible, stated overrides) on the whole sweep.
Run: python benchmarks/bench_engine.py [--n 100000] [--loop 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from buildbuy.engine import model, resolve
from buildbuy.engine.decision import choose


def random_inputs(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "requests_per_day": rng.uniform(1e3, 5e6, n),
        "input_tokens_per_request": rng.uniform(100, 4_000, n),
        "output_tokens_per_request": rng.uniform(50, 1_000, n),
        "api_input_usd_per_mtok": rng.uniform(0.1, 15, n),
        "api_output_usd_per_mtok": rng.uniform(0.4, 75, n),
        "monthly_growth_rate": rng.uniform(0, 0.1, n),
        "gpu_usd_per_hour": rng.uniform(0.8, 6, n),
        "serving_model_parameters": rng.choice([1e9, 8e9, 32e9, 70e9], n),
        "gpu_memory_gb": rng.choice([48.0, 80.0, 141.0], n),
        "gpu_purchase_usd": rng.uniform(10_000, 40_000, n),
        "electricity_usd_per_kwh": rng.uniform(0.05, 0.3, n),
        "model_parameters": rng.choice([1e9, 7e9, 30e9], n),
        "ml_engineers": rng.integers(1, 6, n).astype(float),
        "latency_requirement_ms": rng.choice([0.0, 150.0, 2000.0], n),
    }


FIXED = {"gpu_ownership": "buy", "product_market_fit": True}


def run_all(a) -> list:
    return [(model.tco(o, a), model.npv(o, a)) for o in model.OPTIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="scenarios in the vectorized call")
    parser.add_argument("--loop", type=int, default=2_000, help="scenarios in the Python loop")
    args = parser.parse_args()
    inputs = random_inputs(args.n)

    t0 = time.perf_counter()
    loop_results = []
    for i in range(args.loop):
        loop_results.append(run_all(resolve({**{k: float(v[i]) for k, v in inputs.items()}, **FIXED})))
    loop_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    vec = run_all(resolve({**inputs, **FIXED}))
    vec_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    picked = choose(resolve({**inputs, **FIXED}))
    choose_s = time.perf_counter() - t0

    # Same numbers both ways (first scenarios of the loop against the sweep).
    for j, (tco_v, npv_v) in enumerate(vec):
        loop_npv = np.array([r[j][1] for r in loop_results])
        np.testing.assert_allclose(npv_v[: args.loop], loop_npv, rtol=1e-12)
        loop_tco = np.array([r[j][0] for r in loop_results])
        np.testing.assert_allclose(tco_v[: args.loop], loop_tco, rtol=1e-12)

    loop_rate = args.loop / loop_s
    vec_rate = args.n / vec_s
    print(f"python loop : {args.loop:>8,} scenarios in {loop_s:8.3f} s = {loop_rate:12,.0f} scenarios/s")
    print(f"vectorized  : {args.n:>8,} scenarios in {vec_s:8.3f} s = {vec_rate:12,.0f} scenarios/s")
    print(f"ratio       : vectorized is {vec_rate / loop_rate:,.0f}x the loop (4 options x TCO and NPV, "
          f"{resolve().horizon_months} months)")
    shares = {o: float(np.mean(picked["recommendation"] == o)) for o in model.OPTIONS}
    print(f"recommend   : {args.n:>8,} scenarios in {choose_s:8.3f} s (vectorized choose); answers "
          + ", ".join(f"{o} {p:.1%}" for o, p in shares.items()))


if __name__ == "__main__":
    main()
