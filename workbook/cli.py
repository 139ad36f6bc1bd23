"""The ``buildbuy`` command line.

Every failure is one line on stderr and a non-zero exit (2 for bad input or files), never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from buildbuy.engine import Assumptions, BuildBuyError, __version__, full_report, load_catalog
from buildbuy.engine.errors import InputError
from buildbuy.engine.report import summaries

EXIT_BAD_INPUT = 2
#: The longest error line the command line prints (a 2 MB bad value is not echoed in full).
MAX_MESSAGE_CHARS = 500


class NonFiniteError(BuildBuyError):
    """A result overflowed to infinity or is not a number: reported, never printed as a figure."""

    excel_code = "#NUM!"


def first_non_finite(value: Any, path: str = "") -> tuple[str, float] | None:
    """The first float in a nested report (dicts, lists, numpy values) that is infinite or NaN, with its path."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = first_non_finite(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            tag = v.get("option") if isinstance(v, dict) and isinstance(v.get("option"), str) else i
            found = first_non_finite(v, f"{path}[{tag}]")
            if found:
                return found
    elif isinstance(value, np.ndarray):
        flat = np.asarray(value, dtype=float).ravel() if value.dtype.kind in "fc" else ()
        for i, v in enumerate(flat):
            if not math.isfinite(v):
                return f"{path}[{i}]", float(v)
    elif isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return path, float(value)
    return None


def _report_or_overflow(a: Assumptions) -> tuple[dict[str, Any] | None, tuple[str, float] | None]:
    """The report, or where it overflows: a non-finite figure in it, or a non-finite value the engine derived
    from the inputs and then refused (it names its own key, with a value the user never gave)."""
    try:
        rep = full_report(a)
    except InputError as exc:
        value = exc.value
        try:
            bad = not np.all(np.isfinite(np.asarray(value, dtype=float)))
        except (TypeError, ValueError):
            bad = False
        if not bad:
            raise
        return None, (f"{exc.key} (as the engine derives it)", float("inf"))
    return rep, first_non_finite(rep)


def finite_report(a: Assumptions) -> dict[str, Any]:
    """:func:`full_report` of a scenario, refused with a :class:`NonFiniteError` when a figure overflows.

    The message names the inputs the user gave that cause it: each given input is put back to its default in
    turn, and those whose default makes every figure finite are named.
    """
    rep, bad = _report_or_overflow(a)
    if bad is None:
        return rep  # type: ignore[return-value]
    where, value = bad
    culprits = []
    for key in sorted(a.given):
        try:
            if _report_or_overflow(a.replace(**{key: None}))[1] is None:
                culprits.append(key)
        except BuildBuyError:
            continue
    scen = f"scenario {a.name!r}: " if a.name else ""
    shown = "infinite" if value == value else "not a number"
    if culprits:
        given = ", ".join(f"{k} = {_short_value(a[k])}" for k in culprits)
        cause = f"too large an input: {given}"
    else:
        big = sorted((k for k in a.given if isinstance(a[k], (int, float)) and not isinstance(a[k], bool)),
                     key=lambda k: -abs(float(a[k])))[:3]
        cause = "the inputs are too large together" + (
            f" (largest: {', '.join(f'{k} = {_short_value(a[k])}' for k in big)})" if big else "")
    raise NonFiniteError(f"{scen}{where} is {shown}: {cause}; the figures overflow double precision")


def _short_value(v: Any) -> str:
    text = f"{v:g}" if isinstance(v, float) else repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def json_text(value: Any) -> str:
    """Strict JSON (no NaN/Infinity: a non-finite number is written as null)."""
    return json.dumps(_finite_json(value), indent=2, default=str, allow_nan=False)


def _finite_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt_money(x: Any, currency: str) -> str:
    if x is None:
        return "-"
    sym = "$" if currency == "USD" else ""
    suffix = "" if currency == "USD" else f" {currency}"
    return f"{sym}{x:,.0f}{suffix}"


