"""Ranges and Monte Carlo: known answers worked by hand, reproducibility, and one-line errors for bad ranges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildbuy.engine import model
from buildbuy.engine.errors import InputError
from buildbuy.engine.scenario import read_scenarios, read_uncertain_scenarios
from buildbuy.engine.uncertainty import parse_range, sample, simulate, tornado, uncertain
from buildbuy.workbook.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# A 12-month, flat-volume, undiscounted scenario with no hidden costs: API TCO is linear in the API prices.
FLAT = dict(horizon_months=12, monthly_growth_rate=0.0, api_price_change_per_year=0.0, api_cached_input_share=0.0,
            discount_rate_per_year=0.0, daily_active_users=1000, requests_per_user_per_day=50,
            input_tokens_per_request=400, output_tokens_per_request=100, api_output_usd_per_mtok=10.0)


def test_degenerate_range_gives_the_deterministic_result():
    base = dict(daily_active_users=20_000, gpu_usd_per_hour=3.0, horizon_months=36)
    point = uncertain(base)
    ranged = uncertain(dict(base, daily_active_users={"low": 20_000, "mode": 20_000, "high": 20_000},
                            gpu_usd_per_hour={"dist": "uniform", "low": 3.0, "high": 3.0}))
    r = simulate(ranged, draws=500, seed=1)
    expected = {o: float(model.npv(o, point.base)) for o in model.OPTIONS}
    cheapest = min(expected, key=expected.get)
    for o in model.OPTIONS:
        for stat in ("p10", "p50", "p90", "mean"):
            assert r.npv_usd[o][stat] == pytest.approx(expected[o], rel=1e-12)
    assert r.p_cheapest[cheapest] == 1.0
    assert r.p_recommendation_differs == 0.0


def test_two_valued_input_gives_its_weight_exactly():
    # At 100 users the API bill is tiny and the API is cheapest; at 200,000 users (10M requests/day) the API
    # costs millions a month and a self-hosted option is cheaper. Latin-hypercube strata make the draw count of
    # each value exact: 0.3 x 10,000 = 3,000 draws of 100 users (also over two chunks of 5,000: 1,500 each).
    us = uncertain(dict(horizon_months=60, daily_active_users={"values": [100, 200_000], "weights": [3, 7]}))
    low = uncertain(dict(horizon_months=60, daily_active_users=100)).base
    high = uncertain(dict(horizon_months=60, daily_active_users=200_000)).base
    assert min(model.OPTIONS, key=lambda o: model.npv(o, low)) == "API"
    assert min(model.OPTIONS, key=lambda o: model.npv(o, high)) != "API"
    for chunk in (None, 5000):
        r = simulate(us, draws=10_000, seed=7, chunk=chunk)
        assert r.p_cheapest["API"] == 0.3
        assert sum(r.p_cheapest.values()) == pytest.approx(1.0)


def test_linear_cost_in_a_uniform_input_has_the_analytic_percentiles():
    # API TCO over 12 flat months: 50,000 requests/day x 365 days = 18,250,000 requests, each costing
    # (400 x p_in + 100 x 10) / 1e6 USD, so TCO = 7,300 p_in + 18,250. With p_in ~ uniform(1, 3) its
    # P10/P50/P90 are at p_in = 1.2 / 2.0 / 2.8: 27,010 / 32,850 / 38,690; mean 32,850.
    # Latin-hypercube draws put each sample percentile within one stratum (2/10,000 of p_in = $1.46 of TCO).
    us = uncertain(dict(FLAT, api_input_usd_per_mtok={"dist": "uniform", "low": 1, "high": 3}))
    r = simulate(us, draws=10_000, seed=3)
    got = r.tco_usd["API"]
    assert got["p10"] == pytest.approx(27_010, abs=2)
    assert got["p50"] == pytest.approx(32_850, abs=2)
    assert got["p90"] == pytest.approx(38_690, abs=2)
    assert got["mean"] == pytest.approx(32_850, abs=2)
    assert r.npv_usd["API"]["p50"] == pytest.approx(32_850, abs=2)  # no discounting


def test_tornado_order_and_swings_match_the_hand_working():
    # FINE-TUNE minus API over 12 undiscounted months, 50,000 requests/day, fine-tune live after 3 months, no
    # API fallback, 1 engineer. Worked by hand:
    #   ml_engineer_usd_per_year ~ uniform(100k, 300k): P10 120k, P90 280k; FINE-TUNE pays 1 x 160k x 12/12
    #     more at P90 -> swing 160,000.
    #   api_output_usd_per_mtok ~ uniform(5, 15): P10 6, P90 14; the API pays it for 12 months, FINE-TUNE for
    #     its first 3 -> the difference moves by 50,000 x 365/12 x 100 x 8 / 1e6 x 9 months = 10,950.
    #   gpu_usd_per_hour ~ uniform(2, 4): P10 2.2, P90 3.8; one serving GPU x 730 h x 1.6 x 9 months = 10,512.
    us = uncertain(dict(FLAT, api_input_usd_per_mtok=2.0, finetune_months=3, api_fallback_share=0.0,
                        ml_engineers=1, mlops_usd_per_year=0, eval_usd_per_year=0, retrain_every_months=0,
                        opportunity_cost_usd_per_month=0, min_gpus=1,
                        ml_engineer_usd_per_year={"dist": "uniform", "low": 100_000, "high": 300_000},
                        api_output_usd_per_mtok={"dist": "uniform", "low": 5, "high": 15},
                        gpu_usd_per_hour={"dist": "uniform", "low": 2, "high": 4}))
    rows = tornado(us, "FINE-TUNE", "API")
    assert [r["input"] for r in rows] == ["ml_engineer_usd_per_year", "api_output_usd_per_mtok", "gpu_usd_per_hour"]
    assert [r["swing_usd"] for r in rows] == pytest.approx([160_000, 10_950, 10_512], rel=1e-9)
    assert rows[0]["low"] == pytest.approx(120_000) and rows[0]["high"] == pytest.approx(280_000)
    # A dearer API makes FINE-TUNE relatively cheaper: the difference falls from P10 to P90.
    assert rows[1]["npv_difference_at_high_usd"] < rows[1]["npv_difference_at_low_usd"]


def test_distribution_known_answers():
    # PERT(1, 2, 6): mean (1 + 4 x 2 + 6) / 6 = 2.5; triangular(1, 2, 6): mean 9 / 3 = 3, and its CDF at the
    # mode is (2 - 1) / (6 - 1) = 0.2; lognormal(p10 2, p90 8): median sqrt(16) = 4.
    u = (np.arange(100_000) + 0.5) / 100_000
    pert = parse_range("gpu_usd_per_hour", {"low": 1, "mode": 2, "high": 6})
    tri = parse_range("gpu_usd_per_hour", {"dist": "triangular", "low": 1, "mode": 2, "high": 6})
    logn = parse_range("gpu_usd_per_hour", {"dist": "lognormal", "p10": 2, "p90": 8})
    assert pert.dist == "pert" and pert.base == 2
    assert pert.ppf(u).mean() == pytest.approx(2.5, rel=1e-4)
    assert tri.ppf(u).mean() == pytest.approx(3.0, rel=1e-4)
    assert tri.quantile(0.2) == pytest.approx(2.0, rel=1e-9)
    assert logn.base == pytest.approx(4.0) and logn.quantile(0.5) == pytest.approx(4.0, rel=1e-9)
    assert logn.quantile(0.1) == pytest.approx(2.0, rel=1e-9) and logn.quantile(0.9) == pytest.approx(8.0, rel=1e-9)
    disc = parse_range("ml_engineers", {"values": [1, 2, 3], "weights": [1, 2, 1]})
    assert disc.base == 2 and disc.quantile(0.1) == 1 and disc.quantile(0.5) == 2 and disc.quantile(0.9) == 3


def test_rank_correlation_is_imposed():
    us = uncertain(dict(api_input_usd_per_mtok={"dist": "uniform", "low": 1, "high": 3},
                        api_output_usd_per_mtok={"dist": "lognormal", "p10": 5, "p90": 20},
                        gpu_usd_per_hour={"low": 2, "mode": 2.5, "high": 4}),
                   correlations=[{"inputs": ["api_input_usd_per_mtok", "api_output_usd_per_mtok"], "rank": 0.8}])
    from scipy import stats

    x = sample(us.uncertainty, 20_000, np.random.default_rng(5))
    rho = stats.spearmanr(x["api_input_usd_per_mtok"], x["api_output_usd_per_mtok"]).statistic
    assert rho == pytest.approx(0.8, abs=0.02)
    assert abs(stats.spearmanr(x["api_input_usd_per_mtok"], x["gpu_usd_per_hour"]).statistic) < 0.03
    tied = uncertain(dict(api_input_usd_per_mtok={"dist": "uniform", "low": 1, "high": 3},
                          api_output_usd_per_mtok={"dist": "uniform", "low": 5, "high": 15}),
                     correlations=[{"inputs": ["api_input_usd_per_mtok", "api_output_usd_per_mtok"], "rank": 1}])
    y = sample(tied.uncertainty, 1000, np.random.default_rng(5))
    # rank 1 = a shared driver: the output price is the same affine function of the input price in every draw.
    assert np.allclose((y["api_output_usd_per_mtok"] - 5) / 10, (y["api_input_usd_per_mtok"] - 1) / 2, atol=2e-3)


def test_same_seed_same_numbers_and_seeds_differ():
    us = read_uncertain_scenarios(EXAMPLES / "uncertain-growth.toml")[0]
    a, b = simulate(us, 3000, seed=11), simulate(us, 3000, seed=11)
    c = simulate(us, 3000, seed=12)
    assert a.as_dict() == b.as_dict()
    assert a.npv_usd != c.npv_usd


def test_example_file_base_case_and_ranges():
    us = read_uncertain_scenarios(EXAMPLES / "uncertain-growth.toml")[0]
    assert len(us.uncertainty.ranges) >= 5 and us.uncertainty.correlations
    assert read_scenarios(EXAMPLES / "uncertain-growth.toml")[0].daily_active_users == \
        us.uncertainty.ranges["daily_active_users"].base


def test_risk_cli_json_keys(capsys):
    assert main(["risk", str(EXAMPLES / "uncertain-growth.toml"), "--draws", "2000", "--seed", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("draws", "seed", "p_cheapest", "npv_usd", "tco_usd", "p_recommendation_differs", "tornado"):
        assert key in out
    assert out["draws"] == 2000 and out["seed"] == 4
    assert sum(out["p_cheapest"].values()) + out["p_none_feasible"] == pytest.approx(1.0)
    for o in model.OPTIONS:
        s = out["npv_usd"][o]
        assert s["p10"] <= s["p50"] <= s["p90"]
        assert set(out["tco_usd"][o]) == {"p10", "p50", "p90", "mean"}
    swings = [t["swing_usd"] for t in out["tornado"]]
    assert swings == sorted(swings, reverse=True)
    assert set(out["tornado"][0]) >= {"input", "low", "high", "swing_usd"}


def test_recommend_states_how_often_the_answer_is_cheapest(capsys):
    f = str(EXAMPLES / "uncertain-growth.toml")
    assert main(["recommend", f, "--draws", "2000"]) == 0
    text = capsys.readouterr().out
    assert "is the cheapest feasible option in " in text and "% of 2,000 draws" in text
    assert main(["recommend", f, "--draws", "2000", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["uncertainty"]["sentence"].startswith(rep["recommendation"] + " is the cheapest feasible option in")
    assert main(["recommend", str(EXAMPLES / "regulated-saas.toml"), "--json"]) == 0
    assert "uncertainty" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("line, words", [
    ('daily_active_users = {low = -5, mode = 10, high = 20}', ["daily_active_users", "low -5", "lower bound", ">= 0"]),
    ('gpu_utilization = {dist = "uniform", low = 0.5, high = 1.2}', ["gpu_utilization", "high 1.2", "upper bound",
                                                                    "<= 1"]),
    ('gpu_utilization = {dist = "lognormal", p10 = 0.4, p90 = 0.8}', ["gpu_utilization", "upper bound is 1"]),
    ('gpu_usd_per_hour = {low = 2, mode = 5, high = 4}', ["gpu_usd_per_hour", "mode 5", "[low 2, high 4]"]),
    ('gpu_usd_per_hour = {dist = "normal", low = 2, high = 4}', ["gpu_usd_per_hour", "dist must be one of"]),
    ('gpu_usd_per_hour = {low = 2, high = 4}', ["gpu_usd_per_hour", "missing mode"]),
    ('ml_engineers = {values = [1, 2], weights = [1]}', ["ml_engineers", "2 values but 1 weights"]),
    ('regulated_industry = {values = [0, 1]}', ["regulated_industry", "cannot take a range"]),
    ('horizon_months = {low = 12, mode = 24, high = 36}', ["horizon_months", "one horizon per run"]),
    ('gpu_usd_per_hour = {low = 2, mode = 3, high = 4}\n[[correlation]]\ninputs = ["gpu_usd_per_hour", "mfu"]\n'
     'rank = 0.5', ["correlation", "'mfu'", "no range"]),
    ('gpu_usd_per_hour = {low = 2, mode = 3, high = 4}\nmfu = {low = 0.3, mode = 0.4, high = 0.5}\n'
     '[[correlation]]\ninputs = ["gpu_usd_per_hour", "mfu"]\nrank = 1.5', ["gpu_usd_per_hour ~ mfu", "[-1, 1]"]),
    ('gpu_usd_per_hour = [1, 2]', ["gpu_usd_per_hour", "bare list"]),
])
def test_bad_ranges_are_one_line_errors(tmp_path, line, words):
    f = tmp_path / "bad.toml"
    f.write_text(line + "\n")
    proc = subprocess.run([sys.executable, "-m", "buildbuy.workbook.cli", "risk", str(f), "--draws", "100"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_bad_draws_and_no_ranges(tmp_path, capsys):
    with pytest.raises(InputError, match="draws"):
        simulate(uncertain(dict(gpu_usd_per_hour={"low": 2, "mode": 3, "high": 4})), draws=3)
    assert main(["risk", str(EXAMPLES / "regulated-saas.toml")]) == 2
    assert "has no range" in capsys.readouterr().err


def test_draws_run_in_chunks_with_progress():
    # The engine sees one chunk at a time (by default 10,000 draws at 60 months) and keeps a few numbers per
    # draw; the memory figure for 1,000,000 draws is printed by benchmarks/bench_risk.py. Here: the chunks add
    # up, each is its own Latin hypercube, and a 50/50 input is still drawn exactly half the time.
    us = uncertain(dict(horizon_months=60, daily_active_users={"values": [100, 200_000], "weights": [1, 1]}))
    seen = []
    r = simulate(us, draws=4000, seed=1, progress=seen.append, chunk=1000)
    assert seen == [1000] * 4
    assert r.p_cheapest["API"] == 0.5
    from buildbuy.engine.uncertainty import chunk_draws

    assert chunk_draws(60) == 10_000 and chunk_draws(600) == 1000


def test_fill_puts_ranges_on_the_risk_sheet_and_the_workbook_agrees_with_the_cli(tmp_path, capsys):
    from openpyxl import load_workbook

    from buildbuy.workbook.fill import load_uncertain_scenarios

    book = tmp_path / "risk.xlsx"
    assert main(["fill", str(EXAMPLES / "uncertain-growth.toml"), "-o", str(book), "--recalc", "--check"]) == 0
    capsys.readouterr()
    us = load_uncertain_scenarios([EXAMPLES / "uncertain-growth.toml"])[0]
    r = simulate(us)  # the defaults the sheet uses when its draws and seed cells are blank
    wb = load_workbook(book, data_only=True)
    ws = wb["Risk"]
    rows = {ws.cell(i, 1).value: i for i in range(1, ws.max_row + 1)}
    table = [ws.cell(i, 1).value for i in range(7, 7 + len(us.uncertainty.ranges))]
    assert table == list(us.uncertainty.ranges)  # in the file's order
    assert ws.cell(rows["Under the ranges"], 3).value == r.sentence()
    for o in model.OPTIONS:
        i = rows[o]
        assert ws.cell(i, 2).value == pytest.approx(r.p_cheapest[o], abs=1e-12)
        assert ws.cell(i, 4).value == pytest.approx(r.npv_usd[o]["p50"], rel=1e-12)
    t = next(i for i in range(1, ws.max_row) if ws.cell(i, 1).value == "key" and ws.cell(i, 2).value == "input") + 1
    for k, row in enumerate(r.tornado):
        assert ws.cell(t + k, 2).value == row["input"]
        assert ws.cell(t + k, 7).value == pytest.approx(row["swing_usd"], rel=1e-12)
    assert ws.cell(t + len(r.tornado), 2).value == "-"  # past the last input


def test_fill_refuses_ranges_without_a_ranges_table(tmp_path):
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName

    from buildbuy.engine import input_specs
    from buildbuy.workbook.fill import fill

    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    for i, key in enumerate(input_specs(), 1):
        ws.cell(i, 1, key)
        wb.defined_names[key] = DefinedName(key, attr_text=f"Inputs!$B${i}")
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    us = read_uncertain_scenarios(EXAMPLES / "uncertain-growth.toml")[0]
    from buildbuy.workbook.xlsx import WorkbookFileError

    with pytest.raises(WorkbookFileError, match="no 'risk_ranges' table"):
        fill(us, tmp_path / "out.xlsx", template=plain)
    assert not (tmp_path / "out.xlsx").exists()


def test_a_bad_range_on_the_risk_sheet_is_a_readable_error_and_fails_the_master_check(tmp_path):
    from openpyxl import load_workbook

    from buildbuy.workbook.recalc import recalc
    from buildbuy.workbook.template import TEMPLATE_PATH

    wb = load_workbook(TEMPLATE_PATH)
    ws = wb["Risk"]
    ws["A7"], ws["C7"], ws["E7"] = "daily_active_users", -5, 2000
    book = tmp_path / "bad.xlsx"
    wb.save(book)
    rep = recalc(book, book)
    assert rep.check_total == 1
    lines = [e.line() for e in rep.errors]
    assert lines and all(line.startswith("Risk!") for line in lines)
    assert all("daily_active_users range: low -5 is below the input's lower bound" in line for line in lines)


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(0.0, 1.0), width=st.floats(0.0, 1.0), at=st.floats(0.0, 1.0),
       dist=st.sampled_from(["pert", "triangular", "uniform"]))
def test_bounded_ranges_draw_inside_their_ends_and_the_input_bounds(lo, width, at, dist):
    # A share input (gpu_utilization, allowed (0, 1]): whatever valid range is given, every draw is in
    # [low, high], so the engine's own validation never rejects a draw.
    low = max(lo, 1e-3)
    high = min(low + width, 1.0)
    spec = {"dist": dist, "low": low, "high": high}
    if dist != "uniform":
        spec["mode"] = low + at * (high - low)
    r = parse_range("gpu_utilization", spec)
    u = (np.arange(2000) + 0.5) / 2000
    x = r.ppf(np.concatenate([[0.0, 1e-12], u, [1 - 1e-12]]))
    assert np.all(x >= low - 1e-12) and np.all(x <= high + 1e-12)
    assert low <= r.base <= high
    assert np.all(np.diff(r.ppf(u)) >= -1e-12)  # a quantile function never decreases


def test_json_scenario_with_ranges(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"name": "j", "daily_active_users": {"values": [100, 200000], "weights": [1, 3]},
                             "horizon_months": 60}))
    us = read_uncertain_scenarios(f)[0]
    assert us.base.daily_active_users == 200000  # the most likely value is the base case
    assert simulate(us, 10_000, 1).p_cheapest["API"] == 0.25


def test_libreoffice_shows_the_risk_sheet_as_computed(tmp_path):
    from openpyxl import load_workbook

    from buildbuy.workbook.fill import fill, load_uncertain_scenarios
    from buildbuy.workbook.libreoffice import cell, sheet_values, soffice
    from buildbuy.workbook.recalc import recalc

    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    book = tmp_path / "risk.xlsx"
    fill(load_uncertain_scenarios([EXAMPLES / "uncertain-growth.toml"])[0], book)
    recalc(book)
    ours = load_workbook(book, data_only=True)["Risk"]
    lo = sheet_values(book)
    compared = 0
    for row in ours.iter_rows():
        for c in row:
            if c.value is None:
                continue
            shown = cell(lo, "Risk", c.coordinate)
            if isinstance(c.value, (int, float)) and shown.endswith("%"):  # LibreOffice writes percentages as such
                assert float(shown[:-1]) / 100 == pytest.approx(c.value, abs=5e-5), (c.coordinate, shown)
            elif isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                assert float(shown) == pytest.approx(c.value, rel=1e-12, abs=1e-9), (c.coordinate, shown)
            else:
                assert shown == c.value, (c.coordinate, shown, c.value)
            compared += 1
    assert compared > 400


def test_workers_give_the_same_numbers():
    # Each draw is evaluated on its own, so splitting a chunk across processes changes nothing.
    us = read_uncertain_scenarios(EXAMPLES / "uncertain-growth.toml")[0]
    one = simulate(us, 4000, seed=9).as_dict()
    two = simulate(us, 4000, seed=9, workers=2).as_dict()
    assert one == two


def test_no_ranges_is_the_base_case_without_evaluating_draws():
    us = uncertain(dict(daily_active_users=20_000))
    r = simulate(us, draws=100_000, seed=1)
    assert r.sentence().startswith("no ranges given")
    for o in model.OPTIONS:
        assert r.npv_usd[o]["p10"] == r.npv_usd[o]["p90"] == pytest.approx(float(model.npv(o, us.base)), rel=1e-12)
    assert sum(r.p_cheapest.values()) + r.p_none_feasible == 1.0
    assert r.p_recommendation_differs == 0.0 and r.tornado == []
