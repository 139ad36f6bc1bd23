"""The ``BVB_*`` Excel functions, for xlwings ("UDF Modules" = ``buildbuy.udfs``).

Classic xlwings (Windows add-in, "Import Functions") and xlwings Server/Lite (Office.js custom functions, with
``XLWINGS_ON_SERVER=true``) both import this module. The functions are generated from the one declaration
table in :mod:`buildbuy.udfs.registry`, with their real argument names and per-argument docs (Excel's
function wizard shows them), so nothing here is written per function.

Errors: classic xlwings cannot return a real Excel error, so a failing call shows one readable line such as
``#VALUE! requests_per_day must be a number >= 0, got -5``; under Office.js the exact error code is returned,
which xlwings turns into a real Excel error.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from .conventions import XlError
from .registry import REGISTRY, UDF, invoke

#: True under xlwings Server or xlwings Lite (Office.js custom functions).
ON_OFFICEJS = os.environ.get("XLWINGS_ON_SERVER") == "true" or sys.platform == "emscripten"


def _xlwings() -> Any:
    """xlwings, when this module serves it: xlwings imports us (classic add-in, Server, Lite), or Office.js is
    configured. The headless path never pays for importing it; without xlwings the functions stay plain."""
    if "xlwings" not in sys.modules and not ON_OFFICEJS and os.environ.get("BUILDBUY_XLWINGS") != "1":
        return None
    try:
        import xlwings
    except ImportError:  # pragma: no cover - exercised only without xlwings
        return None
    return xlwings


_xw = _xlwings()


def _excel_result(value: Any) -> Any:
    """Common-model result -> what xlwings returns to Excel in this runtime."""
    if isinstance(value, XlError):
        return value.code if ON_OFFICEJS else value.text()
    if isinstance(value, list):
        return [[_excel_result(c) for c in row] for row in value]
    return value


def _make(fn: UDF) -> Callable[..., Any]:
    params = [inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=None if a.optional else inspect.Parameter.empty) for a in fn.args]
    signature = inspect.Signature(params)

    def excel_function(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        return _excel_result(invoke(fn.name, *args))

    excel_function.__name__ = excel_function.__qualname__ = fn.name
    excel_function.__doc__ = fn.doc
    excel_function.__signature__ = signature  # type: ignore[attr-defined]
    excel_function.__module__ = __name__
    if _xw is not None:
        for a in reversed(fn.args):
            excel_function = _xw.arg(a.name, ndim=2, doc=f"{a.doc}")(excel_function)
        excel_function = _xw.func(excel_function)
    return excel_function


for _name, _fn in REGISTRY.items():
    globals()[_name] = _make(_fn)

__all__ = sorted(REGISTRY)