def format_report(rep: dict[str, Any]) -> str:
    """A readable text summary of :func:`buildbuy.engine.full_report`: the answer and its price first."""
    cur = rep["currency"]
    months = rep["horizon_months"]
    ratio = "" if rep["premium_ratio"] is None else f", {rep['premium_ratio']:.2f}x"
    lines = [f"Scenario: {rep['scenario']}   ({rep['requests_per_day']:,.0f} requests/day, "
             f"{months}-month horizon, {cur})", "",
             f"Recommendation:     {rep['recommendation']}",
             f"Cheapest feasible:  {rep['cheapest_feasible'] or 'none (no option meets every hard constraint)'}",
             f"Premium:            {_fmt_money(rep['premium_usd'], cur)} NPV ({_fmt_money(rep['premium_tco_usd'], cur)}"
             f" TCO{ratio}) over the cheapest feasible option",
             f"Deciding rules:     {', '.join(rep['deciding_rules'])}",
             f"Decision:           {rep['decision']}"]
    for b in rep.get("decision_boundaries", []):
        what = (f"{b['value']:,.0f} requests/day" if b["input"] == "requests_per_day"
                else f"API prices x{b['factor']:.3g}")
        lines.append(f"Answer changes:     to {b['answer_beyond']} {b['side']} {what} ({b['factor']:.3g}x today)")
    lines.append("")
    heads = ["Option", "Feasible", "Run-rate today", f"{months}-mo TCO", "NPV", "Per 1M tok", "Latency",
             "Break-even", "Lasting"]
    rows = []
    for o in rep["options"]:
        def month(x: Any, api: bool = o["option"] == "API") -> str:
            return "-" if api else ("never" if x is None else f"month {x:.2f}")

        per_mtok = "-" if o["cost_per_mtok_usd"] is None else f"{o['cost_per_mtok_usd']:,.2f}"
        lat = f"{o['latency_ms']:,.0f} ms" + ("" if o["meets_latency"] else " (!)")
        rows.append([o["option"], "yes" if o["feasible"] else "NO", _fmt_money(o["annual_cost_usd"], cur),
                     _fmt_money(o["tco_usd"], cur), _fmt_money(o["npv_usd"], cur), per_mtok, lat,
                     month(o["breakeven_month_vs_api"]), month(o["lasting_breakeven_month_vs_api"])])
    lines += _table(heads, rows)
    lines.append("(Break-even: when the cumulative cost first drops below the API's; lasting: from when it stays "
                 "below; fractional months from the start. (!) misses the latency requirement.)")
    for o in rep["options"]:
        for why in o["infeasible_because"]:
            lines.append(f"  {o['option']} ruled out: {why}")
    years = max(len(o["annual_cost_by_year_usd"]) for o in rep["options"])
    lines += ["", "Cost by year (cash):"]
    lines += _table(["Option", *(f"Year {y + 1}" for y in range(years)), "Run-rate at end"],
                    [[o["option"], *(_fmt_money(x, cur) for x in o["annual_cost_by_year_usd"]),
                      _fmt_money(o["run_rate_end_usd"], cur)] for o in rep["options"]])
    items = [k for k in rep["options"][-1]["line_items_usd"]]
    lines += ["", f"Cost by line item over {months} months (cash):"]
    lines += _table(["Line item", *(o["option"] for o in rep["options"])],
                    [[k, *(_fmt_money(o["line_items_usd"].get(k), cur) if k in o["line_items_usd"] else "-"
                          for o in rep["options"])] for k in items
                     if any(o["line_items_usd"].get(k) for o in rep["options"])])
    for o in rep["options"]:
        if o["option"] in ("FINE-TUNE", "TRAIN") and o["gpus_per_replica"]:
            extra = ""
            if o["training_gpu_hours"]:
                extra = (f"; one pre-training run {o['training_gpu_hours']:,.0f} GPU-hours, "
                         f"{o['training_run_months']:,.1f} months wall-clock")
            hours = o["rent_vs_buy_breakeven_hours"]
            rvb = "never" if hours is None else f"{hours:,.0f} h of use"
            lines.append(f"  {o['option']}: {o['serving_gpus']:,.0f} serving GPUs at the end "
                         f"({o['gpus_per_replica']:,.0f} per replica); buying beats renting after {rvb}{extra}")
    scores = ", ".join(f"{k} {v}" for k, v in rep["scores"].items())
    lines += ["", f"Strategic-fit points (for audit, not the decision): {scores}", rep["moat"]["sentence"], "",
              "Reasons:"]
    for r in rep["reasons"]:
        tag = f"{r['supports']} +{r['weight']}" if r["weight"] else (r["supports"] or "")
        lines.append(f"  [{r['rule_id']}] ({tag}) {r['sentence']}")
    lines.append("Warnings:" if rep["warnings"] else "Warnings: none")
    for w in rep["warnings"]:
        lines.append(f"  [{w['rule_id']}] {w['sentence']}")
    lines += ["", "Roadmap:"]
    for p in rep["roadmap"]:
        end = f"{p['end_month']}" if p["end_month"] is not None else "..."
        lines.append(f"  Phase {p['phase']} ({p['layer']}, months {p['start_month']}-{end}, {p['status']}): "
                     f"{p['actions']}")
    return "\n".join(lines)


