"""The workbook as a CFO reads it: aligned tables, the cost breakdown, truthful charts, readable print."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from buildbuy.engine import input_specs, read_scenarios, recommend, resolve
from buildbuy.engine.model import LINE_ITEMS
from buildbuy.workbook.fill import fill
from buildbuy.workbook.libreoffice import convert, soffice
from buildbuy.workbook.recalc import recalc
from buildbuy.workbook.template import TEMPLATE_PATH
from buildbuy.workbook.template.outputs import REASON_ROWS

from .strategies import scenarios
from .test_cli import EXAMPLES

OPTIONS = ["API", "FINE-TUNE", "TRAIN", "PHASED"]


@pytest.fixture(scope="module")
def template():
    return load_workbook(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The regulated-SaaS example, filled and recalculated: (path, workbook of cached values)."""
    path = tmp_path_factory.mktemp("read") / "regulated-saas.xlsx"
    fill(read_scenarios(EXAMPLES / "regulated-saas.toml")[0], path)
    recalc(path, path)
    return path, load_workbook(path, data_only=True)


def _cell(wb, name):
    sheet, _, ref = wb.defined_names[name].attr_text.partition("!")
    return wb[sheet][ref.replace("$", "")]


def _find_row(ws, text, col="A"):
    return next(c.row for c in ws[col] if c.value == text)


_flags = st.fixed_dictionaries({spec.key: st.booleans() for spec in input_specs().values() if spec.kind == "bool"})


@settings(max_examples=150, deadline=None)
@given(scenarios(), _flags, st.sampled_from(input_specs()["differentiator"].choices),
       st.floats(min_value=0, max_value=1e7), st.floats(min_value=0, max_value=1e12))
def test_reason_rows_hold_every_finding(raw, flags, differentiator, examples, corpus):
    a = resolve({**raw, **flags, "differentiator": differentiator, "labeled_examples": examples,
                 "corpus_tokens": corpus})
    assert len(recommend(a).findings) <= REASON_ROWS


def test_option_headers_sit_over_their_numbers(template):
    ws = template["Outputs"]
    head = _find_row(ws, "Figure")
    for col in "DEFG":
        assert ws[f"{col}{head}"].value in OPTIONS
        assert ws[f"{col}{head}"].alignment.horizontal == "right"
        for r in range(head + 1, head + 8):
            assert ws[f"{col}{r}"].alignment.horizontal in ("right", None) or ws[f"{col}{r}"].alignment.wrap_text
    # every figure has a unit and a definition beside it
    r = head + 1
    while ws[f"A{r}"].value and not ws[f"A{r}"].value.startswith("Options ruled out"):
        assert ws[f"B{r}"].value and ws[f"H{r}"].value, ws[f"A{r}"].value
        r += 1
    assert r > head + 15


def test_cost_by_line_item_adds_up_to_the_tco(computed):
    _, wb = computed
    ws = wb["Outputs"]
    head = _find_row(ws, "Line item")
    keys = [ws[f"C{r}"].value for r in range(head + 1, head + 1 + len(LINE_ITEMS))]
    assert keys == list(LINE_ITEMS)
    total = head + 1 + len(LINE_ITEMS)
    assert ws[f"A{total}"].value == "Total (= TCO)"
    for col, option in zip("DEFG", OPTIONS, strict=True):
        parts = sum(ws[f"{col}{r}"].value or 0 for r in range(head + 1, total))
        tco = _cell(wb, f"out_tco_usd_{option.lower().replace('-', '_')}").value
        assert parts == pytest.approx(tco, rel=1e-9) and ws[f"{col}{total}"].value == pytest.approx(tco, rel=1e-9)
    # FINE-TUNE: two ML engineers at $325,000 for 36 months, by hand
    ml = next(r for r in range(head + 1, total) if ws[f"C{r}"].value == "ml_team")
    assert ws[f"E{ml}"].value == pytest.approx(2 * 325_000 * 3)


