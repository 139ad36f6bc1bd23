"""Filling the template from scenarios: the scenario's values go into the named input cells.

Every scenario is validated before anything is written; a bad key, type or value stops the run with one line
naming the scenario and the key, and no file is written. Text is always written as text (an inline string),
never as a formula. Writes are atomic and touch only the input cells' values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbuy.engine import Assumptions, default_catalog, input_specs, read_scenarios, resolve
from buildbuy.engine.errors import InputError
from buildbuy.engine.scenario import ScenarioFileError, scenarios_from_data

from .template import TEMPLATE_PATH
from .xlsx import Package, WorkbookFileError, set_cells, to_bytes, write_package

#: Inputs that stay blank unless the scenario gives them, because the engine derives them. (Prices a scenario
#: takes from the catalog through api_model or gpu_type are written as the catalog's figures.)
DERIVED = tuple(k for k, spec in input_specs().items() if spec.derived)


@dataclass
class FillResult:
    scenario: str
    path: Path
    recalc: Any = None


def input_values(a: Assumptions) -> dict[str, Any]:
    """What each named input cell should hold for a scenario (None = blank, the engine derives it; yes/no inputs
    hold the text "yes" or "no", the template's choices)."""
    out: dict[str, Any] = {}
    blank = set(DERIVED)
    if "requests_per_day" in a.given and "daily_active_users" not in a.given:
        blank.add("daily_active_users")
    for key in input_specs():
        if key in a.given:
            out[key] = a[key]
        elif key in blank:
            out[key] = None
        else:
            out[key] = a[key]
    for key, value in out.items():
        if hasattr(value, "shape"):
            raise InputError(key, "an array", "one value per scenario when filling a workbook", scenario=a.name)
        if isinstance(value, str) and value == "":
            out[key] = None
        elif isinstance(value, bool):
            out[key] = "yes" if value else "no"
    return out


#: Inputs that name a row of the price catalog, and the catalog table of the row.
CATALOG_IDS = {"api_model": "api_model", "gpu_type": "gpu", "training_gpu_type": "gpu",
               "serving_model": "open_weight_model"}


def portable(a: Assumptions) -> Assumptions:
    """The same scenario, computable without the price catalog it was read with.

    The workbook's functions only know the bundled catalog. So every figure a catalog row filled in (prices,
    GPU throughput ...) becomes an input the scenario gives, and a catalog id the bundled catalog does not have
    is left blank (the workbook holds its figures; the id stays in your catalog file). Same numbers, same
    answer.
    """
    if not any(a.get(key) for key in CATALOG_IDS):
        return a
    raw = {k: a[k] for k in a.given}
    bare = resolve({k: v for k, v in raw.items() if k not in CATALOG_IDS}, scenario=a.name)
    for key in input_specs():
        if key not in a.given and key not in CATALOG_IDS and _differs(a[key], bare[key]):
            raw[key] = a[key]
    bundled = default_catalog()
    for key, table in CATALOG_IDS.items():
        ident = raw.get(key)
        if ident and ident.lower() not in {i.lower() for i in bundled.ids(table)}:
            del raw[key]
    return resolve(raw, scenario=a.name)


def _differs(x: Any, y: Any) -> bool:
    return type(x) is not type(y) or x != y


_NAME_RE = re.compile(r"^'?(?P<sheet>[^'!]+)'?!\$?(?P<col>[A-Z]+)\$?(?P<row>\d+)$")


def input_cells(pkg: Package) -> dict[str, tuple[str, str]]:
    """Defined name -> (sheet name, cell) for every single-cell workbook-scoped name."""
    out = {}
    for name, text, local in pkg.defined_names():
        m = _NAME_RE.match(text)
        if m and local is None:
            out[name] = (m.group("sheet"), f"{m.group('col')}{m.group('row')}")
    return out


def fill(a: Assumptions, dst: str | Path, template: str | Path = TEMPLATE_PATH) -> Path:
    """Write one scenario into a copy of the template at ``dst`` (atomic)."""
    values = input_values(portable(a))
    with Package(template) as pkg:
        cells = input_cells(pkg)
        missing = [k for k in values if k not in cells]
        if missing:
            raise WorkbookFileError(f"scenario {a.name!r}: the workbook {template} has no input cell named "
                                    f"{missing[0]!r} (a named range per input is required)")
        by_sheet: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            sheet, ref = cells[key]
            by_sheet.setdefault(sheet, {})[ref] = value
        if "scenario_name" in cells:
            sheet, ref = cells["scenario_name"]
            by_sheet.setdefault(sheet, {})[ref] = a.name or "scenario"
        parts = {s.name: s.part for s in pkg.sheets()}
        replaced = {}
        for sheet, cell_values in by_sheet.items():
            if sheet not in parts:
                raise WorkbookFileError(f"the workbook {template} names a sheet {sheet!r} it does not have")
            root = pkg.xml(parts[sheet])
            set_cells(root, cell_values, as_input=True)
            replaced[parts[sheet]] = to_bytes(root)
        write_package(pkg, dst, replaced)
    return Path(dst)


def load_scenarios(sources: Iterable[str | Path], catalog: Any = None) -> list[Assumptions]:
    """Scenarios from files and folders (every .toml/.json inside a folder), all validated first.

    With ``catalog`` (your own price catalog, :func:`buildbuy.engine.load_catalog`) the prices of ``api_model``
    and ``gpu_type`` come from it; see :func:`portable` for how they reach the workbook.
    """
    out: list[Assumptions] = []
    for source in sources:
        p = Path(source)
        files = sorted(q for q in p.iterdir() if q.suffix.lower() in (".toml", ".json")) if p.is_dir() else [p]
        if p.is_dir() and not files:
            raise ScenarioFileError(f"folder {p} holds no .toml or .json scenario file")
        for f in files:
            out.extend(portable(a) for a in read_scenarios(f, catalog=catalog))
    names = [a.name for a in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioFileError(f"scenario names must be unique across the inputs, repeated: {', '.join(dupes)}")
    return out


def output_path(a: Assumptions, out: Path, many: bool) -> Path:
    """Where a scenario's workbook goes: ``out`` itself for one .xlsx, else ``out/<name>.xlsx``."""
    if not many and out.suffix.lower() in (".xlsx", ".xlsm"):
        return out
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", a.name or "scenario").strip("-") or "scenario"
    return out / f"{safe}.xlsx"


def _one(job: tuple[dict[str, Any], str, str, str, str | None]) -> tuple[str, str, Any]:
    raw, name, dst, template, backend = job
    a = scenarios_from_data(raw, default_name=name)[0]
    fill(a, dst, template)
    report = None
    if backend:
        from .recalc import recalc

        rep = recalc(dst, dst, backend=backend)
        report = (rep.check_total, [e.line() for e in rep.errors], rep.seconds)
    return name, dst, report


def fill_many(scenarios: list[Assumptions], out: str | Path, *, template: str | Path = TEMPLATE_PATH,
              recalc_backend: str | None = None, workers: int | None = None, progress: bool = True
              ) -> list[FillResult]:
    """Fill (and optionally recalculate) many scenarios, in parallel on every core, with a progress bar."""
    out = Path(out)
    many = len(scenarios) > 1 or not out.suffix
    (out if many else out.parent).mkdir(parents=True, exist_ok=True)
    jobs = []
    for a in scenarios:
        raw = {k: a[k] for k in a.given}
        raw["name"] = a.name
        jobs.append((raw, a.name or "scenario", str(output_path(a, out, many)), str(template), recalc_backend))
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    results = []
    bar = _bar(len(jobs), progress)
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            results.append(_one(job))
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for res in pool.map(_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
                results.append(res)
                bar.update(1)
    bar.close()
    return [FillResult(name, Path(dst), report) for name, dst, report in results]


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="workbook", disable=not enabled or total < 2, leave=False)
