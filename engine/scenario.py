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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import BuildBuyError, InputError
from .inputs import Assumptions, resolve, tomllib


class ScenarioFileError(BuildBuyError):
    """A scenario file cannot be read or parsed."""


def read_scenarios(path: str | Path, *, catalog: Any = None) -> list[Assumptions]:
    """Every scenario of a TOML or JSON file, validated, in file order.

    Raises
    ------
    ScenarioFileError
        The file is missing, unreadable or not valid TOML/JSON, or holds no scenario.
    InputError
        A value is invalid; the message names the scenario, the key, the value and what is allowed.
    """
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"scenario file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"scenario file {p}: cannot read ({exc})") from None
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
    return scenarios_from_data(data, default_name=p.stem, catalog=catalog)


def scenarios_from_data(data: Any, *, default_name: str = "scenario", catalog: Any = None) -> list[Assumptions]:
    """Scenarios from already-parsed data (a mapping, a mapping with ``scenarios``, or a list)."""
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
        for key, value in clean.items():
            if isinstance(value, (Mapping, list)):
                raise InputError(key, value, "a single value (tables and lists are not inputs)", scenario=name)
        out.append(resolve(clean, scenario=name, catalog=catalog))
    names = [a.name for a in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioFileError(f"{default_name}: scenario names must be unique, repeated: {', '.join(dupes)}")
    return out


def _name(item: Any, fallback: str) -> str:
    if isinstance(item, Mapping) and item.get("name"):
        return str(item["name"])
    return fallback
