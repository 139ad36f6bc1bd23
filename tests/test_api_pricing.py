"""Every hosted-API pricing dimension, with known answers from the providers' published prices.

Each expected value is worked by hand in the comment (USD per million tokens x tokens / 1e6). Where the
``genai-prices`` library prices the same usage, its own calculator (independent code) is checked too.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from buildbuy.engine import CatalogError, InputError, load_catalog, resolve
from buildbuy.engine.costs import api_cost_per_request_usd
from buildbuy.engine.model import api_cost_per_request_usd as scenario_cost
from buildbuy.engine.prices import find_api_price, search_prices

genai_prices = pytest.importorskip("genai_prices")


def lib_price(usage: dict, model: str, provider: str | None = None, day: str | None = None,
              context: dict | None = None) -> float:
    """The library's own calculator, for a cross-check."""
    when = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc) if day else None
    return float(genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider,
                                         genai_request_timestamp=when, price_context=context).total_price)


def cost(**inputs) -> float:
    return float(scenario_cost(resolve(inputs)))


def test_no_dimension_used_is_the_plain_formula():
    # 400 in x $10 + 100 out x $30 = 4,000 + 3,000 = 7,000 per 1e6 -> $0.007
    assert api_cost_per_request_usd(400, 100, 10, 30) == pytest.approx(0.007)
    a = resolve(input_tokens_per_request=400, output_tokens_per_request=100, api_input_usd_per_mtok=10,
                api_output_usd_per_mtok=30)
    assert float(scenario_cost(a)) == pytest.approx(0.007)


def test_cache_read_gemini_2_5_pro_uses_its_listed_cached_price():
    # Google: Gemini 2.5 Pro input $1.25, context-cache read $0.125 per 1M (prompts <= 200K).
    # 100K tokens all read from cache: 100,000 x 0.125 / 1e6 = $0.0125 (the old 50% fallback charged $0.0625).
    got = cost(api_model="gemini-2.5-pro", input_tokens_per_request=100_000, output_tokens_per_request=0,
               api_cached_input_share=1.0)
    assert got == pytest.approx(0.0125)
    assert got == pytest.approx(lib_price({"input_tokens": 100_000, "cache_read_tokens": 100_000},
                                          "gemini-2.5-pro", "google"))


def test_prompt_above_the_threshold_bills_the_long_context_tier_by_itself():
    # A 1M-token prompt is above Gemini 2.5 Pro's 200K threshold: cache reads bill $0.25, not $0.125 -> $0.25
    got = cost(api_model="gemini-2.5-pro", input_tokens_per_request=1_000_000, output_tokens_per_request=0,
               api_cached_input_share=1.0)
    assert got == pytest.approx(0.25)
    assert got == pytest.approx(lib_price({"input_tokens": 1_000_000, "cache_read_tokens": 1_000_000},
                                          "gemini-2.5-pro", "google"))
    # A share the user gives wins (here: none of the requests are long).
    assert cost(api_model="gemini-2.5-pro", input_tokens_per_request=1_000_000, output_tokens_per_request=0,
                api_cached_input_share=1.0, api_long_context_share=0) == pytest.approx(0.125)


def test_cache_write_5m_anthropic_example():
    # genai-prices README example, Claude Sonnet 4 ($3 in, $3.75 5-minute write, $15 out):
    # 4,740 input tokens of which 4,735 written to cache, 255 output:
    # 5 x 3 + 4,735 x 3.75 + 255 x 15 = 15 + 17,756.25 + 3,825 = 21,596.25 / 1e6 = $0.02159625
    got = cost(api_model="claude-sonnet-4-20250514", input_tokens_per_request=4740, output_tokens_per_request=255,
               api_cache_write_5m_share=4735 / 4740)
    assert got == pytest.approx(0.02159625)
    assert got == pytest.approx(lib_price({"input_tokens": 4740, "cache_write_tokens": 4735, "output_tokens": 255},
                                          "claude-sonnet-4-20250514", "anthropic"))


