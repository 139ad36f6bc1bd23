"""`buildbuy usage`: usage exports (our CSV layout, OpenAI Usage API JSON) into scenario files; `buildbuy prices`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from buildbuy.engine import read_scenarios
from buildbuy.engine.usage import UsageFileError, growth_per_month, read_usage, scenario_from_usage
from buildbuy.workbook.cli import main

pytest.importorskip("genai_prices")


def write_csv(path, rows, header="date,model,requests,input_tokens,output_tokens,cached_input_tokens"):
    path.write_text(header + "\n" + "\n".join(",".join(str(c) for c in r) for r in rows) + "\n")
    return path


def test_csv_single_model_known_answer(tmp_path):
    # 3 days of gpt-5.5: requests 1,000 / 2,000 / 3,000 = 6,000; input 6,000,000 (of which 1,500,000 cached);
    # output 1,200,000.  requests/day = mean of the last 7 (= all 3) days = 2,000;
    # input/request = 6e6 / 6e3 = 1,000; output/request = 200; cached share = 1.5e6 / 6e6 = 0.25.
    f = write_csv(tmp_path / "usage.csv", [
        ("2026-10-01", "gpt-5.5", 1000, 1_000_000, 200_000, 250_000),
        ("2026-10-02", "gpt-5.5", 2000, 2_000_000, 400_000, 500_000),
        ("2026-10-03", "gpt-5.5", 3000, 3_000_000, 600_000, 750_000),
    ])
    inputs, notes = scenario_from_usage(read_usage(f), name="acme")
    assert inputs == {"name": "acme", "requests_per_day": 2000, "input_tokens_per_request": 1000,
                      "output_tokens_per_request": 200, "api_cached_input_share": 0.25, "api_model": "gpt-5.5"}
    assert any("not fitted" in n for n in notes)  # 3 days: no growth fitted


def test_growth_fit_known_answer():
    # Requests growing 1% a day for 30 days: the fit must find slope = ln(1.01) = 0.0099503 per day;
    # x 365/12 = 30.4167 days -> 0.302656; e^0.302656 = 1.353449 -> 35.345% a month.
    start = dt.date(2026, 9, 1)
    by_day = {start + dt.timedelta(days=i): {"requests": 1000 * 1.01 ** i} for i in range(30)}
    assert growth_per_month(by_day) == pytest.approx(0.353449, abs=1e-6)


def test_csv_model_mix_blends_library_prices(tmp_path):
    # 2 models, 1 day: gpt-5.5 ($5 in / $30 out) 1M in + 100K out; gpt-5.4-mini ($0.75 / $4.50) 3M in + 300K out.
    # blended input = (1 x 5 + 3 x 0.75) / 4 = 7.25 / 4 = 1.8125; output = (0.1 x 30 + 0.3 x 4.5) / 0.4 = 4.35/0.4
    # = 10.875
    f = write_csv(tmp_path / "mix.csv", [
        ("2026-10-01", "gpt-5.5", 1000, 1_000_000, 100_000, 0),
        ("2026-10-01", "gpt-5.4-mini", 3000, 3_000_000, 300_000, 0),
    ])
    inputs, notes = scenario_from_usage(read_usage(f), as_of="2026-11-01")
    assert inputs["api_input_usd_per_mtok"] == pytest.approx(1.8125)
    assert inputs["api_output_usd_per_mtok"] == pytest.approx(10.875)
    assert "api_model" not in inputs
    assert any("gpt-5.4-mini 75.0%" in n for n in notes)


def test_openai_usage_api_json(tmp_path):
    # The documented response of GET /v1/organization/usage/completions (daily buckets, grouped by model and batch)
    day0 = int(dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc).timestamp())
    page = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": day0 + 86400 * i, "end_time": day0 + 86400 * (i + 1), "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 800_000, "output_tokens": 100_000,
             "input_cached_tokens": 400_000, "num_model_requests": 800, "project_id": None, "user_id": None,
             "api_key_id": None, "model": "gpt-5.5", "batch": False},
            {"object": "organization.usage.completions.result", "input_tokens": 200_000, "output_tokens": 50_000,
             "input_cached_tokens": 0, "num_model_requests": 200, "project_id": None, "user_id": None,
             "api_key_id": None, "model": "gpt-5.5", "batch": True}]}
        for i in range(2)]}
    f = tmp_path / "openai-usage.json"
    f.write_text(json.dumps(page))
    summary = read_usage(f)
    assert summary.layout == "openai-usage-api"
    inputs, _ = scenario_from_usage(summary, name="oa")
    # per day 1,000 requests, 1,000,000 input (400,000 cached), 150,000 output; 200 batch requests
    assert inputs["requests_per_day"] == 1000
    assert inputs["input_tokens_per_request"] == 1000 and inputs["output_tokens_per_request"] == 150
    assert inputs["api_cached_input_share"] == 0.4 and inputs["api_batch_share"] == 0.2
    assert inputs["api_model"] == "gpt-5.5"


def test_usage_command_prints_a_scenario_that_loads(tmp_path, capsys):
    rows = [(str(dt.date(2026, 9, 1) + dt.timedelta(days=i)), "claude-sonnet-5-5", 100 + 10 * i,
             (100 + 10 * i) * 2000, (100 + 10 * i) * 300, 0) for i in range(20)]
    f = write_csv(tmp_path / "daily.csv", rows)
    assert main(["usage", str(f)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Scenario from usage export daily.csv")
    out = tmp_path / "scenario.toml"
    assert main(["usage", str(f), "-o", str(out), "--name", "sonnet-app"]) == 0
    [a] = read_scenarios(out)
    assert a.name == "sonnet-app" and a["input_tokens_per_request"] == 2000
    assert a["api_model"] == "claude-sonnet-5-5" and a["api_input_usd_per_mtok"] == 2.0
    assert a["monthly_growth_rate"] > 0
    # And the scenario runs end to end.
    assert main(["recommend", str(out)]) == 0
    assert "API prices: anthropic/claude-sonnet-5-5: genai-prices" in capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    ("date,requests\n2026-01-01,5\n", "CSV header lacks input_tokens, output_tokens"),
    ("date,requests,input_tokens,output_tokens,colour\n", "unknown CSV column(s) colour"),
    ("date,requests,input_tokens,output_tokens\n01/02/2026,5,1,1\n", "line 2: date must be YYYY-MM-DD"),
    ("date,requests,input_tokens,output_tokens\n2026-01-01,-5,1,1\n", "line 2: requests must be a number >= 0"),
    ("date,requests,input_tokens,output_tokens\n2026-01-01,0,0,0\n", "no requests found"),
    ('{"data": 5}', "not an OpenAI Usage API response"),
])
def test_bad_usage_files_are_one_clear_line(tmp_path, capsys, text, message):
    f = tmp_path / ("u.json" if text.startswith("{") else "u.csv")
    f.write_text(text)
    with pytest.raises(UsageFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_usage(f)
    assert main(["usage", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_prices_command_lists_provider_date_and_source(capsys):
    assert main(["prices", "gemini-2.5-pro", "--as-of", "2026-11-01", "--json"]) == 0
    rows = {r["ref"]: r for r in json.loads(capsys.readouterr().out)}
    g = rows["google/gemini-2.5-pro"]
    assert (g["input_usd_per_mtok"], g["cached_input_usd_per_mtok"], g["long_context_threshold_tokens"]) == \
        (1.25, 0.125, 200000)
    assert g["as_of"] == "2026-11-01" and g["origin"].startswith("genai-prices") and g["source"].startswith("https")
    assert main(["prices", "claude", "haiku", "5.5"]) == 0
    text = capsys.readouterr().out
    assert "anthropic/claude-haiku-5-5" in text and ">100K: 0.5/2.5" in text


def test_prices_command_suggests_the_closest_models(capsys):
    assert main(["prices", "gemini-2.5-prro"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("no model matches 'gemini-2.5-prro'") and "closest: gemini-2.5-pro" in err


def test_prices_command_before_and_after_a_price_change(capsys):
    main(["prices", "openai/o3", "--json", "--as-of", "2025-06-09"])
    before = {r["ref"]: r for r in json.loads(capsys.readouterr().out)}["openai/o3"]
    main(["prices", "openai/o3", "--json", "--as-of", "2025-06-10"])
    after = {r["ref"]: r for r in json.loads(capsys.readouterr().out)}["openai/o3"]
    assert (before["input_usd_per_mtok"], after["input_usd_per_mtok"]) == (10.0, 2.0)


def test_recommend_as_of_and_unknown_model_messages(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "s"\nrequests_per_day = 1000\napi_model = "o3"\n')
    assert main(["recommend", str(f), "--as-of", "2025-06-09"]) == 0
    assert "API prices: openai/o3: genai-prices 0.2.3, prices in force on 2025-06-09" in capsys.readouterr().out
    assert main(["recommend", str(f), "--as-of", "2025-06-10", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["inputs"]["api_input_usd_per_mtok"] == 2.0 and "2025-06-10" in rep["api_price_source"]
    f.write_text('name = "s"\napi_model = "claude-sonet-5-5"\n')
    assert main(["recommend", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "api_model 'claude-sonet-5-5' is not known to genai-prices" in err and "claude-sonnet-5-5" in err


def test_prices_and_recommend_never_touch_the_network(tmp_path, monkeypatch, capsys):
    # Offline by default: any socket connection fails the test.
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    f = tmp_path / "s.toml"
    f.write_text('name = "s"\nrequests_per_day = 1000\napi_model = "anthropic/claude-haiku-5-5"\n')
    assert main(["prices", "claude"]) == 0
    assert main(["recommend", str(f), "--as-of", "2026-11-01"]) == 0
    assert "API prices: anthropic/claude-haiku-5-5" in capsys.readouterr().out


def test_fill_as_of_writes_that_dates_prices(tmp_path):
    from openpyxl import load_workbook

    f = tmp_path / "s.toml"
    f.write_text('name = "s"\nrequests_per_day = 1000\napi_model = "o3"\n')
    out = tmp_path / "s.xlsx"
    assert main(["fill", str(f), "-o", str(out), "--as-of", "2025-06-09"]) == 0
    wb = load_workbook(out)

    def named(name):
        [(sheet, ref)] = list(wb.defined_names[name].destinations)
        return wb[sheet][ref.replace("$", "")].value

    # o3 cost $10/$40 per 1M tokens before 2025-06-10
    assert (named("api_input_usd_per_mtok"), named("api_output_usd_per_mtok")) == (10, 40)
    assert "openai/o3" in named("api_price_source") and "2025-06-09" in named("api_price_source")


def test_anthropic_usage_report_json(tmp_path, capsys):
    # The documented response of GET /v1/organizations/usage_report/messages (daily buckets, grouped by model and
    # service tier). Per day: standard 60,000 uncached + 30,000 read + 8,000 5-min + 2,000 1-h writes = 100,000
    # input, 10,000 output; batch 40,000 uncached input, 5,000 output. Two days, 100 requests/day given.
    def bucket(day):
        return {"starting_at": f"2026-10-0{day}T00:00:00Z", "ending_at": f"2026-10-0{day + 1}T00:00:00Z",
                "results": [
                    {"uncached_input_tokens": 60_000, "cache_read_input_tokens": 30_000,
                     "cache_creation": {"ephemeral_5m_input_tokens": 8_000, "ephemeral_1h_input_tokens": 2_000},
                     "output_tokens": 10_000, "server_tool_use": {"web_search_requests": 0}, "api_key_id": None,
                     "workspace_id": None, "model": "claude-sonnet-5-5", "service_tier": "standard",
                     "context_window": "0-200k"},
                    {"uncached_input_tokens": 40_000, "cache_read_input_tokens": 0,
                     "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                     "output_tokens": 5_000, "model": "claude-sonnet-5-5", "service_tier": "batch",
                     "context_window": "0-200k"}]}
    f = tmp_path / "anthropic-usage.json"
    f.write_text(json.dumps({"data": [bucket(1), bucket(2)], "has_more": False, "next_page": None}))
    summary = read_usage(f)
    assert summary.layout == "anthropic-usage-report"
    with pytest.raises(UsageFileError, match="counts tokens, not requests"):
        scenario_from_usage(summary)
    inputs, _ = scenario_from_usage(summary, requests_per_day=100)
    # 2 x 140,000 input / 200 requests = 1,400; 2 x 15,000 output / 200 = 150
    # cached 60,000 / 280,000 = 0.214286; 5-min 16,000 / 280,000 = 0.057143; 1-h 4,000 / 280,000 = 0.014286
    # batch tokens 2 x 45,000 / (280,000 + 30,000) = 0.290323
    assert (inputs["requests_per_day"], inputs["input_tokens_per_request"], inputs["output_tokens_per_request"]) \
        == (100, 1400, 150)
    assert (inputs["api_cached_input_share"], inputs["api_cache_write_5m_share"],
            inputs["api_cache_write_1h_share"], inputs["api_batch_share"]) == (0.214286, 0.057143, 0.014286, 0.290323)
    assert inputs["api_model"] == "claude-sonnet-5-5"
    assert main(["usage", str(f), "--requests-per-day", "100"]) == 0
    assert "api_cache_write_1h_share = 0.014286" in capsys.readouterr().out


def test_blended_mix_bills_the_files_own_total(tmp_path):
    # One day, two models (list prices on 2026-11-01: gpt-5.5 $5 in / $0.50 cached / $30 out; gpt-5.4-mini
    # $0.75 / $0.075 / $4.50):
    # gpt-5.5: 4,000 req, 9.6M in (4.8M cached), 1.4M out + 2.0M reasoning
    #   = 4.8 x 5 + 4.8 x 0.5 + 3.4 x 30 = 24 + 2.4 + 102 = $128.40
    # mini: 12,000 req, 10.8M in (3.6M cached), 1.8M out = 7.2 x 0.75 + 3.6 x 0.075 + 1.8 x 4.5
    #   = 5.4 + 0.27 + 8.1 = $13.77;  together $142.17 for 16,000 requests
    f = write_csv(tmp_path / "day.csv", [
        ("2026-10-01", "gpt-5.5", 4000, 9_600_000, 1_400_000, 4_800_000, 2_000_000),
        ("2026-10-01", "gpt-5.4-mini", 12000, 10_800_000, 1_800_000, 3_600_000, 0),
    ], header="date,model,requests,input_tokens,output_tokens,cached_input_tokens,reasoning_tokens")
    inputs, _ = scenario_from_usage(read_usage(f), as_of="2026-11-01")
    from buildbuy.engine import resolve
    from buildbuy.engine.model import api_cost_per_request_usd

    per_request = float(api_cost_per_request_usd(resolve(inputs)))
    assert per_request * 16_000 == pytest.approx(142.17, rel=1e-6)  # inputs are rounded to 6 digits


def test_the_readme_sample_runs_end_to_end(tmp_path, capsys):
    from .test_cli import EXAMPLES

    out = tmp_path / "mine.toml"
    assert main(["usage", str(EXAMPLES / "usage" / "daily-usage.csv"), "-o", str(out), "--as-of", "2026-11-01"]) == 0
    [a] = read_scenarios(out)
    # 28 days, requests growing 0.5% a day: 1.005^(365/12) - 1 = 16.4% a month
    assert a["monthly_growth_rate"] == pytest.approx(1.005 ** (365 / 12) - 1, abs=1e-3)
    assert a["api_batch_share"] == pytest.approx(0.1875, abs=1e-4)  # mini: 25% of its 75% of requests
    assert main(["recommend", str(out)]) == 0


def test_summary_shows_where_the_api_prices_came_from(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('requests_per_day = 1000\n[scenarios.a]\napi_model = "o3"\n'
                 '[scenarios.b]\napi_input_usd_per_mtok = 3\n')
    assert main(["recommend", str(f), "--summary", "--as-of", "2025-06-09"]) == 0
    out = capsys.readouterr().out
    assert "API prices: openai/o3: genai-prices 0.2.3, prices in force on 2025-06-09" in out
    assert "API prices: scenario inputs (scenarios without api_model)" in out
