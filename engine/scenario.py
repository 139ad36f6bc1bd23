"""Scenario files: TOML (or JSON) holding one scenario, or several that share base values.

One scenario::

    name = "regulated-saas"
    daily_active_users = 1000
    regulated_industry = true

Several: keys at the top are shared, each ``[scenarios.NAME]`` table overrides them::

    requests_per_user_per_day = 50
    [scenarios.low]
    daily_active_users = 500
    [scenarios.high]
    daily_active_users = 5000

JSON takes the same shapes (an object), or a list of scenario objects.

Any numeric input may be a range instead of a number (see :mod:`buildbuy.engine.uncertainty`)::

    daily_active_users = {low = 500, mode = 1000, high = 3000}
    [[correlation]]
    inputs = ["api_input_usd_per_mtok", "api_output_usd_per_mtok"]
    rank = 0.9

:func:`read_scenarios` returns the base case of such a scenario; :func:`read_uncertain_scenarios` returns the
base case with its ranges.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import BuildBuyError, read_text_file
from .inputs import Assumptions, tomllib
from .uncertainty import UncertainScenario, uncertain


class ScenarioFileError(BuildBuyError):
    """A scenario file cannot be read or parsed."""


def read_scenarios(path: str | Path, *, catalog: Any = None) -> list[Assumptions]:
    """Every scenario of a TOML or JSON file, validated, in file order (ranges at their base values).

    Raises
    ------
    ScenarioFileError
        The file is missing, unreadable or not valid TOML/JSON, or holds no scenario.
    InputError
        A value is invalid; the message names the scenario, the key, the value and what is allowed.
    """
    return [u.base for u in read_uncertain_scenarios(path, catalog=catalog)]


def read_uncertain_scenarios(path: str | Path, *, catalog: Any = None) -> list[UncertainScenario]:
    """Every scenario of a TOML or JSON file with its ranges (none for a plain file), validated, in file order."""
    p = Path(path)
    text = read_text_file(p, "scenario file", ScenarioFileError)
    if p.suffix.lower() == ".json":
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioFileError(f"scenario file {p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioFileError(f"scenario file {p}: not valid TOML ({exc})") from None
    return uncertain_from_data(data, default_name=p.stem, catalog=catalog)


def scenarios_from_data(data: Any, *, default_name: str = "scenario", catalog: Any = None) -> list[Assumptions]:
    """Scenarios from already-parsed data (a mapping, a mapping with ``scenarios``, or a list); base cases."""
    return [u.base for u in uncertain_from_data(data, default_name=default_name, catalog=catalog)]


def uncertain_from_data(data: Any, *, default_name: str = "scenario", catalog: Any = None
                        ) -> list[UncertainScenario]:
    """Scenarios with their ranges from already-parsed data; a top-level ``correlation`` list is shared."""
    shared_corr: Any = None
    if isinstance(data, Mapping) and "correlation" in data:
        data = dict(data)
        shared_corr = data.pop("correlation")
        if not isinstance(shared_corr, list):
            shared_corr = [shared_corr]
    if isinstance(data, list):
        raws = [(_name(item, f"{default_name}[{i}]"), item) for i, item in enumerate(data, 1)]
    elif isinstance(data, Mapping):
        data = dict(data)
        many = data.pop("scenarios", None)
        if many is None:
            raws = [(_name(data, default_name), data)]
        else:
            if not isinstance(many, Mapping) or not many:
                raise ScenarioFileError(f"{default_name}: 'scenarios' must hold one or more [scenarios.NAME] tables")
            raws = []
            for key, item in many.items():
                if not isinstance(item, Mapping):
                    raise ScenarioFileError(f"{default_name}: scenarios.{key} must be a table of inputs")
                merged = {k: v for k, v in data.items() if k != "name"}
                merged.update(item)
                raws.append((str(item.get("name", key)), merged))
    else:
        raise ScenarioFileError(f"{default_name}: a scenario must be a table of inputs")
    if not raws:
        raise ScenarioFileError(f"{default_name}: no scenario in the file")
    out = []
    for name, raw in raws:
        if not isinstance(raw, Mapping):
            raise ScenarioFileError(f"{default_name}: scenario {name!r} must be a table of inputs")
        clean = {k: v for k, v in raw.items() if k != "name"}
        corr = clean.pop("correlation", None)
        if corr is not None and not isinstance(corr, list):
            corr = [corr]
        corr = (shared_corr or []) + (corr or []) or None
        out.append(uncertain(clean, scenario=name, catalog=catalog, correlations=corr))
    names = [u.name for u in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioFileError(f"{default_name}: scenario names must be unique, repeated: {', '.join(dupes)}")
    return out


def _name(item: Any, fallback: str) -> str:
    if isinstance(item, Mapping) and item.get("name"):
        return str(item["name"])
    return fallback
