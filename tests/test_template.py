"""The template: reproducible, and following the finance-modelling rules (shared/guides numbering)."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.formula.translate import Translator

from buildbuy.engine import __version__, input_specs
from buildbuy.workbook.lint import lint
from buildbuy.workbook.template import TEMPLATE_PATH, template_bytes
from buildbuy.workbook.template.common import FIRST_MONTH_COL, LAST_MONTH_COL

SHEETS = ["Cover", "Inputs", "Prices", "Calculations", "Outputs", "Sensitivity", "Risk", "Checks", "xlwings.conf"]
ALLOWED_NUMBERS = {"0", "1", "12", "24", "100", "1000", "365"}


@pytest.fixture(scope="module")
def wb():
    return load_workbook(TEMPLATE_PATH)


def _formulas(ws):
    for row in ws.iter_rows():
        for c in row:
            if c.data_type == "f":
                yield c


def test_committed_template_equals_a_fresh_build():
    fresh = zipfile.ZipFile(__import__("io").BytesIO(template_bytes()))
    committed = zipfile.ZipFile(TEMPLATE_PATH)
    assert fresh.namelist() == committed.namelist()
    for name in fresh.namelist():
        assert fresh.read(name) == committed.read(name), f"{name} differs: run python -m " \
                                                         "buildbuy.workbook.template.build"


def test_rule1_sheets_in_order(wb):
    assert wb.sheetnames == SHEETS


def test_rule2_3_cover_has_purpose_version_contents_and_key(wb):
    ws = wb["Cover"]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for label in ("Purpose", "How to use", "Version", "Prices as of", "Colour key", "Contents", "Caveats",
                  "Version history"):
        assert label in texts
    assert __version__ in texts
    for sheet in SHEETS:
        assert sheet in texts, f"contents lacks {sheet}"


def test_rule4_every_input_named_with_unit_and_source(wb):
    names = wb.defined_names
    ws = wb["Inputs"]
    for key in input_specs():
        assert key in names, key
        ref = names[key].attr_text
        assert ref.startswith("Inputs!$B$"), ref
        row = int(ref.split("$")[-1])
        assert ws[f"A{row}"].value == key
        assert ws[f"C{row}"].value and ws[f"F{row}"].value and ws[f"G{row}"].value, key
        assert ws[f"B{row}"].style == "Input"
    assert names["assumptions"].attr_text.startswith("Inputs!$A$")


def test_rule5_no_typed_numbers_in_formulas(wb):
    bad = []
    for ws in wb.worksheets:
        for c in _formulas(ws):
            bare = re.sub(r'"[^"]*"', '""', c.value)
            bare = re.sub(r"\$?[A-Z]{1,3}\$?\d+", "REF", bare)  # cell references are not numbers
            for num in re.findall(r"(?<![A-Za-z_\d.])\d+(?:\.\d+)?", bare):
                if num not in ALLOWED_NUMBERS:
                    bad.append((ws.title, c.coordinate, num, c.value))
    assert not bad, bad[:5]


def test_rule6_one_formula_per_row_across_the_timeline(wb):
    ws = wb["Calculations"]
    checked = 0
    for row in range(7, ws.max_row + 1):
        first = ws.cell(row, FIRST_MONTH_COL)
        if first.data_type != "f":
            continue
        for col in range(FIRST_MONTH_COL + 1, LAST_MONTH_COL + 1):
            cell = ws.cell(row, col)
            expected = Translator(first.value, origin=first.coordinate).translate_formula(cell.coordinate)
            assert cell.value == expected, (cell.coordinate, cell.value, expected)
        checked += 1
    # the month header, horizon flag, discount factor and volume rows, then per option its line items, the
    # total and the cumulative cost
    from buildbuy.engine.model import OPTION_LINE_ITEMS

    assert checked == 4 + sum(len(items) + 2 for items in OPTION_LINE_ITEMS.values())


def test_rule8_frozen_panes(wb):
    for name in ("Inputs", "Calculations", "Checks", "Sensitivity", "Prices"):
        assert wb[name].freeze_panes, name


def test_rule11_to_14_formula_hygiene(wb):
    for ws in wb.worksheets:
        for c in _formulas(ws):
            f = c.value.upper()
            assert "\n" not in f and len(re.findall(r"(?<![A-Z])IF\(", f)) <= 1, (ws.title, c.coordinate, f)
            assert "OFFSET(" not in f and "INDIRECT(" not in f, (ws.title, c.coordinate)
            if ws.title in ("Calculations", "Checks"):
                assert "ROUND(" not in f
            assert not re.search(r"[(,=^*/+]-[A-Z$(]", f), ("bare unary minus", ws.title, c.coordinate, f)


def test_rule15_16_nothing_hidden_no_external_links(wb):
    for ws in wb.worksheets:
        assert ws.sheet_state == "visible"
        assert not any(d.hidden for d in ws.column_dimensions.values())
        assert not any(d.hidden for d in ws.row_dimensions.values())
        for c in _formulas(ws):
            assert "[" not in c.value
    assert not [n for n in zipfile.ZipFile(TEMPLATE_PATH).namelist() if "externalLink" in n]


def test_rule18_master_check_on_every_sheet(wb):
    for name in SHEETS[:-1]:
        assert wb[name]["E2"].value == "=check_total", name
    assert wb.defined_names["check_total"].attr_text.startswith("Checks!")


def test_rule19_labels_unique_and_units_present(wb):
    for name in ("Inputs", "Calculations", "Outputs", "Checks"):
        ws = wb[name]
        labels = [c.value for c in ws["A"] if isinstance(c.value, str) and c.style == "Label"]
        assert len(labels) == len(set(labels)), (name, [x for x in labels if labels.count(x) > 1][:3])
    calc = wb["Calculations"]
    for row in range(4, calc.max_row + 1):
        if calc.cell(row, FIRST_MONTH_COL).data_type == "f" or calc[f"D{row}"].data_type == "f":
            assert calc[f"C{row}"].value, f"Calculations row {row} has no unit"


def test_rule20_outputs_hold_no_typed_numbers(wb):
    for name in ("Outputs", "Calculations", "Checks", "Sensitivity", "Prices"):
        for row in wb[name].iter_rows():
            for c in row:
                assert not (isinstance(c.value, (int, float)) and not isinstance(c.value, bool)), (name, c.coordinate)


def test_styles_inputs_blue_formulas_never_input(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert c.style != "Input", (ws.title, c.coordinate)
                elif isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and ws.title != "Inputs":
                    pytest.fail(f"constant number outside Inputs: {ws.title}!{c.coordinate}")


def test_data_validation_on_inputs(wb):
    ws = wb["Inputs"]
    covered = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            covered[rng.coord] = dv
    names = wb.defined_names
    for key, spec in input_specs().items():
        cell = names[key].attr_text.split("!")[1].replace("$", "")
        if spec.kind in ("bool", "choice", "share"):
            dv = covered.get(cell)
            assert dv is not None, key
            assert dv.type == ("decimal" if spec.kind == "share" else "list"), key


def test_charts_present():
    names = zipfile.ZipFile(TEMPLATE_PATH).namelist()
    assert len([n for n in names if n.startswith("xl/charts/chart")]) == 4  # Outputs 2, Risk 2


def test_xlwings_conf_sheet(wb):
    ws = wb["xlwings.conf"]
    assert (ws["A1"].value, ws["B1"].value) == ("UDF Modules", "buildbuy.udfs")


@pytest.mark.parametrize("backend", ["formualizer", "formulas"])
def test_template_lints_clean(backend):
    assert lint(TEMPLATE_PATH, backend) == []