def test_cost_by_year_adds_up_to_the_tco(computed):
    _, wb = computed
    ws = wb["Outputs"]
    head = _find_row(ws, "Year")
    for col, option in zip("DEFG", OPTIONS, strict=True):
        years = [ws[f"{col}{r}"].value for r in range(head + 1, head + 6)]
        tco = _cell(wb, f"out_tco_usd_{option.lower().replace('-', '_')}").value
        assert sum(years) == pytest.approx(tco, rel=1e-9)
        assert years[3] == years[4] == 0  # a 36-month horizon has no years 4 and 5
    # API, year 1 by hand: the example's volume grows monthly; 365/12 days a month at year-1 prices
    a = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    g, rpd = a["monthly_growth_rate"], a["requests_per_day"]
    per_request = (a["input_tokens_per_request"] * a["api_input_usd_per_mtok"]
                   + a["output_tokens_per_request"] * a["api_output_usd_per_mtok"]) / 1e6
    year1 = sum(rpd * (1 + g) ** m * 365 / 12 * per_request for m in range(12))
    assert ws[f"D{head + 1}"].value == pytest.approx(year1, rel=1e-9)


def test_reasons_show_full_ids_and_points_and_no_placeholders(computed):
    path, wb = computed
    ws = wb["Outputs"]
    head = _find_row(ws, "Rule id")
    a = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    findings = recommend(a).findings
    for i, f in enumerate(findings):
        r = head + 1 + i
        assert ws[f"A{r}"].value == f.rule_id
        assert ws[f"D{r}"].value == (f.weight if f.kind == "reason" else "-")
    # Past the last finding the cells hold 0, which their number format prints as nothing.
    formulas = load_workbook(path)["Outputs"]
    for r in range(head + 1 + len(findings), head + 1 + REASON_ROWS):
        for col in "ABCE":
            assert ws[f"{col}{r}"].value == 0
            assert formulas[f"{col}{r}"].number_format.split(";")[2] == ""
        assert ws[f"D{r}"].value == -1 and formulas[f"D{r}"].number_format.split(";")[1] == ""
    assert max(len(f) for f in ("W-PROMPTING-NOT-TRIED", "Q4-FRONTIER-PLATEAU")) < formulas.column_dimensions["A"].width


def _chart_xml():
    z = zipfile.ZipFile(TEMPLATE_PATH)
    # element names without their namespace prefix (openpyxl writes the chart namespace as the default one)
    return [re.sub(r"<(/?)\w+:", r"<\1", z.read(n).decode()) for n in sorted(z.namelist())
            if n.startswith("xl/charts/chart")]


def test_charts_tell_the_truth():
    charts = _chart_xml()
    bars = next(c for c in charts if "<barChart>" in c)
    assert '<grouping val="stacked"/>' in bars and bars.count("<ser>") == len(LINE_ITEMS)
    assert "<cat><strRef>" in bars                                 # the option names label the bars
    cumulative = next(c for c in charts if "Cumulative" in c)
    titles = " ".join(re.findall(r"<t>([^<]*)</t>", cumulative))
    assert "Cumulative cost" in titles and "horizon" in titles and "cross" not in titles  # says what it shows
    assert "<scatterChart>" in cumulative                          # x = month, capped at the horizon
    assert cumulative.count("<ser>") == 4
    dashes = re.findall(r'<prstDash val="(\w+)"/>', cumulative)
    assert len(set(dashes)) == 4                                   # four lines, four dash styles
    assert re.findall(r"<tx><v>([^<]+)</v></tx>", cumulative) == OPTIONS   # the legend in order
    volume = next(c for c in charts if "against volume" in c)
    assert '<logBase val="10"/>' in volume
    assert volume.count("<ser>") == 5                              # four options and the break-even line


def test_cumulative_chart_ends_at_the_horizon(computed):
    _, wb = computed
    calc = wb["Calculations"]
    month_row = _find_row(calc, "Month on the charts (the horizon's last month after it)")
    months = [c.value for c in calc[month_row][4:64]]
    assert max(months) == 36 and months[:36] == list(range(1, 37))