def test_cache_write_1h_doubles_the_input_price():
    # Anthropic: 1-hour cache writes are 2x base input; Claude Sonnet 5.5 input $2 -> $4 per 1M written.
    # 1M tokens written to the 1-hour cache: $4.00
    got = cost(api_model="claude-sonnet-5-5", input_tokens_per_request=1_000_000, output_tokens_per_request=0,
               api_cache_write_1h_share=1.0)
    assert got == pytest.approx(4.0)
    # Defaults without a model: premium 1.0 on $10 -> $20 per 1M
    assert api_cost_per_request_usd(1e6, 0, 10, 10, api_cache_write_1h_share=1.0) == pytest.approx(20.0)


def test_batch_o3_half_price_readme_example():
    # genai-prices README: o3 on the Batch API on 2026-10-14, 1M in + 1M out = $5
    # (standard $2 + $8 = $10; batch half = $1 + $4).
    got = cost(api_model="o3", api_prices_as_of="2026-10-14", input_tokens_per_request=1e6,
               output_tokens_per_request=1e6, api_batch_share=1.0)
    assert got == pytest.approx(5.0)
    assert got == pytest.approx(lib_price({"input_tokens": 1_000_000, "output_tokens": 1_000_000}, "o3", "openai",
                                          "2026-10-14", {"processing": "batch"}))
    # Half the requests in batch: (10 + 5) / 2 = $7.50
    assert cost(api_model="o3", api_prices_as_of="2026-10-14", input_tokens_per_request=1e6,
                output_tokens_per_request=1e6, api_batch_share=0.5) == pytest.approx(7.5)


def test_batch_defaults_to_half_price_where_none_is_listed():
    # A catalog-less scenario: $10/$10, 1M + 1M = $20; all batch at the default 50% = $10
    assert cost(input_tokens_per_request=1e6, output_tokens_per_request=1e6, api_batch_share=1.0) == \
        pytest.approx(10.0)


def test_flex_and_priority_o3():
    # OpenAI o3 flex $1/$4, priority $3.50/$14 (verified 2026-10-12): 1M in + 1M out
    # flex = 1 + 4 = $5 (README example); priority = 3.5 + 14 = $17.50
    base = dict(api_model="o3", api_prices_as_of="2026-10-12", input_tokens_per_request=1e6,
                output_tokens_per_request=1e6)
    assert cost(**base, api_flex_share=1.0) == pytest.approx(5.0)
    assert cost(**base, api_priority_share=1.0) == pytest.approx(17.5)
    assert cost(**base, api_priority_share=1.0) == pytest.approx(lib_price(
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000}, "o3", "openai", "2026-10-12",
        {"service_tier": "priority"}))
    # 20% flex + 10% priority, 70% standard: 0.7 x 10 + 0.2 x 5 + 0.1 x 17.5 = 7 + 1 + 1.75 = $9.75
    assert cost(**base, api_flex_share=0.2, api_priority_share=0.1) == pytest.approx(9.75)


def test_long_context_gemini_2_5_pro_above_200k():
    # Google: prompts > 200K bill $2.50 in / $15 out (vs $1.25 / $10).
    # 300,000 in + 1,000 out, all long: 300,000 x 2.5 + 1,000 x 15 = 750,000 + 15,000 = $0.765
    got = cost(api_model="gemini-2.5-pro", input_tokens_per_request=300_000, output_tokens_per_request=1000,
               api_long_context_share=1.0)
    assert got == pytest.approx(0.765)
    assert got == pytest.approx(lib_price({"input_tokens": 300_000, "output_tokens": 1000}, "gemini-2.5-pro",
                                          "google"))
    # Only a quarter of the requests long: short = 0.375 + 0.01 = 0.385; 0.75 x 0.385 + 0.25 x 0.765 = 0.48
    assert cost(api_model="gemini-2.5-pro", input_tokens_per_request=300_000, output_tokens_per_request=1000,
                api_long_context_share=0.25) == pytest.approx(0.48)


def test_long_context_gpt_5_5_above_272k():
    # OpenAI GPT-5.5: > 272K input bills $10 in / $45 out (vs $5 / $30): 400K in + 2K out
    # 400,000 x 10 + 2,000 x 45 = 4,000,000 + 90,000 = $4.09
    got = cost(api_model="openai/gpt-5.5", input_tokens_per_request=400_000, output_tokens_per_request=2000,
               api_long_context_share=1.0)
    assert got == pytest.approx(4.09)


