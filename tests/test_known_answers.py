"""Known answers from the article and worked by hand; the working is in each comment."""

from __future__ import annotations

import numpy as np
import pytest

from buildbuy.engine import costs, model, resolve

# A scenario with every hidden cost switched off, so single line items can be checked by hand.
BARE = dict(ml_engineers=0, mlops_usd_per_year=0, eval_usd_per_year=0, opportunity_cost_usd_per_month=0,
            retrain_every_months=0, api_fallback_share=0)


def test_article_api_cost_per_day_and_year():
    # Article, question 2: 1,000 users x 50 requests = 50,000 requests/day; x 500 tokens = 25M tokens/day;
    # at $10 per million = $250/day; x 365 = $91,250/year (the article rounds to "$91,000").
    annual = costs.api_annual_cost_usd(1000 * 50, 400, 100, 10, 10)
    assert annual == pytest.approx(91_250.0, rel=1e-12)
    assert annual / 365 == pytest.approx(250.0, rel=1e-12)


def test_article_api_cost_is_the_default_scenario():
    # The defaults are the article's worked example, so the default API run-rate is the same $91,250.
    a = resolve()
    assert a.requests_per_day == 50_000
    assert model.annual_cost("API", a) == pytest.approx(91_250.0, rel=1e-12)


def test_article_dedicated_gpu_24k_per_year():
    # Article: a dedicated GPU instance at $2,000/month = $24,000/year. 24,000 / 8,760 h = $2.7397/h.
    # The worked-example load needs only that one GPU: 25M tokens/day / 86,400 s = 289.4 tokens/s average,
    # x 2 peak = 578.7 tokens/s, well under 2,500 x 0.6 = 1,500 tokens/s of one GPU at 60% utilization.
    annual = costs.selfhost_annual_cost_usd(50_000, 500, 24_000 / 8_760, 2_500, 0.6, 2.0, 1)
    assert annual == pytest.approx(24_000.0, rel=1e-12)
    assert costs.gpus_needed(50_000, 500, 2_500, 0.6, 2.0, 1) == 1


def test_gpus_round_up_to_whole_gpus():
    # 1,000,000 requests/day x 1,000 tokens / 86,400 s = 11,574.07 tokens/s; x 3 peak = 34,722.2 tokens/s;
    # one GPU at 80% of 5,000 tokens/s gives 4,000 -> 8.68 GPUs -> 9.
    assert costs.gpus_needed(1_000_000, 1_000, 5_000, 0.8, 3.0, 1) == 9
    # 3 GPUs exactly: 0.3 x 10 in floats is 3.0000000000000004, which must not buy a fourth GPU.
    # volume chosen so that volume x k = 0.1 x 30: k = 1000/(86400 x 1000 x 1) per request/day.
    v = 0.1 * 30 * 86_400
    assert costs.gpus_needed(v, 1_000, 1_000, 1.0, 1.0, 0) == 3


def test_train_compute_by_hand():
    # 6 x N x D: 6 x 7e9 x 1.4e11 = 5.88e21 FLOPs. One A100 at 312 TFLOP/s x 40% MFU = 1.248e14 FLOP/s,
    # so 5.88e21 / 1.248e14 = 4.7115e7 GPU-seconds = 13,087.6 GPU-hours; at $2/GPU-hour = $26,175.21.
    assert costs.train_compute_flops(7e9, 1.4e11) == pytest.approx(5.88e21)
    assert costs.train_gpu_hours(7e9, 1.4e11, 312, 0.4) == pytest.approx(13_087.606, rel=1e-6)
    assert costs.train_compute_cost_usd(7e9, 1.4e11, 312, 0.4, 2.0) == pytest.approx(26_175.21, rel=1e-6)


def test_training_tokens_default_to_20_per_parameter():
    # Chinchilla: 20 tokens per parameter; 7e9 x 20 = 1.4e11.
    assert resolve().training_tokens == pytest.approx(1.4e11)
    assert resolve(model_parameters=1e9).training_tokens == pytest.approx(2e10)