def _table(heads: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers, headers aligned with their columns."""
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]

    def line(r: list[str]) -> str:
        cells = zip(r, widths, strict=True)
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(cells))

    return [line(heads), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def cmd_recommend(args: argparse.Namespace) -> int:
    """`buildbuy recommend`: compare the options of each scenario of a file (with ranges: and how often)."""
    from buildbuy.engine.scenario import read_uncertain_scenarios

    catalog = load_catalog(args.catalog) if args.catalog else None
    uncertain = read_uncertain_scenarios(args.scenario, catalog=catalog)
    scenarios = [u.base for u in uncertain]
    if getattr(args, "as_of", None):
        scenarios = [_with_as_of(a, args.as_of, catalog) for a in scenarios]
    if args.summary:
        rows = summaries(scenarios)
        if args.json:
            print(json_text(rows))
        else:
            cur = scenarios[0]["currency"]
            print("\n".join(_table(
                ["Scenario", "Recommendation", "Cheapest feasible", "Premium (NPV)", "Rule",
                 *(f"NPV {o}" for o in rows[0]["npv_usd"])],
                [[r["scenario"] or "", r["recommendation"], r["cheapest_feasible"] or "none",
                  _fmt_money(r["premium_usd"], cur), r["deciding_rule"],
                  *(_fmt_money(v, cur) + ("" if r["feasible"][o] else " (x)") for o, v in r["npv_usd"].items())]
                 for r in rows])))
            print("((x): ruled out by a hard constraint.)")
            sources = sorted({a["api_price_source"] for a in scenarios if a["api_price_source"]})
            for src in sources[:5]:
                print(f"API prices: {src}")
            if len(sources) > 5:
                print(f"API prices: and {len(sources) - 5} more sources (see --json without --summary)")
            if not all(a["api_price_source"] for a in scenarios):
                print("API prices: scenario inputs (scenarios without api_model)")
        return 0
    reports = [finite_report(a) for a in scenarios]
    for rep, us, a in zip(reports, uncertain, scenarios, strict=True):
        if us.uncertainty:  # the ranges around this base case: how often its answer is the cheapest
            risk = _simulate(dataclasses.replace(us, base=a), args.draws, args.seed)
            rep["uncertainty"] = {"sentence": risk.sentence(rep["recommendation"]), "draws": risk.draws,
                                  "seed": risk.seed, "p_cheapest": risk.p_cheapest,
                                  "p_recommendation_differs": risk.p_recommendation_differs}
    if args.json:
        for r, a in zip(reports, scenarios, strict=True):
            r["api_price_source"] = a["api_price_source"] or "scenario inputs"
        print(json_text(reports[0] if len(reports) == 1 else reports))
    else:
        print("\n\n".join(_with_uncertainty(format_report(r), r) + _price_line(a)
                             for r, a in zip(reports, scenarios, strict=True)))
    return 0


def _with_uncertainty(text: str, rep: dict[str, Any]) -> str:
    """The recommendation line followed by how often it is the cheapest under the scenario's ranges."""
    unc = rep.get("uncertainty")
    if not unc:
        return text
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("Recommendation:"))
    width = len(lines[at]) - len(lines[at].split(":", 1)[1].lstrip())  # the label column of that block
    lines.insert(at + 1, f"{'Under ranges:':<{width}}{unc['sentence']} (seed {unc['seed']}; the recommendation "
                         f"differs from the base case in {unc['p_recommendation_differs']:.0%} of draws; "
                         "details: buildbuy risk)")
    return "\n".join(lines)


def _simulate(us: Any, draws: int, seed: int, workers: int = 1) -> Any:
    """Monte Carlo of one scenario with a progress bar on a terminal."""
    from tqdm import tqdm

    from buildbuy.engine.uncertainty import simulate

    with tqdm(total=draws, unit="draw", unit_scale=True, disable=not sys.stderr.isatty() or draws < 50_000,
              leave=False, desc=us.name or "draws") as bar:
        return simulate(us, draws, seed, progress=bar.update, workers=workers)


