"""Turn a usage export into the volume and token inputs of a scenario (``buildbuy usage FILE``).

Two layouts are read:

* **CSV** (our documented layout; one row per day and model, any column order, header required)::

      date,model,requests,input_tokens,output_tokens,cached_input_tokens,cache_write_tokens,reasoning_tokens,batch_requests
      2026-10-01,gpt-5.5,12000,9600000,3000000,4800000,0,0,0

  ``date`` (YYYY-MM-DD), ``requests``, ``input_tokens`` (all input tokens, cached ones included) and
  ``output_tokens`` are required; ``model`` and the other columns are optional (blank = 0).
  ``output_tokens`` excludes reasoning tokens when ``reasoning_tokens`` is given separately.

* **OpenAI Usage API JSON**: the response of ``GET /v1/organization/usage/completions`` (daily buckets,
  ideally ``group_by=model`` and ``group_by=batch``): ``{"object": "page", "data": [{"start_time": <unix s>,
  "results": [{"input_tokens", "output_tokens", "input_cached_tokens", "num_model_requests", "model",
  "batch"}, ...]}, ...]}``. Several pages may be given as a JSON list of such pages.

* **Anthropic Usage Report JSON**: the response of ``GET /v1/organizations/usage_report/messages`` (daily
  buckets, ideally ``group_by=model,service_tier``): ``{"data": [{"starting_at": <RFC 3339>, "results":
  [{"uncached_input_tokens", "cache_read_input_tokens", "cache_creation": {"ephemeral_5m_input_tokens",
  "ephemeral_1h_input_tokens"}, "output_tokens", "model", "service_tier", "context_window"}, ...]}, ...]}``.
  The report counts tokens, not requests, so the number of requests per day must be given
  (``--requests-per-day``); growth is then fitted on daily tokens.

The result is a dict of scenario inputs plus notes: requests/day (mean of the last 7 days), tokens per request
and cached share (totals over the whole file), monthly growth (a log-linear fit of daily requests, needs 14+
days), batch share, and the model mix (one model: ``api_model``; several: prices blended by tokens).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BuildBuyError, read_text_file

CSV_REQUIRED = ("date", "requests", "input_tokens", "output_tokens")
CSV_OPTIONAL = ("model", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "batch_requests")
#: Days of history needed before a growth rate is fitted.
MIN_DAYS_FOR_GROWTH = 14
#: Days averaged for requests_per_day (the most recent ones).
RECENT_DAYS = 7
DAYS_PER_MONTH = 365 / 12
COUNTS = ("requests", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens",
          "cache_write_1h_tokens", "reasoning_tokens", "batch_requests", "batch_tokens", "long_context_tokens")


class UsageFileError(BuildBuyError):
    """A usage file is missing, unreadable or not in a layout buildbuy reads."""


@dataclass
class UsageSummary:
    """Totals of a usage export, by day and by model."""

    layout: str
    by_day: dict[_dt.date, dict[str, float]] = field(default_factory=dict)
    by_model: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, day: _dt.date, model: str, counts: dict[str, float]) -> None:
        d = self.by_day.setdefault(day, dict.fromkeys(COUNTS, 0.0))
        m = self.by_model.setdefault(model, dict.fromkeys(COUNTS, 0.0))
        for k, v in counts.items():
            d[k] += v
            m[k] += v

    def total(self, key: str) -> float:
        return sum(d[key] for d in self.by_day.values())


def read_usage(path: str | Path) -> UsageSummary:
    """Read a usage export (CSV layout or OpenAI Usage API JSON), chosen by content."""
    p = Path(path)
    text = read_text_file(p, "usage file", UsageFileError, "utf-8-sig")
    if text.lstrip().startswith(("{", "[")):
        summary = _read_json(text, p)
    else:
        summary = _read_csv(text, p)
    counted = "input_tokens" if summary.layout == "anthropic-usage-report" else "requests"
    if not summary.by_day or summary.total(counted) <= 0:
        raise UsageFileError(f"usage file {p}: no {counted.replace('_', ' ')} found")
    return summary


def _number(value: Any, where: str, column: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UsageFileError(f"{where}: {column} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise UsageFileError(f"{where}: {column} must be a number >= 0, got {value!r}")
    return x


def _read_csv(text: str, p: Path) -> UsageSummary:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise UsageFileError(f"usage file {p}: CSV header lacks {', '.join(missing)} "
                             f"(required: {', '.join(CSV_REQUIRED)}; optional: {', '.join(CSV_OPTIONAL)})")
    unknown = [h for h in header if h not in CSV_REQUIRED + CSV_OPTIONAL]
    if unknown:
        raise UsageFileError(f"usage file {p}: unknown CSV column(s) {', '.join(unknown)} "
                             f"(allowed: {', '.join(CSV_REQUIRED + CSV_OPTIONAL)})")
    summary = UsageSummary("csv")
    for i, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        where = f"usage file {p}, line {i}"
        try:
            day = _dt.date.fromisoformat(str(row.get("date") or "").strip())
        except ValueError:
            raise UsageFileError(f"{where}: date must be YYYY-MM-DD, got {row.get('date')!r}") from None
        model = str(row.get("model") or "").strip()
        counts = {c: _number(row.get(c), where, c) for c in COUNTS if c in row}
        summary.add(day, model, counts)
    return summary


def _read_json(text: str, p: Path) -> UsageSummary:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFileError(f"usage file {p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    pages = data if isinstance(data, list) else [data]
    first = next((b for pg in pages if isinstance(pg, dict) and isinstance(pg.get("data"), list)
                  for b in pg["data"] if isinstance(b, dict)), {})
    if "starting_at" in first:
        return _read_anthropic_json(pages, p)
    return _read_openai_json(pages, p)


def _read_anthropic_json(pages: list[Any], p: Path) -> UsageSummary:
    summary = UsageSummary("anthropic-usage-report")
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise UsageFileError(f"usage file {p}: not an Anthropic usage report (expected "
                                 '{"data": [buckets], "has_more": ...})')
        for b, bucket in enumerate(page["data"]):
            where = f"usage file {p}, bucket {b}"
            try:
                day = _dt.datetime.fromisoformat(str(bucket["starting_at"]).replace("Z", "+00:00")).date()
            except (KeyError, TypeError, ValueError):
                raise UsageFileError(f"{where}: starting_at must be an RFC 3339 time") from None
            for r in bucket.get("results") or []:
                creation = r.get("cache_creation") or {}
                w5 = _number(creation.get("ephemeral_5m_input_tokens", r.get("cache_creation_5m_input_tokens")),
                             where, "ephemeral_5m_input_tokens")
                w1 = _number(creation.get("ephemeral_1h_input_tokens", r.get("cache_creation_1h_input_tokens")),
                             where, "ephemeral_1h_input_tokens")
                read = _number(r.get("cache_read_input_tokens"), where, "cache_read_input_tokens")
                total_in = _number(r.get("uncached_input_tokens"), where, "uncached_input_tokens") + read + w5 + w1
                counts = {"input_tokens": total_in, "cached_input_tokens": read, "cache_write_tokens": w5,
                          "cache_write_1h_tokens": w1,
                          "output_tokens": _number(r.get("output_tokens"), where, "output_tokens")}
                if r.get("service_tier") == "batch":
                    counts["batch_tokens"] = total_in + counts["output_tokens"]
                if str(r.get("context_window") or "").startswith("200k"):
                    counts["long_context_tokens"] = total_in
                summary.add(day, str(r.get("model") or "").strip(), counts)
    return summary


def _read_openai_json(pages: list[Any], p: Path) -> UsageSummary:
    summary = UsageSummary("openai-usage-api")
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise UsageFileError(f"usage file {p}: not an OpenAI Usage API response (expected "
                                 '{"object": "page", "data": [buckets]})')
        for b, bucket in enumerate(page["data"]):
            where = f"usage file {p}, bucket {b}"
            if not isinstance(bucket, dict) or "start_time" not in bucket:
                raise UsageFileError(f"{where}: a bucket needs start_time and results")
            start = _number(bucket["start_time"], where, "start_time")
            day = _dt.datetime.fromtimestamp(start, _dt.timezone.utc).date()
            for result in bucket.get("results") or []:
                counts = {
                    "requests": _number(result.get("num_model_requests"), where, "num_model_requests"),
                    "input_tokens": _number(result.get("input_tokens"), where, "input_tokens"),
                    "output_tokens": _number(result.get("output_tokens"), where, "output_tokens"),
                    "cached_input_tokens": _number(result.get("input_cached_tokens"), where, "input_cached_tokens"),
                }
                if result.get("batch") is True:
                    counts["batch_requests"] = counts["requests"]
                summary.add(day, str(result.get("model") or "").strip(), counts)
    return summary


def growth_per_month(by_day: dict[_dt.date, dict[str, float]], key: str = "requests") -> float | None:
    """Compound monthly growth of a daily count (requests by default) from a least-squares fit of its log.

    None with fewer than :data:`MIN_DAYS_FOR_GROWTH` days with a positive count.
    """
    points = [(d.toordinal(), v[key]) for d, v in sorted(by_day.items()) if v[key] > 0]
    if len(points) < MIN_DAYS_FOR_GROWTH:
        return None
    xs = [x - points[0][0] for x, _ in points]
    ys = [math.log(y) for _, y in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return math.exp(slope * DAYS_PER_MONTH) - 1.0


def scenario_from_usage(summary: UsageSummary, *, name: str = "from-usage", as_of: Any = None,
                        catalog: Any = None, requests_per_day: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """Scenario inputs from a usage summary, and notes saying how each was found.

    ``requests_per_day`` is needed for exports that count tokens but not requests (Anthropic's usage report).
    """
    days = sorted(summary.by_day)
    tokens_only = summary.layout == "anthropic-usage-report"
    if tokens_only and not requests_per_day:
        raise UsageFileError("Anthropic's usage report counts tokens, not requests: give the requests per day "
                             "(--requests-per-day N)")
    if tokens_only:
        for v in summary.by_day.values():
            v["requests"] = float(requests_per_day)
    requests = summary.total("requests")
    recent = days[-RECENT_DAYS:]
    rpd = sum(summary.by_day[d]["requests"] for d in recent) / len(recent)
    tin, tout = summary.total("input_tokens"), summary.total("output_tokens")
    inputs: dict[str, Any] = {
        "name": name,
        "requests_per_day": round(rpd, 2),
        "input_tokens_per_request": round(tin / requests, 2),
        "output_tokens_per_request": round(tout / requests, 2),
    }
    notes = [f"{summary.layout}: {len(days)} day(s) {days[0]} .. {days[-1]}, {requests:,.0f} requests, "
             f"{tin:,.0f} input and {tout:,.0f} output tokens",
             "requests_per_day: given (--requests-per-day)" if tokens_only else
             f"requests_per_day: mean of the last {len(recent)} day(s)",
             "tokens per request: totals over the whole file / requests"]
    if tin > 0:
        cached, written = summary.total("cached_input_tokens"), summary.total("cache_write_tokens")
        written_1h = summary.total("cache_write_1h_tokens")
        if cached > 0:
            inputs["api_cached_input_share"] = round(min(1.0, cached / tin), 6)
        if written > 0:
            inputs["api_cache_write_5m_share"] = round(min(1.0 - inputs.get("api_cached_input_share", 0.0),
                                                           written / tin), 6)
            if summary.layout == "csv":
                notes.append("cache writes counted as 5-minute writes; move them to api_cache_write_1h_share "
                             "if they were 1-hour writes")
        if written_1h > 0:
            inputs["api_cache_write_1h_share"] = round(min(
                1.0 - inputs.get("api_cached_input_share", 0.0) - inputs.get("api_cache_write_5m_share", 0.0),
                written_1h / tin), 6)
        long_tokens = summary.total("long_context_tokens")
        if long_tokens > 0:
            notes.append(f"{long_tokens / tin:.1%} of input tokens were in 200k-1M context requests; set "
                         "api_long_context_share to your share of such requests (the report does not count them)")
    reasoning = summary.total("reasoning_tokens")
    if reasoning > 0:
        inputs["api_reasoning_tokens_per_request"] = round(reasoning / requests, 2)
    batch = summary.total("batch_requests")
    if batch > 0:
        inputs["api_batch_share"] = round(min(1.0, batch / requests), 6)
    batch_tokens = summary.total("batch_tokens")
    if batch_tokens > 0:
        inputs["api_batch_share"] = round(min(1.0, batch_tokens / (tin + tout)), 6)
        notes.append("api_batch_share: share of tokens on the batch tier (requests assumed of equal size)")
    basis = "input_tokens" if tokens_only else "requests"
    growth = growth_per_month(summary.by_day, basis)
    if growth is None:
        notes.append(f"monthly_growth_rate: not fitted (needs {MIN_DAYS_FOR_GROWTH}+ days of usage); "
                     "enter your forecast")
    else:
        inputs["monthly_growth_rate"] = round(min(1.0, max(-0.5, growth)), 6)
        notes.append(f"monthly_growth_rate: log-linear least-squares fit of daily {basis.replace('_', ' ')}")
    _model_mix(summary, inputs, notes, as_of, catalog)
    return inputs, notes


def _model_mix(summary: UsageSummary, inputs: dict[str, Any], notes: list[str], as_of: Any,
               catalog: Any) -> None:
    weight = "input_tokens" if summary.layout == "anthropic-usage-report" else "requests"
    models = {m: v for m, v in summary.by_model.items() if v[weight] > 0}
    named = {m: v for m, v in models.items() if m}
    if not named:
        notes.append("no model names in the file: set api_model or the API prices yourself")
        return
    total = sum(v[weight] for v in models.values())
    mix = sorted(models.items(), key=lambda kv: -kv[1][weight])
    notes.append(f"model mix (share of {weight.replace('_', ' ')}): " + ", ".join(
        f"{m or '(unnamed)'} {v[weight] / total:.1%}" for m, v in mix))
    if len(models) == 1:
        inputs["api_model"] = next(iter(named))
        return
    from .errors import CatalogError
    from .prices import find_api_price

    prices = {}
    for m in models:
        try:
            prices[m] = find_api_price(m, as_of=as_of, catalog=catalog) if m else None
        except CatalogError:
            prices[m] = None
    unknown = [m or "(unnamed)" for m, p in prices.items() if p is None]
    if unknown:
        top = mix[0][0] or next(iter(named))
        inputs["api_model"] = top
        notes.append(f"no price for {', '.join(unknown)}: api_model set to the most used model {top!r}; "
                     "blend the prices yourself")
        return
    # Weights that make the blended scenario bill the file's own totals exactly: the input price over uncached
    # input tokens, the cache-read price over cached tokens, the output price over output + reasoning tokens.
    def blend(weights: dict[str, float], price: Any) -> float | None:
        total = sum(weights.values())
        return sum(w * price(m) for m, w in weights.items()) / total if total > 0 else None

    uncached = {m: max(0.0, v["input_tokens"] - v["cached_input_tokens"]) for m, v in models.items()}
    all_in = {m: v["input_tokens"] for m, v in models.items()}
    pin = blend(uncached, lambda m: prices[m].input_usd_per_mtok)
    if pin is None:
        pin = blend(all_in, lambda m: prices[m].input_usd_per_mtok) or 0.0
    outs = {m: v["output_tokens"] + v["reasoning_tokens"] for m, v in models.items()}
    pout = blend(outs, lambda m: prices[m].output_usd_per_mtok) or 0.0
    inputs["api_input_usd_per_mtok"] = round(pin, 6)
    inputs["api_output_usd_per_mtok"] = round(pout, 6)
    cached = {m: v["cached_input_tokens"] for m, v in models.items() if v["cached_input_tokens"] > 0}
    if cached and pin > 0 and all(prices[m].cached_input_usd_per_mtok is not None for m in cached):
        read = blend(cached, lambda m: prices[m].cached_input_usd_per_mtok) or 0.0
        inputs["api_cached_input_discount"] = round(min(1.0, max(0.0, 1.0 - read / pin)), 6)
    notes.append("API prices blended over the models so the file's totals bill exactly (input over uncached "
                 "tokens, cache reads over cached tokens, output over output + reasoning tokens): "
                 + "; ".join(f"{prices[m].ref} ${prices[m].input_usd_per_mtok:g}/${prices[m].output_usd_per_mtok:g}"
                             for m, _ in mix))


def scenario_toml(inputs: dict[str, Any], notes: list[str], source: str) -> str:
    """A scenario file (TOML) with the inputs and, as comments, how each was found."""
    lines = [f"# Scenario from usage export {source} (buildbuy usage)"]
    lines += [f"# {n}" for n in notes]
    lines.append("# Add the other inputs of your case (see docs/inputs.md) before `buildbuy recommend`.")
    for key, value in inputs.items():
        if isinstance(value, str):
            lines.append(f"{key} = {json.dumps(value)}")
        elif isinstance(value, float) and value.is_integer():
            lines.append(f"{key} = {int(value)}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"