def test_cached_input_discount():
    # 1,000 input tokens at $10/M with 60% cached at a 90% discount: effective input price
    # 10 x (1 - 0.6 x 0.9) = $4.60/M -> $0.0046; plus 200 output tokens at $30/M = $0.006; total $0.0106.
    assert costs.api_cost_per_request_usd(1_000, 200, 10, 30, 0.6, 0.9) == pytest.approx(0.0106)


def test_breakeven_volume_by_hand():
    # Defaults. API: $0.005/request x 365 = $1.825 per request/day per year.
    # FINE-TUNE run-rate: team 2 x 325,000 + MLOps 50,000 + evals 25,000 + 2 retrains x 50,000 = 825,000;
    # 10% of traffic stays on the API: 0.1825 per request/day; GPUs: each serves
    # 86,400 x 2,500 x 0.6 / (500 x 2) / 0.9 = 144,000 requests/day, at $24,000/year.
    # 1.825 v = 825,000 + 0.1825 v + 24,000 n  ->  v = (825,000 + 24,000 n) / 1.6425.
    # n = 4 gives v = 921,000 / 1.6425 = 560,730.59, inside (432,000, 576,000] where 4 GPUs run.
    # (A measured 2,500 tokens/s per GPU replaces the roofline estimate here.)
    a = resolve(tokens_per_second_per_gpu=2_500)
    v = model.breakeven_volume(a, "API", "FINE-TUNE")
    assert v == pytest.approx(921_000 / 1.6425, rel=1e-9)
    assert model.annual_cost("API", a, v) == pytest.approx(model.annual_cost("FINE-TUNE", a, v), rel=1e-9)
    # Symmetric in the order of the options.
    assert model.breakeven_volume(a, "FINE-TUNE", "API") == pytest.approx(v, rel=1e-12)


def test_breakeven_month_by_hand():
    # API: $3,000 a month (98,630.14 requests/day x 365/12 days x $0.001). FINE-TUNE live at once:
    # one GPU at $1,000 a month (1000/730 per hour x 730 h) plus a one-off $10,000 run in month 1.
    # Running costs accrue evenly through a month, the one-off falls at the start of month 0, so at time t
    # (months): API 3,000 t; FINE-TUNE 10,000 + 1,000 t. Equal at t = 5.0, cheaper after.
    a = resolve(dict(BARE, requests_per_day=3_000 * 12 / 365 / 0.001, input_tokens_per_request=100,
                     output_tokens_per_request=0, api_input_usd_per_mtok=10, finetune_training_usd=10_000,
                     finetune_months=0, gpu_usd_per_hour=1_000 / 730, tokens_per_second_per_gpu=1e6,
                     min_gpus=1, horizon_months=12))
    assert model.monthly_cost("API", a)[0] == pytest.approx(3_000)
    ft = model.monthly_cost("FINE-TUNE", a)
    assert ft[0] == pytest.approx(11_000) and ft[1] == pytest.approx(1_000)
    assert model.breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(5.0, rel=1e-12)
    assert model.lasting_breakeven_month(a, "API", "FINE-TUNE") == pytest.approx(5.0, rel=1e-12)


def test_npv_is_an_annuity_for_flat_costs():
    # Flat $3,000 a month for 12 months at 10%/year, end-of-month flows. Monthly rate i = 1.1^(1/12) - 1;
    # annuity factor (1 - (1 + i)^-12) / i = (1 - 1/1.1) / i = 11.40057...; NPV = 3,000 x that = 34,201.7.
    a = resolve(dict(BARE, requests_per_day=3_000 * 12 / 365 / 0.001, input_tokens_per_request=100,
                     output_tokens_per_request=0, api_input_usd_per_mtok=10, horizon_months=12,
                     discount_rate_per_year=0.10))
    i = 1.1 ** (1 / 12) - 1
    assert model.npv("API", a) == pytest.approx(3_000 * (1 - 1 / 1.1) / i, rel=1e-12)
    assert model.tco("API", a) == pytest.approx(36_000)


