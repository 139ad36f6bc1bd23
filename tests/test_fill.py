"""Filling the template: named input cells get the scenario's values, text stays text, bad input writes nothing."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import load_workbook

from buildbuy.engine import InputError, read_scenarios, resolve
from buildbuy.workbook.cli import main
from buildbuy.workbook.fill import fill, fill_many, input_values, load_scenarios

from .test_cli import EXAMPLES


def _inputs(path):
    wb = load_workbook(path)
    ws = wb["Inputs"]
    return {ws[f"A{r}"].value: ws[f"B{r}"].value for r in range(5, 300) if ws[f"A{r}"].value}, wb


def test_fill_writes_every_named_input(tmp_path):
    a = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    out = fill(a, tmp_path / "r.xlsx")
    values, wb = _inputs(out)
    assert values["daily_active_users"] == 1000
    assert values["regulated_industry"] is True
    assert values["differentiator"] == "model"
    assert values["latency_requirement_ms"] == 150
    assert values["requests_per_day"] is None  # derived by the engine, left blank
    assert wb["Inputs"]["B3"].value == "regulated-saas"
    # Every formula of the template is still there.
    assert wb["Outputs"]["C4"].value == "=BVB_RECOMMEND(assumptions)"


def test_fill_keeps_every_other_part(tmp_path):
    from buildbuy.workbook.template import TEMPLATE_PATH

    out = fill(resolve(daily_active_users=5), tmp_path / "x.xlsx")
    src, dst = zipfile.ZipFile(TEMPLATE_PATH), zipfile.ZipFile(out)
    assert src.namelist() == dst.namelist()
    inputs_part = "xl/worksheets/sheet2.xml"
    for name in src.namelist():
        if name != inputs_part:
            assert src.read(name) == dst.read(name), name


def test_text_is_never_a_formula(tmp_path):
    a = resolve({"name": '=HYPERLINK("http://evil","x")', "currency": "EUR"})
    out = fill(a, tmp_path / "t.xlsx")
    sheet = zipfile.ZipFile(out).read("xl/worksheets/sheet2.xml").decode()
    assert 'HYPERLINK' in sheet and "<f>HYPERLINK" not in sheet
    wb = load_workbook(out)
    assert wb["Inputs"]["B3"].data_type == "s"
    assert wb["Inputs"]["B3"].value.startswith("=HYPERLINK")


def test_requests_per_day_given_leaves_users_blank(tmp_path):
    values = input_values(resolve(requests_per_day=5000))
    assert values["requests_per_day"] == 5000 and values["daily_active_users"] is None


def test_bad_scenario_stops_with_key_and_scenario_and_writes_nothing(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text("[scenarios.good]\ndaily_active_users = 10\n[scenarios.bad]\ngpu_utilization = 2\n")
    out = tmp_path / "out"
    assert main(["fill", str(f), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "scenario 'bad': gpu_utilization must be a number in (0, 1], got 2" in err
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("text, message", [
    ("nonsense_key = 1\n", "unknown input 'nonsense_key'"),
    ('daily_active_users = "many"\n', "daily_active_users must be a number >= 0, got 'many'"),
    ("horizon_months = 0\n", "horizon_months must be a whole number in [1, 600], got 0"),
])
def test_each_bad_value_names_the_key(tmp_path, capsys, text, message):
    f = tmp_path / "one.toml"
    f.write_text(text)
    assert main(["fill", str(f), "-o", str(tmp_path / "o.xlsx")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.xlsx").exists()


def test_arrays_cannot_fill_a_workbook():
    import numpy as np

    with pytest.raises(InputError, match="one value per scenario"):
        input_values(resolve(daily_active_users=np.array([1.0, 2.0])))


def test_many_scenarios_many_workbooks_in_parallel(tmp_path):
    scenarios = load_scenarios([EXAMPLES])
    results = fill_many(scenarios, tmp_path / "books", recalc_backend="formualizer", workers=2, progress=False)
    assert sorted(r.path.name for r in results) == ["data-platform.xlsx", "prepmf-startup.xlsx",
                                                    "regulated-saas.xlsx", "uncertain-growth.xlsx"]
    for r in results:
        total, errors, _ = r.recalc
        assert total == 0 and errors == []
        wb = load_workbook(r.path, data_only=True)
        assert wb["Outputs"]["C4"].value in ("API", "FINE-TUNE", "TRAIN")


def test_python_call_equals_cli(tmp_path):
    a = read_scenarios(EXAMPLES / "prepmf-startup.toml")[0]
    fill(a, tmp_path / "py.xlsx")
    assert main(["fill", str(EXAMPLES / "prepmf-startup.toml"), "-o", str(tmp_path / "cli.xlsx")]) == 0
    a_py, b_cli = zipfile.ZipFile(tmp_path / "py.xlsx"), zipfile.ZipFile(tmp_path / "cli.xlsx")
    for name in a_py.namelist():
        assert a_py.read(name) == b_cli.read(name), name