def test_volume_sensitivity_spans_a_tenth_to_ten_times(computed):
    _, wb = computed
    ws = wb["Sensitivity"]
    first = _find_row(ws, "Step") + 1
    multiples = [ws[f"B{r}"].value for r in range(first, first + 21)]
    assert multiples[0] == pytest.approx(0.1) and multiples[-1] == pytest.approx(10)
    ratios = {round(b / a, 9) for a, b in zip(multiples, multiples[1:], strict=False)}
    assert len(ratios) == 1                                        # even steps on a log scale


def test_sensitivity_on_headcount_and_gpu_price(computed):
    _, wb = computed
    ws = wb["Sensitivity"]
    head = next(c.row for c in ws["B"] if c.value == "ML engineers (FTE)")
    fte = [ws[f"B{r}"].value for r in range(head + 1, head + 11)]
    ft = [ws[f"E{r}"].value for r in range(head + 1, head + 11)]
    assert fte == list(range(10))
    # By hand: each ML engineer adds $325,000 a year to FINE-TUNE and nothing to the API.
    assert all(b - a == pytest.approx(325_000) for a, b in zip(ft, ft[1:], strict=False))
    assert len({ws[f"D{r}"].value for r in range(head + 1, head + 11)}) == 1
    gpu = next(c.row for c in ws["C"] if c.value == "GPU price (USD/GPU-hour)")
    prices = [ws[f"C{r}"].value for r in range(gpu + 1, gpu + 11)]
    costs = [ws[f"E{r}"].value for r in range(gpu + 1, gpu + 11)]
    assert prices[3] == pytest.approx(24_000 / 8760) and costs == sorted(costs)


def test_print_setup(template):
    for ws in template.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
    calc = template["Calculations"]
    assert calc.print_title_cols.replace("$", "") == "A:D" and calc.print_title_rows.replace("$", "") == "7:7"
    assert not calc.sheet_properties.pageSetUpPr.fitToPage and calc.page_setup.scale >= 55
    inputs = template["Inputs"]
    assert inputs.print_title_cols.replace("$", "") == "A:A" and inputs.page_setup.fitToWidth == 2
    assert template["Outputs"].row_breaks.brk                      # charts and reasons on their own pages


@pytest.mark.skipif(soffice() is None or shutil.which("pdftotext") is None, reason="needs LibreOffice and poppler")
def test_every_printed_page_shows_values(computed, tmp_path):
    """LibreOffice prints the whole workbook: no #NAME? (a cell it had to compute), no ### (a cut number)."""
    path, _ = computed
    convert([path], "pdf", tmp_path, recalc=False)
    pdf = tmp_path / (path.stem + ".pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "#NAME?" not in text and "###" not in text and "#VALUE!" not in text
    for expected in ("Recommended option", "Cost by line item", "Cost by year", "Why: the reasons", "Q1-IN-MODEL",
                     "Q4-FRONTIER-PLATEAU", "Native recomputations", "Annual cost against ML headcount"):
        assert expected in text, expected


def test_the_answer_and_its_price_on_top(computed):
    """The regulated-SaaS example: residency rules the hosted API out, so FINE-TUNE is both the answer and the
    cheapest feasible option (no premium), though it costs more than the API would."""
    _, wb = computed
    assert _cell(wb, "out_recommendation").value == "FINE-TUNE"
    assert _cell(wb, "out_cheapest_feasible").value == "FINE-TUNE"
    assert _cell(wb, "out_premium_usd").value == 0
    ws = wb["Outputs"]
    words = next(ws[f"B{r}"].value for r in range(4, 20) if ws[f"A{r}"].value == "In words")
    assert words.startswith("FINE-TUNE costs") and "API is ruled out" in words
    rules = next(ws[f"B{r}"].value for r in range(4, 20) if ws[f"A{r}"].value == "Rules that decided it")
    assert "F-RESIDENCY" in rules
    # infeasible options are marked, with the constraint that rules them out
    assert _cell(wb, "out_feasible_api").value == "no" and _cell(wb, "out_feasible_fine_tune").value == "yes"
    assert _cell(wb, "out_infeasible_because_api").value.startswith("F-RESIDENCY")
    assert _cell(wb, "out_infeasible_because_fine_tune").value == "feasible"