def format_risk(r: Any) -> str:
    """A readable summary of a :class:`buildbuy.engine.uncertainty.RiskResult`."""
    def money(x: float) -> str:
        return f"{x:,.0f}"

    lines = [f"Scenario: {r.scenario}   ({r.draws:,} draws, seed {r.seed}, {r.seconds:.2f} s; money in USD "
             "unless the scenario's currency says otherwise)", "",
             f"Base case: {r.base_recommendation} (NPV {money(r.base_npv_usd[r.base_recommendation])})"
             + (f"; runner-up {r.runner_up} (NPV {money(r.base_npv_usd[r.runner_up])}"
                + ("" if r.runner_up_feasible else ", not feasible: the only other option to compare with") + ")"
                if r.runner_up else ""),
             f"{r.sentence()}.",
             f"The recommendation differs from the base case in {r.p_recommendation_differs:.1%} of draws.", ""]
    heads = ["Option", "P(cheapest)", "NPV P10", "NPV P50", "NPV P90", "NPV mean", "TCO P10", "TCO P50", "TCO P90"]
    rows = [[o, f"{r.p_cheapest[o]:.1%}", *(money(r.npv_usd[o][k]) for k in ("p10", "p50", "p90", "mean")),
             *(money(r.tco_usd[o][k]) for k in ("p10", "p50", "p90"))] for o in r.options]
    lines += _table(heads, rows)
    if r.p_none_feasible:
        lines.append(f"No option is feasible in {r.p_none_feasible:.1%} of draws.")
    if r.tornado:
        lines += ["", f"Tornado: NPV({r.base_recommendation}) - NPV({r.runner_up}) as each input moves from its P10 "
                  "to its P90, others at base (negative = the base-case answer is cheaper)"]
        rows = [[t["input"], f"{t['low']:,.6g}", f"{t['high']:,.6g}", money(t["npv_difference_at_low_usd"]),
                 money(t["npv_difference_at_high_usd"]), money(t["swing_usd"])] for t in r.tornado]
        lines += _table(["Input", "P10", "P90", "Difference at P10", "Difference at P90", "Swing"], rows)
        lines += ["", "Rank correlation of each input with that NPV difference over all draws (all inputs moving, "
                  "correlations included):"]
        lines += [f"  {c['input']:<34} {c['rank_correlation']:+.2f}" for c in r.rank_correlation]
    return "\n".join(lines)


def _table(heads: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x[i])) for x in [heads, *rows]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return [line(heads), "  ".join("-" * w for w in widths), *(line(x) for x in rows)]


def cmd_risk(args: argparse.Namespace) -> int:
    """`buildbuy risk`: Monte Carlo over the ranges of each scenario of a file."""
    from buildbuy.engine.scenario import read_uncertain_scenarios

    catalog = load_catalog(args.catalog) if args.catalog else None
    scenarios = read_uncertain_scenarios(args.scenario, catalog=catalog)
    plain = [u.name for u in scenarios if not u.uncertainty]
    if plain:
        raise BuildBuyError(f"scenario {plain[0]!r} in {args.scenario} has no range: give at least one input as "
                            "a range such as {low = 1, mode = 2, high = 3} (see README, Ranges)")
    results = [_simulate(u, args.draws, args.seed, args.workers) for u in scenarios]
    if args.json:
        out = [r.as_dict() for r in results]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        print("\n\n".join(format_risk(r) for r in results))
    return 0


def _add_risk_command(sub: Any) -> None:
    from buildbuy.engine.uncertainty import DEFAULT_DRAWS, DEFAULT_SEED

    risk = sub.add_parser("risk", help="Monte Carlo over a scenario's ranges: P(cheapest), P10/P50/P90, tornado")
    risk.add_argument("scenario", help="scenario file (.toml or .json) with ranges")
    risk.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help=f"draws (default {DEFAULT_DRAWS:,})")
    risk.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    risk.add_argument("--json", action="store_true", help="print JSON instead of text")
    risk.add_argument("--workers", type=int, default=1,
                      help="processes that evaluate the draws (same numbers whatever the count; default 1)")
    risk.add_argument("--catalog", action="append", metavar="FILE", help="your own price catalog TOML")
    risk.set_defaults(func=cmd_risk)


def _with_as_of(a: Any, as_of: str, catalog: Any) -> Any:
    """The scenario again, with the API prices of date ``as_of`` (``--as-of``)."""
    from buildbuy.engine import resolve

    raw = {k: a[k] for k in a.given if k != "api_price_source"}
    raw["api_prices_as_of"] = as_of
    return resolve(raw, scenario=a.name, catalog=catalog)