def test_flat_priced_model_has_no_long_context_surcharge():
    # Claude Sonnet 5.5 is flat across its 1M context: 500K in at $2 = $1.00 whatever the share says.
    assert cost(api_model="claude-sonnet-5-5", input_tokens_per_request=500_000, output_tokens_per_request=0,
                api_long_context_share=1.0) == pytest.approx(1.0)


def test_reasoning_tokens_bill_as_output():
    # o3 ($2 in / $8 out): 1,000 in, 500 visible out, 2,000 reasoning -> 1,000 x 2 + 2,500 x 8 = 22,000 -> $0.022
    got = cost(api_model="o3", input_tokens_per_request=1000, output_tokens_per_request=500,
               api_reasoning_tokens_per_request=2000)
    assert got == pytest.approx(0.022)
    # OpenAI reports reasoning inside completion tokens; the library prices 2,500 output tokens the same.
    assert got == pytest.approx(lib_price({"input_tokens": 1000, "output_tokens": 2500}, "o3", "openai"))


def test_regional_uplift_bedrock_claude_fable():
    # AWS Bedrock Claude Fable 5.1: global $10/$50, regional endpoint $11/$55 (10% premium).
    # 1M + 1M global = $60; with a 10% uplift = $66 = the regional list price.
    glob = cost(api_model="aws/global.anthropic.claude-fable-5-1-v1:0", input_tokens_per_request=1e6,
                output_tokens_per_request=1e6)
    assert glob == pytest.approx(60.0)
    uplifted = cost(api_model="aws/global.anthropic.claude-fable-5-1-v1:0", input_tokens_per_request=1e6,
                    output_tokens_per_request=1e6, api_regional_uplift=0.10)
    regional = cost(api_model="aws/regional.anthropic.claude-fable-5-1-v1:0", input_tokens_per_request=1e6,
                    output_tokens_per_request=1e6)
    assert uplifted == pytest.approx(66.0) == pytest.approx(regional)


def test_committed_use_discount():
    # A 20% negotiated discount on a $20 request: 20 x 0.8 = $16
    assert api_cost_per_request_usd(1e6, 1e6, 10, 10, api_committed_use_discount=0.2) == pytest.approx(16.0)


def test_every_dimension_together_by_hand():
    # $2 in / $8 out; 10,000 in (30% cache read at 90% off, 10% 5-min write at +25%), 500 out + 1,500 reasoning.
    # input weight = 0.6 + 0.3 x 0.1 + 0.1 x 1.25 = 0.6 + 0.03 + 0.125 = 0.755 -> 10,000 x 2 x 0.755 = 15,100
    # output = 2,000 x 8 = 16,000; 10% long at 2x / 1.5x: 0.9 x 31,100 + 0.1 x (30,200 + 24,000) = 33,410
    # tiers: 40% batch at 50% off -> x 0.8; uplift 10% -> x 1.1; commit 5% -> x 0.95
    # 33,410 x 0.8 x 1.1 x 0.95 = 27,930.76 / 1e6 = $0.02793076
    got = api_cost_per_request_usd(
        10_000, 500, 2, 8, 0.3, 0.9, api_cache_write_5m_share=0.1, api_cache_write_5m_premium=0.25,
        api_reasoning_tokens_per_request=1500, api_long_context_share=0.1, api_long_context_input_multiplier=2,
        api_long_context_output_multiplier=1.5, api_batch_share=0.4, api_batch_discount=0.5,
        api_regional_uplift=0.1, api_committed_use_discount=0.05)
    assert got == pytest.approx(0.02793076)


