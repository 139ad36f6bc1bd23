"""The ``buildbuy`` command line.

Every failure is one line on stderr and a non-zero exit (2 for bad input or files), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from buildbuy.engine import BuildBuyError, __version__, full_report, load_catalog, read_scenarios

EXIT_BAD_INPUT = 2


def _fmt_money(x: Any, currency: str) -> str:
    if x is None:
        return "-"
    sym = "$" if currency == "USD" else ""
    suffix = "" if currency == "USD" else f" {currency}"
    return f"{sym}{x:,.0f}{suffix}"


def format_report(rep: dict[str, Any]) -> str:
    """A readable text summary of :func:`buildbuy.engine.full_report`."""
    cur = rep["currency"]
    lines = [f"Scenario: {rep['scenario']}   ({rep['requests_per_day']:,.0f} requests/day, "
             f"{rep['horizon_months']}-month horizon, {cur})", ""]
    heads = ["Option", "Annual cost", f"{rep['horizon_months']}-mo TCO", "NPV", "Per 1M tok", "Latency",
             "Break-even"]
    rows = []
    for o in rep["options"]:
        be = "-" if o["option"] == "API" else (
            f"month {o['breakeven_month_vs_api']}" if o["breakeven_month_vs_api"] else "never")
        per_mtok = "-" if o["cost_per_mtok_usd"] is None else f"{o['cost_per_mtok_usd']:,.2f}"
        lat = f"{o['latency_ms']:,.0f} ms" + ("" if o["meets_latency"] else " (!)")
        rows.append([o["option"], _fmt_money(o["annual_cost_usd"], cur), _fmt_money(o["tco_usd"], cur),
                     _fmt_money(o["npv_usd"], cur), per_mtok, lat, be])
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]

    def line(r: list[str]) -> str:
        cells = zip(r, widths, strict=True)
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(cells))

    lines.append(line(heads))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(r) for r in rows)
    lines.append("(Break-even: first month the option's cumulative cost is below the API's; "
                 "(!) misses the latency requirement.)")
    scores = ", ".join(f"{k} {v}" for k, v in rep["scores"].items())
    lines += ["", f"Recommendation: {rep['recommendation']}   (scores: {scores})", rep["moat"]["sentence"], "",
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


def cmd_recommend(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.catalog) if args.catalog else None
    scenarios = read_scenarios(args.scenario, catalog=catalog)
    reports = [full_report(a) for a in scenarios]
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    else:
        print("\n\n".join(format_report(r) for r in reports))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buildbuy", description="AI build-vs-buy decision engine.")
    parser.add_argument("--version", action="version", version=f"buildbuy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recommend", help="compare API, FINE-TUNE, TRAIN and PHASED for a scenario file")
    rec.add_argument("scenario", help="scenario file (.toml or .json)")
    rec.add_argument("--json", action="store_true", help="print JSON instead of text")
    rec.add_argument("--catalog", action="append", metavar="FILE",
                     help="your own price catalog TOML (repeatable; same id replaces a bundled row)")
    rec.set_defaults(func=cmd_recommend)
    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


#: Other modules add their sub-commands here (fill, recalc, lint ...).
EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BuildBuyError as exc:
        print(f"buildbuy {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"buildbuy {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"buildbuy {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
