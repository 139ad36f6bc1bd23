"""Known answers and properties added to kill the mutants that survived the engine tests (mutation testing of
engine/costs.py, model.py, decision.py, rules.py). Every expected number is worked by hand in the comment."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from buildbuy.engine import costs, decision, model, resolve, rules
from buildbuy.engine.errors import InputError, NoSolutionError

# Every hidden cost off, so that single line items can be read by hand (as in test_known_answers).
BARE = dict(ml_engineers=0, mlops_usd_per_year=0, eval_usd_per_year=0, opportunity_cost_usd_per_month=0,
            retrain_every_months=0, api_fallback_share=0)


@pytest.mark.parametrize("module", [costs, model, decision, rules])
def test_docstring_examples_hold(module):
    # The worked examples in the docstrings are known answers too (the article's $91,250, 12,000 hours, ...).
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# ----------------------------------------------------------------------------------- costs: serving sizing
def test_weights_and_kv_cache_memory():
    # 70.6e9 parameters x 2 bytes = 141.2e9 bytes = 141.2 GB; 8e9 x 1 byte = 8 GB.
    assert costs.weights_memory_gb(70.6e9, 2) == pytest.approx(141.2, rel=1e-12)
    assert costs.weights_memory_gb(8e9, 1) == pytest.approx(8.0, rel=1e-12)
    # 131,072 bytes/token x 500 tokens x 32 sequences = 2,097,152,000 bytes = 2.097152 GB.
    assert costs.kv_cache_memory_gb(131_072, 500, 32) == pytest.approx(2.097152, rel=1e-12)
    # One sequence of 1,000 tokens at 1e6 bytes/token: 1e9 bytes = 1 GB.
    assert costs.kv_cache_memory_gb(1e6, 1_000, 1) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("needed_gb, reserve, most, gpus, fits", [
    # 80 GB GPUs with 10% reserved: 72 GB usable each.
    (60.0, 0.1, 8, 1, True),     # 60 / 72 < 1: one GPU
    (72.0, 0.1, 8, 1, True),     # exactly one GPU's usable memory
    (100.0, 0.1, 8, 2, True),    # 100 / 72 = 1.39 -> 2
    (144.0, 0.1, 8, 2, True),    # exactly 2 x 72: still 2, not 4
    (145.0, 0.1, 8, 4, True),    # 2.01 -> next power of two, 4
    (300.0, 0.1, 8, 8, True),    # 4.17 -> 8
    (576.0, 0.1, 8, 8, True),    # exactly 8 x 72: fits at the maximum
    (600.0, 0.1, 8, 16, False),  # 8.33 -> 16 GPUs, over the maximum of 8: shown, but does not fit
    (100.0, 0.0, 8, 2, True),    # no reserve: 100 / 80 = 1.25 -> 2
    (150.0, 0.0, 8, 2, True),    # no reserve: 150 / 80 = 1.875 -> 2 (with 10% reserved it would be 4)
    (150.0, 0.1, 2, 4, False),   # 150 / 72 = 2.08 -> 4 GPUs, over a maximum of 2
])
def test_replica_gpus_powers_of_two(needed_gb, reserve, most, gpus, fits):
    got, ok = costs.replica_gpus(needed_gb, 80.0, reserve, most)
    assert got == gpus and ok is fits


def test_replica_gpus_arrays_and_defaults():
    # Defaults: 10% reserve, at most 8 GPUs. 50 GB -> 1; 200 GB / 72 = 2.78 -> 4; 1,000 GB / 72 = 13.9 -> 16.
    got, ok = costs.replica_gpus(np.array([50.0, 200.0, 1_000.0]), 80.0)
    np.testing.assert_array_equal(got, [1.0, 4.0, 16.0])
    np.testing.assert_array_equal(ok, [True, True, False])
    assert costs.replica_gpus(600.0, 80.0)[1] is False  # 8.33 -> 16 > 8 by default


def test_check_model_fits_names_the_memory():
    # 150 GB on 72 GB usable GPUs: 4 per replica, within 8.
    assert costs.check_model_fits(150.0, 80.0, 0.1, 8) == 4
    # 600 GB does not fit 8 x 72 = 576 GB.
    with pytest.raises(InputError) as err:
        costs.check_model_fits(600.0, 80.0, 0.1, 8)
    text = str(err.value)
    assert text.startswith("serving_model_parameters must be a model that fits 8 GPUs of 72.0 GB usable each")
    assert "(576.0 GB; gpu_memory_gb, max_gpus_per_replica)" in text and "600.0 GB of weights and KV cache" in text


def test_decode_and_prefill_rooflines():
    # Decode: weights 8e9 x 2 = 16e9 bytes, KV 131,072 x 500 x 32 = 2.097152e9 bytes; a step reads 18.097152e9
    # bytes at 2,039e9 bytes/s per GPU: 8.8755 ms on one GPU; 32 tokens a step x 50% efficiency:
    # 32 x 0.5 x 2.039e12 / 18.097152e9 = 1,802.7146 tokens/s; two GPUs double the bandwidth: 3,605.4292.
    assert costs.decode_tokens_per_second(8e9, 2, 131_072, 500, 32, 1, 2_039, 0.5) == pytest.approx(
        1_802.714593, rel=1e-9)
    assert costs.decode_tokens_per_second(8e9, 2, 131_072, 500, 32, 2, 2_039, 0.5) == pytest.approx(
        3_605.429186, rel=1e-9)
    # One sequence, no KV cache, one byte a parameter: 1e9 bytes per step at 1e12 bytes/s = 1 ms -> 1,000 tokens/s.
    assert costs.decode_tokens_per_second(1e9, 1, 0, 0, 1, 1, 1_000, 1.0) == pytest.approx(1_000.0, rel=1e-12)
    # Prefill: 312e12 FLOP/s x 40% = 124.8e12 FLOP/s per GPU; 2 x 8e9 = 16e9 FLOPs a token -> 7,800 tokens/s;
    # on 2 GPUs 15,600; at 20% MFU 3,900.
    assert costs.prefill_tokens_per_second(8e9, 1, 312, 0.4) == pytest.approx(7_800.0, rel=1e-12)
    assert costs.prefill_tokens_per_second(8e9, 2, 312, 0.4) == pytest.approx(15_600.0, rel=1e-12)
    assert costs.prefill_tokens_per_second(8e9, 1, 312, 0.2) == pytest.approx(3_900.0, rel=1e-12)


def test_replica_seconds_per_request():
    # Roofline (no measured figure): 400 input tokens at 7,800 tokens/s = 0.0512821 s, plus 100 output tokens
    # at the decode rate for a 500-token context, 1,802.7146 tokens/s = 0.0554717 s; total 0.1067539 s.
    args = (400, 100, 8e9, 8e9, 2, 131_072, 32, 1, 2_039, 312, 0.5, 0.4)
    assert costs.replica_seconds_per_request(*args) == pytest.approx(400 / 7_800 + 100 / 1_802.714593, rel=1e-9)
    assert costs.replica_seconds_per_request(*args, 0.0) == pytest.approx(0.10675395, rel=1e-7)
    # Measured 2,500 tokens/s per GPU: 500 tokens / 2,500 = 0.2 s on one GPU, 0.1 s on a 2-GPU replica.
    assert costs.replica_seconds_per_request(*args, 2_500) == pytest.approx(0.2, rel=1e-12)
    two = args[:7] + (2,) + args[8:]
    assert costs.replica_seconds_per_request(*two, 2_500) == pytest.approx(0.1, rel=1e-12)


def test_training_gpu_hours_estimate_or_measured():
    # 6 x 7e9 x 1.4e11 = 5.88e21 FLOPs / (312e12 x 0.4) / 3,600 = 13,087.607 GPU-hours.
    assert costs.training_gpu_hours(7e9, 1.4e11, 312, 0.4) == pytest.approx(13_087.606838, rel=1e-9)
    # Measured 10,000 tokens/s per GPU: 1.4e11 / 1e4 / 3,600 = 3,888.889 GPU-hours, whatever the FLOPs say.
    assert costs.training_gpu_hours(7e9, 1.4e11, 312, 0.4, 10_000) == pytest.approx(3_888.888889, rel=1e-9)


def test_rent_vs_buy_breakeven_hours_by_hand():
    # Nothing but the purchase: $30,000 / $2.50 an hour = 12,000 hours; with 10% resale, 27,000 / 2.5 = 10,800.
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5) == pytest.approx(12_000.0, rel=1e-12)
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5, 0.1) == pytest.approx(10_800.0, rel=1e-12)
    # The defaults: $25,000 GPU, 10% resale -> $22,500 net; renting costs $2.739726/h; owning costs power
    # 0.8125 kW x 1.5 PUE x $0.13 = $0.1584375/h, and each month maintenance 25,000 x 10% / 12 = $208.333 plus
    # colocation 0.8125 kW x $150 = $121.875, together $330.208 per 730 hours = $0.452340/h.
    # Saving per hour 2.739726 - 0.158438 - 0.452340 = 2.128948; 22,500 / 2.128948 = 10,568.60 hours.
    h = costs.rent_vs_buy_breakeven_hours(25_000, 24_000 / 8_760, 0.1, 0.8125, 1.5, 0.13, 0.1, 150, 730)
    assert h == pytest.approx(10_568.598367, rel=1e-9)
    # Half the serving hours a month: the monthly costs weigh twice per hour, $0.904680/h;
    # saving 2.739726 - 0.158438 - 0.904680 = 1.676609; 22,500 / 1.676609 = 13,419.93 hours.
    h = costs.rent_vs_buy_breakeven_hours(25_000, 24_000 / 8_760, 0.1, 0.8125, 1.5, 0.13, 0.1, 150, 365)
    assert h == pytest.approx(22_500 / (24_000 / 8_760 - 0.1584375 - (25_000 * 0.1 / 12 + 121.875) / 365),
                              rel=1e-12)
    # Owning costs more per hour than renting: never pays (inf), and exactly equal is never either.
    assert costs.rent_vs_buy_breakeven_hours(25_000, 0.1, 0.0, 1.0, 1.0, 0.2) == np.inf
    assert costs.rent_vs_buy_breakeven_hours(25_000, 0.2, 0.0, 1.0, 1.0, 0.2) == np.inf


# ----------------------------------------------------------------------------------- model: serving plan
def test_default_serving_plan_by_hand():
    # Defaults: 8e9 parameters x 2 bytes = 16 GB of weights, KV 131,072 x 500 tokens x 32 sequences = 2.097152 GB:
    # 18.097152 GB, under one 80 GB GPU's 72 GB usable -> 1 GPU a replica, fits.
    a = resolve()
    plan = model.serving_plan(a)
    assert plan.gpus_per_replica == 1 and bool(plan.fits)
    assert float(plan.memory_needed_gb) == pytest.approx(18.097152, rel=1e-12)
    # A request takes 400 / 7,800 + 100 / 1,802.7146 = 0.1067539 s of a replica (roofline). Peak requests a
    # second per request/day: 365/12 days / (730 h x 3,600 s) x 2 peak = 2.3148e-5; at 60% utilization
    # k = 2.3148e-5 x 0.1067539 / 0.6 = 4.1185937e-6 replicas per request/day.
    assert float(plan.replicas_per_request_per_day) == pytest.approx(4.1185937e-6, rel=1e-7)
    # 45,000 served requests/day -> 0.185 -> 1 replica; 900,000 -> 3.707 -> 4; fixed at 7 GPUs -> 7 anyway.
    assert plan.gpus(45_000) == 1 and plan.gpus(900_000) == 4
    assert model.serving_plan(resolve(serving_gpus=7)).gpus(900_000) == 7
    # A floor of 6 GPUs, or of 5 replicas, lifts 4 GPUs to 6 and 5.
    assert model.serving_plan(resolve(min_gpus=6)).gpus(900_000) == 6
    assert model.serving_plan(resolve(min_replicas=5)).gpus(900_000) == 5


def test_bigger_models_span_more_gpus():
    # 70.6e9 x 2 bytes = 141.2 GB + 2.097 GB KV = 143.3 GB; / 72 GB = 1.99 -> 2 GPUs a replica, and the
    # floor of one replica is then 2 GPUs.
    a = resolve(serving_model_parameters=70.6e9, serving_active_parameters=70.6e9)
    assert model.gpus_per_replica("FINE-TUNE", a) == 2
    assert model.serving_plan(a).gpus(0.0) == 2
    assert model.gpus_per_replica("API", a) == 0
    # TRAIN serves its own dense model_parameters: 7e9 x 2 = 14 GB + 2.1 GB -> 1 GPU; 70e9 -> 142.1 GB -> 2.
    assert model.gpus_per_replica("TRAIN", a) == 1
    assert model.gpus_per_replica("TRAIN", resolve(model_parameters=70e9)) == 2


def test_model_fits_per_option():
    # 400e9 x 2 bytes = 800 GB > 8 x 72 = 576 GB: the fine-tuned model does not fit; TRAIN's 7B model does.
    big = resolve(serving_model_parameters=400e9, serving_active_parameters=400e9)
    assert model.model_fits("API", big) is True
    assert not model.model_fits("FINE-TUNE", big)
    assert model.model_fits("TRAIN", big)
    # PHASED without product-market fit never starts its fine-tune: nothing to fit.
    assert model.model_fits("PHASED", big)
    # With the fit and 5,000 examples phase 2 starts (month 6) and the model must fit.
    assert not model.model_fits("PHASED", resolve(serving_model_parameters=400e9, serving_active_parameters=400e9,
                                                  product_market_fit=True, labeled_examples=5_000))
    # TRAIN's own 400e9 model does not fit either.
    assert not model.model_fits("TRAIN", resolve(model_parameters=400e9))


def test_phase2_trigger_month():
    # Defaults spend $91,250 a year on the API, over the $50,000 trigger; with the fit and 1,000+ examples the
    # trigger holds from the first allowed month, phase2_start_month (6).
    fit = dict(product_market_fit=True, labeled_examples=1_000)
    assert model.phase2_trigger_month(resolve(**fit)) == 6
    assert model.phase2_trigger_month(resolve(**fit, phase2_start_month=0)) == 0
    # A trigger of $91,250 exactly still holds (>=); one above it never does within the horizon.
    assert model.phase2_trigger_month(resolve(**fit, phase2_trigger_api_usd_per_year=91_250)) == 6
    assert model.phase2_trigger_month(resolve(**fit, phase2_trigger_api_usd_per_year=91_251)) == np.inf
    # 999 examples (under the article's 1,000 minimum) or no product-market fit: never.
    assert model.phase2_trigger_month(resolve(product_market_fit=True, labeled_examples=999)) == np.inf
    assert model.phase2_trigger_month(resolve(labeled_examples=1_000)) == np.inf
    # Growing 10% a month from $45,625 a year (25,000 requests/day): the spend reaches $50,000 once
    # 1.1^m >= 1.0959, i.e. month 1 (1.1); with the start month at 0 the trigger month is 1.
    assert model.phase2_trigger_month(resolve(**fit, phase2_start_month=0, requests_per_day=25_000,
                                              monthly_growth_rate=0.1)) == 1


# ----------------------------------------------------------------------------------- model: rent, reserve, buy
# Measured 1,000 tokens/s per GPU and 1,000 tokens a request: 1 GPU-second a request; peak 1, utilization 1,
# 730 h a month: one GPU serves (365/12 days / (730 x 3,600 s))^-1 = 86,400 requests/day. The volume starts at
# 1.5 GPUs' worth and grows 25% a month: 1.5, 1.875, 2.344, 2.930, 3.662, 4.578 -> 2, 2, 3, 3, 4, 5 GPUs.
FLEET = dict(BARE, tokens_per_second_per_gpu=1_000, input_tokens_per_request=500, output_tokens_per_request=500,
             peak_to_average_ratio=1, gpu_utilization=1, requests_per_day=1.5 * 86_400, monthly_growth_rate=0.25,
             finetune_months=0, horizon_months=6, gpu_usd_per_hour=1 / 730, finetune_training_usd=0)


def test_fleet_gpus_by_month():
    t = model.timeline("FINE-TUNE", resolve(FLEET))
    np.testing.assert_array_equal(t.gpus, [2, 2, 3, 3, 4, 5])
    assert model.serving_gpus("FINE-TUNE", resolve(FLEET)) == 5
    assert model.serving_gpus("API", resolve(FLEET)) == 0


def test_rented_gpus_pay_serving_hours():
    # On demand: GPUs x 730 h x $1/730 = $1 per GPU-month; at 365 serving hours a month half that, and the
    # peak load then needs twice the GPUs (the same requests in half the hours): 3, 4, 5, 6, 8, 10 x $0.5.
    li = model.line_items("FINE-TUNE", resolve(FLEET))
    np.testing.assert_allclose(li["gpu_rental"], [2, 2, 3, 3, 4, 5], rtol=1e-12)
    half = model.line_items("FINE-TUNE", resolve(FLEET, serving_hours_per_month=365))
    np.testing.assert_allclose(half["gpu_rental"], np.array([3, 4, 5, 6, 8, 10]) * 0.5, rtol=1e-12)
    for k in ("hardware_purchase", "hardware_maintenance", "power", "colocation"):
        assert li[k].sum() == 0


def test_reserved_gpus_commit_to_each_terms_peak():
    # Reserved for 3-month terms at 50% off: 730 h x $1/730 x 0.5 = $0.5 per GPU-month, always 730 h, for the
    # most GPUs within the term: months 0-2 need up to 3, months 3-5 up to 5.
    a = resolve(FLEET, gpu_ownership="reserved", reserved_term_months=3, reserved_discount_share=0.5)
    li = model.line_items("FINE-TUNE", a)
    np.testing.assert_allclose(li["gpu_rental"], [1.5, 1.5, 1.5, 2.5, 2.5, 2.5], rtol=1e-12)
    # At 365 serving hours the reservation still pays 730 hours: (3, 4, 5 -> 5) and (6, 8, 10 -> 10) x $0.5.
    half = model.line_items("FINE-TUNE", resolve(FLEET, gpu_ownership="reserved", reserved_term_months=3,
                                                 reserved_discount_share=0.5, serving_hours_per_month=365))
    np.testing.assert_allclose(half["gpu_rental"], [2.5, 2.5, 2.5, 5, 5, 5], rtol=1e-12)
    # The steady run-rate reserves the GPUs it runs: 12 months x 5 GPUs x $0.5 = $30 at the last month's volume.
    assert model.annual_cost("FINE-TUNE", a, 4.578125 * 86_400) == pytest.approx(30.0, rel=1e-12)


def test_bought_gpus_by_hand():
    # Bought at $1,000 each, 2-month life, 50% resale; 0.5 kW, PUE 2, $0.10/kWh; 12% maintenance a year;
    # $10 per kW-month of colocation. Owned: 2, 2, 3, 3, 4, 5; bought 2, 0, 1, 0, 1, 1.
    # Replacement (net of resale, $500) after each 2 months of a GPU's life: the 2 of month 0 at months 2 and 4,
    # the one of month 2 at month 4: purchases 2,000; 0; 1,000 + 1,000; 0; 1,000 + 1,500; 1,000.
    a = resolve(FLEET, gpu_ownership="buy", gpu_purchase_usd=1_000, gpu_useful_life_months=2,
                gpu_residual_value_share=0.5, gpu_power_kw=0.5, pue=2, electricity_usd_per_kwh=0.1,
                hardware_maintenance_share_per_year=0.12, colocation_usd_per_kw_month=10)
    li = model.line_items("FINE-TUNE", a)
    owned = np.array([2, 2, 3, 3, 4, 5])
    assert li["gpu_rental"].sum() == 0
    np.testing.assert_allclose(li["hardware_purchase"], [2_000, 0, 2_000, 0, 2_500, 1_000], rtol=1e-12)
    # Maintenance $1,000 x 12% / 12 = $10 per owned GPU-month.
    np.testing.assert_allclose(li["hardware_maintenance"], owned * 10.0, rtol=1e-12)
    # Power 0.5 kW x 730 h x PUE 2 x $0.10 = $73 per running GPU-month.
    np.testing.assert_allclose(li["power"], owned * 73.0, rtol=1e-12)
    # Colocation 0.5 kW x $10 = $5 per owned GPU-month.
    np.testing.assert_allclose(li["colocation"], owned * 5.0, rtol=1e-12)
    # P&L view: purchases replaced by depreciation (1,000 - 500) / 2 = $250 per owned GPU-month.
    np.testing.assert_allclose(model.depreciation("FINE-TUNE", a), owned * 250.0, rtol=1e-12)
    cash = model.monthly_cost("FINE-TUNE", a)
    np.testing.assert_allclose(model.pnl_monthly_cost("FINE-TUNE", a), cash - li["hardware_purchase"] + owned * 250.0,
                               rtol=1e-12)
    np.testing.assert_allclose(cash, li["hardware_purchase"] + owned * (10 + 73 + 5), rtol=1e-12)
    # The API owns nothing: no depreciation.
    np.testing.assert_array_equal(model.depreciation("API", a), np.zeros(6))
    # Steady run-rate of 5 GPUs: replacement 5 x 500 / 2 = $1,250 a month, + 5 x (10 + 73 + 5) = $440;
    # x 12 = $20,280 a year.
    assert model.annual_cost("FINE-TUNE", a, 4.578125 * 86_400) == pytest.approx(20_280.0, rel=1e-12)


def test_default_annual_run_rates_by_ownership():
    # Defaults (1 GPU). Team 2 x 325,000 + MLOps 50,000 + evals 25,000 + 2 fine-tune refreshes x 50,000 =
    # 825,000; 10% of the $91,250 API bill stays on the API: 9,125.
    # Rent: + $24,000 of GPU. Reserved (40% off): + $14,400. Buy ($25,000, 48 months, 10% resale, 0.8125 kW,
    # PUE 1.5, $0.13/kWh, 10% maintenance, $150/kW-month): replacement 22,500 / 48 x 12 = 5,625; maintenance
    # 2,500; power 0.8125 x 730 x 1.5 x 0.13 x 12 = 1,387.9125; colocation 0.8125 x 150 x 12 = 1,462.5.
    assert model.annual_cost("FINE-TUNE", resolve()) == pytest.approx(858_125.0, rel=1e-12)
    assert model.annual_cost("FINE-TUNE", resolve(gpu_ownership="reserved")) == pytest.approx(848_525.0, rel=1e-12)
    assert model.annual_cost("FINE-TUNE", resolve(gpu_ownership="buy")) == pytest.approx(845_100.4125, rel=1e-12)
    # The API alone: $91,250; at the horizon's last month with 20%-a-year price cuts (two steps by month 35):
    # 91,250 x 0.8^2 = 58,400.
    assert model.run_rate_at_end("API", resolve(api_price_change_per_year=-0.2)) == pytest.approx(58_400.0)
    # Volume growing 1% a month: month 35 runs 1.01^35 = 1.416603 times the volume.
    assert model.run_rate_at_end("API", resolve(monthly_growth_rate=0.01)) == pytest.approx(
        91_250 * 1.01 ** 35, rel=1e-12)


def test_default_rent_vs_buy_and_training_run():
    a = resolve()
    # See test_rent_vs_buy_breakeven_hours_by_hand: 10,568.60 hours with the default prices.
    assert model.rent_vs_buy_breakeven_hours(a) == pytest.approx(10_568.598367, rel=1e-9)
    # 13,087.607 GPU-hours x 1.5 overhead / (512 GPUs x 730 h) = 0.0525241 months; cost x $2.739726 x 1.5 =
    # $53,784.69.
    assert model.training_gpu_hours(a) == pytest.approx(13_087.606838, rel=1e-9)
    assert model.training_run_months(a) == pytest.approx(0.05252411, rel=1e-7)
    assert model.training_run_cost_usd(a) == pytest.approx(53_784.685634, rel=1e-9)
    # Measured 10,000 tokens/s/GPU: 3,888.889 GPU-hours; on 1 GPU x 1.5 / 730 = 7.990868 months.
    m = resolve(training_tokens_per_second_per_gpu=10_000, training_gpus=1)
    assert model.training_run_months(m) == pytest.approx(3_888.888889 * 1.5 / 730, rel=1e-9)


# ----------------------------------------------------------------------------------- model: totals and units
def test_totals_per_request_and_per_token():
    a = resolve()
    # 50,000 requests/day x 365/12 days x 36 months = 54,750,000 requests; the API at $0.005 a request over
    # 500 tokens: $10 per million tokens.
    assert model.total_requests(a) == pytest.approx(54_750_000.0, rel=1e-12)
    assert model.cost_per_request_usd("API", a) == pytest.approx(0.005, rel=1e-12)
    assert model.cost_per_mtok_usd("API", a) == pytest.approx(10.0, rel=1e-12)
    none = resolve(requests_per_day=0)
    assert np.isnan(model.cost_per_request_usd("API", none)) and np.isnan(model.cost_per_mtok_usd("API", none))
    no_tokens = resolve(input_tokens_per_request=0, output_tokens_per_request=0)
    assert np.isnan(model.cost_per_mtok_usd("API", no_tokens))
    assert model.latency_ms("API", a) == 1_000 and model.latency_ms("fine-tune", a) == 100


def test_cost_by_year_with_a_partial_last_year():
    # $3,000 a month for 30 months: 36,000, 36,000 and 6 months = 18,000.
    a = resolve(dict(BARE, requests_per_day=3_000 * 12 / 365 / 0.001, input_tokens_per_request=100,
                     output_tokens_per_request=0, api_input_usd_per_mtok=10, horizon_months=30))
    np.testing.assert_allclose(model.cost_by_year("API", a), [36_000, 36_000, 18_000], rtol=1e-12)
    np.testing.assert_allclose(model.cost_by_year("API", resolve(dict(a, horizon_months=24))), [36_000, 36_000],
                               rtol=1e-12)


def test_option_names():
    assert model.normalize_option(" fine tune ") == "FINE-TUNE"
    assert model.normalize_option("fine_tune") == "FINE-TUNE"
    assert model.normalize_option("finetune") == "FINE-TUNE"
    assert model.normalize_option("buy") == "API" and model.normalize_option("Build") == "TRAIN"
    assert model.normalize_option("phased") == "PHASED"
    with pytest.raises(InputError, match="option must be one of 'API', 'FINE-TUNE', 'TRAIN', 'PHASED', got 'x'"):
        model.normalize_option("x")
    with pytest.raises(InputError):
        model.normalize_option(3)


# ----------------------------------------------------------------------------------- model: break-evens
# API $3,000 a month; FINE-TUNE live at once: $10,000 run at month 0, a $1,000 GPU month, and the run again
# every 6 months after launch (months 6, 12, 18). Cumulative advantage of FINE-TUNE: -10,000 + 2,000 t, less
# 10,000 at each refresh. t = 5 it crosses; at 6 it is +2,000 and the refresh drops it to -8,000, back at 10;
# at 12 +4,000 -> -6,000, back at 15; at 18 +6,000 -> -4,000, back at 20; then ahead to month 24.
CYCLE = dict(BARE, requests_per_day=3_000 * 12 / 365 / 0.001, input_tokens_per_request=100,
             output_tokens_per_request=0, api_input_usd_per_mtok=10, finetune_training_usd=10_000, finetune_months=0,
             gpu_usd_per_hour=1_000 / 730, tokens_per_second_per_gpu=1e6, min_gpus=1, horizon_months=24,
             retrain_every_months=6)


def test_first_and_lasting_breakeven_differ():
    a = resolve(CYCLE)
    assert list(np.flatnonzero(model.line_items("FINE-TUNE", a)["retraining"])) == [6, 12, 18]
    assert model.breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(5.0, rel=1e-9)
    assert model.lasting_breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(20.0, rel=1e-9)
    # The other way round: the API is ahead from the first instant (FINE-TUNE pays $10,000 at once), and it does
    # not stay ahead.
    assert model.breakeven_month(a, "FINE-TUNE", "API") == 0.0
    with pytest.raises(NoSolutionError, match="API is not cumulatively cheaper than FINE-TUNE within 24 months"):
        model.lasting_breakeven_month(a, "FINE-TUNE", "API")
    # Ending at month 19 (behind since the refresh of month 18): never lastingly cheaper.
    with pytest.raises(NoSolutionError):
        model.lasting_breakeven_month(resolve(CYCLE, horizon_months=19), "API", "FINE-TUNE")
    with pytest.raises(InputError):
        model.breakeven_month(a, "API", "api")


def test_breakeven_month_sweep_has_nan_for_never():
    # The same pair at two API prices: $3,000 a month crosses at 5; $1,000 a month (as cheap as the GPU alone)
    # never overtakes the $10,000 run.
    a = resolve(CYCLE, api_input_usd_per_mtok=np.array([10.0, 10 / 3]))
    got = model.breakeven_month(a, "API", "FINE-TUNE")
    assert got[0] == pytest.approx(5.0, rel=1e-9) and np.isnan(got[1])
    lasting = model.lasting_breakeven_month(a, "API", "FINE-TUNE")
    assert lasting[0] == pytest.approx(20.0, rel=1e-9) and np.isnan(lasting[1])


def test_breakeven_volume_errors_and_sweeps():
    a = resolve(tokens_per_second_per_gpu=2_500)
    with pytest.raises(InputError):
        model.breakeven_volume(a, "API", "api")
    # A free API never costs more than self-hosting: no break-even (scalar: NoSolutionError; sweep: NaN).
    free = resolve(tokens_per_second_per_gpu=2_500, api_input_usd_per_mtok=0, api_output_usd_per_mtok=0)
    with pytest.raises(NoSolutionError):
        model.breakeven_volume(free, "API", "FINE-TUNE")
    sweep = resolve(tokens_per_second_per_gpu=2_500, api_input_usd_per_mtok=np.array([10.0, 0.0]),
                    api_output_usd_per_mtok=np.array([10.0, 0.0]))
    got = model.breakeven_volume(sweep, "API", "FINE-TUNE")
    # 921,000 / 1.6425 as in test_known_answers.test_breakeven_volume_by_hand.
    assert got[0] == pytest.approx(921_000 / 1.6425, rel=1e-9) and np.isnan(got[1])


# ----------------------------------------------------------------------------------- costs: defaults of the primitives
def test_primitive_defaults_are_the_vocabularys():
    # No caching by default: 50,000 x ($0.004 + $0.001) x 365 = $91,250 even when a discount alone is given
    # (no share of the input is cached).
    assert costs.api_annual_cost_usd(50_000, 400, 100, 10, 10, api_cached_input_discount=0.5) == pytest.approx(
        91_250.0, rel=1e-12)
    # 60% of 1,000 input tokens cached at 90% off: $0.0106 a request (test_cached_input_discount) x 365 x 1,000.
    assert costs.api_annual_cost_usd(1_000, 1_000, 200, 10, 30, 0.6, 0.9) == pytest.approx(3_869.0, rel=1e-12)
    # Defaults 60% utilization, peak 2x, at least 1 GPU: 1e6 x 1,000 / 86,400 x 2 = 23,148.1 tokens/s at peak;
    # one GPU gives 5,000 x 0.6 = 3,000 -> 7.72 -> 8 GPUs; no traffic still keeps 1.
    assert costs.gpus_needed(1_000_000, 1_000, 5_000) == 8
    assert costs.gpus_needed(0, 1_000, 5_000) == 1
    assert costs.gpus_per_request_per_day(1_000, 5_000, 0.6, 2.0) == pytest.approx(2 * 1_000 / (86_400 * 3_000))
    # The same 8 GPUs for a year at $1/h: 8 x 8,760 = $70,080; no traffic: the one GPU, $8,760.
    assert costs.selfhost_annual_cost_usd(1_000_000, 1_000, 1.0, 5_000) == pytest.approx(70_080.0, rel=1e-12)
    assert costs.selfhost_annual_cost_usd(0, 1_000, 1.0, 5_000) == pytest.approx(8_760.0, rel=1e-12)
    # min_gpus = 0 and no traffic: nothing at all.
    assert costs.selfhost_annual_cost_usd(0, 1_000, 1.0, 5_000, min_gpus=0) == 0


def test_gpus_round_up_fractions_but_not_float_noise():
    # Peak 2.5: 1e6 x 1,000 / 86,400 x 2.5 / 4,000 = 7.23 GPUs -> 8 (a fraction over 7 buys the 8th GPU).
    assert costs.gpus_needed(1_000_000, 1_000, 5_000, 0.8, 2.5, 1) == 8
    # 3.0000000004 GPUs is float noise below the 9th decimal (the docstring's rounding): 3 GPUs, not 4;
    # 3.000000002 is over it: 4. Volume v with v x 1,000 / (86,400 x 1,000) = 3 + e: v = (3 + e) x 86,400.
    assert costs.gpus_needed((3 + 4e-10) * 86_400, 1_000, 1_000, 1.0, 1.0, 0) == 3
    assert costs.gpus_needed((3 + 2e-9) * 86_400, 1_000, 1_000, 1.0, 1.0, 0) == 4


# ----------------------------------------------------------------------------------- decision
def test_default_npv_and_pre_pmf_sentence():
    # The API at $91,250 a year = $7,604.17 a month for 36 months, end-of-month flows at 10% a year: monthly
    # rate i = 1.1^(1/12) - 1 = 0.0079741; annuity factor (1 - 1.1^-3) / i = 0.2486852 / 0.0079741 = 31.1864;
    # NPV = 7,604.17 x 31.1864 = $237,147. No product-market fit, and the API is also the cheapest.
    rec = decision.recommend(resolve())
    assert rec.npv_usd["API"] == pytest.approx(237_147.03, abs=0.01)
    assert rec.tco_usd["API"] == pytest.approx(91_250 * 3, rel=1e-12)
    assert rec.api_annual_cost_usd == pytest.approx(91_250.0, rel=1e-12)
    assert rec.decision_sentence == ("API: no product-market fit yet, and it is also the cheapest feasible option "
                                     "($237,147 NPV over 36 months).")
    assert rec.premium_usd == 0 and rec.premium_tco_usd == 0 and rec.premium_ratio == 1.0
    assert rec.train_conditions == {"corpus": False, "platform": False, "domain_poorly_served": False,
                                    "budget": False, "months": True, "deep_moat": False,
                                    "product_market_fit": False}


def test_pre_pmf_api_states_its_premium():
    # 100x the users and 20,000 examples: FINE-TUNE is far cheaper, but without product-market fit the API is
    # the answer and the sentence says by how much it costs more (the premium is against FINE-TUNE).
    rec = decision.recommend(resolve(daily_active_users=100_000, labeled_examples=20_000))
    assert rec.layer == "API" and rec.cheapest_feasible == "FINE-TUNE" and rec.deciding_rules == ("O-PRE-PMF",)
    diff = rec.npv_usd["API"] - rec.npv_usd["FINE-TUNE"]
    assert rec.premium_usd == pytest.approx(diff, rel=1e-12)
    assert rec.premium_tco_usd == pytest.approx(rec.tco_usd["API"] - rec.tco_usd["FINE-TUNE"], rel=1e-12)
    assert rec.premium_ratio == pytest.approx(rec.npv_usd["API"] / rec.npv_usd["FINE-TUNE"], rel=1e-12)
    ratio = rec.npv_usd["API"] / rec.npv_usd["FINE-TUNE"]
    assert rec.decision_sentence == (f"API costs ${diff / 1e6:,.2f}M more than FINE-TUNE over 36 months (NPV, "
                                     f"{ratio:.1f}x); recommended because there is no product-market fit yet "
                                     "(use APIs until there is).")
    # 100x the article's volume: $9.125M a year of API spend, over the $500K line; FINE-TUNE costs less.
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-500K")
    assert spend.claim == ("FINE-TUNE", "API") and "costs" in spend.sentence and "less than the API" in spend.sentence
    assert spend.inputs["api_year1_usd"] == pytest.approx(9_125_000.0)


def test_not_justified_train_sentence_names_the_failing_conditions():
    rec = decision.recommend(resolve(product_market_fit=True, finetune_training_usd=2e7, retrain_every_months=0,
                                     daily_active_users=100_000, corpus_tokens=2e11))
    assert rec.layer == "API" and rec.cheapest_feasible == "TRAIN"
    assert rec.deciding_rules == ("T-NOT-JUSTIFIED", "COST-CHEAPEST")
    gap = rec.npv_usd["API"] - rec.npv_usd["TRAIN"]
    ratio = rec.npv_usd["API"] / rec.npv_usd["TRAIN"]
    assert rec.decision_sentence == (
        f"API costs ${gap / 1e6:,.2f}M more than TRAIN over 36 months (NPV, {ratio:.1f}x); recommended because "
        "TRAIN, the cheapest feasible option, is not justified (platform, domain_poorly_served, budget, deep_moat "
        "not met). API is the cheapest justified option.")


def test_earned_train_and_roadmap_statuses():
    from tests.test_decision import EARNED

    rec = decision.recommend(resolve(EARNED))
    assert rec.deciding_rules == ("O-TRAIN-EARNED",)
    assert [p.status for p in rec.roadmap] == ["now", "planned", "planned"]
    # Phase 2 from month 6 (phase2_start_month; no trigger without examples), phase 3 from 18.
    assert [(p.start_month, p.end_month) for p in rec.roadmap] == [(0, 6), (6, 18), (18, None)]
    # Default scenario: API answer, no trigger: phase 2 only "if justified", phase 3 "not justified".
    assert [p.status for p in decision.recommend(resolve()).roadmap] == ["now", "if justified", "not justified"]
    # Phase 3 never before phase 2: allowed from month 0, phase 2's trigger holds at month 1 (see
    # test_phase2_trigger_month), so phase 3 starts at 1 too.
    road = decision.build_roadmap(resolve(product_market_fit=True, labeled_examples=1_000, phase2_start_month=0,
                                          phase3_start_month=0, requests_per_day=25_000, monthly_growth_rate=0.1),
                                  "API", {"x": True})
    assert [(p.start_month, p.end_month) for p in road] == [(0, 1), (1, 1), (1, None)]
    assert road[2].status == "planned"
    # With the fit and 5,000 examples the trigger holds at month 6 and phase 2 is planned even for an API answer.
    road = decision.build_roadmap(resolve(product_market_fit=True, labeled_examples=5_000, phase2_start_month=4),
                                  "API", {"x": False})
    assert road[1].start_month == 4 and road[1].status == "planned"


def test_no_feasible_option_shows_the_cheapest_overall():
    rec = decision.recommend(resolve(data_residency_required=True, latency_requirement_ms=50))
    assert rec.layer == "API" == rec.cheapest_overall and rec.cheapest_feasible is None
    assert rec.deciding_rules == ("NO-FEASIBLE",)
    assert rec.feasible == {o: False for o in model.OPTIONS}
    assert rec.decision_sentence.startswith("No option meets every hard constraint (F-CORPUS: ")
    assert rec.decision_sentence.endswith(". API is shown as the cheapest justified option; relax a constraint to "
                                          "get a recommendation.")
    assert rec.infeasible_because["FINE-TUNE"] == ["F-LATENCY: 100 ms against the 50 ms requirement"]
    assert rec.infeasible_because["API"][1] == "F-LATENCY: 1000 ms against the 50 ms requirement"
    assert rec.infeasible_because["PHASED"][0].endswith("(phase 1 sends all traffic to the hosted API)")
    assert not rec.infeasible_because["API"][0].endswith("(phase 1 sends all traffic to the hosted API)")


def test_constraint_sentences_state_the_numbers():
    rec = decision.recommend(resolve(latency_requirement_ms=150, serving_model_parameters=400e9, corpus_tokens=10e9,
                                     available_budget_usd=1e6))
    ft = rec.infeasible_because["FINE-TUNE"]
    assert ft[0] == (f"F-BUDGET: TCO ${rec.tco_usd['FINE-TUNE'] / 1e6:,.2f}M over 36 months is over the $1.00M "
                     "budget (available_budget_usd)")
    # 400e9 x 2 bytes = 800 GB + 2.097 GB of KV cache = 802.1 GB; 8 GPUs x 72 GB = 576 GB.
    assert ft[1] == ("F-MODEL-FIT: the model needs 802.1 GB (weights and KV cache); 8 GPUs of 72.0 GB usable hold "
                     "576.0 GB")
    assert rec.infeasible_because["TRAIN"][1] == ("F-CORPUS: 140,000,000,000 training tokens need a corpus of "
                                                  "140,000,000,000 unique tokens at 1 repeat(s); corpus_tokens is "
                                                  "10,000,000,000")
    assert rec.infeasible_because["API"] == ["F-LATENCY: 1000 ms against the 150 ms requirement"]
    # Two repeats halve the unique tokens needed: 70,000,000,000.
    rec = decision.recommend(resolve(corpus_tokens=10e9, corpus_repeats=2))
    assert rec.infeasible_because["TRAIN"] == ["F-CORPUS: 140,000,000,000 training tokens need a corpus of "
                                               "70,000,000,000 unique tokens at 2 repeat(s); corpus_tokens is "
                                               "10,000,000,000"]
    # TRAIN's own model too big: the sentence reads TRAIN's plan (7e11 x 2 = 1,400 GB + 2.1 GB).
    rec = decision.recommend(resolve(model_parameters=7e11, corpus_tokens=1e13))
    assert rec.infeasible_because["TRAIN"][0].startswith("F-MODEL-FIT: the model needs 1,402.1 GB")


def test_constraints_at_their_edges():
    a = resolve()
    tco = {o: model.tco(o, a) for o in model.OPTIONS}
    # A budget equal to an option's TCO is enough; a dollar less is not; no budget (0) rules nothing out.
    cons = decision.constraints(resolve(available_budget_usd=tco["API"]), tco)
    assert not cons["API"]["F-BUDGET"] and cons["FINE-TUNE"]["F-BUDGET"]
    assert decision.constraints(resolve(available_budget_usd=tco["API"] - 1), tco)["API"]["F-BUDGET"]
    assert not any(bool(c["F-BUDGET"]) for c in decision.constraints(a, tco).values())
    # Latency: equal to the requirement is met; the API at 1,000 ms misses 999 ms, self-hosting (100 ms) meets it.
    cons = decision.constraints(resolve(latency_requirement_ms=1_000), tco)
    assert not any(bool(c["F-LATENCY"]) for c in cons.values())
    cons = decision.constraints(resolve(latency_requirement_ms=999), tco)
    assert [bool(cons[o]["F-LATENCY"]) for o in model.OPTIONS] == [True, False, False, True]
    cons = decision.constraints(resolve(latency_requirement_ms=99), tco)
    assert [bool(cons[o]["F-LATENCY"]) for o in model.OPTIONS] == [True, True, True, True]
    # Residency with a compliant hosted deployment rules nothing out; without one, API and PHASED.
    cons = decision.constraints(resolve(data_residency_required=True), tco)
    assert [bool(cons[o]["F-RESIDENCY"]) for o in model.OPTIONS] == [True, False, False, True]
    # The corpus constraint is TRAIN's alone; 140e9 tokens at 1 repeat are held by exactly 140e9.
    assert [bool(cons[o]["F-CORPUS"]) for o in model.OPTIONS] == [False, False, True, False]
    assert not decision.constraints(resolve(corpus_tokens=140e9), tco)["TRAIN"]["F-CORPUS"]
    assert decision.constraints(resolve(corpus_tokens=139.9e9), tco)["TRAIN"]["F-CORPUS"]
    # Without TCOs given, constraints computes them itself.
    assert decision.constraints(resolve(available_budget_usd=1e6))["FINE-TUNE"]["F-BUDGET"]


def test_choose_on_a_sweep_matches_recommend_one_by_one():
    users = np.array([100.0, 1_000.0, 100_000.0])
    for extra in (dict(), dict(product_market_fit=True, labeled_examples=20_000),
                  dict(product_market_fit=True, data_residency_required=True, latency_requirement_ms=50)):
        picked = decision.choose(resolve(daily_active_users=users, **extra))
        for i, u in enumerate(users):
            rec = decision.recommend(resolve(daily_active_users=u, **extra))
            assert picked["recommendation"][i] == rec.layer
            assert picked["deciding_rule"][i] == rec.deciding_rules[0]
            assert picked["cheapest_feasible"][i] == (rec.cheapest_feasible or "")
            for o in model.OPTIONS:
                assert picked["npv_usd"][o][i] == pytest.approx(rec.npv_usd[o], rel=1e-12)
                assert bool(picked["feasible"][o][i]) == rec.feasible[o]


def test_recommend_refuses_sweeps():
    with pytest.raises(InputError, match="use decision.choose for sweeps"):
        decision.recommend(resolve(daily_active_users=np.array([1.0, 2.0])))


def test_decision_boundaries_are_where_the_answer_flips():
    a = resolve(product_market_fit=True)
    out = decision.decision_boundaries(a)
    assert [(b["input"], b["side"]) for b in out] == [("requests_per_day", "above"), ("api_price_factor", "above")]
    for b in out:
        assert 1.0 < b["factor"] < 1e3 and b["answer_beyond"] == "FINE-TUNE"
    vol = out[0]
    assert vol["value"] == pytest.approx(vol["factor"] * 50_000, rel=1e-12)
    # Just inside the volume boundary the answer is still the API, just beyond it FINE-TUNE.
    assert decision.recommend(resolve(product_market_fit=True, daily_active_users=None,
                                      requests_per_day=vol["value"] * 0.999)).layer == "API"
    assert decision.recommend(resolve(product_market_fit=True, daily_active_users=None,
                                      requests_per_day=vol["value"] * 1.001)).layer == "FINE-TUNE"
    price = out[1]["factor"]
    assert price == out[1]["value"]
    assert decision.recommend(resolve(product_market_fit=True, api_input_usd_per_mtok=10 * price * 0.999,
                                      api_output_usd_per_mtok=10 * price * 0.999)).layer == "API"
    assert decision.recommend(resolve(product_market_fit=True, api_input_usd_per_mtok=10 * price * 1.001,
                                      api_output_usd_per_mtok=10 * price * 1.001)).layer == "FINE-TUNE"
    # Pre-PMF the API is the answer at every volume and price within the range: no boundary.
    assert decision.decision_boundaries(resolve()) == []


def test_money_words():
    assert decision._money(237_147.03) == "$237,147"
    assert decision._money(999_999.4) == "$999,999"
    assert decision._money(1e6) == "$1.00M" and decision._money(6_979_866.5) == "$6.98M"
    assert decision._money(-2.5e6) == "$-2.50M"


def test_finding_as_dict():
    f = decision.Finding("Q2-SPEND-50K", "reason", "words", {"api_year1_usd": 1.0}, "FINE-TUNE", 1,
                         ("API", "FINE-TUNE"))
    assert f.as_dict() == {"rule_id": "Q2-SPEND-50K", "kind": "reason", "supports": "FINE-TUNE", "weight": 1,
                           "sentence": "words", "inputs": {"api_year1_usd": 1.0},
                           "claim": {"cheaper": "API", "dearer": "FINE-TUNE"}}
    bare = decision.Finding("W-TOO-EARLY", "warning", "w", {"x": 2})
    assert bare.as_dict() == {"rule_id": "W-TOO-EARLY", "kind": "warning", "supports": None, "weight": 0,
                              "sentence": "w", "inputs": {"x": 2}, "claim": None}
    # The inputs are a copy: changing the dict does not change the finding.
    bare.as_dict()["inputs"]["x"] = 3
    assert bare.inputs == {"x": 2}


# ----------------------------------------------------------------------------------- model: TRAIN and PHASED
# A TRAIN project with round numbers: one run is 3.6e9 tokens at a measured 1e6 tokens/s/GPU = 1 GPU-hour at
# $300 (no overhead) = $300, over 3 training months; post-training $100 in the last training month (2);
# corpus $1,000 at the start; the run and post-training again every 4 months after launch (months 7 and 11);
# $10 a month of product work forgone while building; team $1,200 + MLOps $120 + evals $240 a year = $130 a
# month from the start. The API and the GPUs are free here, so only these items count.
TRAINED = dict(BARE, training_tokens=3.6e9, training_tokens_per_second_per_gpu=1e6, training_gpu_usd_per_hour=300,
               training_overhead_factor=1, training_months=3, post_training_usd=100, training_data_usd=1_000,
               repretrain_every_months=4, opportunity_cost_usd_per_month=10, ml_engineers=1,
               ml_engineer_usd_per_year=1_200, mlops_usd_per_year=120, eval_usd_per_year=240, horizon_months=12,
               api_input_usd_per_mtok=0, api_output_usd_per_mtok=0, gpu_usd_per_hour=0)


def test_train_line_items_by_hand():
    a = resolve(TRAINED)
    assert model.training_run_cost_usd(a) == pytest.approx(300.0, rel=1e-12)
    li = model.line_items("TRAIN", a)
    np.testing.assert_allclose(li["training_compute"], [100, 100, 100] + [0] * 9, rtol=1e-12)
    np.testing.assert_allclose(li["post_training"], [0, 0, 100] + [0] * 9)
    np.testing.assert_allclose(li["training_data"], [1_000] + [0] * 11)
    np.testing.assert_allclose(li["repretraining"], [0] * 7 + [400, 0, 0, 0, 400], rtol=1e-12)
    np.testing.assert_allclose(li["opportunity_cost"], [10, 10, 10] + [0] * 9)
    np.testing.assert_allclose(li["ml_team"] + li["mlops"] + li["evaluation"], [130] * 12, rtol=1e-12)
    np.testing.assert_allclose(model.monthly_cost("TRAIN", a),
                               [1_240, 240, 340, 130, 130, 130, 130, 530, 130, 130, 130, 530], rtol=1e-12)
    # Steady run-rate: 3 runs a year x $400 + 12 x $130 = $2,760 (one-offs and the first run excluded).
    assert model.annual_cost("TRAIN", a) == pytest.approx(2_760.0, rel=1e-12)
    # By year: the 12 months sum to 1,240 + 240 + 340 + 7 x 130 + 2 x 530 = 3,790.
    np.testing.assert_allclose(model.cost_by_year("TRAIN", a), [3_790.0], rtol=1e-12)
    assert model.tco("TRAIN", a) == pytest.approx(3_790.0, rel=1e-12)
    # FINE-TUNE has none of TRAIN's items: its training lines are zero by construction.
    ft = model.line_items("FINE-TUNE", a)
    assert all(ft[k].sum() == 0 for k in ("training_compute", "post_training", "repretraining", "training_data"))


def test_phased_schedule_and_its_train_phase():
    from tests.test_decision import EARNED

    # Earned TRAIN with 5,000 examples: phase 2 at its trigger (month 6), phase 3 from phase3_start_month (18).
    a = resolve(EARNED, labeled_examples=5_000)
    sch = model.schedule("PHASED", a)
    assert (sch.finetune_start, sch.train_start) == (6, 18)
    # Phase 3 allowed from month 6 too: it starts with phase 2.
    assert model.schedule("phased", resolve(EARNED, labeled_examples=5_000, phase3_start_month=6)).train_start == 6
    # Not earned (moat 3/4): no phase 3; without the trigger no phase 2 either.
    assert model.schedule("PHASED", resolve(EARNED, labeled_examples=5_000, data_growing=False)).train_start == np.inf
    assert model.schedule("PHASED", resolve(EARNED)).finetune_start == np.inf
    assert model.schedule("PHASED", resolve(EARNED)).train_start == np.inf
    # PHASED's trained model sets its GPUs per replica once phase 3 is scheduled: 70e9 dense -> 2 GPUs,
    # while the 8e9 fine-tune needs 1.
    big = dict(EARNED, labeled_examples=5_000, model_parameters=70e9, corpus_tokens=2e12, available_budget_usd=1e9)
    assert model.gpus_per_replica("PHASED", resolve(big)) == 2
    assert model.gpus_per_replica("PHASED", resolve(big, data_growing=False)) == 1
    assert model.gpus_per_replica("FINE-TUNE", resolve(big)) == 1
    # The pre-training run of PHASED starts at month 18: its compute falls from there, its team from month 6.
    li = model.line_items("PHASED", resolve(EARNED, labeled_examples=5_000))
    assert li["training_compute"][17] == 0 and li["training_compute"][18] > 0
    assert li["ml_team"][5] == 0 and li["ml_team"][6] > 0


def test_spend_lines_use_full_years_and_the_break_even():
    # 25,000 requests/day at $0.005: $45,625 in year 1; API prices up 20% a year: $54,750 in year 2.
    # Over 24 months the highest full year is over the $50,000 line, year 1 is under it (too early as well).
    rec = decision.recommend(resolve(requests_per_day=25_000, api_price_change_per_year=0.2, horizon_months=24))
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-50K")
    assert spend.inputs == {"api_year1_usd": pytest.approx(45_625.0), "api_peak_year_usd": pytest.approx(54_750.0)}
    # Break-even volume at year-1 prices (test_breakeven_volume_by_hand, roofline GPUs): the API costs $1.825
    # per request/day a year, FINE-TUNE 825,000 + 0.1825 v + 24,000 n; the roofline plan serves
    # 1 / (0.9 x 4.1186e-6) = 269,782 requests/day a GPU, so n = 2 from 269,782 to 539,564 and
    # v = (825,000 + 48,000) / 1.6425 = 531,506.8 requests/day, where the API costs 1.825 v = $970,000 a year.
    assert spend.sentence.startswith("Projected API spend is $45,625 in year 1 and $54,750 in its highest year: "
                                     "over the article's $50,000 line. At your prices self-hosting (FINE-TUNE) "
                                     "pays from $970,000 a year of API spend (531,507 requests/day). Over 24 months "
                                     "FINE-TUNE still costs $")
    assert spend.sentence.endswith(" more than the API (NPV).") and spend.claim == ("API", "FINE-TUNE")
    assert "W-TOO-EARLY" in {f.rule_id for f in rec.findings}
    # Over 18 months the second year is partial ($27,375): the highest full year is year 1, under the line.
    rec = decision.recommend(resolve(requests_per_day=25_000, api_price_change_per_year=0.2, horizon_months=18))
    assert not {"Q2-SPEND-50K", "Q2-SPEND-500K"} & {f.rule_id for f in rec.findings}
    # All traffic kept on the API: self-hosting never pays.
    rec = decision.recommend(resolve(api_fallback_share=1.0))
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-50K")
    assert "At your prices self-hosting (FINE-TUNE) does not pay at any volume." in spend.sentence


def test_only_feasible_option_and_its_points():
    from tests.test_decision import RESIDENT

    # 100x the users with residency: API and PHASED ruled out, TRAIN has no corpus; FINE-TUNE is left.
    rec = decision.recommend(resolve(RESIDENT, daily_active_users=100_000))
    assert rec.layer == "FINE-TUNE" and rec.deciding_rules == ("COST-CHEAPEST",)
    npv = rec.npv_usd["FINE-TUNE"]
    assert rec.decision_sentence == f"FINE-TUNE is the only feasible option (${npv / 1e6:,.2f}M NPV)."
    # Points: API: frontier fast 1 + domain served 1 + public data 1 = 3; FINE-TUNE: differentiator in the model 2
    # + spend over $500K 3 + residency 2 + 20,000 examples 1 = 8.
    assert rec.scores == {"API": 3, "FINE-TUNE": 8, "TRAIN": 0}
    interim = next(f for f in rec.findings if f.rule_id == "W-INTERIM-API")
    assert "FINE-TUNE serves its own model only from month 2:" in interim.sentence


def test_train_warnings_state_their_numbers():
    from tests.test_decision import EARNED

    rec = decision.recommend(resolve(EARNED, data_residency_required=True))
    interim = next(f for f in rec.findings if f.rule_id == "W-INTERIM-API")
    assert "TRAIN serves its own model only from month 12:" in interim.sentence
    # 6 x 7e10 x 1.4e12 = 5.88e23 FLOPs / 1.248e14 FLOP/s = 4.7115e9 GPU-s = 1.30876e6 GPU-h; x 1.5 / (64 x 730 h)
    # = 42.0 months on 64 GPUs.
    rec = decision.recommend(resolve(EARNED, model_parameters=70e9, training_gpus=64, corpus_tokens=2e12,
                                     available_budget_usd=1e9))
    long = next(f for f in rec.findings if f.rule_id == "W-TRAIN-RUN-LONG")
    assert long.sentence == ("The pre-training run takes 42.0 months on 64 GPUs, longer than the 12-month window: add "
                             "GPUs or plan a longer program.")


def test_more_primitive_defaults():
    # A cached share without a discount changes nothing: $91,250.
    assert costs.api_annual_cost_usd(50_000, 400, 100, 10, 10, 0.5) == pytest.approx(91_250.0, rel=1e-12)
    # check_model_fits defaults: 10% reserve, 8 GPUs at most. 150 GB on 80 GB GPUs -> 4; 600 GB -> does not fit.
    assert costs.check_model_fits(150.0, 80.0) == 4
    assert costs.check_model_fits(576.0, 80.0) == 8
    with pytest.raises(InputError, match="fits 8 GPUs of 72.0 GB usable each"):
        costs.check_model_fits(600.0, 80.0)
    # rent_vs_buy defaults are "nothing else counted": each one given alone against $30,000 and $2.50/h.
    # 1 kW at $0.50/kWh, PUE 1 by default: saving 2.5 - 0.5 = 2.0/h -> 15,000 h.
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5, gpu_power_kw=1, electricity_usd_per_kwh=0.5) == \
        pytest.approx(15_000.0, rel=1e-12)
    # PUE 2 and $0.25/kWh with no kW given: no power counted, 12,000 h.
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5, pue=2, electricity_usd_per_kwh=0.25) == \
        pytest.approx(12_000.0, rel=1e-12)
    # 1 kW with no electricity price and no colocation price: 12,000 h.
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5, gpu_power_kw=1) == pytest.approx(12_000.0, rel=1e-12)
    # Maintenance 11.68% a year: $292 a month / 730 h (the default) = $0.40/h -> saving 2.1 -> 14,285.714 h.
    assert costs.rent_vs_buy_breakeven_hours(30_000, 2.5, hardware_maintenance_share_per_year=0.1168) == \
        pytest.approx(30_000 / 2.1, rel=1e-12)
    # A saving under $1/h still pays: $1,000 at $0.50/h -> 2,000 h.
    assert costs.rent_vs_buy_breakeven_hours(1_000, 0.5) == pytest.approx(2_000.0, rel=1e-12)
    np.testing.assert_allclose(costs.rent_vs_buy_breakeven_hours(1_000, np.array([0.5, 0.25, 0.0])),
                               [2_000.0, 4_000.0, np.inf])


def test_rules_thresholds_are_inclusive_and_scalars_give_bools():
    # Matrix: "100B+ tokens", "$5M+", "12+ months": the thresholds themselves count.
    conds = rules.train_conditions(resolve(corpus_tokens=100e9, available_budget_usd=5e6, training_months=12))
    assert bool(conds["corpus"]) and bool(conds["budget"]) and bool(conds["months"])
    conds = rules.train_conditions(resolve(corpus_tokens=99.9e9, available_budget_usd=4.99e6, training_months=11))
    assert not (bool(conds["corpus"]) or bool(conds["budget"]) or bool(conds["months"]))
    deep = resolve(data_proprietary=True, data_growing=True, data_labeled=True)
    assert rules.moat_is_deep(deep) is True
    assert rules.moat_is_deep(resolve()) is False
    # Sweeps give arrays.
    # (Resolved scenarios hold plain booleans; the flags here are arrays of one shape.)
    swept = rules.moat_is_deep({"data_proprietary": np.array([True, False]), "data_growing": np.array([True, True]),
                                "data_labeled": np.array([True, True]), "data_perishable": np.array([False, False])})
    np.testing.assert_array_equal(swept, [True, False])
    from tests.test_decision import EARNED

    assert rules.train_justified(resolve(EARNED)) is True
    assert rules.train_justified(resolve()) is False
    justified = rules.train_justified(resolve(EARNED, corpus_tokens=np.array([200e9, 50e9])))
    np.testing.assert_array_equal(justified, [True, False])


def test_fallback_share_opportunity_cost_and_staffing():
    # Residency without a compliant hosted API: once FINE-TUNE serves (month 2) no traffic may go to the API;
    # before that all of it is priced at the API's rate ($250 a day x 365/12 = $7,604.17 a month).
    li = model.line_items("FINE-TUNE", resolve(data_residency_required=True))
    np.testing.assert_allclose(li["api_usage"][:3], [250 * 365 / 12, 250 * 365 / 12, 0.0], rtol=1e-12)
    assert model.api_fallback_share(resolve(data_residency_required=True)) == 0.0
    # With a compliant deployment the 10% fallback stays: $760.42.
    li = model.line_items("FINE-TUNE", resolve(data_residency_required=True, compliant_api_available=True))
    assert li["api_usage"][2] == pytest.approx(25 * 365 / 12, rel=1e-12)
    # $1,000 a month of product work forgone in the 2 months of building, none after, none in the run-rate.
    a = resolve(opportunity_cost_usd_per_month=1_000)
    li = model.line_items("FINE-TUNE", a)
    np.testing.assert_allclose(li["opportunity_cost"][:4], [1_000, 1_000, 0, 0])
    assert li["opportunity_cost"].sum() == 2_000
    assert model.annual_cost("FINE-TUNE", a) == pytest.approx(858_125.0, rel=1e-12)
    # The API never builds: no opportunity cost, no team.
    api = model.line_items("API", a)
    assert api["opportunity_cost"].sum() == 0 and api["ml_team"].sum() == 0


def test_shrinking_fleet_keeps_what_it_bought():
    # The FLEET volume falling 20% a month: 1.5, 1.2, 0.96, 0.768, 0.614, 0.492 GPUs' worth -> 2, 2, 1, 1, 1, 1
    # GPUs running; 2 owned throughout.
    shrink = dict(FLEET, monthly_growth_rate=-0.2)
    li = model.line_items("FINE-TUNE", resolve(shrink))
    np.testing.assert_allclose(li["gpu_rental"], [2, 2, 1, 1, 1, 1], rtol=1e-12)
    # Reserved 3-month terms at $0.5 a GPU-month: the first term commits to 2, the second to 1.
    li = model.line_items("FINE-TUNE", resolve(shrink, gpu_ownership="reserved", reserved_term_months=3,
                                               reserved_discount_share=0.5))
    np.testing.assert_allclose(li["gpu_rental"], [1, 1, 1, 0.5, 0.5, 0.5], rtol=1e-12)
    # Bought (as in test_bought_gpus_by_hand): power follows the GPUs running (x $73), maintenance ($10) and
    # colocation ($5) the GPUs owned; the 2 GPUs of month 0 are replaced at months 2 and 4 ($500 each net).
    a = resolve(shrink, gpu_ownership="buy", gpu_purchase_usd=1_000, gpu_useful_life_months=2,
                gpu_residual_value_share=0.5, gpu_power_kw=0.5, pue=2, electricity_usd_per_kwh=0.1,
                hardware_maintenance_share_per_year=0.12, colocation_usd_per_kw_month=10)
    li = model.line_items("FINE-TUNE", a)
    np.testing.assert_allclose(li["power"], np.array([2, 2, 1, 1, 1, 1]) * 73.0, rtol=1e-12)
    np.testing.assert_allclose(li["hardware_maintenance"], [20.0] * 6, rtol=1e-12)
    np.testing.assert_allclose(li["colocation"], [10.0] * 6, rtol=1e-12)
    np.testing.assert_allclose(li["hardware_purchase"], [2_000, 0, 1_000, 0, 1_000, 0], rtol=1e-12)
    np.testing.assert_allclose(model.depreciation("FINE-TUNE", a), [500.0] * 6, rtol=1e-12)


def test_identical_options_break_even_at_zero_volume():
    # Without product-market fit PHASED never leaves the API: the two cost the same at every volume, so they
    # are equal from zero requests/day.
    assert model.breakeven_volume(resolve(), "API", "PHASED") == 0.0


def test_train_serves_its_own_model_on_its_own_plan():
    # 70e9 dense parameters x 2 bytes = 140 GB + 2.1 GB KV -> 2 GPUs a replica: TRAIN runs 2 GPUs (one replica)
    # once its model serves (month 12); FINE-TUNE's 8B model runs on 1.
    a = resolve(model_parameters=70e9)
    assert model.serving_gpus("TRAIN", a) == 2 and model.serving_gpus("FINE-TUNE", a) == 1
    g = model.timeline("TRAIN", a).gpus
    assert g[11] == 0 and g[12] == 2


def test_premium_over_a_free_option_has_no_ratio():
    from tests.test_decision import EARNED

    # A free API (prices 0): its NPV is 0. Earned TRAIN still wins; its premium is its whole NPV and the ratio
    # is infinite, so the sentence states no "x" figure.
    rec = decision.recommend(resolve(EARNED, api_input_usd_per_mtok=0, api_output_usd_per_mtok=0))
    assert rec.layer == "TRAIN" and rec.cheapest_feasible == "API" and rec.npv_usd["API"] == 0
    assert rec.premium_usd == pytest.approx(rec.npv_usd["TRAIN"]) and rec.premium_ratio == np.inf
    assert rec.decision_sentence.startswith(f"TRAIN costs ${rec.npv_usd['TRAIN'] / 1e6:,.2f}M more than API over "
                                            "36 months (NPV); recommended because TRAIN is earned")
    # The free API recommended against itself: no premium, ratio 1.
    rec = decision.recommend(resolve(api_input_usd_per_mtok=0, api_output_usd_per_mtok=0))
    assert rec.layer == "API" and rec.premium_usd == 0 and rec.premium_ratio == 1.0


def test_model_wrappers_on_sweeps_and_edges():
    # Rented or reserved GPUs are not depreciated; the API has nothing to depreciate, also on a sweep.
    np.testing.assert_array_equal(model.depreciation("FINE-TUNE", resolve()), np.zeros(36))
    sweep = resolve(requests_per_day=np.array([50_000.0, 100_000.0]))
    assert model.depreciation("API", sweep).shape == (2, 36)
    # Requests over the horizon per scenario: 50,000 and 100,000 x 365/12 x 36.
    np.testing.assert_allclose(model.total_requests(sweep), [54_750_000.0, 109_500_000.0], rtol=1e-12)
    np.testing.assert_allclose(model.cost_per_request_usd("API", sweep), [0.005, 0.005], rtol=1e-12)
    # Half a request over a one-month horizon (1 / (365/12) x 0.5 a day) still has a unit cost: $0.005 a
    # request and $10 per million tokens (500 tokens a request: 250 tokens in all).
    tiny = resolve(requests_per_day=0.5 / (365 / 12), horizon_months=1)
    assert model.total_requests(tiny) == pytest.approx(0.5, rel=1e-12)
    assert model.cost_per_request_usd("API", tiny) == pytest.approx(0.005, rel=1e-12)
    assert model.cost_per_mtok_usd("API", tiny) == pytest.approx(10.0, rel=1e-12)
    # The API's price steps at month 24 of a 25-month horizon: the last month runs at 0.8^2 -> $58,400 a year.
    assert model.run_rate_at_end("API", resolve(api_price_change_per_year=-0.2, horizon_months=25)) == \
        pytest.approx(58_400.0, rel=1e-12)
    # rent-vs-buy reads the scenario's serving hours: 365 a month (see test_rent_vs_buy_breakeven_hours_by_hand).
    assert model.rent_vs_buy_breakeven_hours(resolve(serving_hours_per_month=365)) == pytest.approx(
        22_500 / (24_000 / 8_760 - 0.1584375 - (25_000 * 0.1 / 12 + 121.875) / 365), rel=1e-12)


def test_decision_boundary_is_the_same_from_either_side():
    # With product-market fit the API/FINE-TUNE switch lies at one volume (about 580,551 requests/day). Seen
    # from 5,000,000 requests/day (FINE-TUNE) it is below, nearest first; from 95% of it (API), it is a factor
    # 1/0.95 = 1.0526 above, within the first step of the scan grid.
    base = decision.decision_boundaries(resolve(product_market_fit=True))[0]["value"]
    high = decision.decision_boundaries(resolve(product_market_fit=True, daily_active_users=100_000))
    assert [(b["input"], b["side"], b["answer_beyond"]) for b in high] == [
        ("requests_per_day", "below", "API"), ("api_price_factor", "below", "API")]
    assert high[0]["value"] == pytest.approx(base, rel=1e-9)
    assert high[0]["factor"] == pytest.approx(base / 5_000_000, rel=1e-9)
    near = decision.decision_boundaries(resolve(product_market_fit=True, daily_active_users=None,
                                                requests_per_day=base * 0.95))
    assert near[0]["side"] == "above" and near[0]["answer_beyond"] == "FINE-TUNE"
    assert near[0]["factor"] == pytest.approx(1 / 0.95, rel=1e-9) and near[0]["value"] == pytest.approx(base,
                                                                                                         rel=1e-9)


def test_spend_sentences_state_the_npv_gap():
    rec = decision.recommend(resolve(daily_active_users=100_000, labeled_examples=20_000))
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-500K")
    gap = rec.npv_usd["API"] - rec.npv_usd["FINE-TUNE"]
    assert spend.sentence.endswith(f"Over 36 months FINE-TUNE costs ${gap / 1e6:,.2f}M less than the API (NPV).")
    rec = decision.recommend(resolve())
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-50K")
    gap = rec.npv_usd["FINE-TUNE"] - rec.npv_usd["API"]
    assert spend.sentence.endswith(f"Over 36 months FINE-TUNE still costs ${gap / 1e6:,.2f}M more than the API (NPV).")
    rec = decision.recommend(resolve(api_fallback_share=1.0))
    spend = next(f for f in rec.findings if f.rule_id == "Q2-SPEND-50K")
    assert spend.sentence.startswith("Projected API spend is $91,250 in year 1 and $91,250 in its highest year: over "
                                     "the article's $50,000 line. At your prices self-hosting (FINE-TUNE) does not "
                                     "pay at any volume. Over 36 months")


def test_breakeven_months_inside_a_month():
    # CYCLE with a $9,800 run (and $9,800 refreshes): FINE-TUNE's advantage is -9,800 + 2,000 t, less 9,800 at
    # months 6, 12, 18. It crosses inside month 4 at t = 4.9; at 6 it is +2,200 -> -7,600, back at 9.8; at 12
    # +4,400 -> -5,400, back at 14.7; at 18 +6,600 -> -3,200, back at 19.6 and ahead to month 24.
    a = resolve(CYCLE, finetune_training_usd=9_800)
    assert model.breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(4.9, rel=1e-12)
    assert model.lasting_breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(19.6, rel=1e-12)
    # The same two scenarios as a sweep: each row keeps its own answer.
    sweep = resolve(CYCLE, finetune_training_usd=np.array([9_800.0, 10_000.0]))
    np.testing.assert_allclose(model.breakeven_month(sweep, "API", "FINE-TUNE"), [4.9, 5.0], rtol=1e-12)
    np.testing.assert_allclose(model.lasting_breakeven_month(sweep, "API", "FINE-TUNE"), [19.6, 20.0], rtol=1e-12)
    # Seen from FINE-TUNE, the API is ahead from the first instant (the run is paid at once).
    assert model.breakeven_month(a, "FINE-TUNE", "API") == 0.0


def test_infeasible_sentences_per_option():
    rec = decision.recommend(resolve(data_residency_required=True, latency_requirement_ms=50))
    residency = ("F-RESIDENCY: data must stay in your infrastructure (data_residency_required) and no compliant "
                 "hosted deployment is available (compliant_api_available)")
    assert rec.infeasible_because["API"] == [residency, "F-LATENCY: 1000 ms against the 50 ms requirement"]
    assert rec.infeasible_because["PHASED"] == [residency + " (phase 1 sends all traffic to the hosted API)",
                                                "F-LATENCY: 1000 ms against the 50 ms requirement"]
    # The hosted API meets 50 ms exactly, self-hosting (100 ms) does not: PHASED misses it on its own model.
    rec = decision.recommend(resolve(api_latency_ms=50, latency_requirement_ms=50))
    assert rec.infeasible_because["PHASED"] == ["F-LATENCY: 100 ms against the 50 ms requirement"]
    assert "API" not in rec.infeasible_because


def test_nothing_feasible_on_a_sweep_and_not_the_api():
    # Residency and 50 ms: nothing is feasible; at 100x the users FINE-TUNE is the cheapest option overall and
    # is shown. In a sweep with a feasible row (no latency requirement), each row keeps its own answer.
    rec = decision.recommend(resolve(data_residency_required=True, latency_requirement_ms=50,
                                     daily_active_users=100_000))
    assert rec.layer == "FINE-TUNE" == rec.cheapest_overall and rec.deciding_rules[0] == "NO-FEASIBLE"
    picked = decision.choose(resolve(data_residency_required=True, latency_requirement_ms=np.array([0.0, 50.0]),
                                     daily_active_users=100_000))
    assert list(picked["recommendation"]) == ["FINE-TUNE", "FINE-TUNE"]
    # Pre-PMF, but the API is ruled out: the cheapest feasible option decides the first row.
    assert list(picked["deciding_rule"]) == ["COST-CHEAPEST", "NO-FEASIBLE"]
    assert list(picked["cheapest_feasible"]) == ["FINE-TUNE", ""]


def test_cost_by_year_on_a_sweep_and_same_option_errors():
    # Two API scenarios of $3,000 and $6,000 a month over 30 months: 36,000 / 36,000 / 18,000 and double.
    a = resolve(dict(BARE, requests_per_day=np.array([1.0, 2.0]) * 3_000 * 12 / 365 / 0.001,
                     input_tokens_per_request=100, output_tokens_per_request=0, api_input_usd_per_mtok=10,
                     horizon_months=30))
    np.testing.assert_allclose(model.cost_by_year("API", a), [[36_000, 36_000, 18_000], [72_000, 72_000, 36_000]],
                               rtol=1e-12)
    # Comparing an option with itself names the input and the option.
    for f in (model.breakeven_month, model.lasting_breakeven_month, model.breakeven_volume):
        with pytest.raises(InputError, match=r"^option_b must be an option other than option_a \(API\), got 'api'$"):
            f(resolve(), "API", "api")


def test_check_model_fits_reads_the_maximum():
    # 150 GB needs 4 GPUs of 72 GB: fine with 8 at most, refused with 2 at most (2 x 72 = 144 GB).
    assert costs.check_model_fits(150.0, 80.0, 0.1, 8) == 4
    with pytest.raises(InputError, match=r"fits 2 GPUs of 72\.0 GB usable each \(144\.0 GB;"):
        costs.check_model_fits(150.0, 80.0, 0.1, 2)


def test_decision_sentences_branch_by_branch():
    from tests.test_decision import EARNED, RESIDENT

    # Ruled-out cheapest option: the sentence names it and why.
    rec = decision.recommend(resolve(RESIDENT))
    assert rec.deciding_rules == ("COST-CHEAPEST", "F-RESIDENCY")
    gap = rec.npv_usd["FINE-TUNE"] - rec.npv_usd["API"]
    ratio = rec.npv_usd["FINE-TUNE"] / rec.npv_usd["API"]
    assert rec.decision_sentence == (
        f"FINE-TUNE costs ${gap / 1e6:,.2f}M more than API over 36 months (NPV, {ratio:.1f}x); recommended because API "
        "is ruled out (F-RESIDENCY: data must stay in your infrastructure (data_residency_required) and no compliant "
        "hosted deployment is available (compliant_api_available)). FINE-TUNE is the cheapest feasible option.")
    # The runner-up, $0 behind: PHASED never leaves the API here.
    rec = decision.recommend(resolve(product_market_fit=True))
    assert rec.decision_sentence == ("API is the cheapest feasible option: $237,147 NPV over 36 months, $0 less than "
                                     "PHASED, the runner-up.")
    # Earned TRAIN that is also the only feasible option: residency rules out API and PHASED, FINE-TUNE's 400B
    # model does not fit, TRAIN's own 7B model does.
    rec = decision.recommend(resolve(EARNED, daily_active_users=100_000, data_residency_required=True,
                                     serving_model_parameters=400e9, serving_active_parameters=400e9,
                                     available_budget_usd=1e8))
    assert rec.layer == "TRAIN" and rec.deciding_rules == ("O-TRAIN-EARNED", "COST-CHEAPEST")
    assert rec.decision_sentence == (
        "TRAIN: earned (all five conditions, a deep data moat, product-market fit, the budget covers its TCO) and "
        f"the cheapest feasible option (${rec.npv_usd['TRAIN'] / 1e6:,.2f}M NPV over 36 months).")
    # Nothing feasible: every reason, sorted, joined by "; ".
    rec = decision.recommend(resolve(data_residency_required=True, latency_requirement_ms=50))
    assert "unique tokens at 1 repeat(s); corpus_tokens is 0; F-LATENCY: 100 ms against the 50 ms requirement; " \
        "F-LATENCY: 1000 ms" in rec.decision_sentence


def test_roadmap_layers_and_statuses_for_a_self_hosted_answer():
    # Residency alone: FINE-TUNE is the answer although phase 2 never triggers (no fit, no examples): planned.
    rec = decision.recommend(resolve(data_residency_required=True))
    assert rec.layer == "FINE-TUNE"
    assert [(p.phase, p.layer, p.status) for p in rec.roadmap] == [
        (1, "API", "now"), (2, "FINE-TUNE", "planned"), (3, "TRAIN", "not justified")]
    assert rec.roadmap[0].actions.startswith("Ship with APIs, validate the use case")
    assert rec.roadmap[1].actions.startswith("Fine-tune on the collected data")
    assert rec.roadmap[2].actions.startswith("Train a specialized model only if the data moat is deep")


def test_phased_train_model_must_fit_too():
    from tests.test_decision import EARNED

    # PHASED with its train phase scheduled (earned, 5,000 examples): TRAIN's 400B model does not fit.
    a = resolve(EARNED, labeled_examples=5_000, model_parameters=400e9)
    assert model.model_fits("PHASED", a) is False
    assert model.model_fits("PHASED", resolve(EARNED, labeled_examples=5_000)) is True
