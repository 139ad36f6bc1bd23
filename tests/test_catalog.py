"""The price catalog: every row dated and sourced; user files extend and override."""

from __future__ import annotations

import datetime as dt

import pytest

from buildbuy.engine import CatalogError, default_catalog, load_catalog
from buildbuy.engine.catalog import TABLE_FIELDS


def test_bundled_rows_are_complete_dated_and_sourced():
    cat = default_catalog()
    for table, fields in TABLE_FIELDS.items():
        rows = cat.rows(table)
        assert rows, table
        for row in rows:
            for f in fields:
                assert f in row, (table, row["id"], f)
            dt.date.fromisoformat(row["as_of"])
            assert row["source"].strip()


def test_catalog_has_the_three_kinds_and_a_7b_model():
    cat = default_catalog()
    params = [r["parameters"] for r in cat.rows("open_weight_model")]
    assert any(6e9 <= p <= 9e9 for p in params)
    assert cat.field("gpu", "a100-sxm-80gb", "peak_bf16_dense_tflops") == 312


def test_user_file_overrides_and_extends(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('''
[[gpu]]
id = "a100-sxm-80gb"
name = "A100 at our negotiated rate"
usd_per_hour = 1.10
price_provider = "our contract"
peak_bf16_dense_tflops = 312
memory_gb = 80
as_of = 2026-11-01
source = "contract #42"

[[api_model]]
id = "in-house-gateway"
provider = "us"
input_usd_per_mtok = 1
output_usd_per_mtok = 2
context_window_tokens = 32000
as_of = 2026-11-01
source = "internal price list"
''')
    cat = load_catalog([f])
    assert cat.field("gpu", "A100-SXM-80GB", "usd_per_hour") == 1.10
    assert cat.field("api_model", "in-house-gateway", "output_usd_per_mtok") == 2
    assert len(cat.rows("gpu")) == len(default_catalog().rows("gpu"))


@pytest.mark.parametrize("text, message", [
    ("[[gpu]]\nid='x'\n", "missing name, usd_per_hour"),
    ("[[gpus]]\nid='x'\n", "unknown table(s) ['gpus']"),
    ("[[gpu]]\nid='x'\nname='n'\nusd_per_hour=-1\nprice_provider='p'\npeak_bf16_dense_tflops=1\nmemory_gb=1\n"
     "as_of=2026-01-01\nsource='s'\n", "usd_per_hour must be a number >= 0, got -1"),
    ("not toml ===", "not valid TOML"),
])
def test_bad_catalog_files(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog([f])
    assert message in str(info.value)


def test_lookup_errors_name_what_exists():
    cat = default_catalog()
    with pytest.raises(CatalogError, match="not in the price catalog; known: "):
        cat.find("gpu", "tpu-v9")
    with pytest.raises(CatalogError, match="field 'price' is not a gpu field"):
        cat.field("gpu", "a100-sxm-80gb", "price")


GPU_IDS_ISSUE_12 = ("l4-24gb", "l40s-48gb", "a10-24gb", "a100-pcie-40gb", "a100-sxm-40gb", "a100-sxm-80gb",
                    "h100-pcie-80gb", "h100-sxm-80gb", "h200-sxm-141gb", "b200-180gb", "rtx-5090-32gb",
                    "mi300x-192gb")


def test_gpu_table_has_every_gpu_of_issue_12_with_all_fields():
    from buildbuy.engine.catalog import GPU_BUNDLED_FIELDS
    cat = default_catalog()
    assert set(GPU_IDS_ISSUE_12) <= set(cat.ids("gpu"))
    for gid in GPU_IDS_ISSUE_12:
        row = cat.find("gpu", gid)
        missing = [f for f in GPU_BUNDLED_FIELDS if f not in row]
        assert not missing, (gid, missing)
        assert row["usd_per_hour_min"] <= row["usd_per_hour"] <= row["usd_per_hour_max"]
        assert row["reserved_3y_usd_per_hour"] <= row["reserved_1y_usd_per_hour"] <= row["usd_per_hour"]


def test_gpu_default_price_is_the_median_of_its_provider_rows():
    # The default is data, so re-derive it from the per-provider rows with the standard library.
    import statistics
    cat = default_catalog()
    for row in cat.rows("gpu"):
        on_demand = [p["usd_per_hour"] for p in cat.gpu_prices(row["id"], "on_demand")]
        assert on_demand, row["id"]
        assert row["usd_per_hour"] == pytest.approx(statistics.median(on_demand), abs=5e-4), row["id"]
        assert row["usd_per_hour_min"] == min(on_demand) and row["usd_per_hour_max"] == max(on_demand)
        if row["price_provider"].startswith("median of "):
            assert row["price_provider"] == f"median of {len(on_demand)} providers", row["id"]
        spot = [p["usd_per_hour"] for p in cat.gpu_prices(row["id"], "spot")]
        if spot:
            assert row["spot_usd_per_hour"] == pytest.approx(statistics.median(spot), abs=5e-4), row["id"]
        for kind, derived in (("reserved_1y", 0.70), ("reserved_3y", 0.50)):
            quotes = [p["usd_per_hour"] for p in cat.gpu_prices(row["id"], kind)]
            want = statistics.median(quotes) if quotes else row["usd_per_hour"] * derived
            assert row[f"{kind}_usd_per_hour"] == pytest.approx(want, abs=5e-4), (row["id"], kind)


def test_gpu_known_specs_from_datasheets():
    cat = default_catalog()
    # NVIDIA H100 SXM: 80 GB, 3.35 TB/s, 989 BF16 / 1,979 FP8 dense TFLOP/s, 700 W.
    h100 = cat.find("gpu", "h100-sxm-80gb")
    assert (h100["memory_gb"], h100["memory_bandwidth_gb_per_s"], h100["peak_bf16_dense_tflops"],
            h100["peak_fp8_dense_tflops"], h100["power_kw"]) == (80, 3350, 989, 1979, 0.7)
    # Ampere has no FP8 Tensor Cores: 0 by convention.
    assert cat.field("gpu", "a100-sxm-80gb", "peak_fp8_dense_tflops") == 0
    # Lambda's $1.99 1x A100 40GB is the PCIe card (issue 12), not the SXM one.
    assert cat.field("gpu", "a100-pcie-40gb", "usd_per_hour") == 1.99
    assert cat.field("gpu", "a100-sxm-40gb", "usd_per_hour") != 1.99


def test_open_weight_rows_carry_kv_cache_architecture():
    cat = default_catalog()
    for row in cat.rows("open_weight_model"):
        for f in ("num_layers", "num_kv_heads", "head_dim", "hidden_size", "max_context_tokens"):
            assert row.get(f, 0) > 0, (row["id"], f)
    # Llama 3.1 8B config.json: 32 layers, 8 KV heads, head_dim 4096/32 = 128 -> 2*32*8*128*2 B = 131,072 B/token
    llama = cat.find("open_weight_model", "llama-3.1-8b")
    assert 2 * llama["num_layers"] * llama["num_kv_heads"] * llama["head_dim"] * 2 == 131_072


def test_gpu_price_rows_need_a_known_kind(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[[gpu_price]]\ngpu="l4-24gb"\nprovider="x"\nkind="weekly"\nusd_per_hour=1\n'
                 'as_of=2026-01-01\nsource="s"\n')
    with pytest.raises(CatalogError, match="kind must be one of on_demand, spot, reserved_1y, reserved_3y"):
        load_catalog([f])


def test_rows_know_which_file_they_came_from(tmp_path):
    from buildbuy.engine.catalog import BUNDLED_ORIGIN

    f = tmp_path / "mine.toml"
    f.write_text('[[gpu]]\nid = "h100-sxm-80gb"\nname = "H100 at our rate"\nusd_per_hour = 2.10\n'
                 'peak_bf16_dense_tflops = 989\nmemory_gb = 80\nas_of = 2026-11-01\nsource = "contract"\n')
    cat = load_catalog([f])
    assert cat.origin_of("gpu", "H100-SXM-80GB") == str(f)
    assert cat.origin_of("gpu", "l4-24gb") == BUNDLED_ORIGIN
    # The user's row replaces the bundled one entirely; the per-provider rows stay.
    assert cat.field("gpu", "h100-sxm-80gb", "usd_per_hour") == 2.10
    assert len(cat.gpu_prices("h100-sxm-80gb", "on_demand")) == 9
