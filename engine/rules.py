"""The article's thresholds, each once, with where it comes from.

Every rule of the decision model and every test reads these names; changing a threshold here changes it
everywhere (engine, Excel functions, template, docs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: "If you're paying more than $50K/year in API costs, you should be evaluating fine-tuning."
API_SPEND_EVALUATE_FINETUNE_USD = 50_000
#: "If you're paying more than $500K/year, you're leaving money on the table by not self-hosting."
API_SPEND_SELFHOST_USD = 500_000
#: Decision matrix: fine-tune when you have 10K+ high-quality domain examples.
FINETUNE_EXAMPLES = 10_000
#: Mistake 2: "You need thousands of high-quality, diverse examples minimum."
FINETUNE_MIN_EXAMPLES = 1_000
#: Decision matrix: fine-tune when you need latency under 200 ms.
LATENCY_FINETUNE_MS = 200
#: Decision matrix: train from scratch with a unique corpus of 100B+ tokens ...
TRAIN_CORPUS_TOKENS = 100e9
#: ... and you can commit $5M+ ...
TRAIN_BUDGET_USD = 5_000_000
#: ... and 12+ months.
TRAIN_MONTHS = 12


def train_conditions(a: Any) -> dict[str, Any]:
    """The five conditions of the matrix's train-from-scratch row, each True/False (arrays for sweeps)."""
    return {
        "corpus": np.asarray(a["corpus_tokens"]) >= TRAIN_CORPUS_TOKENS,
        "platform": bool(a["building_platform"]),
        "domain_poorly_served": not a["domain_well_served"],
        "budget": np.asarray(a["available_budget_usd"]) >= TRAIN_BUDGET_USD,
        "months": np.asarray(a["training_months"]) >= TRAIN_MONTHS,
    }


def moat_is_deep(a: Any) -> Any:
    """The data-moat litmus test passed on all four counts: proprietary, growing, labeled, and fresh (not
    perishable, or perishable but kept fresh by a growing pipeline). Arrays broadcast."""
    fresh = np.logical_or(np.logical_not(a["data_perishable"]), a["data_growing"])
    out = np.logical_and.reduce([np.asarray(a["data_proprietary"]), np.asarray(a["data_growing"]),
                                 np.asarray(a["data_labeled"]), fresh])
    return bool(out) if np.ndim(out) == 0 else out


def train_justified(a: Any) -> Any:
    """TRAIN is earned: all five matrix conditions ("and", not "or"), a deep data moat ("if and only if your
    data moat is deep enough", phase 3) and product-market fit. The budget against TRAIN's cost is a hard
    constraint, checked with the other constraints in :mod:`decision`."""
    out = np.logical_and(np.asarray(moat_is_deep(a)), np.asarray(a["product_market_fit"], dtype=bool))
    for ok in train_conditions(a).values():
        out = out & np.asarray(ok)
    return bool(out) if np.ndim(out) == 0 else out
