"""The command line: readable output, JSON, one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from buildbuy.workbook.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_recommend_text(capsys):
    assert main(["recommend", str(EXAMPLES / "regulated-saas.toml")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # The answer and its price lead the report.
    assert lines[2].split() == ["Recommendation:", "FINE-TUNE"]
    assert lines[3].split() == ["Cheapest", "feasible:", "FINE-TUNE"]
    assert lines[4].startswith("Premium:") and lines[5].startswith("Deciding rules:")
    assert "F-RESIDENCY" in lines[5] and "costs $" in lines[6] and "more than API" in lines[6]
    for header in ("Run-rate today", "36-mo TCO", "NPV", "Latency", "Break-even", "Lasting", "Cost by year",
                   "Cost by line item", "Reasons:", "Roadmap:", "API ruled out: F-RESIDENCY"):
        assert header in out
    assert "$91,250" in out  # the article's worked example volume and price


@pytest.mark.parametrize("name, layer", [("prepmf-startup", "API"), ("regulated-saas", "FINE-TUNE"),
                                         ("data-platform", "TRAIN")])
def test_archetypes_json(capsys, name, layer):
    assert main(["recommend", str(EXAMPLES / f"{name}.toml"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["recommendation"] == layer
    assert [o["option"] for o in rep["options"]] == ["API", "FINE-TUNE", "TRAIN", "PHASED"]
    assert all(r["rule_id"] and r["sentence"] for r in rep["reasons"] + rep["warnings"])
    for key in ("cheapest_feasible", "premium_usd", "premium_ratio", "deciding_rules"):
        assert key in rep
    for o in rep["options"]:
        for key in ("feasible", "infeasible_because", "annual_cost_by_year_usd", "line_items_usd",
                    "breakeven_month_vs_api", "lasting_breakeven_month_vs_api", "rent_vs_buy_breakeven_hours",
                    "serving_gpus", "gpus_per_replica"):
            assert key in o
    train = rep["options"][2]
    assert train["training_gpu_hours"] > 0 and train["training_run_months"] > 0


def test_bad_value_is_one_line_and_exit_2(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text("gpu_utilization = 7\n")
    proc = subprocess.run([sys.executable, "-m", "buildbuy.workbook.cli", "recommend", str(f)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("buildbuy recommend: error: scenario 's': gpu_utilization must be a number "
                                   "in (0, 1], got 7")
    assert "Traceback" not in proc.stderr


def test_missing_file_exit_2(capsys, tmp_path):
    assert main(["recommend", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1


def test_user_catalog_flag(capsys, tmp_path):
    cat = tmp_path / "cat.toml"
    cat.write_text('[[api_model]]\nid="cheap"\nprovider="x"\ninput_usd_per_mtok=1\noutput_usd_per_mtok=1\n'
                   'context_window_tokens=1000\nas_of=2026-01-01\nsource="quote"\n')
    s = tmp_path / "s.toml"
    s.write_text('api_model = "cheap"\n')
    assert main(["recommend", str(s), "--json", "--catalog", str(cat)]) == 0
    rep = json.loads(capsys.readouterr().out)
    # 50,000 requests x 500 tokens x $1/M x 365 = $9,125
    assert rep["options"][0]["annual_cost_usd"] == pytest.approx(9_125)


def test_summary_is_the_same_answer_in_one_pass(capsys, tmp_path):
    # Six scenarios in one file, grouped by their yes/no inputs for the vectorized pass: each row's answer is the
    # one the full report gives for that scenario alone.
    f = tmp_path / "many.toml"
    f.write_text("".join(f"[scenarios.s{i}]\ndaily_active_users = {users}\nproduct_market_fit = {pmf}\n"
                         f"data_residency_required = {res}\n"
                         for i, (users, pmf, res) in enumerate([(100, "false", "false"), (1000, "true", "false"),
                                                               (200000, "true", "false"), (1000, "true", "true"),
                                                               (50, "true", "true"), (30000, "false", "false")])))
    assert main(["recommend", str(f), "--summary", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert main(["recommend", str(f), "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in rows] == [r["scenario"] for r in full] == [f"s{i}" for i in range(6)]
    for r, rep in zip(rows, full, strict=True):
        assert r["recommendation"] == rep["recommendation"]
        assert r["cheapest_feasible"] == rep["cheapest_feasible"]
        assert r["premium_usd"] == pytest.approx(rep["premium_usd"], rel=1e-9, abs=1e-6)
        assert r["deciding_rule"] == rep["deciding_rules"][0]
