"""buildbuy engine: the cost and decision model, pure Python + numpy, no Excel library.

Entry points: :func:`resolve` (validate inputs), :mod:`costs` (vectorized primitives), :mod:`model`
(timelines, TCO, NPV, break-evens), :func:`recommend` (the decision), :func:`full_report`, the price catalog.
"""

from .catalog import Catalog, default_catalog, load_catalog
from .costs import (
    api_annual_cost_usd,
    gpus_needed,
    selfhost_annual_cost_usd,
    train_compute_cost_usd,
)
from .decision import Recommendation, moat_score, recommend
from .errors import BuildBuyError, CatalogError, InputError, NoSolutionError, NumericError
from .inputs import Assumptions, defaults, input_specs, resolve
from .model import (
    OPTIONS,
    annual_cost,
    breakeven_month,
    breakeven_volume,
    line_items,
    monthly_cost,
    npv,
    tco,
)
from .report import compare, full_report
from .scenario import ScenarioFileError, read_scenarios

__version__ = "0.1.0"

__all__ = [
    "OPTIONS", "Assumptions", "BuildBuyError", "Catalog", "CatalogError", "InputError", "NoSolutionError",
    "NumericError", "Recommendation", "ScenarioFileError", "__version__", "annual_cost", "api_annual_cost_usd",
    "breakeven_month", "breakeven_volume", "compare", "default_catalog", "defaults", "full_report",
    "gpus_needed", "input_specs", "line_items", "load_catalog", "moat_score", "monthly_cost", "npv",
    "read_scenarios", "recommend", "resolve", "selfhost_annual_cost_usd", "tco", "train_compute_cost_usd",
]
