"""Uncertainty: ranges on numeric inputs, Monte Carlo over every option in vectorized chunks, and what follows.

A *range* replaces one number of a scenario with a distribution (``scipy.stats``):

=====================================================  ==============================================================
``{low, mode, high}``                                  Beta-PERT (lambda = 4) on [low, high] with that mode
``{dist = "triangular", low, mode, high}``             triangular on [low, high] with that mode
``{dist = "uniform", low, high}``                      uniform on [low, high]
``{dist = "lognormal", p10, p90}``                     lognormal whose 10th and 90th percentiles are p10 and p90
``{values = [...], weights = [...]}``                  discrete: each value with its weight (equal if left out)
=====================================================  ==============================================================

Each may carry ``base``: the value of the base case (the deterministic answer and the tornado's "others at
base"). Without it the base is the mode (PERT, triangular), the midpoint (uniform), the median (lognormal) or
the most likely value (discrete). Inputs that move together are tied by a rank (Spearman) correlation, imposed
with a Gaussian copula; a rank correlation of 1 makes one input a shared driver of the other.

Sampling is Latin hypercube within each chunk of draws: each input's 0..1 axis is cut into as many equal
strata as the chunk has draws and every stratum is drawn once, so a two-valued input with weights 0.3/0.7 is
drawn exactly 30%/70% of the time whenever 0.3 x chunk is whole. Draws are evaluated a chunk at a time
(:data:`CHUNK_CELLS` draw-months), so a million draws run in bounded memory; only a few numbers per draw are
kept. Integer inputs are rounded to whole numbers after drawing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model
from .errors import BuildBuyError, InputError
from .inputs import NUMERIC_KINDS, Assumptions, InputSpec, input_specs, resolve

#: Distributions a range may name.
DISTRIBUTIONS = ("pert", "triangular", "uniform", "lognormal", "discrete")
#: Keys each distribution takes (``base`` is allowed on all).
DIST_KEYS = {
    "pert": ("low", "mode", "high"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "lognormal": ("p10", "p90"),
    "discrete": ("values", "weights"),
}
#: Draw-months evaluated at once: with a 60-month horizon, 10,000 draws per chunk.
CHUNK_CELLS = 600_000
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20261125
MAX_DRAWS = 100_000_000
#: z of the 90th percentile of the standard normal.
Z90 = 1.2815515655446004
HISTOGRAM_BINS = 20


class RangeError(InputError):
    """A range is malformed or leaves its input's allowed bounds; the message names the input and the bound."""

    def __init__(self, key: str, message: str, scenario: str | None = None) -> None:
        # Not InputError's "KEY must be ALLOWED, got VALUE" sentence: the message already names the input,
        # the offending figure and the bound.
        self.key, self.value, self.allowed, self.scenario = key, None, message, scenario
        BuildBuyError.__init__(self, (f"scenario {scenario!r}: " if scenario else "") + message)


