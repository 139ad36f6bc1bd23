"""Filling the template: named input cells get the scenario's values, text stays text, bad input writes nothing."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import load_workbook

from buildbuy.engine import InputError, read_scenarios, resolve
from buildbuy.workbook.cli import main
from buildbuy.workbook.fill import fill, fill_many, input_values, load_scenarios, portable

from .test_cli import EXAMPLES


def _inputs(path, data_only=False):
    """Every named single cell's value (its formula, or with ``data_only`` its cached result), by name."""
    wb = load_workbook(path, data_only=data_only)
    out = {}
    for key, dn in wb.defined_names.items():
        sheet, _, ref = dn.attr_text.partition("!")
        if ":" not in ref and sheet in wb.sheetnames:
            out[key] = wb[sheet][ref.replace("$", "")].value
    return out, wb


def test_fill_writes_every_named_input(tmp_path):
    a = read_scenarios(EXAMPLES / "regulated-saas.toml")[0]
    out = fill(a, tmp_path / "r.xlsx")
    values, wb = _inputs(out)
    assert values["daily_active_users"] == 1000
    assert values["regulated_industry"] == "yes"          # yes/no inputs hold the template's text choices
    assert values["building_platform"] == "no"
    assert values["differentiator"] == "model"
    assert values["latency_requirement_ms"] == 150
    assert values["requests_per_day"] is None  # derived by the engine, left blank
    assert values["scenario_name"] == "regulated-saas"
    # Every formula of the template is still there.
    assert values["out_recommendation"] == "=BVB_RECOMMEND(assumptions)"


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
    assert wb["Inputs"]["C3"].data_type == "s"
    assert wb["Inputs"]["C3"].value.startswith("=HYPERLINK")


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


CUSTOM_CATALOG = """
[[api_model]]
id = "acme-llm"
provider = "Acme"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 3.0
context_window_tokens = 128000
as_of = 2026-11-01
source = "Acme price sheet, our contract"

[[gpu]]
id = "acme-gpu"
name = "Acme accelerator"
usd_per_hour = 1.5
price_provider = "Acme cloud"
peak_bf16_dense_tflops = 500
memory_gb = 96
as_of = 2026-11-01
source = "Acme quote"
"""


def test_fill_with_your_own_catalog(tmp_path, capsys):
    (tmp_path / "prices.toml").write_text(CUSTOM_CATALOG)
    (tmp_path / "s.toml").write_text('name = "acme"\napi_model = "acme-llm"\ngpu_type = "acme-gpu"\n')
    out = tmp_path / "acme.xlsx"
    # The ids are not in the bundled catalog: without --catalog the scenario is refused in one line.
    assert main(["fill", str(tmp_path / "s.toml"), "-o", str(out)]) == 2
    assert "acme-llm" in capsys.readouterr().err
    assert main(["fill", str(tmp_path / "s.toml"), "--catalog", str(tmp_path / "prices.toml"), "-o", str(out),
                 "--recalc", "--check"]) == 0
    values, _ = _inputs(out)
    # The catalog's figures are in the price inputs; the unknown ids are left blank (the bundled catalog the
    # workbook's functions read does not have them).
    assert values["api_input_usd_per_mtok"] == 1.0 and values["api_output_usd_per_mtok"] == 3.0
    assert values["gpu_usd_per_hour"] == 1.5 and values["gpu_peak_tflops"] == 500
    assert values["api_model"] is None and values["gpu_type"] is None
    computed, _ = _inputs(out, data_only=True)
    # By hand: 50,000 requests/day x 365 x (400 x $1 + 100 x $3) / 1M = $12,775 a year.
    assert computed["out_annual_cost_usd_api"] == pytest.approx(12_775)


def test_fill_keeps_a_bundled_catalog_id(tmp_path):
    a = resolve(api_model="gpt-5.5")
    values = input_values(portable(a))
    assert values["api_model"] == "gpt-5.5" and values["api_input_usd_per_mtok"] == 5.0