def _price_line(a: Any) -> str:
    """Where the API prices of a report came from (issue 12: every report shows source and date)."""
    src = a["api_price_source"] or (f"scenario inputs (api_input_usd_per_mtok {a['api_input_usd_per_mtok']:g}, "
                                    f"api_output_usd_per_mtok {a['api_output_usd_per_mtok']:g})")
    return f"\n\nAPI prices: {src}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="buildbuy", description="AI build-vs-buy decision engine.")
    parser.add_argument("--version", action="version", version=f"buildbuy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recommend", help="compare API, FINE-TUNE, TRAIN and PHASED for a scenario file")
    rec.add_argument("scenario", help="scenario file (.toml or .json)")
    rec.add_argument("--json", action="store_true", help="print JSON instead of text")
    rec.add_argument("--summary", action="store_true",
                     help="one line per scenario (answer, cheapest feasible, premium, NPVs), all scenarios in one "
                          "vectorized pass: for files with thousands of scenarios")
    rec.add_argument("--catalog", action="append", metavar="FILE",
                     help="your own price catalog: TOML, or a LiteLLM model_prices_and_context_window.json "
                          "(repeatable; your rows win)")
    rec.add_argument("--as-of", metavar="DATE", help="use the API prices in force on DATE (YYYY-MM-DD)")
    rec.set_defaults(func=cmd_recommend)
    from buildbuy.engine.uncertainty import DEFAULT_DRAWS, DEFAULT_SEED

    rec.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="draws when the scenario has ranges")
    rec.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed when the scenario has ranges")
    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


def cmd_fill(args: argparse.Namespace) -> int:
    """`buildbuy fill`: scenarios into copies of the template, optionally recalculated."""
    from .fill import fill_many, load_uncertain_scenarios
    from .template import TEMPLATE_PATH

    scenarios = load_uncertain_scenarios(args.scenario, load_catalog(args.catalog) if args.catalog else None)
    if getattr(args, "as_of", None):
        scenarios = [dataclasses.replace(u, base=_with_as_of(u.base, args.as_of, None)) for u in scenarios]
    results = fill_many(scenarios, args.output, template=args.template or TEMPLATE_PATH,
                        recalc_backend=args.engine if args.recalc else None, workers=args.workers,
                        progress=sys.stderr.isatty(), timeout=args.timeout)
    bad = 0
    for r in results:
        if r.recalc is None:
            print(f"{r.scenario}: wrote {r.path}")
            continue
        total, errors, seconds = r.recalc
        status = "checks pass" if total == 0 and not errors else f"CHECKS {total}, {len(errors)} error cell(s)"
        bad += status != "checks pass"
        how = "the template's compiled plan" if r.backend == "template-plan" else r.backend or args.engine
        print(f"{r.scenario}: wrote {r.path} (recalculated with {how} in {seconds:.2f} s; {status})")
        for line in errors[:10]:
            print(f"  {line}")
    return 1 if (bad and args.check) else 0


def cmd_recalc(args: argparse.Namespace) -> int:
    """`buildbuy recalc`: compute a workbook headless and store the values.

    Errors the file already held are reported apart from those the recalculation introduced; with ``--check``
    the exit code is 1 only for introduced errors, cells not evaluated faithfully, or a Checks total not 0.
    """
    from .fast import PLAN_BACKEND, applies
    from .limits import run_in_process, run_limited

    report = None
    if applies(args.engine, args.fallback, args.plan):
        from .fast import recalc_fast  # the template's compiled plan: Python only, an alarm can stop it here

        report = run_in_process(args.timeout, recalc_fast, args.book, args.output, writes=args.output or args.book)
    if report is None:
        from .recalc import recalc

        # In a child process killed at the limit: formualizer's native evaluation cannot be interrupted otherwise.
        report = run_limited(args.timeout, recalc, args.book, args.output, backend=args.engine,
                             fallback=args.fallback, plan=False, writes=args.output or args.book)
    if args.json:
        print(json_text({"file": str(report.path), "backend": report.backend, "ok": report.ok,
                         "check_total": report.check_total, "named": report.named,
                         "errors": [e.__dict__ for e in report.introduced],
                         "preexisting_errors": [e.__dict__ for e in report.preexisting],
                         "unfaithful": [u.__dict__ for u in report.unfaithful],
                         "fallback": report.fallback, "fallback_cells": report.fallback_cells}))
    else:
        total = "" if report.check_total is None else f"; Checks total {_total_text(report.check_total)}"
        how = ("the template's compiled plan" if report.backend == PLAN_BACKEND else report.backend)
        print(f"recalculated {report.formula_cells:,} formula cells with {how} in {report.seconds:.2f} s; "
              f"wrote {report.values_written:,} values to {report.path}{total}; "
              f"{len(report.introduced)} error cell(s) introduced, {len(report.preexisting)} already in the file, "
              f"{len(report.unfaithful)} not evaluated faithfully")
        if report.fallback:
            print(f"{len(report.fallback_cells)} cell(s) taken from {report.fallback}"
                  + (f": {', '.join(report.fallback_cells[:10])}" + (" ..." if len(report.fallback_cells) > 10
                                                                     else "") if report.fallback_cells else ""))
        for note in report.notes:
            print(f"note: {note}")
        if report.preexisting and args.check:
            print(f"note: {len(report.preexisting)} error value(s) were already in the file before recalculation "
                  f"(e.g. {report.preexisting[0].line()}); they do not fail --check")
    problems = report.introduced or report.unfaithful or report.check_total not in (None, 0)
    if problems and not args.json:
        _print_problems(report, limit=20 if args.check else 5)
    if args.check and not report.ok:
        return 1
    return 0