def test_growth_and_yearly_price_steps():
    # 100 requests/day at $0.01 growing 10% a month; prices fall 20% at month 12.
    # Month 0: 100 x 365/12 x 0.01 = 30.4167; month 11: x 1.1^11 = 2.85312 -> 86.7823;
    # month 12: x 1.1^12 x 0.8 = 3.138428 x 0.8 -> 76.3684.
    a = resolve(dict(BARE, requests_per_day=100, input_tokens_per_request=1_000, output_tokens_per_request=0,
                     api_input_usd_per_mtok=10, monthly_growth_rate=0.10, api_price_change_per_year=-0.2,
                     horizon_months=13))
    m = model.monthly_cost("API", a)
    base = 100 * 365 / 12 * 0.01
    assert m[0] == pytest.approx(30.416667, rel=1e-6)
    assert m[11] == pytest.approx(base * 1.1 ** 11, rel=1e-9)
    assert m[12] == pytest.approx(base * 1.1 ** 12 * 0.8, rel=1e-9)


def test_finetune_line_items_by_hand():
    # Defaults except 3 months to launch and 5,000 examples at $2: one-off 50,000 + 10,000 in month 0;
    # months 0-2 all traffic on the API ($250/day x 365/12 = $7,604.17), from month 3 10% of it ($760.42)
    # plus one GPU ($2,000); team + MLOps + evals from month 0: (650,000 + 50,000 + 25,000) / 12 = 60,416.67;
    # retraining every 6 months after launch: months 9, 15, 21, ...
    a = resolve(finetune_months=3, labeled_examples=5_000, labeling_usd_per_example=2.0)
    li = model.line_items("FINE-TUNE", a)
    assert li["finetune_and_labeling"][0] == pytest.approx(60_000) and li["finetune_and_labeling"][1:].sum() == 0
    assert li["api_usage"][2] == pytest.approx(250 * 365 / 12)
    assert li["api_usage"][3] == pytest.approx(25 * 365 / 12)
    assert li["gpu_rental"][2] == 0 and li["gpu_rental"][3] == pytest.approx(2_000)
    assert (li["ml_team"] + li["mlops"] + li["evaluation"])[0] == pytest.approx(725_000 / 12)
    assert list(np.flatnonzero(li["retraining"])) == [9, 15, 21, 27, 33]


def test_train_spreads_compute_over_training_months():
    # Default 7B model, 140B tokens, A100 312 TFLOP/s at 40% MFU: 13,087.6 GPU-h x $2.7397 = $35,856.46,
    # x 1.5 overhead = $53,784.69, spread over 12 months = $4,482.06 a month; API serves all traffic for those
    # 12 months; post-training ($250,000) falls in the last training month (11).
    a = resolve()
    li = model.line_items("TRAIN", a)
    per_month = 13_087.606 * 24_000 / 8_760 * 1.5 / 12
    assert li["training_compute"][0] == pytest.approx(per_month, rel=1e-6)
    assert li["training_compute"][12] == 0
    assert li["post_training"][11] == pytest.approx(250_000) and li["post_training"].sum() == pytest.approx(250_000)
    assert li["api_usage"][11] == pytest.approx(250 * 365 / 12)
    assert li["api_usage"][12] == pytest.approx(25 * 365 / 12)


def test_phased_follows_the_switch_months():
    # With product-market fit and 5,000 examples the phase-2 trigger ($91,250/year of API spend >= $50,000)
    # holds from the first allowed month: API alone for months 0-5; the fine-tune project starts at 6 (one-off
    # 50,000, team from 6), serves from month 8 (2 months to launch); no train phase (conditions do not hold).
    a = resolve(product_market_fit=True, labeled_examples=5_000)
    li = model.line_items("PHASED", a)
    assert li["ml_team"][5] == 0 and li["ml_team"][6] > 0
    assert li["finetune_and_labeling"][6] == pytest.approx(50_000)
    assert li["gpu_rental"][7] == 0 and li["gpu_rental"][8] > 0
    assert li["training_compute"].sum() == 0