def test_dimensions_broadcast_over_a_sweep():
    got = api_cost_per_request_usd(1e6, 0, 10, 0, api_batch_share=np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(got, [10.0, 7.5, 5.0])


@pytest.mark.parametrize("inputs, message", [
    (dict(api_cached_input_share=0.7, api_cache_write_5m_share=0.4),
     "api_cached_input_share + api_cache_write_5m_share + api_cache_write_1h_share must be at most 1 in total"),
    (dict(api_batch_share=0.6, api_priority_share=0.6),
     "api_batch_share + api_flex_share + api_priority_share must be at most 1 in total"),
    (dict(api_regional_uplift=-0.1), "api_regional_uplift must be a number in [0, 10], got -0.1"),
])
def test_impossible_shares_are_clear_errors(inputs, message):
    with pytest.raises(InputError, match=message.replace("+", r"\+").replace("[", r"\[")):
        scenario_cost(resolve(inputs))


def test_price_on_a_date_before_and_after_a_change():
    # OpenAI cut o3 from $10/$40 to $2/$8 per 1M tokens on 2025-06-10.
    before = find_api_price("o3", as_of="2025-06-09")
    after = find_api_price("o3", as_of="2025-06-10")
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (10.0, 40.0)
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (2.0, 8.0)
    assert after.price_since == "2025-06-10"
    a = resolve(api_model="o3", api_prices_as_of="2025-06-09")
    assert a["api_input_usd_per_mtok"] == 10.0
    assert "in force on 2025-06-09" in a["api_price_source"]
    # Batch rates are dated from 2026-10-14: before that the library prices no batch variant.
    assert find_api_price("o3", as_of="2026-10-13").batch_input_usd_per_mtok is None
    assert find_api_price("o3", as_of="2026-10-14").batch_input_usd_per_mtok == 1.0


def test_bad_as_of_date_is_named():
    with pytest.raises(InputError, match="api_prices_as_of must be a date as YYYY-MM-DD"):
        resolve(api_model="o3", api_prices_as_of="last tuesday")


def test_missing_model_names_it_and_the_closest_matches():
    with pytest.raises(CatalogError) as info:
        resolve(api_model="gpt-5.9-turbo", name="plan")
    text = str(info.value)
    assert text.startswith("scenario 'plan': api_model 'gpt-5.9-turbo' is not known to genai-prices")
    assert "closest: " in text and "gpt-5.5-pro" in text
    assert "\n" not in text


def test_user_catalog_row_wins_and_library_fills_the_rest(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[[api_model]]\nid = "gpt-5.5"\nprovider = "OpenAI"\ninput_usd_per_mtok = 4\n'
                 'output_usd_per_mtok = 24\ncontext_window_tokens = 1050000\nas_of = 2026-11-01\n'
                 'source = "our enterprise contract"\n')
    cat = load_catalog([f])
    mine = find_api_price("gpt-5.5", catalog=cat)
    assert (mine.input_usd_per_mtok, mine.source) == (4.0, "our enterprise contract")
    # Without the user's file the library's price is used, not the bundled catalog row.
    lib = find_api_price("gpt-5.5")
    assert lib.origin.startswith("genai-prices") and lib.input_usd_per_mtok == 5.0
    # A model only the bundled catalog has still resolves (origin says so).
    only_ours = [p for p in search_prices("") if p.origin == "bundled catalog.toml"]
    for p in only_ours:
        assert find_api_price(p.ref).origin == "bundled catalog.toml"


LITELLM_SAMPLE = {
    "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                    "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of: chat"},
    "acme-chat-1": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                    "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
                    "cache_creation_input_token_cost_above_1hr": 6e-06,
                    "input_cost_per_token_above_200k_tokens": 6e-06,
                    "output_cost_per_token_above_200k_tokens": 2.25e-05,
                    "input_cost_per_token_batches": 1.5e-06, "output_cost_per_token_batches": 7.5e-06,
                    "litellm_provider": "acme", "max_input_tokens": 1000000, "mode": "chat"},
    "acme-embed": {"input_cost_per_token": 1e-07, "output_cost_per_token": 0.0, "litellm_provider": "acme",
                   "mode": "embedding"},
    "acme-image": {"output_cost_per_image": 0.04, "litellm_provider": "acme", "mode": "image_generation"},
}