def _print_problems(report: Any, limit: int | None) -> None:
    """Introduced errors grouped by the engine's message (the root causes first), then cells not evaluated
    faithfully, then the Checks total; at most ``limit`` lines per group unless None."""
    def show(lines: list[str]) -> None:
        for line in lines[:limit] if limit is not None else lines:
            print(f"error: {line}", file=sys.stderr)
        if limit is not None and len(lines) > limit:
            print(f"error:   ... and {len(lines) - limit} more (--json lists them all)", file=sys.stderr)

    by_message: dict[str, list[Any]] = {}
    plain = []
    for e in report.introduced:
        if e.message:
            by_message.setdefault(e.message, []).append(e)
        else:
            plain.append(e)
    for message, errs in by_message.items():
        first = message.split(" ", 1)[0]
        where = f" [input {report.input_cells[first]}]" if first in report.input_cells else ""
        print(f"error: {message}{where} ({len(errs)} cell(s)):", file=sys.stderr)
        show([f"  {e.sheet}!{e.ref} {e.code} {e.formula}" for e in errs])
    if plain:
        note = " (they read the cells above)" if by_message else ""
        print(f"error: {len(plain)} further error cell(s){note}:", file=sys.stderr)
        show([f"  {e.line()}" for e in plain])
    if report.unfaithful:
        print(f"error: {len(report.unfaithful)} cell(s) not evaluated faithfully:", file=sys.stderr)
        show([f"  {u.line()}" for u in report.unfaithful])
    if report.check_total not in (None, 0):
        print(f"error: Checks total is {_total_text(report.check_total)}, not 0", file=sys.stderr)


def _total_text(total: Any) -> str:
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        return f"{total:g}"
    return str(total)


def cmd_lint(args: argparse.Namespace) -> int:
    """`buildbuy lint`: what a backend cannot evaluate faithfully; exit 1 when anything is found."""
    from .lint import lint

    findings = lint(args.book, args.engine)
    for f in findings:
        print(f.line())
    print(f"{len(findings)} finding(s) for the {args.engine} backend in {args.book}")
    return 1 if findings else 0


def cmd_template(args: argparse.Namespace) -> int:
    """`buildbuy template`: rebuild the bundled template."""
    from .template import build_template

    print(f"wrote {build_template(args.output) if args.output else build_template()}")
    return 0