# ------------------------------------------------------------------------------------------ ranges
@dataclass(frozen=True)
class Range:
    """One uncertain input: its distribution, parameters and base-case value (in the input's unit)."""

    key: str
    dist: str
    params: tuple[tuple[str, Any], ...]
    base: float
    integer: bool = False

    @property
    def p(self) -> dict[str, Any]:
        return dict(self.params)

    def _frozen(self) -> Any:
        from scipy import stats

        p = self.p
        if self.dist in ("pert", "triangular"):
            lo, mode, hi = p["low"], p["mode"], p["high"]
            width = hi - lo
            if self.dist == "triangular":
                return stats.triang(c=(mode - lo) / width, loc=lo, scale=width)
            a = 1.0 + 4.0 * (mode - lo) / width
            b = 1.0 + 4.0 * (hi - mode) / width
            return stats.beta(a, b, loc=lo, scale=width)
        if self.dist == "uniform":
            return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
        if self.dist == "lognormal":
            mu = (math.log(p["p10"]) + math.log(p["p90"])) / 2.0
            sigma = (math.log(p["p90"]) - math.log(p["p10"])) / (2.0 * Z90)
            return stats.lognorm(s=sigma, scale=math.exp(mu))
        raise AssertionError(self.dist)  # pragma: no cover

    @property
    def degenerate(self) -> bool:
        """True when the range is a single value (low = high, p10 = p90, or one value with weight)."""
        p = self.p
        if self.dist == "discrete":
            return len({v for v, w in zip(p["values"], p["weights"], strict=True) if w > 0}) == 1
        lo, hi = (p["p10"], p["p90"]) if self.dist == "lognormal" else (p["low"], p["high"])
        return lo == hi

    def ppf(self, u: Any) -> np.ndarray:
        """Values at cumulative probabilities ``u`` (the inverse of the distribution function)."""
        u = np.asarray(u, dtype=float)
        if self.degenerate:
            p = self.p
            if self.dist == "discrete":
                only = next(v for v, w in zip(p["values"], p["weights"], strict=True) if w > 0)
            else:
                only = p["p10"] if self.dist == "lognormal" else p["low"]
            x = np.full(u.shape, float(only))
        elif self.dist == "discrete":
            p = self.p
            order = np.argsort(p["values"], kind="stable")
            values = np.asarray(p["values"], dtype=float)[order]
            weights = np.asarray(p["weights"], dtype=float)[order]
            cum = np.cumsum(weights) / weights.sum()
            cum[-1] = 1.0
            idx = np.searchsorted(cum, u, side="right")
            x = values[np.minimum(idx, len(values) - 1)]
        else:
            x = self._frozen().ppf(u)
        return np.rint(x) if self.integer else x

    def quantile(self, q: float) -> float:
        """One percentile of the input (q in [0, 1]); P10 = ``quantile(0.1)``."""
        return float(self.ppf(np.asarray([q]))[0])

    def describe(self) -> str:
        """The range in words, e.g. ``PERT(low 1, mode 2, high 5)``."""
        p = self.p
        if self.dist == "discrete":
            pairs = ", ".join(f"{_g(v)} ({_g(w)})" for v, w in zip(p["values"], p["weights"], strict=True))
            return f"discrete({pairs})"
        name = {"pert": "PERT", "triangular": "triangular", "uniform": "uniform", "lognormal": "lognormal"}
        return f"{name[self.dist]}(" + ", ".join(f"{k} {_g(v)}" for k, v in self.params) + ")"

    def as_dict(self) -> dict[str, Any]:
        """The range as a scenario-file table (what a user would write)."""
        out: dict[str, Any] = {"dist": self.dist}
        for k, v in self.params:
            out[k] = list(v) if isinstance(v, tuple) else v
        out["base"] = self.base
        return out


