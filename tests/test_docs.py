"""The generated reference docs are up to date with the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildbuy.engine import load_catalog
from buildbuy.engine.catalog import OPTIONAL_FIELDS, TABLE_FIELDS
from buildbuy.workbook.docs import GENERATED

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_doc_is_fresh(name):
    assert (DOCS / name).read_text("utf-8") == GENERATED[name](), (
        f"docs/{name} is stale: run python -m buildbuy.workbook.docs")


def test_readme_documents_every_catalog_field_and_its_example_loads(tmp_path):
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## Price catalog"):readme.index("## Model conventions")]
    for table, fields in TABLE_FIELDS.items():
        for field in fields + OPTIONAL_FIELDS[table]:
            assert f"`{field}`" in section, (table, field)
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "mine.toml").write_text(example)
    cat = load_catalog([tmp_path / "mine.toml"])
    assert cat.field("api_model", "our-contract-model", "input_usd_per_mtok") == 1.0
    assert cat.field("gpu", "h100-sxm-80gb", "usd_per_hour") == 2.10
