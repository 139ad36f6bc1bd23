"""The one-scan formula filters (:func:`formula_text.matching`) find exactly the formulas a search of each
formula on its own finds, so skipping the others drops no finding; and the bulk writer of cached values writes
what the one-cell writer writes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from buildbuy.udfs.refs import FormulaCell
from buildbuy.workbook import formula_text as ft
from buildbuy.workbook.backend_formualizer import _MAY_SPILL
from buildbuy.workbook.gaps import _EMPTY_ARG, _KEYWORDS, value_gap_cells
from buildbuy.workbook.xlsx import NS_MAIN, write_cached, write_cached_many

# The per-formula patterns these scans replace, as the code had them (the reference behaviour).
OLD_MAY_SPILL = re.compile(r"[:{]|[A-Za-z_][\w.]*\s*\(|^=\s*[A-Za-z_][\w.]*\s*$")

FORMULAS = ["=D2*(1+$C2)", "=SUM(A1:A3)", "=x", "= total ", "=A1", "={1,2}", "=a (1)", "=1+2", "=-B$7",
            "=BVB_API_COST($B10,400,100,10,10)/12", '="LEFT"', "=left(A1,2)", "=IF(A1,,2)", "=f(1, )", "=N(1)",
            "=n (1)", "=1,2", "=EOMONTH(A1,1)", "=A1#", "=Straße(1)", "=ſum(1)", "", "=\n1", "=A\x00B"]


def reference_spill(formula: str) -> bool:
    return bool(OLD_MAY_SPILL.search(formula))


def test_may_spill_scan_finds_every_formula_the_old_search_found() -> None:
    got = set(ft.matching(_MAY_SPILL, FORMULAS))
    want = {i for i, f in enumerate(FORMULAS) if reference_spill(f)}
    assert want <= got
    # more only where a NUL (which no file can hold) ends a name: inspected, to be safe
    assert {FORMULAS[i] for i in got - want} == {"=A\x00B"}


def test_keyword_scan_matches_the_case_blind_search() -> None:
    cells = [FormulaCell("S", f"A{i + 1}", f) for i, f in enumerate(FORMULAS)]
    assert value_gap_cells(cells) == [i for i, f in enumerate(FORMULAS) if _KEYWORDS.search(f)]


def test_empty_argument_scan_keeps_every_formula_with_an_empty_argument() -> None:
    got = ft.matching(_EMPTY_ARG, FORMULAS)
    assert [FORMULAS[i] for i in got] == ["=IF(A1,,2)", "=f(1, )"]


formula_text = st.text(alphabet=st.sampled_from(list("=ABCDNSUMLEFTxyz$1(),:{} \"#.ß\x00")), max_size=14)


@settings(max_examples=300, deadline=None)
@given(st.lists(formula_text, max_size=12))
def test_one_scan_equals_one_search_per_formula(texts: list[str]) -> None:
    for patterns, upper in ((_MAY_SPILL, False), ([re.compile(_KEYWORDS.pattern)], True), ([_EMPTY_ARG], False)):
        want = [i for i, t in enumerate(texts)
                if any(p.search("\x00" + (t.upper() if upper else t) + "\x00") for p in patterns)]
        assert ft.matching(patterns, texts, upper=upper) == want


def _cells(n: int) -> list[etree._Element]:
    m = f"{{{NS_MAIN}}}"
    out = []
    for i in range(n):
        c = etree.Element(f"{m}c", r=f"A{i + 1}", t="str" if i % 2 else "n")
        etree.SubElement(c, f"{m}f").text = "1+1"
        if i % 3:
            etree.SubElement(c, f"{m}v").text = "old"
        out.append(c)
    return out


def test_bulk_writer_writes_what_the_one_cell_writer_writes() -> None:
    values = [1.0, 0.1, -2.5e300, 3e15, True, "text", None, 7.0, 1e-300]
    one, bulk = _cells(len(values)), _cells(len(values))
    for c, v in zip(one, values, strict=True):
        write_cached(c, v)
    assert write_cached_many(zip(bulk, values, strict=True)) == len(values)
    assert [etree.tostring(c) for c in bulk] == [etree.tostring(c) for c in one]
    assert bulk[1].findtext(f"{{{NS_MAIN}}}v") == "0.1" and bulk[1].get("t") is None


def test_recalc_pauses_the_cyclic_collector_only_while_it_runs(tmp_path) -> None:
    import gc

    from openpyxl import Workbook

    from buildbuy.workbook.recalc import _collector_paused, recalc

    wb = Workbook()
    wb.active["A1"] = 2
    wb.active["A2"] = "=A1*3"
    wb.save(tmp_path / "b.xlsx")
    seen = []
    with _collector_paused(True):
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # a caller that turned it off keeps it off
        with _collector_paused(True):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with _collector_paused(True):
            raise ValueError("x")
    except ValueError:
        pass
    assert gc.isenabled()
    report = recalc(tmp_path / "b.xlsx", tmp_path / "out.xlsx")
    assert report.values_written == 1 and gc.isenabled()
