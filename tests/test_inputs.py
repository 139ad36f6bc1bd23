"""Every bad input gets one message naming the key, the value and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from buildbuy.engine import InputError, defaults, input_specs, resolve
from buildbuy.engine.scenario import ScenarioFileError, read_scenarios

BAD = [
    ({"daily_active_userz": 5}, "unknown input 'daily_active_userz' (value 5); allowed: the names of the input "
                                "reference; did you mean 'daily_active_users'?"),
    ({"requests_per_day": -5}, "requests_per_day must be a number >= 0, got -5"),
    ({"daily_active_users": math.nan}, "daily_active_users must be a number >= 0 (finite), got NaN"),
    ({"daily_active_users": math.inf}, "daily_active_users must be a number >= 0 (finite), got inf"),
    ({"daily_active_users": "1000"}, "daily_active_users must be a number >= 0, got '1000'"),
    ({"daily_active_users": True}, "daily_active_users must be a number >= 0, got True"),
    ({"gpu_utilization": 1.5}, "gpu_utilization must be a number in (0, 1], got 1.5"),
    ({"gpu_utilization": 0}, "gpu_utilization must be a number in (0, 1], got 0"),
    ({"api_fallback_share": -0.1}, "api_fallback_share must be a number in [0, 1], got -0.1"),
    ({"api_cached_input_share": 2}, "api_cached_input_share must be a number in [0, 1], got 2"),
    ({"min_gpus": 1.5}, "min_gpus must be a whole number in [0, 100000], got 1.5"),
    ({"horizon_months": 0}, "horizon_months must be a whole number in [1, 600], got 0"),
    ({"peak_to_average_ratio": 0.5}, "peak_to_average_ratio must be a number >= 1, got 0.5"),
    ({"tokens_per_second_per_gpu": -1}, "tokens_per_second_per_gpu must be a number >= 0, got -1"),
    ({"pue": 0.9}, "pue must be a number in [1, 5], got 0.9"),
    ({"gpu_useful_life_months": -12}, "gpu_useful_life_months must be a whole number in [1, 240], got -12"),
    ({"gpu_ownership": "lease"}, "gpu_ownership must be one of 'rent', 'reserved', 'buy', got 'lease'"),
    ({"monthly_growth_rate": 2}, "monthly_growth_rate must be a number in [-0.5, 1], got 2"),
    ({"regulated_industry": "maybe"}, "regulated_industry must be TRUE or FALSE (yes/no), got 'maybe'"),
    ({"regulated_industry": 2}, "regulated_industry must be TRUE or FALSE (yes/no), got 2"),
    ({"differentiator": "ux"}, "differentiator must be one of 'around_model', 'model', got 'ux'"),
    ({"currency": "dollars"}, "currency must be a three-letter ISO 4217 code such as 'USD', got 'dollars'"),
    ({"currency": 5}, "currency must be text, got 5"),
    ({"requests_per_day": 10, "daily_active_users": 3, "requests_per_user_per_day": 2},
     "requests_per_day must be equal to daily_active_users x requests_per_user_per_day (3 x 2) when all three "
     "are given, got 10"),
    ({"phase2_start_month": 12, "phase3_start_month": 6},
     "phase3_start_month must be a month >= phase2_start_month (12), got 6"),
    ({"daily_active_users": [10, -3, 5]}, "daily_active_users must be a number >= 0, got -3"),
    ({"horizon_months": [12, 24]}, "horizon_months must be one whole number for the whole sweep"),
    ({"api_model": "no-such-model"}, "api_model 'no-such-model' is not known to"),
]


@pytest.mark.parametrize("raw, message", BAD)
def test_bad_input_message(raw, message):
    with pytest.raises(Exception) as info:
        resolve(raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_scenario_name_is_in_the_message():
    with pytest.raises(InputError, match=r"^scenario 'acme': gpu_utilization must be"):
        resolve({"gpu_utilization": 3}, scenario="acme")


def test_every_input_is_documented():
    for key, spec in input_specs().items():
        assert spec.unit and spec.description and spec.source and spec.as_of, key
        assert spec.default is not None or spec.derived, key


def test_defaults_validate_and_blank_means_default():
    a = resolve({k: None for k in input_specs()})
    for key, value in defaults().items():
        if isinstance(value, float):
            assert a[key] == pytest.approx(value)
        else:
            assert a[key] == value
    assert resolve(daily_active_users="").daily_active_users == 1000


def test_excel_style_values_are_accepted():
    a = resolve(regulated_industry="Yes", frontier_moving_fast=0, differentiator="Around Model", currency="eur")
    assert a.regulated_industry is True and a.frontier_moving_fast is False
    assert a.differentiator == "around_model" and a.currency == "EUR"


def test_requests_per_day_given_directly_derives_users():
    a = resolve(requests_per_day=5_000)
    assert a.daily_active_users == 100  # 5,000 / 50 requests per user


def test_arrays_are_kept_as_arrays():
    a = resolve(daily_active_users=np.array([1.0, 2.0]))
    assert isinstance(a.requests_per_day, np.ndarray) and a.is_vector


def test_catalog_fill(tmp_path):
    a = resolve(api_model="gpt-5.5")
    assert a.api_input_usd_per_mtok == 5.0 and a.api_output_usd_per_mtok == 30.0
    # cached $0.50 against $5.00 input -> a 90% discount
    assert a.api_cached_input_discount == pytest.approx(0.9)
    # explicit values win over the catalog
    assert resolve(api_model="gpt-5.5", api_input_usd_per_mtok=1.0).api_input_usd_per_mtok == 1.0


def test_scenario_files(tmp_path):
    f = tmp_path / "many.toml"
    f.write_text('requests_per_user_per_day = 10\n[scenarios.low]\ndaily_active_users = 10\n'
                 '[scenarios.high]\ndaily_active_users = 1000\n')
    low, high = read_scenarios(f)
    assert (low.name, low.requests_per_day, high.requests_per_day) == ("low", 100, 10_000)
    j = tmp_path / "one.json"
    j.write_text('{"name": "j", "daily_active_users": 7}')
    assert read_scenarios(j)[0].daily_active_users == 7
    bad = tmp_path / "bad.toml"
    bad.write_text("daily_active_users = \n")
    with pytest.raises(ScenarioFileError, match="not valid TOML"):
        read_scenarios(bad)
    with pytest.raises(ScenarioFileError, match="does not exist"):
        read_scenarios(tmp_path / "missing.toml")
    typo = tmp_path / "typo.toml"
    typo.write_text("[scenarios.a]\ngpu_utilisation = 0.5\n")
    with pytest.raises(InputError, match="scenario 'a': unknown input 'gpu_utilisation'.*'gpu_utilization'"):
        read_scenarios(typo)
