"""The generated reference docs are up to date with the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildbuy.workbook.docs import GENERATED

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_doc_is_fresh(name):
    assert (DOCS / name).read_text("utf-8") == GENERATED[name](), (
        f"docs/{name} is stale: run python -m buildbuy.workbook.docs")