@dataclass(frozen=True)
class Uncertainty:
    """The ranges of a scenario and the rank correlations that tie them."""

    ranges: dict[str, Range] = field(default_factory=dict)
    #: (input_a, input_b, rank correlation), inputs in declaration order of ``ranges``.
    correlations: tuple[tuple[str, str, float], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def copula_factor(self) -> np.ndarray | None:
        """A matrix F with F F' = the normal-copula correlation that gives the rank correlations (or None)."""
        if not self.correlations:
            return None
        keys = list(self.ranges)
        k = len(keys)
        corr = np.eye(k)
        for a, b, rho in self.correlations:
            i, j = keys.index(a), keys.index(b)
            # Pearson r of the normals that gives Spearman rho: r = 2 sin(pi rho / 6).
            corr[i, j] = corr[j, i] = 2.0 * math.sin(math.pi * rho / 6.0)
        w, v = np.linalg.eigh(corr)
        if w.min() < -1e-9:
            pairs = "; ".join(f"{a} ~ {b} = {_g(r)}" for a, b, r in self.correlations)
            raise RangeError("correlation", f"correlation: the rank correlations cannot hold together ({pairs}); "
                             "the implied correlation matrix is not positive semi-definite")
        return v * np.sqrt(np.clip(w, 0.0, None))


def _g(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def _spec(key: str, scenario: str | None) -> InputSpec:
    specs = input_specs()
    if key not in specs:
        import difflib

        close = difflib.get_close_matches(key, list(specs), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RangeError(key, f"unknown input {key!r} given a range{hint}", scenario)
    spec = specs[key]
    if spec.kind not in NUMERIC_KINDS:
        raise RangeError(key, f"{key} is a {spec.kind} input and cannot take a range: only numeric inputs can",
                         scenario)
    if key == "horizon_months":
        raise RangeError(key, "horizon_months cannot take a range: one horizon per run", scenario)
    return spec


def _number(key: str, field_name: str, value: Any, scenario: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RangeError(key, f"{key} range: {field_name} must be a number, got {value!r}", scenario)
    x = float(value)
    if not math.isfinite(x):
        raise RangeError(key, f"{key} range: {field_name} must be a finite number, got {value!r}", scenario)
    return x


def _in_bounds(spec: InputSpec, field_name: str, x: float, scenario: str | None) -> None:
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and (x < lo or (spec.min_exclusive and x == lo)):
        op = ">" if spec.min_exclusive else ">="
        raise RangeError(spec.key, f"{spec.key} range: {field_name} {_g(x)} is below the input's lower bound "
                         f"(must be {op} {_g(lo)}; allowed: {spec.allowed})", scenario)
    if hi is not None and x > hi:
        raise RangeError(spec.key, f"{spec.key} range: {field_name} {_g(x)} is above the input's upper bound "
                         f"(must be <= {_g(hi)}; allowed: {spec.allowed})", scenario)


def parse_range(key: str, raw: Mapping[str, Any], scenario: str | None = None) -> Range:
    """Validate one range (a scenario-file table) for input ``key``.

    Raises
    ------
    RangeError
        Unknown or non-numeric input, unknown distribution or key, missing or non-numeric parameters, parameters
        out of order, or a range that leaves the input's allowed bounds (the message names the bound).
    """
    spec = _spec(key, scenario)
    if not isinstance(raw, Mapping):
        raise RangeError(key, f"{key} range must be a table such as {{low = 1, mode = 2, high = 3}}", scenario)
    given = {str(k): v for k, v in raw.items() if v is not None and v != ""}
    dist = given.pop("dist", None)
    if dist is None:
        dist = "discrete" if "values" in given else "pert"
    if not isinstance(dist, str) or dist.strip().lower() not in DISTRIBUTIONS:
        raise RangeError(key, f"{key} range: dist must be one of {', '.join(repr(d) for d in DISTRIBUTIONS)}, "
                         f"got {dist!r}", scenario)
    dist = dist.strip().lower()
    base_raw = given.pop("base", None)
    allowed = DIST_KEYS[dist]
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise RangeError(key, f"{key} range: {dist} takes {', '.join(allowed)} (and base), not "
                         f"{', '.join(extra)}", scenario)
    needed = [k for k in allowed if k not in given and k != "weights"]
    if needed:
        raise RangeError(key, f"{key} range: {dist} needs {', '.join(allowed)}; missing {', '.join(needed)}",
                         scenario)
    integer = spec.kind == "integer"
    if dist == "discrete":
        values = given["values"]
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
            raise RangeError(key, f"{key} range: values must be a non-empty list of numbers", scenario)
        vals = tuple(_number(key, "each of values", v, scenario) for v in values)
        weights = given.get("weights")
        if weights is None:
            ws = tuple(1.0 for _ in vals)
        else:
            if isinstance(weights, (str, bytes)) or not isinstance(weights, (list, tuple)):
                raise RangeError(key, f"{key} range: weights must be a list of numbers", scenario)
            if len(weights) != len(vals):
                raise RangeError(key, f"{key} range: {len(vals)} values but {len(weights)} weights "
                                 "(one weight per value)", scenario)
            ws = tuple(_number(key, "each of weights", w, scenario) for w in weights)
            if any(w < 0 for w in ws) or sum(ws) <= 0:
                raise RangeError(key, f"{key} range: weights must be >= 0 and not all 0", scenario)
        for v in vals:
            _in_bounds(spec, "value", v, scenario)
            if integer and not v.is_integer():
                raise RangeError(key, f"{key} range: value {_g(v)} must be a whole number ({spec.allowed})",
                                 scenario)
        total = sum(ws)
        params: tuple[tuple[str, Any], ...] = (("values", vals), ("weights", tuple(w / total for w in ws)))
        best = max(range(len(vals)), key=lambda i: (ws[i], -i))
        default_base = vals[best]
        lo, hi = min(vals), max(vals)
    else:
        nums = {k: _number(key, k, given[k], scenario) for k in allowed}
        if dist == "lognormal":
            lo, hi = nums["p10"], nums["p90"]
            if lo <= 0:
                raise RangeError(key, f"{key} range: lognormal needs p10 > 0, got {_g(lo)}", scenario)
            if hi < lo:
                raise RangeError(key, f"{key} range: p10 {_g(lo)} must be <= p90 {_g(hi)}", scenario)
            if spec.maximum is not None and hi > lo:
                raise RangeError(key, f"{key} range: a lognormal has no upper end but the input's upper bound is "
                                 f"{_g(spec.maximum)} ({spec.allowed}); use a bounded range "
                                 "(low, mode, high or uniform)", scenario)
            _in_bounds(spec, "p10", lo, scenario)
            _in_bounds(spec, "p90", hi, scenario)
            default_base = math.sqrt(lo * hi)
            params = (("p10", lo), ("p90", hi))
        else:
            lo, hi = nums["low"], nums["high"]
            if hi < lo:
                raise RangeError(key, f"{key} range: low {_g(lo)} must be <= high {_g(hi)}", scenario)
            _in_bounds(spec, "low", lo, scenario)
            _in_bounds(spec, "high", hi, scenario)
            if dist == "uniform":
                default_base = (lo + hi) / 2.0
                params = (("low", lo), ("high", hi))
            else:
                mode = nums["mode"]
                if not lo <= mode <= hi:
                    raise RangeError(key, f"{key} range: mode {_g(mode)} must lie in [low {_g(lo)}, high {_g(hi)}]",
                                     scenario)
                default_base = mode
                params = (("low", lo), ("mode", mode), ("high", hi))
    if base_raw is None:
        base = default_base
    else:
        base = _number(key, "base", base_raw, scenario)
        _in_bounds(spec, "base", base, scenario)
        if dist != "lognormal" and not lo <= base <= hi:
            raise RangeError(key, f"{key} range: base {_g(base)} must lie in the range [{_g(lo)}, {_g(hi)}]",
                             scenario)
    if integer:
        base = float(round(base))
    return Range(key, dist, params, float(base), integer)


def parse_correlations(raw: Any, ranges: Mapping[str, Range], scenario: str | None = None
                       ) -> tuple[tuple[str, str, float], ...]:
    """Validate ``[[correlation]]`` tables: ``inputs = ["a", "b"]`` and ``rank`` in [-1, 1]."""
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise RangeError("correlation", 'correlation must be a list of tables {inputs = ["a", "b"], rank = 0.8}',
                         scenario)
    out: list[tuple[str, str, float]] = []
    seen: set[frozenset[str]] = set()
    order = list(ranges)
    for item in raw:
        if not isinstance(item, Mapping) or set(item) - {"inputs", "rank"} or "inputs" not in item \
                or "rank" not in item:
            raise RangeError("correlation", 'each correlation is a table {inputs = ["a", "b"], rank = 0.8}, '
                             f"got {item!r}", scenario)
        pair = item["inputs"]
        if isinstance(pair, str) or not isinstance(pair, (list, tuple)) or len(pair) != 2 \
                or not all(isinstance(p, str) for p in pair):
            raise RangeError("correlation", f"correlation inputs must name two inputs, got {pair!r}", scenario)
        a, b = (p.strip() for p in pair)
        for k in (a, b):
            if k not in ranges:
                raise RangeError(k, f"correlation names {k!r}, which has no range in this scenario "
                                 f"(inputs with ranges: {', '.join(order) or 'none'})", scenario)
        if a == b:
            raise RangeError(a, f"correlation ties {a!r} to itself; name two different inputs", scenario)
        rho = item["rank"]
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not -1.0 <= float(rho) <= 1.0:
            raise RangeError("correlation", f"correlation {a} ~ {b}: rank must be a number in [-1, 1], "
                             f"got {rho!r}", scenario)
        if frozenset((a, b)) in seen:
            raise RangeError("correlation", f"correlation {a} ~ {b} is given twice", scenario)
        seen.add(frozenset((a, b)))
        if order.index(a) > order.index(b):
            a, b = b, a
        out.append((a, b, float(rho)))
    unc = Uncertainty(dict(ranges), tuple(out))
    unc.copula_factor()  # raises when the correlations are inconsistent
    return tuple(out)


@dataclass(frozen=True)
class UncertainScenario:
    """A scenario with ranges: the base case (validated Assumptions) and its uncertainty."""

    base: Assumptions
    uncertainty: Uncertainty
    catalog: Any = None

    @property
    def name(self) -> str | None:
        return self.base.name


def split_ranges(raw: Mapping[str, Any], scenario: str | None = None,
                 correlations: Any = None) -> tuple[dict[str, Any], Uncertainty]:
    """Split a scenario mapping into point values (ranges replaced by their base) and the ranges."""
    point: dict[str, Any] = {}
    ranges: dict[str, Range] = {}
    for key, value in raw.items():
        if isinstance(value, Mapping):
            r = parse_range(key, value, scenario)
            ranges[key] = r
            point[key] = int(r.base) if r.integer else r.base
        elif isinstance(value, (list, tuple)):
            raise InputError(key, value, "a single value or a range table such as {low = 1, mode = 2, high = 3} "
                             "(a bare list is not an input)", scenario=scenario)
        else:
            point[key] = value
    corr = parse_correlations(correlations, ranges, scenario)
    return point, Uncertainty(ranges, corr)


def uncertain(raw: Mapping[str, Any], *, scenario: str | None = None, catalog: Any = None,
              correlations: Any = None) -> UncertainScenario:
    """A scenario mapping that may hold ranges, validated: base case plus uncertainty.

    Every range is checked against its input's bounds, and the base case and the range ends are checked
    together by the engine's own validation (cross-input rules such as phase3 >= phase2).
    """
    raw = dict(raw)
    if correlations is None:
        correlations = raw.pop("correlation", None)
    point, unc = split_ranges(raw, scenario, correlations)
    base = resolve(point, scenario=scenario, catalog=catalog)
    return UncertainScenario(base, unc, catalog)


# ------------------------------------------------------------------------------------------ decision
def _choose(a: Any) -> dict[str, Any]:
    """Per-draw NPV, TCO, feasibility, cheapest feasible option and recommendation of array-valued Assumptions."""
    from .decision import choose

    return choose(a)


def _flat(x: Any, n: int, dtype: Any = float) -> np.ndarray:
    return np.broadcast_to(np.atleast_1d(np.asarray(x, dtype=dtype)), (n,))


# ------------------------------------------------------------------------------------------ simulation
@dataclass
class RiskResult:
    """What a Monte Carlo run found. Money in the scenario's currency (USD unless it says otherwise)."""

    scenario: str | None
    draws: int
    seed: int
    options: tuple[str, ...]
    base_recommendation: str
    base_cheapest: str | None
    runner_up: str | None
    runner_up_feasible: bool
    base_npv_usd: dict[str, float]
    p_cheapest: dict[str, float]
    p_none_feasible: float
    p_recommendation: dict[str, float]
    p_recommendation_differs: float
    npv_usd: dict[str, dict[str, float]]
    tco_usd: dict[str, dict[str, float]]
    npv_difference_usd: dict[str, float]
    base_npv_difference_usd: float
    tornado: list[dict[str, Any]]
    rank_correlation: list[dict[str, Any]]
    histogram: list[dict[str, float]]
    ranges: dict[str, Range]
    seconds: float = 0.0

    def sentence(self, option: str | None = None) -> str:
        """``"FINE-TUNE is the cheapest feasible option in 73% of 10,000 draws"``."""
        option = option or self.base_recommendation
        if not self.ranges:
            return f"no ranges given: every draw is the base case ({option})"
        return f"{option} is the cheapest feasible option in {_pct(self.p_cheapest.get(option, 0.0))} of " \
               f"{self.draws:,} draws"

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``buildbuy risk --json``."""
        return {
            "scenario": self.scenario,
            "draws": self.draws,
            "seed": self.seed,
            "base_recommendation": self.base_recommendation,
            "runner_up": self.runner_up,
            "runner_up_feasible": self.runner_up_feasible,
            "sentence": self.sentence(),
            "p_cheapest": self.p_cheapest,
            "p_none_feasible": self.p_none_feasible,
            "p_recommendation": self.p_recommendation,
            "p_recommendation_differs": self.p_recommendation_differs,
            "base_npv_usd": self.base_npv_usd,
            "npv_usd": self.npv_usd,
            "tco_usd": self.tco_usd,
            "npv_difference_usd": self.npv_difference_usd,
            "base_npv_difference_usd": self.base_npv_difference_usd,
            "tornado": self.tornado,
            "rank_correlation": self.rank_correlation,
            "histogram": self.histogram,
            "ranges": {k: r.as_dict() for k, r in self.ranges.items()},
        }


def _pct(p: float) -> str:
    x = 100.0 * p
    if 0 < x < 1:
        return "<1%"
    if 99 < x < 100:
        return ">99%"
    return f"{x:.0f}%"


def chunk_draws(horizon_months: int) -> int:
    """Draws evaluated at once for a horizon (memory is about proportional to draws x months)."""
    return max(1000, CHUNK_CELLS // max(1, int(horizon_months)))


def sample(unc: Uncertainty, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` Latin-hypercube draws of every ranged input, with the rank correlations imposed.

    Each input's draws come from n equal probability strata, one draw each, in an order given by the ranks of
    (correlated) standard normals.
    """
    keys = list(unc.ranges)
    k = len(keys)
    if k == 0:
        return {}
    z = rng.standard_normal((n, k))
    factor = unc.copula_factor()
    if factor is not None:
        z = z @ factor.T
    jitter = rng.random((n, k))
    ranks = np.argsort(np.argsort(z, axis=0, kind="stable"), axis=0, kind="stable")
    u = (ranks + jitter) / n
    return {key: unc.ranges[key].ppf(u[:, i]) for i, key in enumerate(keys)}


def simulate(us: UncertainScenario, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, *,
             progress: Callable[[int], None] | None = None, chunk: int | None = None,
             workers: int = 1) -> RiskResult:
    """Monte Carlo over every option: ``draws`` draws of the ranged inputs, evaluated a chunk at a time.

    Parameters
    ----------
    us : UncertainScenario
        Base case and ranges (:func:`uncertain`, or a scenario file with ranges).
    draws : int
        Number of draws (>= 10).
    seed : int
        Seed of the random generator: the same seed and draws give the same numbers.
    progress : callable, optional
        Called with the number of draws finished after each chunk (a progress bar).
    chunk : int, optional
        Draws per chunk (default :func:`chunk_draws` of the horizon); results depend on it through the
        Latin-hypercube strata, so the default is fixed for a horizon.
    workers : int
        Processes that evaluate each chunk (split by draws); the numbers do not depend on it, since every draw
        is evaluated on its own. 1 (the default) runs in this process.
    """
    import time

    t0 = time.perf_counter()
    draws = _check_int("draws", draws, 10, MAX_DRAWS)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    base = us.base
    unc = us.uncertainty
    options = tuple(model.OPTIONS)
    base_choice = _choose(base)
    base_npv = {o: float(np.asarray(base_choice["npv_usd"][o]).ravel()[0]) for o in options}
    base_rec = str(np.asarray(base_choice["recommendation"]).ravel()[0])
    base_cheap = _opt_name(np.asarray(base_choice["cheapest_feasible"]).ravel()[0])
    base_feasible = {o: bool(np.asarray(base_choice["feasible"][o]).ravel()[0]) for o in options}
    runner = _runner_up(base_rec, base_npv, base_feasible)

    raw_base = {k: base[k] for k in base.given}
    size = chunk or chunk_draws(int(base["horizon_months"]))
    rng = np.random.default_rng(seed) if unc.ranges else None  # (numpy.random loads only when it draws)
    npv = {o: np.empty(draws) for o in options}
    tco = {o: np.empty(draws) for o in options}
    # Option per draw as a small code (index into options; -1 = none), not as text: 1 byte a draw.
    cheapest = np.empty(draws, dtype=np.int8)
    rec = np.empty(draws, dtype=np.int8)
    inputs = {k: np.empty(draws) for k in unc.ranges}
    done = 0
    if not unc.ranges:  # nothing uncertain: every draw is the base case (no need to evaluate them)
        for o in options:
            npv[o][:] = base_npv[o]
            tco[o][:] = float(np.asarray(base_choice["tco_usd"][o]).ravel()[0])
        cheapest[:] = _codes(np.asarray(base_choice["cheapest_feasible"]).ravel()[:1], options, 1)[0]
        rec[:] = _codes(np.asarray(base_choice["recommendation"]).ravel()[:1], options, 1)[0]
        done = draws
        if progress:
            progress(draws)
    pool = _pool(workers) if workers > 1 and draws >= 2 * MIN_DRAWS_PER_WORKER and done < draws else None
    try:
        while done < draws:
            n = min(size, draws - done)
            drawn = sample(unc, n, rng)
            raw = dict(raw_base)
            raw.update(drawn)
            try:  # validate here, with the engine's messages; the workers evaluate
                a = resolve(raw, scenario=base.name, catalog=us.catalog)
            except InputError as exc:
                raise InputError(exc.key, exc.value, exc.allowed + " in every draw of the ranges", exc.scenario
                                 ) from None
            sl = slice(done, done + n)
            parts = min(workers, n // MIN_DRAWS_PER_WORKER) if pool else 1
            if parts > 1:
                cuts = np.linspace(0, n, parts + 1).astype(int)
                jobs = [({k: (v[i:j] if k in drawn else v) for k, v in raw.items()}, base.name, us.catalog)
                        for i, j in zip(cuts[:-1], cuts[1:], strict=True)]
                results = list(pool.map(_evaluate_part, jobs))
            else:
                results = [_evaluate(a, n)]
            at = done
            for part in results:
                if isinstance(part, str):
                    raise BuildBuyError(part)
                p_npv, p_tco, p_cheap, p_rec = part
                m = len(p_cheap)
                for o in options:
                    npv[o][at:at + m] = p_npv[o]
                    tco[o][at:at + m] = p_tco[o]
                cheapest[at:at + m] = p_cheap
                rec[at:at + m] = p_rec
                at += m
            for k, v in drawn.items():
                inputs[k][sl] = v
            done += n
            if progress:
                progress(n)
    finally:
        if pool:
            pool.shutdown()

    p_cheapest = {o: float(np.count_nonzero(cheapest == i)) / draws for i, o in enumerate(options)}
    p_none = float(np.count_nonzero(cheapest < 0)) / draws
    p_rec = {o: float(np.count_nonzero(rec == i)) / draws for i, o in enumerate(options)}
    base_code = options.index(base_rec) if base_rec in options else -1
    diff = npv[base_rec] - npv[runner] if runner else np.zeros(draws)
    result = RiskResult(
        scenario=base.name, draws=draws, seed=seed, options=options, base_recommendation=base_rec,
        base_cheapest=base_cheap, runner_up=runner, runner_up_feasible=bool(runner and base_feasible[runner]),
        base_npv_usd=base_npv, p_cheapest=p_cheapest,
        p_none_feasible=p_none, p_recommendation=p_rec,
        p_recommendation_differs=float(np.count_nonzero(rec != base_code)) / draws,
        npv_usd={o: _stats(npv[o]) for o in options}, tco_usd={o: _stats(tco[o]) for o in options},
        npv_difference_usd=_stats(diff),
        base_npv_difference_usd=base_npv[base_rec] - base_npv[runner] if runner else 0.0,
        tornado=tornado(us, base_rec, runner),
        rank_correlation=_rank_correlation(inputs, diff), histogram=_histogram(diff), ranges=dict(unc.ranges))
    result.seconds = time.perf_counter() - t0
    return result


#: Fewest draws worth sending to another process.
MIN_DRAWS_PER_WORKER = 2000


def _evaluate(a: Any, n: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """NPV and TCO per option, and the cheapest feasible option and the recommendation as codes, per draw."""
    options = tuple(model.OPTIONS)
    res = _choose(a)
    return ({o: np.array(_flat(res["npv_usd"][o], n)) for o in options},
            {o: np.array(_flat(res["tco_usd"][o], n)) for o in options},
            _codes(res["cheapest_feasible"], options, n), _codes(res["recommendation"], options, n))


def _evaluate_part(job: tuple[dict[str, Any], str | None, Any]) -> Any:
    """One worker's share of a chunk (already validated); an engine error comes back as its message."""
    raw, name, catalog = job
    n = max(np.size(v) for v in raw.values() if isinstance(v, np.ndarray))
    try:
        return _evaluate(resolve(raw, scenario=name, catalog=catalog), n)
    except BuildBuyError as exc:
        return str(exc)


def _pool(workers: int) -> Any:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _codes(names: Any, options: tuple[str, ...], n: int) -> np.ndarray:
    """Option names per draw -> their index in ``options`` (-1 for none / not an option)."""
    names = _flat(names, n, object)
    out = np.full(n, -1, dtype=np.int8)
    for i, o in enumerate(options):
        out[names == o] = i
    return out


def _opt_name(x: Any) -> str | None:
    return None if x is None or x == "" else str(x)


def _runner_up(rec: str, npv: dict[str, float], feasible: dict[str, bool]) -> str | None:
    """The cheapest other feasible option at base; when no other is feasible, the cheapest other one."""
    others = [o for o in npv if o != rec and feasible.get(o, True)] or [o for o in npv if o != rec]
    return min(others, key=lambda o: (npv[o], o)) if others else None


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or value != int(value) \
            or not lo <= value <= hi:
        raise InputError(name, value, f"a whole number in [{lo:,}, {hi:,}]")
    return int(value)


def _stats(x: np.ndarray) -> dict[str, float]:
    if x.size and x.min() == x.max():  # every draw the same (no uncertain input): each percentile is that value,
        p10 = p50 = p90 = x.flat[0]  # as np.percentile gives it, without loading numpy.ma on the way
    else:
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(np.mean(x))}


def tornado(us: UncertainScenario, option: str, runner_up: str | None) -> list[dict[str, Any]]:
    """Swing of NPV(option) - NPV(runner_up) as each ranged input moves from its P10 to its P90, others at base.

    All 2 x inputs cases are evaluated in one vectorized call. Sorted by swing, largest first. Correlations are
    left out (one input at a time, as a tornado is read).
    """
    unc = us.uncertainty
    keys = list(unc.ranges)
    if not keys or runner_up is None:
        return []
    base = us.base
    raw = {k: base[k] for k in base.given}
    lows = {k: unc.ranges[k].quantile(0.1) for k in keys}
    highs = {k: unc.ranges[k].quantile(0.9) for k in keys}
    m = len(keys)
    for i, k in enumerate(keys):
        col = np.full(2 * m, float(base[k]))
        col[i] = lows[k]
        col[m + i] = highs[k]
        raw[k] = col
    res = _choose(resolve(raw, scenario=base.name, catalog=us.catalog))
    d = _flat(res["npv_usd"][option], 2 * m) - _flat(res["npv_usd"][runner_up], 2 * m)
    at_base = _choose(base)
    d0 = float(np.asarray(at_base["npv_usd"][option]).ravel()[0] - np.asarray(at_base["npv_usd"][runner_up]).ravel()[0])
    rows = []
    for i, k in enumerate(keys):
        lo_d, hi_d = float(d[i]), float(d[m + i])
        rows.append({"input": k, "low": lows[k], "high": highs[k], "base": float(base[k]),
                     "npv_difference_at_low_usd": lo_d, "npv_difference_at_high_usd": hi_d,
                     "change_at_low_usd": lo_d - d0, "change_at_high_usd": hi_d - d0,
                     "swing_usd": abs(hi_d - lo_d)})
    rows.sort(key=lambda r: (-r["swing_usd"], r["input"]))
    return rows


def _rank_correlation(inputs: dict[str, np.ndarray], diff: np.ndarray) -> list[dict[str, Any]]:
    """Spearman correlation of each drawn input with the NPV difference, over all draws, by |value|."""
    out = []
    for k, x in inputs.items():
        if np.ptp(x) == 0 or np.ptp(diff) == 0:
            rho = 0.0
        else:
            from scipy import stats  # here: a run without uncertain inputs does not pay for importing it

            rho = float(stats.spearmanr(x, diff).statistic)
        out.append({"input": k, "rank_correlation": rho})
    out.sort(key=lambda r: (-abs(r["rank_correlation"]), r["input"]))
    return out


def _histogram(x: np.ndarray, bins: int = HISTOGRAM_BINS) -> list[dict[str, float]]:
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi == lo:
        return [{"from_usd": lo, "to_usd": hi, "share": 1.0}]
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    n = float(len(x))
    return [{"from_usd": float(edges[i]), "to_usd": float(edges[i + 1]), "share": float(counts[i]) / n}
            for i in range(bins)]


def uncertain_from_tables(assumptions: Mapping[str, Any], ranges: Mapping[str, Mapping[str, Any]],
                          correlations: Any = None, *, scenario: str | None = None,
                          catalog: Any = None) -> UncertainScenario:
    """A scenario from point inputs plus a separate table of ranges (the Excel layout).

    A range's base is its ``base`` if given, else the input's point value (or its default); a PERT or triangular
    range without ``mode`` takes that base as its mode, so ``{low, high}`` beside a point value is enough.
    """
    merged: dict[str, Any] = dict(assumptions)
    specs = input_specs()
    for key, raw in ranges.items():
        spec = dict(raw)
        point = merged.get(key)
        if point is None and key in specs:
            point = specs[key].default
        if "base" not in spec and isinstance(point, (int, float)) and not isinstance(point, bool):
            spec["base"] = point
        dist = str(spec.get("dist") or ("discrete" if "values" in spec else "pert")).strip().lower()
        if dist in ("pert", "triangular") and "mode" not in spec and "base" in spec:
            lo, hi, b = spec.get("low"), spec.get("high"), spec["base"]
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (lo, hi, b)) \
                    and not lo <= b <= hi:
                raise RangeError(key, f"{key} range: the input's value {_g(float(b))} (the base case, used as the "
                                 f"mode) must lie in [low {_g(float(lo))}, high {_g(float(hi))}]; give a mode or "
                                 "change the value", scenario)
            spec["mode"] = spec["base"]
        merged[key] = spec
    return uncertain(merged, scenario=scenario, catalog=catalog, correlations=correlations or None)
