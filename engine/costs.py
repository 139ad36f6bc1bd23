"""Cost primitives of the three layers: hosted API, self-hosted serving, pre-training compute.

Pure functions of scalars or numpy arrays (they broadcast, like numpy-financial). Money is in the currency of
the price inputs (USD unless a scenario says otherwise). A year is 365 days or 8,760 hours.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import check_value

DAYS_PER_YEAR = 365
HOURS_PER_YEAR = 8760
MONTHS_PER_YEAR = 12
SECONDS_PER_DAY = 86_400
TOKENS_PER_MTOK = 1_000_000
#: FLOPs per parameter per training token (forward + backward pass), Kaplan et al. 2020.
TRAINING_FLOPS_PER_PARAM_TOKEN = 6


def _out(x: Any) -> Any:
    """Scalars out for scalars in; arrays stay arrays."""
    x = np.asarray(x, dtype=float)
    return x if x.ndim else float(x)


#: Inputs of the pricing dimensions beyond the base six arguments, passed by keyword (names = input keys).
API_DIMENSION_INPUTS = (
    "api_cache_write_5m_share", "api_cache_write_5m_premium", "api_cache_write_1h_share", "api_cache_write_1h_premium",
    "api_batch_share", "api_batch_discount", "api_flex_share", "api_flex_discount", "api_priority_share",
    "api_priority_premium", "api_long_context_share", "api_long_context_input_multiplier",
    "api_long_context_output_multiplier", "api_reasoning_tokens_per_request", "api_regional_uplift",
    "api_committed_use_discount",
)


def api_cost_per_request_usd(input_tokens_per_request: Any, output_tokens_per_request: Any,
                             api_input_usd_per_mtok: Any, api_output_usd_per_mtok: Any,
                             api_cached_input_share: Any = 0.0, api_cached_input_discount: Any = 0.0, *,
                             api_cache_write_5m_share: Any = 0.0, api_cache_write_5m_premium: Any = 0.25,
                             api_cache_write_1h_share: Any = 0.0, api_cache_write_1h_premium: Any = 1.0,
                             api_batch_share: Any = 0.0, api_batch_discount: Any = 0.5,
                             api_flex_share: Any = 0.0, api_flex_discount: Any = 0.5,
                             api_priority_share: Any = 0.0, api_priority_premium: Any = 0.75,
                             api_long_context_share: Any = 0.0, api_long_context_input_multiplier: Any = 2.0,
                             api_long_context_output_multiplier: Any = 1.5,
                             api_reasoning_tokens_per_request: Any = 0.0, api_regional_uplift: Any = 0.0,
                             api_committed_use_discount: Any = 0.0) -> Any:
    """API price of one request, USD: the one place every hosted-API pricing dimension is applied.

    Every dimension defaults to "not used" (a share of 0, an uplift or discount of 0), so the first four
    arguments alone give the plain ``(in x p_in + out x p_out) / 1e6``.

    Parameters
    ----------
    input_tokens_per_request, output_tokens_per_request : tokens/request (all input tokens, cached or not)
    api_input_usd_per_mtok, api_output_usd_per_mtok : standard prices, USD per million tokens
    api_cached_input_share : share of input tokens read from the prompt cache
    api_cached_input_discount : cache-read price = input price x (1 - discount)
    api_cache_write_5m_share, api_cache_write_1h_share : shares of input tokens written to the 5-minute /
        1-hour cache; read + write shares <= 1 (the rest is uncached input)
    api_cache_write_5m_premium, api_cache_write_1h_premium : write price = input price x (1 + premium)
    api_batch_share, api_flex_share, api_priority_share : shares of requests on each tier (sum <= 1; the rest is
        standard); a tier scales the whole request: batch x (1 - batch discount), flex x (1 - flex discount),
        priority x (1 + priority premium)
    api_long_context_share : share of requests above the long-context threshold; their input-side cost is
        multiplied by ``api_long_context_input_multiplier`` and output by ``api_long_context_output_multiplier``
    api_reasoning_tokens_per_request : hidden reasoning tokens, billed as output tokens
    api_regional_uplift : x (1 + uplift) on the whole request (regional / data-residency endpoints)
    api_committed_use_discount : x (1 - discount) on the whole request

    Notes
    -----
    ``input = in x p_in x (uncached + read x (1 - d_read) + w5 x (1 + prem_5m) + w1 x (1 + prem_1h))``
    ``output = (out + reasoning) x p_out``
    ``tokens = (1 - lc) x (input + output) + lc x (input x m_in + output x m_out)``
    ``cost = tokens x (1 - batch x d_b - flex x d_f + priority x prem_p) x (1 + uplift) x (1 - commit) / 1e6``

    Examples
    --------
    o3 on OpenAI's Batch API ($2/$8 standard, half price in batch): 1M tokens in and 1M out cost $5.

    >>> api_cost_per_request_usd(1e6, 1e6, 2, 8, api_batch_share=1, api_batch_discount=0.5)
    5.0
    """
    c = {k: check_value(k, v) for k, v in (
        ("input_tokens_per_request", input_tokens_per_request),
        ("output_tokens_per_request", output_tokens_per_request),
        ("api_input_usd_per_mtok", api_input_usd_per_mtok), ("api_output_usd_per_mtok", api_output_usd_per_mtok),
        ("api_cached_input_share", api_cached_input_share), ("api_cached_input_discount", api_cached_input_discount),
        ("api_cache_write_5m_share", api_cache_write_5m_share),
        ("api_cache_write_5m_premium", api_cache_write_5m_premium),
        ("api_cache_write_1h_share", api_cache_write_1h_share),
        ("api_cache_write_1h_premium", api_cache_write_1h_premium),
        ("api_batch_share", api_batch_share), ("api_batch_discount", api_batch_discount),
        ("api_flex_share", api_flex_share), ("api_flex_discount", api_flex_discount),
        ("api_priority_share", api_priority_share), ("api_priority_premium", api_priority_premium),
        ("api_long_context_share", api_long_context_share),
        ("api_long_context_input_multiplier", api_long_context_input_multiplier),
        ("api_long_context_output_multiplier", api_long_context_output_multiplier),
        ("api_reasoning_tokens_per_request", api_reasoning_tokens_per_request),
        ("api_regional_uplift", api_regional_uplift), ("api_committed_use_discount", api_committed_use_discount))}
    read, w5, w1 = c["api_cached_input_share"], c["api_cache_write_5m_share"], c["api_cache_write_1h_share"]
    _at_most_one(("api_cached_input_share", read), ("api_cache_write_5m_share", w5),
                 ("api_cache_write_1h_share", w1))
    batch, flex, prio = c["api_batch_share"], c["api_flex_share"], c["api_priority_share"]
    _at_most_one(("api_batch_share", batch), ("api_flex_share", flex), ("api_priority_share", prio))
    uncached = 1.0 - np.add(np.add(read, w5), w1)
    input_weight = (uncached + np.multiply(read, 1.0 - np.asarray(c["api_cached_input_discount"]))
                    + np.multiply(w5, 1.0 + np.asarray(c["api_cache_write_5m_premium"]))
                    + np.multiply(w1, 1.0 + np.asarray(c["api_cache_write_1h_premium"])))
    input_usd = np.multiply(np.multiply(c["input_tokens_per_request"], c["api_input_usd_per_mtok"]), input_weight)
    output_usd = np.multiply(np.add(c["output_tokens_per_request"], c["api_reasoning_tokens_per_request"]),
                             c["api_output_usd_per_mtok"])
    lc = np.asarray(c["api_long_context_share"], dtype=float)
    tokens_usd = ((1.0 - lc) * (input_usd + output_usd)
                  + lc * (input_usd * np.asarray(c["api_long_context_input_multiplier"])
                          + output_usd * np.asarray(c["api_long_context_output_multiplier"])))
    tier = (1.0 - np.multiply(batch, c["api_batch_discount"]) - np.multiply(flex, c["api_flex_discount"])
            + np.multiply(prio, c["api_priority_premium"]))
    total = (tokens_usd * tier * (1.0 + np.asarray(c["api_regional_uplift"]))
             * (1.0 - np.asarray(c["api_committed_use_discount"])))
    return _out(total / TOKENS_PER_MTOK)


def _at_most_one(*shares: tuple[str, Any]) -> None:
    """Shares that split one whole (cache parts of the input; tiers of the requests) must not exceed 1."""
    total = np.zeros(np.broadcast(*[np.asarray(v) for _, v in shares]).shape)
    for _, v in shares:
        total = total + np.asarray(v, dtype=float)
    if np.any(total > 1.0 + 1e-9):
        from .errors import InputError

        names = " + ".join(k for k, _ in shares)
        raise InputError(names, round(float(np.max(total)), 6), "at most 1 in total (the shares split one whole)")


def api_annual_cost_usd(requests_per_day: Any, input_tokens_per_request: Any, output_tokens_per_request: Any,
                        api_input_usd_per_mtok: Any, api_output_usd_per_mtok: Any,
                        api_cached_input_share: Any = 0.0, api_cached_input_discount: Any = 0.0) -> Any:
    """Annual hosted-API bill at a flat volume, USD/year (365 days).

    Parameters
    ----------
    requests_per_day : requests/day
    input_tokens_per_request, output_tokens_per_request : tokens/request
    api_input_usd_per_mtok, api_output_usd_per_mtok : USD per million tokens
    api_cached_input_share : share of input tokens billed at the cached price, in [0, 1]
    api_cached_input_discount : discount of the cached price against the input price, in [0, 1]

    Examples
    --------
    The article's worked example: 50,000 requests/day x 500 tokens at $10 per million tokens.

    >>> api_annual_cost_usd(50_000, 400, 100, 10, 10)
    91250.0
    """
    rpd = check_value("requests_per_day", requests_per_day)
    per_request = api_cost_per_request_usd(input_tokens_per_request, output_tokens_per_request,
                                           api_input_usd_per_mtok, api_output_usd_per_mtok,
                                           api_cached_input_share, api_cached_input_discount)
    return _out(np.multiply(rpd, per_request) * DAYS_PER_YEAR)


def gpus_per_request_per_day(tokens_per_request: Any, tokens_per_second_per_gpu: Any,
                             gpu_utilization: Any, peak_to_average_ratio: Any) -> Any:
    """GPUs of capacity needed per request/day of volume (before rounding up), GPUs/(request/day).

    Notes
    -----
    ``peak tokens/s = requests/day x tokens/request / 86,400 x peak_to_average``; one GPU supplies
    ``tokens_per_second_per_gpu x gpu_utilization`` of it.
    """
    tpr = check_value("tokens_per_request", tokens_per_request)
    tps = check_value("tokens_per_second_per_gpu", tokens_per_second_per_gpu)
    util = check_value("gpu_utilization", gpu_utilization)
    peak = check_value("peak_to_average_ratio", peak_to_average_ratio)
    return _out(np.multiply(tpr, peak) / (SECONDS_PER_DAY * np.multiply(tps, util)))


def gpus_needed(requests_per_day: Any, tokens_per_request: Any, tokens_per_second_per_gpu: Any,
                gpu_utilization: Any = 0.6, peak_to_average_ratio: Any = 2.0, min_gpus: Any = 1) -> Any:
    """Whole GPUs to serve the peak at the target utilization, and never fewer than ``min_gpus``.

    ``max(min_gpus, ceil(requests/day x GPUs per request/day))``; the product is rounded to 9 decimals first
    so that float noise never buys a GPU (0.30000000000000004 x 10 stays 3 GPUs).
    """
    rpd = check_value("requests_per_day", requests_per_day)
    floor = check_value("min_gpus", min_gpus)
    per = gpus_per_request_per_day(tokens_per_request, tokens_per_second_per_gpu, gpu_utilization,
                                   peak_to_average_ratio)
    return _out(np.maximum(floor, np.ceil(np.round(np.multiply(rpd, per), 9))))


def selfhost_annual_cost_usd(requests_per_day: Any, tokens_per_request: Any, gpu_usd_per_hour: Any,
                             tokens_per_second_per_gpu: Any, gpu_utilization: Any = 0.6,
                             peak_to_average_ratio: Any = 2.0, min_gpus: Any = 1) -> Any:
    """Annual cost of the serving GPUs, USD/year: whole GPUs x 8,760 hours x price per GPU-hour.

    Defaults of the optional arguments are the vocabulary's defaults (60% utilization, peak twice the average,
    one dedicated GPU).

    Examples
    --------
    The article's dedicated GPU at $2,000/month, enough for 50,000 requests of 500 tokens a day:

    >>> round(selfhost_annual_cost_usd(50_000, 500, 24_000 / 8_760, 2_500), 6)
    24000.0
    """
    price = check_value("gpu_usd_per_hour", gpu_usd_per_hour)
    gpus = gpus_needed(requests_per_day, tokens_per_request, tokens_per_second_per_gpu, gpu_utilization,
                       peak_to_average_ratio, min_gpus)
    return _out(np.multiply(gpus, price) * HOURS_PER_YEAR)


def train_compute_flops(model_parameters: Any, training_tokens: Any) -> Any:
    """Pre-training compute, FLOPs: ``6 x parameters x tokens``."""
    n = check_value("model_parameters", model_parameters)
    d = check_value("training_tokens", training_tokens)
    return _out(TRAINING_FLOPS_PER_PARAM_TOKEN * np.multiply(n, d))


def train_gpu_hours(model_parameters: Any, training_tokens: Any, gpu_peak_tflops: Any, mfu: Any) -> Any:
    """GPU-hours of pre-training: FLOPs / (peak TFLOP/s x 1e12 x MFU) / 3,600."""
    flops = train_compute_flops(model_parameters, training_tokens)
    peak = check_value("gpu_peak_tflops", gpu_peak_tflops)
    util = check_value("mfu", mfu)
    return _out(np.asarray(flops) / (np.multiply(peak, util) * 1e12) / 3600.0)


def train_compute_cost_usd(model_parameters: Any, training_tokens: Any, gpu_peak_tflops: Any, mfu: Any,
                           gpu_usd_per_hour: Any) -> Any:
    """Compute cost of pre-training, USD: GPU-hours x price per GPU-hour.

    Examples
    --------
    A 7B model on 140B tokens (20 per parameter) on A100s (312 TFLOP/s) at 40% MFU and $2/GPU-hour:
    6 x 7e9 x 1.4e11 = 5.88e21 FLOPs; / (312e12 x 0.4) = 4.7115e7 GPU-s = 13,087.6 GPU-h; x $2 = $26,175.

    >>> round(train_compute_cost_usd(7e9, 1.4e11, 312, 0.4, 2.0))
    26175
    """
    hours = train_gpu_hours(model_parameters, training_tokens, gpu_peak_tflops, mfu)
    price = check_value("gpu_usd_per_hour", gpu_usd_per_hour)
    return _out(np.multiply(hours, price))


# ----------------------------------------------------------------------------------- serving sizing
BYTES_PER_GB = 1e9
#: FLOPs per active parameter per token in a forward pass (prefill).
FORWARD_FLOPS_PER_PARAM_TOKEN = 2


def weights_memory_gb(model_parameters: Any, bytes_per_parameter: Any) -> Any:
    """GPU memory of the model weights, GB: parameters x bytes per parameter / 1e9.

    Examples
    --------
    Llama 3.1 70B (70.6e9 parameters) in BF16: 141.2 GB.

    >>> round(weights_memory_gb(70.6e9, 2), 1)
    141.2
    """
    n = check_value("serving_model_parameters", model_parameters)
    b = check_value("serving_bytes_per_parameter", bytes_per_parameter)
    return _out(np.multiply(n, b) / BYTES_PER_GB)


def kv_cache_memory_gb(kv_cache_bytes_per_token: Any, context_tokens: Any, sequences: Any) -> Any:
    """GPU memory of the KV cache, GB: bytes per token x tokens of context x sequences in the batch / 1e9."""
    per_token = check_value("kv_cache_bytes_per_token", kv_cache_bytes_per_token)
    ctx = check_value("tokens_per_request", context_tokens)
    seqs = check_value("concurrent_sequences_per_replica", sequences)
    return _out(np.multiply(np.multiply(per_token, ctx), seqs) / BYTES_PER_GB)


def replica_gpus(memory_needed_gb: Any, gpu_memory_gb: Any, gpu_memory_reserve_share: Any = 0.1,
                 max_gpus_per_replica: Any = 8) -> tuple[Any, Any]:
    """GPUs one replica spans (tensor parallel, a power of two) so that weights and KV cache fit, and whether
    that is within ``max_gpus_per_replica``.

    Notes
    -----
    ``gpus = 2^ceil(log2(needed / (gpu_memory x (1 - reserve))))``, at least 1. When it exceeds the maximum
    the count is still returned (so costs can be shown) with ``fits = False``.

    Returns
    -------
    (gpus per replica, fits)
    """
    mem = check_value("gpu_memory_gb", gpu_memory_gb)
    reserve = check_value("gpu_memory_reserve_share", gpu_memory_reserve_share)
    most = check_value("max_gpus_per_replica", max_gpus_per_replica)
    usable = np.multiply(mem, 1.0 - np.asarray(reserve))
    ratio = np.asarray(memory_needed_gb, dtype=float) / usable
    with np.errstate(divide="ignore", invalid="ignore"):
        gpus = np.where(ratio <= 1, 1.0, 2.0 ** np.ceil(np.round(np.log2(np.maximum(ratio, 1.0)), 9)))
    fits = gpus <= np.asarray(most)
    return _out(gpus), (bool(fits) if np.ndim(fits) == 0 else fits)


def check_model_fits(memory_needed_gb: Any, gpu_memory_gb: Any, gpu_memory_reserve_share: Any = 0.1,
                     max_gpus_per_replica: Any = 8) -> Any:
    """GPUs per replica, or an InputError naming the model's and the GPUs' memory when it cannot fit."""
    from .errors import InputError

    gpus, fits = replica_gpus(memory_needed_gb, gpu_memory_gb, gpu_memory_reserve_share, max_gpus_per_replica)
    if not np.all(fits):
        need = float(np.max(memory_needed_gb))
        usable = float(np.min(np.multiply(gpu_memory_gb, 1.0 - np.asarray(gpu_memory_reserve_share))))
        most = int(np.min(max_gpus_per_replica))
        raise InputError("serving_model_parameters", f"{need:,.1f} GB of weights and KV cache",
                         f"a model that fits {most} GPUs of {usable:,.1f} GB usable each "
                         f"({most * usable:,.1f} GB; gpu_memory_gb, max_gpus_per_replica)")
    return gpus


def decode_tokens_per_second(model_parameters: Any, bytes_per_parameter: Any, kv_cache_bytes_per_token: Any,
                             context_tokens: Any, sequences: Any, gpus_per_replica: Any,
                             gpu_memory_bandwidth_gb_per_s: Any, decode_efficiency: Any) -> Any:
    """Output tokens/s of one replica, roofline estimate (decode is memory-bandwidth bound).

    Notes
    -----
    Each decode step reads every weight once and the KV cache of every sequence, and yields one token per
    sequence: ``tokens/s = sequences / (bytes per step / (gpus x bandwidth)) x efficiency``, with
    ``bytes per step = parameters x bytes/parameter + sequences x context x KV bytes/token``. An estimate
    labelled as one: replace it with a measured ``tokens_per_second_per_gpu``.

    Examples
    --------
    An 8B BF16 model (16 GB), 32 sequences of 500 tokens at 131,072 KV bytes/token (2.1 GB), one A100 80GB
    (2,039 GB/s) at 50% of the roofline: step = 18.097e9 / 2.039e12 = 8.8755 ms; 32 / 8.8755 ms x 0.5 = 1,802.7.

    >>> round(decode_tokens_per_second(8e9, 2, 131_072, 500, 32, 1, 2_039, 0.5), 1)
    1802.7
    """
    weights = np.multiply(model_parameters, bytes_per_parameter)
    kv = np.multiply(np.multiply(kv_cache_bytes_per_token, context_tokens), sequences)
    bandwidth = np.multiply(gpus_per_replica, gpu_memory_bandwidth_gb_per_s) * BYTES_PER_GB
    return _out(np.multiply(sequences, bandwidth) / (weights + kv) * np.asarray(decode_efficiency))


def prefill_tokens_per_second(active_parameters: Any, gpus_per_replica: Any, gpu_peak_tflops: Any,
                              prefill_mfu: Any) -> Any:
    """Input tokens/s of one replica, roofline estimate (prefill is compute bound): gpus x peak x MFU / 2N."""
    flops = np.multiply(np.multiply(gpus_per_replica, gpu_peak_tflops), prefill_mfu) * 1e12
    return _out(flops / (FORWARD_FLOPS_PER_PARAM_TOKEN * np.asarray(active_parameters, dtype=float)))


def replica_seconds_per_request(input_tokens_per_request: Any, output_tokens_per_request: Any,
                                model_parameters: Any, active_parameters: Any, bytes_per_parameter: Any,
                                kv_cache_bytes_per_token: Any, sequences: Any, gpus_per_replica: Any,
                                gpu_memory_bandwidth_gb_per_s: Any, gpu_peak_tflops: Any, decode_efficiency: Any,
                                prefill_mfu: Any, tokens_per_second_per_gpu: Any = 0.0) -> Any:
    """Seconds of one replica's capacity a request uses: input tokens at the prefill rate plus output tokens at
    the decode rate; or all tokens at ``tokens_per_second_per_gpu x gpus`` when that measured figure is > 0."""
    tin = np.asarray(input_tokens_per_request, dtype=float)
    tout = np.asarray(output_tokens_per_request, dtype=float)
    decode = decode_tokens_per_second(model_parameters, bytes_per_parameter, kv_cache_bytes_per_token,
                                      tin + tout, sequences, gpus_per_replica, gpu_memory_bandwidth_gb_per_s,
                                      decode_efficiency)
    prefill = prefill_tokens_per_second(active_parameters, gpus_per_replica, gpu_peak_tflops, prefill_mfu)
    measured = np.asarray(tokens_per_second_per_gpu, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_measure = (tin + tout) / (np.where(measured > 0, measured, 1.0) * np.asarray(gpus_per_replica))
    return _out(np.where(measured > 0, by_measure, tin / prefill + tout / decode))


# ----------------------------------------------------------------------------------- training, ownership
def training_gpu_hours(model_parameters: Any, training_tokens: Any, gpu_peak_tflops: Any, mfu: Any,
                       training_tokens_per_second_per_gpu: Any = 0.0) -> Any:
    """GPU-hours of one pre-training run: tokens / measured tokens/s/GPU when given (> 0), else 6ND FLOPs at
    peak x MFU."""
    estimate = train_gpu_hours(model_parameters, training_tokens, gpu_peak_tflops, mfu)
    tps = np.asarray(check_value("training_tokens_per_second_per_gpu", training_tokens_per_second_per_gpu))
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.asarray(training_tokens, dtype=float) / (np.where(tps > 0, tps, 1.0) * 3600.0)
    return _out(np.where(tps > 0, measured, estimate))


def rent_vs_buy_breakeven_hours(gpu_purchase_usd: Any, gpu_usd_per_hour: Any, gpu_residual_value_share: Any = 0.0,
                                gpu_power_kw: Any = 0.0, pue: Any = 1.0, electricity_usd_per_kwh: Any = 0.0,
                                hardware_maintenance_share_per_year: Any = 0.0,
                                colocation_usd_per_kw_month: Any = 0.0, serving_hours_per_month: Any = 730.0
                                ) -> Any:
    """Hours of use of one GPU at which buying it costs the same as renting it (inf: renting always cheaper).

    Notes
    -----
    Renting costs ``rent x H``. Buying costs the purchase net of resale, power for the hours used, and the
    monthly maintenance and colocation for the months those hours take at ``serving_hours_per_month``::

        H = purchase x (1 - residual) / (rent - kW x PUE x price/kWh - (maintenance + colocation) / hours_per_month)

    Examples
    --------
    A $30,000 GPU against $2.50/hour with nothing else counted: 12,000 hours.

    >>> rent_vs_buy_breakeven_hours(30_000, 2.5)
    12000.0
    """
    purchase = check_value("gpu_purchase_usd", gpu_purchase_usd)
    rent = check_value("gpu_usd_per_hour", gpu_usd_per_hour)
    residual = check_value("gpu_residual_value_share", gpu_residual_value_share)
    kw = check_value("gpu_power_kw", gpu_power_kw)
    p = check_value("pue", pue)
    kwh = check_value("electricity_usd_per_kwh", electricity_usd_per_kwh)
    maint = check_value("hardware_maintenance_share_per_year", hardware_maintenance_share_per_year)
    colo = check_value("colocation_usd_per_kw_month", colocation_usd_per_kw_month)
    hours = check_value("serving_hours_per_month", serving_hours_per_month)
    monthly = np.multiply(purchase, maint) / MONTHS_PER_YEAR + np.multiply(kw, colo)
    saving_per_hour = rent - np.multiply(np.multiply(kw, p), kwh) - monthly / np.asarray(hours)
    net = np.multiply(purchase, 1.0 - np.asarray(residual))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(saving_per_hour > 0, net / np.where(saving_per_hour > 0, saving_per_hour, 1.0), np.inf))