def test_litellm_price_map_is_a_catalog(tmp_path):
    f = tmp_path / "model_prices_and_context_window.json"
    f.write_text(json.dumps(LITELLM_SAMPLE))
    cat = load_catalog([f])
    assert "acme-chat-1" in cat.ids("api_model")
    assert "acme-embed" not in cat.ids("api_model") and "acme-image" not in cat.ids("api_model")
    p = find_api_price("acme-chat-1", catalog=cat)
    # $ per token x 1e6 = $ per 1M tokens
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok, p.cached_input_usd_per_mtok) == (3.0, 15.0, 0.3)
    assert (p.cache_write_5m_usd_per_mtok, p.cache_write_1h_usd_per_mtok) == (3.75, 6.0)
    assert (p.long_context_threshold_tokens, p.long_context_input_usd_per_mtok,
            p.long_context_output_usd_per_mtok) == (200_000, 6.0, 22.5)
    assert (p.batch_input_usd_per_mtok, p.context_window_tokens) == (1.5, 1_000_000)
    a = resolve(api_model="acme-chat-1", catalog=cat, input_tokens_per_request=100_000,
                output_tokens_per_request=0, api_cached_input_share=1.0)
    # 100K cached tokens at $0.30 per 1M = $0.03
    assert float(scenario_cost(a)) == pytest.approx(0.03)
    assert a["api_batch_discount"] == pytest.approx(0.5)
    assert "LiteLLM price map model_prices_and_context_window.json" in a["api_price_source"]


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "a LiteLLM price map is one JSON object keyed by model name"),
    ("{not json", "not valid JSON"),
    ('{"x": {"mode": "embedding", "input_cost_per_token": 1e-7, "output_cost_per_token": 0}}', "no chat model"),
])
def test_bad_litellm_files(tmp_path, text, message):
    f = tmp_path / "prices.json"
    f.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_catalog([f])


def test_search_lists_prices_with_provider_date_and_source():
    hits = search_prices("claude sonnet 5.5", as_of="2026-11-01")
    refs = [h.ref for h in hits]
    assert "anthropic/claude-sonnet-5-5" in refs
    h = hits[refs.index("anthropic/claude-sonnet-5-5")]
    assert (h.input_usd_per_mtok, h.output_usd_per_mtok, h.as_of) == (2.0, 10.0, "2026-11-01")
    assert h.source.startswith("https://")


def test_refreshed_price_data_is_used_offline_when_present(tmp_path, monkeypatch):
    # `buildbuy prices --refresh` stores the library's data file; later runs read it (no network here: the file
    # is hand-made in the library's provider-list layout).
    from buildbuy.engine import prices

    raw = [{"id": "acme", "name": "Acme", "api_pattern": r"https://api\.acme\.test",
            "pricing_urls": ["https://acme.test/pricing"],
            "models": [{"id": "acme-1", "match": {"equals": "acme-1"}, "prices": [
                {"prices": {"input_mtok": 1, "output_mtok": 2}},
                {"constraint": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 0.5, "output_mtok": 1}}]}]}]
    cache = tmp_path / "genai-prices.json"
    cache.write_text(json.dumps(raw))
    monkeypatch.setenv(prices.CACHE_ENV, str(cache))
    p = find_api_price("acme-1", as_of="2026-02-01")
    assert (p.input_usd_per_mtok, p.price_since, p.source) == (0.5, "2026-01-01", "https://acme.test/pricing")
    assert p.origin.startswith("genai-prices data refreshed ")
    assert find_api_price("acme-1", as_of="2025-12-31").input_usd_per_mtok == 1.0
    cache.write_text("{broken")
    prices._snapshot.cache_clear()
    with pytest.raises(CatalogError, match="unreadable .* delete it or run `buildbuy prices --refresh` again"):
        find_api_price("acme-1")
    prices._snapshot.cache_clear()


def test_without_the_library_the_bundled_catalog_answers(monkeypatch):
    # Python 3.10 cannot install genai-prices: the bundled rows (with issue 12's fixes) are used.
    from buildbuy.engine import prices

    monkeypatch.setattr(prices, "snapshot", lambda: None)
    monkeypatch.setattr(prices, "_library_names", lambda cache_file: ())
    monkeypatch.setattr(prices, "library_version", lambda: None)
    p = find_api_price("gemini-2.5-pro")
    assert p.origin == "bundled catalog.toml"
    # Gemini 2.5 Pro's cached read is $0.125 (was missing, so the 50% fallback charged $0.625)
    assert (p.cached_input_usd_per_mtok, p.long_context_threshold_tokens) == (0.125, 200_000)
    a = resolve(api_model="gemini-2.5-pro")
    assert a["api_cached_input_discount"] == pytest.approx(0.9)
    with pytest.raises(CatalogError, match="is not known to the price catalog"):
        find_api_price("o3")


