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
