"""The Excel functions through the classic xlwings path, with Excel-like values."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

import buildbuy.udfs as udfs
from buildbuy.engine import __version__
from buildbuy.udfs.conventions import XlError
from buildbuy.udfs.registry import REGISTRY, invoke

from .excel_cases import ASSUMPTIONS, CASES, RANGE_TABLES, A, assert_same


def _args(args):
    return [ASSUMPTIONS if a is A else RANGE_TABLES.get(a, a) if not isinstance(a, (str, float, int)) else a
            for a in args]


def test_every_function_has_a_case():
    assert {c[0] for c in CASES} == set(REGISTRY)


@pytest.mark.parametrize("name, args, expected, why", CASES)
def test_known_answers_through_the_classic_path(name, args, expected, why):
    got = getattr(udfs, name)(*_args(args))
    if expected is None:
        expected = invoke(name, *_args(args))
        if isinstance(expected, XlError):
            expected = expected.text()
    if isinstance(expected, str) and expected.startswith("#"):
        assert isinstance(got, str) and got.startswith(expected), got
    else:
        assert_same(got, expected)


def test_version():
    assert udfs.BVB_VERSION() == __version__


def test_classic_errors_are_one_readable_line():
    assert udfs.BVB_API_COST(-5, 400, 100, 10, 10) == "#VALUE! requests_per_day must be a number >= 0, got -5"
    assert udfs.BVB_TCO("SAAS", ASSUMPTIONS).startswith("#VALUE! option must be one of 'API'")
    assert udfs.BVB_TCO("API", [["gpu_utilization", 5]]) == (
        "#VALUE! gpu_utilization must be a number in (0, 1], got 5")
    assert udfs.BVB_PRICE("gpt-0", "input_usd_per_mtok").startswith("#N/A api_model 'gpt-0' is not in the price")
    msg = udfs.BVB_API_COST(None, 400, 100, 10, 10)
    assert msg == "#VALUE! requests_per_day must be a value (it is required), got 'a blank cell'"


def test_excel_value_shapes():
    # A 1x1 range is a scalar; a range for a number spills one result per cell.
    assert udfs.BVB_API_COST([[50000.0]], [[400.0]], 100, 10, 10) == pytest.approx(91_250)
    assert udfs.BVB_API_COST([[1000.0], [2000.0]], 400, 100, 10, 10) == [[1825.0], [3650.0]]
    # A boolean or text where a number belongs is an error, not a silent 1 or 0.
    assert udfs.BVB_API_COST(True, 400, 100, 10, 10).startswith("#VALUE! requests_per_day must be a number")
    assert udfs.BVB_API_COST("lots", 400, 100, 10, 10).startswith("#VALUE! requests_per_day must be a number")
    # A date is a number in Excel: 2 Jan 1900 is serial 2, 1 Mar 1900 is 61 (after Excel's 29 Feb 1900).
    assert udfs.BVB_API_COST(dt.datetime(1900, 1, 2), 1000, 0, 1000, 0) == pytest.approx(2 * 365)
    assert udfs.BVB_API_COST(dt.date(1900, 3, 1), 1000, 0, 1000, 0) == pytest.approx(61 * 365)
    # A blank row in the assumptions is skipped; a value without a key is an error.
    assert udfs.BVB_TCO("API", ASSUMPTIONS + [[None, None]]) == pytest.approx(273_750)
    assert udfs.BVB_TCO("API", [[None, 5]]).startswith("#VALUE! assumptions must be a name in every used row")
    # Yes/no text in the assumptions works like TRUE/FALSE.
    assert udfs.BVB_RECOMMEND([["data_residency_required", "yes"], ["product_market_fit", "yes"],
                               ["differentiator", "model"]]) == "FINE-TUNE"
    # Keys across the top (a two-row range) read the same as a two-column range.
    across = [[k for k, _ in ASSUMPTIONS], [v for _, v in ASSUMPTIONS]]
    assert udfs.BVB_TCO("API", across) == pytest.approx(udfs.BVB_TCO("API", ASSUMPTIONS))


def test_errors_in_inputs_propagate():
    assert invoke("BVB_API_COST", XlError("#DIV/0!"), 400, 100, 10, 10) == XlError("#DIV/0!")
    assert invoke("BVB_TCO", "API", [["daily_active_users", XlError("#REF!")]]) == XlError("#REF!")


def test_non_finite_results_are_num_errors():
    out = invoke("BVB_METRIC", "API", [["daily_active_users", 0]], "cost_per_mtok_usd")
    assert out == XlError("#N/A")


def test_import_is_warning_free():
    proc = subprocess.run([sys.executable, "-W", "error", "-c", "import buildbuy.udfs"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


SERVER_SCRIPT = r"""
import asyncio, json
import xlwings as xw
from xlwings import server
import buildbuy.udfs as m
meta = server.custom_functions_meta(m)
async def call(name, args):
    data = {"func_name": name, "args": args, "version": xw.__version__, "client": "Office.js",
            "runtime": "1.4", "culture_info_name": "en-US", "date_format": None}
    return await server.custom_functions_call(data, m)
ok = asyncio.run(call("BVB_API_COST", [[[50000]], [[400]], [[100]], [[10]], [[10]]]))
bad = asyncio.run(call("BVB_API_COST", [[[-5]], [[400]], [[100]], [[10]], [[10]]]))
print(json.dumps({"meta": meta, "ok": ok, "bad": bad, "server": xw.func is server.func}))
"""


def test_officejs_metadata_and_calls():
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    proc = subprocess.run([sys.executable, "-c", SERVER_SCRIPT], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["server"] is True
    by_name = {f["name"]: f for f in out["meta"]["functions"]}
    assert set(by_name) == set(REGISTRY)
    for name, fn in REGISTRY.items():
        params = by_name[name]["parameters"]
        assert [p["name"] for p in params] == [a.name for a in fn.args]
        assert all(p["description"] for p in params)
        assert [bool(p.get("optional")) for p in params] == [a.optional for a in fn.args]
        assert by_name[name]["description"].startswith(fn.summary)
    assert out["ok"] == [[91250.0]]
    # Office.js gets a real #VALUE! error, not text.
    assert out["bad"] == [[{"type": "Error", "errorType": "Value"}]]