class _time_limit:
    """Stop a command that runs longer than ``seconds`` (Unix; elsewhere no limit)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        import signal

        if self.seconds and hasattr(signal, "SIGALRM"):
            def stop(*_: Any) -> None:
                raise BuildBuyError(f"stopped after {self.seconds:g} s (--timeout)")
            self._old = signal.signal(signal.SIGALRM, stop)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: Any) -> None:
        import signal

        if self.seconds and hasattr(signal, "SIGALRM"):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)


def _add_workbook_commands(sub: Any) -> None:
    from .engines import BACKENDS as engines
    from .engines import FALLBACKS
    fill = sub.add_parser("fill", help="write scenarios into the template's named input cells")
    fill.add_argument("scenario", nargs="+", help="scenario files (.toml/.json) or folders of them")
    fill.add_argument("-o", "--output", required=True,
                      help="the .xlsx to write (one scenario), or a folder (several: one workbook each)")
    fill.add_argument("--template", help="template to fill (default: the bundled one)")
    fill.add_argument("--catalog", action="append", metavar="FILE",
                      help="your own price catalog TOML (repeatable; same id replaces a bundled row); its prices "
                           "are written into the workbook's price inputs")
    fill.add_argument("--recalc", action="store_true", help="also recalculate each workbook headless")
    fill.add_argument("--engine", choices=engines, default="formualizer", help="backend for --recalc")
    fill.add_argument("--workers", type=int, help="processes for many scenarios (default: every core)")
    fill.add_argument("--check", action="store_true", help="with --recalc: exit 1 when a workbook's checks fail")
    fill.add_argument("--as-of", metavar="DATE", help="use the API prices in force on DATE (YYYY-MM-DD)")
    fill.add_argument("--timeout", type=float, default=600,
                      help="with --recalc: give up on a workbook after this many seconds (default 600)")
    fill.set_defaults(func=cmd_fill)

    rec = sub.add_parser("recalc", help="compute every formula headless and store the values in the file")
    rec.add_argument("book", help="an .xlsx or .xlsm workbook")
    rec.add_argument("-o", "--output", help="write here instead of updating the book in place")
    rec.add_argument("--engine", choices=engines, default="formualizer",
                     help="formualizer (default: fastest, passes the parity tests) or formulas (pure Python)")
    rec.add_argument("--check", action="store_true",
                     help="exit 1 when the recalculation introduced an error value or a cell it could not evaluate "
                          "faithfully, or the Checks total is not 0, listing the cells (errors the file already "
                          "held are reported apart and do not fail the check)")
    rec.add_argument("--fallback", choices=FALLBACKS,
                     help="let LibreOffice (soffice) compute the cells the backend flags that call no BVB function")
    rec.add_argument("--json", action="store_true", help="print the named outputs as JSON")
    rec.add_argument("--timeout", type=float, default=600, help="give up after this many seconds (default 600)")
    rec.add_argument("--no-plan", dest="plan", action="store_false",
                     help="compute a filled template with the backend too, not with the template's compiled plan "
                          "(same values, slower; for cross-checks)")
    rec.set_defaults(func=cmd_recalc)

    lint = sub.add_parser("lint", help="report constructs a headless backend cannot evaluate faithfully")
    lint.add_argument("book")
    lint.add_argument("--engine", choices=engines, default="formualizer")
    lint.set_defaults(func=cmd_lint)

    tpl = sub.add_parser("template", help="rebuild the bundled template")
    tpl.add_argument("-o", "--output", help="where to write it (default: templates/buildbuy-template.xlsx)")
    tpl.set_defaults(func=cmd_template)


def cmd_prices(args: argparse.Namespace) -> int:
    """`buildbuy prices`: the hosted-API prices the engine would use, with provider, date and source."""
    from buildbuy.engine import prices

    if args.refresh:
        path = prices.refresh()
        print(f"refreshed genai-prices data from {prices.REFRESH_URL} into {path}")
        if not args.query and not args.json:
            return 0
    catalog = load_catalog(args.catalog) if args.catalog else None
    day = prices.parse_as_of(args.as_of, "--as-of")
    hits = prices.search_prices(" ".join(args.query), as_of=day, catalog=catalog)
    if args.json:
        print(json.dumps([h.as_dict() for h in hits], indent=2))
        return 0 if hits else 1
    if not hits:
        close = prices.closest_models(" ".join(args.query), catalog=catalog)
        hint = f"closest: {', '.join(close)}" if close else "try fewer words"
        print(f"no model matches {' '.join(args.query)!r} on {day}; {hint}", file=sys.stderr)
        return 1
    print(_prices_table(hits))
    print(f"{len(hits)} model(s); USD per 1M tokens; prices in force on {day}. "
          f"Use a ref as api_model (e.g. api_model = \"{hits[0].ref}\").")
    return 0


def _prices_table(hits: list[Any]) -> str:
    def money(x: float | None) -> str:
        return "-" if x is None else f"{x:g}"

    heads = ["provider/model", "input", "output", "cache read", "cache write", "batch in/out", "long ctx",
             "since", "origin", "source"]
    rows = []
    for h in hits:
        lc = "-" if h.long_context_threshold_tokens is None else (
            f">{h.long_context_threshold_tokens // 1000}K: {money(h.long_context_input_usd_per_mtok)}/"
            f"{money(h.long_context_output_usd_per_mtok)}")
        batch = "-" if h.batch_input_usd_per_mtok is None else (
            f"{money(h.batch_input_usd_per_mtok)}/{money(h.batch_output_usd_per_mtok)}")
        rows.append([h.ref, money(h.input_usd_per_mtok), money(h.output_usd_per_mtok),
                     money(h.cached_input_usd_per_mtok), money(h.cache_write_5m_usd_per_mtok), batch, lc,
                     h.price_since or "-", h.origin, h.source])
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [heads, *rows]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def cmd_usage(args: argparse.Namespace) -> int:
    """`buildbuy usage`: a usage export (CSV, OpenAI or Anthropic usage JSON) into a scenario file."""
    from pathlib import Path

    from buildbuy.engine.usage import read_usage, scenario_from_usage, scenario_toml

    catalog = load_catalog(args.catalog) if args.catalog else None
    summary = read_usage(args.file)
    name = args.name or Path(args.file).stem
    inputs, notes = scenario_from_usage(summary, name=name, as_of=args.as_of, catalog=catalog,
                                        requests_per_day=args.requests_per_day)
    from buildbuy.engine import resolve

    resolve(inputs, scenario=name, catalog=catalog)  # the printed file must load as it is
    text = scenario_toml(inputs, notes, Path(args.file).name)
    if args.output:
        out = Path(args.output)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, "utf-8")
        tmp.replace(out)
        print(f"wrote {out}")
    else:
        print(text, end="")
    return 0


def _add_price_commands(sub: Any) -> None:
    pr = sub.add_parser("prices", help="list the hosted-API prices the engine would use (offline)")
    pr.add_argument("query", nargs="*", help="words to match in provider/model (all must match); none = all")
    pr.add_argument("--as-of", metavar="DATE", help="prices in force on DATE (YYYY-MM-DD; default today)")
    pr.add_argument("--json", action="store_true", help="print JSON")
    pr.add_argument("--catalog", action="append", metavar="FILE",
                    help="your own price catalog (TOML or LiteLLM JSON; your rows win)")
    pr.add_argument("--refresh", action="store_true",
                    help="download the newest genai-prices data first (the only command that uses the network)")
    pr.set_defaults(func=cmd_prices)

    us = sub.add_parser("usage", help="turn a usage export (CSV, OpenAI or Anthropic usage JSON) into a scenario")
    us.add_argument("file", help="usage export: CSV in the documented layout, OpenAI Usage API JSON or Anthropic "
                                 "usage report JSON")
    us.add_argument("-o", "--output", help="write the scenario here instead of printing it")
    us.add_argument("--name", help="scenario name (default: the file name)")
    us.add_argument("--as-of", metavar="DATE", help="price date for blending several models (default today)")
    us.add_argument("--catalog", action="append", metavar="FILE", help="your own price catalog (TOML or JSON)")
    us.add_argument("--requests-per-day", type=float, metavar="N",
                    help="requests per day, for exports that count only tokens (Anthropic's usage report)")
    us.set_defaults(func=cmd_usage)


#: Sub-commands beyond `recommend`.
EXTRA_COMMANDS: list[Callable[[Any], None]] = [_add_workbook_commands, _add_price_commands, _add_risk_command]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 checks failed, 2 bad input or file).

    Every failure is one line on stderr (at most ``MAX_MESSAGE_CHARS``), never a traceback: an unexpected
    exception is reported as one line too (``BUILDBUY_DEBUG=1`` shows the traceback). Numeric warnings are
    silenced: an overflow is reported as an error by the command itself, not as a warning.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a detached or closed stream
                pass
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return int(args.func(args) or 0)
    except BuildBuyError as exc:
        _fail(args.command, str(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:
        _fail(args.command, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"buildbuy {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        _fail(args.command, "out of memory")
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - a bug must still end in one line, not a traceback
        if os.environ.get("BUILDBUY_DEBUG"):
            raise
        _fail(args.command, f"unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
                            f"BUILDBUY_DEBUG=1 shows the traceback)")
        return EXIT_BAD_INPUT


def _fail(command: str, message: str) -> None:
    text = " ".join(str(message).split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS - 3] + "..."
    print(f"buildbuy {command}: error: {text}", file=sys.stderr)


def run() -> None:  # pragma: no cover - the console script, exercised by the tests that run the command
    """The ``buildbuy`` command: :func:`main`, then a quick exit. Every file is written and closed before main
    returns, so the interpreter's teardown (tens of milliseconds freeing numpy, lxml and the engine's caches) has
    nothing left to save and is skipped."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - a closed or broken stream: the normal exit reports it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