@pytest.mark.parametrize("backend", ["formualizer", "formulas"])
def test_workbook_with_every_dimension_passes_its_checks(tmp_path, backend):
    # The Checks sheet recomputes the API cost natively with every dimension; engine and Excel must agree,
    # and the filled workbook carries where the prices came from.
    from openpyxl import load_workbook

    from buildbuy.workbook.fill import fill
    from buildbuy.workbook.recalc import recalc

    a = resolve(name="dims", api_model="o3", api_prices_as_of="2026-10-14", requests_per_day=5000,
                input_tokens_per_request=3000, output_tokens_per_request=400, api_cached_input_share=0.3,
                api_cache_write_5m_share=0.1, api_cache_write_1h_share=0.05, api_batch_share=0.2,
                api_flex_share=0.1, api_priority_share=0.05, api_long_context_share=0.1,
                api_reasoning_tokens_per_request=800, api_regional_uplift=0.1, api_committed_use_discount=0.15)
    path = fill(a, tmp_path / "dims.xlsx")
    report = recalc(path, tmp_path / "out.xlsx", backend=backend)
    assert report.ok and report.check_total == 0, report.errors
    values = [c.value for row in load_workbook(report.path, data_only=True)["Inputs"].iter_rows() for c in row]
    assert a["api_price_source"] in values


def test_refresh_validates_then_replaces_the_cache(tmp_path, monkeypatch):
    # The network call is replaced by a stub: refresh must validate the payload and write it atomically.
    import httpx2

    from buildbuy.engine import prices

    cache = tmp_path / "cache" / "genai-prices.json"
    monkeypatch.setenv(prices.CACHE_ENV, str(cache))
    good = [{"id": "acme", "name": "Acme", "api_pattern": "x", "models": [
        {"id": "acme-2", "match": {"equals": "acme-2"}, "prices": {"input_mtok": 3, "output_mtok": 6}}]}]

    class Response:
        def __init__(self, body: bytes) -> None:
            self.content = body

        def raise_for_status(self) -> None:
            pass

    monkeypatch.setattr(httpx2, "get", lambda url, timeout: Response(json.dumps(good).encode()))
    assert prices.refresh() == cache
    assert find_api_price("acme-2").input_usd_per_mtok == 3.0
    monkeypatch.setattr(httpx2, "get", lambda url, timeout: Response(b'{"not": "a provider list"}'))
    with pytest.raises(CatalogError, match="could not refresh prices"):
        prices.refresh()
    assert json.loads(cache.read_text()) == good  # the old data is kept
    prices._snapshot.cache_clear()


def test_as_of_typed_as_an_excel_date():
    # Excel hands a date cell over as a date (xlwings) or as its day serial (headless): 2025-06-09 is serial 45817
    # (days since 1899-12-30: 2025-06-09 - 1899-12-30 = 45,817).
    for value in (dt.date(2025, 6, 9), dt.datetime(2025, 6, 9, 0, 0), 45817):
        a = resolve(api_model="o3", api_prices_as_of=value)
        assert a["api_prices_as_of"] == "2025-06-09" and a["api_input_usd_per_mtok"] == 10.0
    with pytest.raises(InputError, match="api_prices_as_of must be a date as YYYY-MM-DD"):
        resolve(api_prices_as_of=True)


def test_batch_and_long_context_together_gemini():
    # Google Gemini 2.5 Pro Batch (verified 2026-10-14) halves both prompt-size tiers: above 200K, $1.25 in /
    # $7.50 out. 300,000 in + 1,000 out in batch: 300,000 x 1.25 + 1,000 x 7.5 = 375,000 + 7,500 = $0.3825
    got = cost(api_model="gemini-2.5-pro", api_prices_as_of="2026-11-01", input_tokens_per_request=300_000,
               output_tokens_per_request=1000, api_batch_share=1.0)
    assert got == pytest.approx(0.3825)
    assert got == pytest.approx(lib_price({"input_tokens": 300_000, "output_tokens": 1000}, "gemini-2.5-pro",
                                          "google", "2026-11-01", {"processing": "batch"}))
