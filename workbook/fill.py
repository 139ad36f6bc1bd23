"""Filling the template from scenarios: the scenario's values go into the named input cells.

Every scenario is validated before anything is written; a bad key, type or value stops the run with one line
naming the scenario and the key, and no file is written. Text is always written as text (an inline string),
never as a formula. Writes are atomic and touch only the input cells' values.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbuy.engine import Assumptions, BuildBuyError, input_specs, resolve
from buildbuy.engine.errors import InputError
from buildbuy.engine.scenario import ScenarioFileError, read_uncertain_scenarios, uncertain_from_data
from buildbuy.engine.uncertainty import UncertainScenario, Uncertainty

from .template import TEMPLATE_PATH
from .xlsx import Package, WorkbookFileError, set_cells, to_bytes, writable_target, write_package, xml_unsafe_char

#: Inputs that stay blank unless the scenario gives them, because the engine derives them. (Prices a scenario
#: takes from the catalog through api_model or gpu_type are written as the catalog's figures.)
DERIVED = tuple(k for k, s in input_specs().items() if s.derived)


@dataclass
class FillResult:
    scenario: str
    path: Path
    recalc: Any = None  # (Checks total, error lines, seconds) when recalculated
    backend: str | None = None  # what computed it: "template-plan" (the compiled plan) or the backend's name


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


#: Inputs that name a row of the price catalog.
CATALOG_IDS = ("api_model", "gpu_type", "training_gpu_type", "serving_model")


def portable(a: Assumptions) -> Assumptions:
    """The same scenario, computable without the price catalog it was read with.

    The workbook's functions only know the bundled catalog (and genai-prices for API models). So every figure a
    catalog row filled in (prices, GPU and model specs) becomes an input the scenario gives, and a catalog id
    they do not know is left blank (the workbook holds its figures; the id stays in your catalog file). Derived
    inputs stay derived unless the catalog set them to something the derivation would not give. Same numbers,
    same answer.
    """
    if not any(a.get(key) for key in CATALOG_IDS):
        return a
    raw = {k: a[k] for k in a.given}
    bare = resolve({k: v for k, v in raw.items() if k not in CATALOG_IDS}, scenario=a.name)
    for key in input_specs():
        if key not in a.given and key not in CATALOG_IDS and key not in DERIVED and _differs(a[key], bare[key]):
            raw[key] = a[key]
    for key in CATALOG_IDS:
        if raw.get(key):
            try:  # known without your catalog (the bundled one, or genai-prices for API models)?
                resolve({key: raw[key]})
            except BuildBuyError:
                del raw[key]
    derived_now = resolve(raw, scenario=a.name)
    for key in DERIVED:
        if key not in raw and _differs(a[key], derived_now[key]):
            raw[key] = a[key]
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


#: Columns of the template's ranges table (Risk sheet), after its header row; "base" is a formula, not written.
RANGE_TABLE_COLUMNS = ("input", "dist", "low", "base", "high", "mode", "values", "weights")
_AREA_RE = re.compile(r"^'?(?P<sheet>[^'!]+)'?!\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+):\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+)$")


def range_table_cells(unc: Uncertainty, pkg: Package, scenario: str | None) -> dict[str, dict[str, Any]]:
    """Sheet -> {cell: value} that put a scenario's ranges and correlations into the template's Risk tables."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    areas = {}
    for nm, text, local in pkg.defined_names():
        m = _AREA_RE.match(text)
        if m and local is None and nm in ("risk_ranges", "risk_correlations"):
            areas[nm] = m
    if "risk_ranges" not in areas:
        raise WorkbookFileError(f"scenario {scenario!r} has ranges, but the workbook has no 'risk_ranges' table "
                                "to hold them (the bundled template has one on its Risk sheet)")
    out: dict[str, dict[str, Any]] = {}
    m = areas["risk_ranges"]
    c1, r1, r2 = column_index_from_string(m["c1"]), int(m["r1"]), int(m["r2"])
    rows = r2 - r1  # the first row holds the header words
    if len(unc.ranges) > rows:
        raise WorkbookFileError(f"scenario {scenario!r} has {len(unc.ranges)} ranges; the workbook's ranges table "
                                f"holds {rows}")
    cells = out.setdefault(m["sheet"], {})
    for i, rng in enumerate(unc.ranges.values()):
        p = rng.p
        row = {"input": rng.key, "dist": rng.dist}
        if rng.dist == "lognormal":
            row.update(low=p["p10"], high=p["p90"])
        elif rng.dist == "discrete":
            row.update(values="; ".join(f"{v:g}" for v in p["values"]),
                       weights="; ".join(f"{w:.12g}" for w in p["weights"]))
        else:
            row.update({k: p[k] for k in ("low", "mode", "high") if k in p})
        for j, col in enumerate(RANGE_TABLE_COLUMNS):
            if col != "base":
                cells[f"{get_column_letter(c1 + j)}{r1 + 1 + i}"] = row.get(col)
    if unc.correlations:
        if "risk_correlations" not in areas:
            raise WorkbookFileError(f"scenario {scenario!r} has correlations, but the workbook has no "
                                    "'risk_correlations' table")
        m = areas["risk_correlations"]
        c1, r1, r2 = column_index_from_string(m["c1"]), int(m["r1"]), int(m["r2"])
        if len(unc.correlations) > r2 - r1 + 1:
            raise WorkbookFileError(f"scenario {scenario!r} has {len(unc.correlations)} correlations; the "
                                    f"workbook's table holds {r2 - r1 + 1}")
        cells = out.setdefault(m["sheet"], {})
        for i, triple in enumerate(unc.correlations):
            for j, v in enumerate(triple):
                cells[f"{get_column_letter(c1 + j)}{r1 + i}"] = v
    return out


def fill(a: Assumptions | UncertainScenario, dst: str | Path, template: str | Path = TEMPLATE_PATH) -> Path:
    """Write one scenario into a copy of the template at ``dst`` (atomic); ranges go to the Risk sheet."""
    unc = None
    if isinstance(a, UncertainScenario):
        a, unc = a.base, a.uncertainty
    with Package(template) as pkg:
        by_sheet = scenario_cells(portable(a), pkg, template, unc)
        parts = {s.name: s.part for s in pkg.sheets()}
        replaced = {}
        for sheet, cell_values in by_sheet.items():
            root = pkg.xml(parts[sheet])
            set_cells(root, cell_values, as_input=True)
            replaced[parts[sheet]] = to_bytes(root)
        write_package(pkg, dst, replaced)
    return Path(dst)


def scenario_cells(a: Assumptions, pkg: Package, template: str | Path, unc: Uncertainty | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Sheet name -> {cell: value} a scenario writes into the template's named input cells (and its ranges
    into the Risk sheet's tables). Figures a price catalog filled in are written as inputs (:func:`portable`)."""
    a = portable(a)
    values = input_values(a)
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
    if unc:
        for sheet, cell_values in range_table_cells(unc, pkg, a.name).items():
            by_sheet.setdefault(sheet, {}).update(cell_values)
    sheets = {s.name for s in pkg.sheets()}
    for sheet in by_sheet:
        if sheet not in sheets:
            raise WorkbookFileError(f"the workbook {template} names a sheet {sheet!r} it does not have")
    return by_sheet


def load_scenarios(sources: Iterable[str | Path], catalog: Any = None) -> list[Assumptions]:
    """Scenarios from files and folders (every .toml/.json inside a folder), all validated first (base cases).

    With ``catalog`` (your own price catalog, :func:`buildbuy.engine.load_catalog`) the rows that
    ``api_model``, ``gpu_type``, ``training_gpu_type`` and ``serving_model`` name come from it; :func:`fill` and
    :func:`fill_many` carry its figures into the workbook (:func:`portable`).
    """
    return [u.base for u in load_uncertain_scenarios(sources, catalog=catalog)]


def load_uncertain_scenarios(sources: Iterable[str | Path], catalog: Any = None) -> list[UncertainScenario]:
    """Scenarios with their ranges from files and folders, all validated first (``catalog``: as for
    :func:`load_scenarios`)."""
    out: list[UncertainScenario] = []
    for source in sources:
        p = Path(source)
        files = sorted(q for q in p.iterdir() if q.suffix.lower() in (".toml", ".json")) if p.is_dir() else [p]
        if p.is_dir() and not files:
            raise ScenarioFileError(f"folder {p} holds no .toml or .json scenario file")
        for f in files:
            out.extend(read_uncertain_scenarios(f, catalog=catalog))
    names = [a.name for a in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioFileError(f"scenario names must be unique across the inputs, repeated: {', '.join(dupes)}")
    return out


def output_path(a: Assumptions | UncertainScenario, out: Path, many: bool) -> Path:
    """Where a scenario's workbook goes: ``out`` itself for one .xlsx, else ``out/<name>.xlsx``.

    The file name keeps letters, digits, ``.``, ``_`` and ``-`` of the scenario name (other runs become one
    ``-``), at most 100 characters; :func:`plan` refuses two scenarios that would share a file.
    """
    if not many and out.suffix.lower() in (".xlsx", ".xlsm"):
        return out
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", a.name or "scenario").strip("-")[:100].strip("-") or "scenario"
    return out / f"{safe}.xlsx"


def check_storable(a: Assumptions) -> None:
    """Refuse a scenario whose name or text inputs hold a character a workbook cannot store."""
    name = a.name or "scenario"
    bad = xml_unsafe_char(name)
    if bad is not None:
        raise ScenarioFileError(f"scenario name {_clip(name)!r} holds the character U+{ord(bad):04X}, which a "
                                f"workbook cannot store; use printable text")
    for key in a.given:
        value = a[key]
        if isinstance(value, str):
            bad = xml_unsafe_char(value)
            if bad is not None:
                raise InputError(key, value, f"printable text (U+{ord(bad):04X} cannot be stored in a workbook)",
                                 scenario=name)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def plan(scenarios: list[Assumptions] | list[UncertainScenario], out: str | Path,
         template: str | Path = TEMPLATE_PATH) -> list[tuple[Any, Path]]:
    """Each scenario with the file it will be written to, after checking everything that could stop the run
    halfway: every scenario fits the template, names and text can be stored, no two scenarios share a file
    (compared the way a case-insensitive file system would), and no target is a folder, a device or a pipe.
    Nothing is written."""
    out = Path(out)
    if not scenarios:
        raise ScenarioFileError("no scenario to fill")
    many = len(scenarios) > 1 or not out.suffix
    if len(scenarios) > 1 and out.suffix.lower() in (".xlsx", ".xlsm"):
        raise ScenarioFileError(f"-o {out} names one workbook, but there are {len(scenarios)} scenarios: "
                                f"give a folder (one workbook per scenario)")
    if many and out.exists() and not out.is_dir():
        raise WorkbookFileError(f"cannot write into {out}: it exists and is not a folder")
    with Package(template) as pkg:
        cells = input_cells(pkg)
        sheets = {s.name for s in pkg.sheets()}
    planned: list[tuple[Any, Path]] = []
    seen: dict[str, Assumptions] = {}
    for item in scenarios:
        a = item.base if isinstance(item, UncertainScenario) else item
        check_storable(a)
        values = input_values(a)
        missing = [k for k in values if k not in cells]
        if missing:
            raise WorkbookFileError(f"the workbook {template} has no input cell named {missing[0]!r} "
                                    f"(a named range per input is required)")
        absent = sorted({cells[k][0] for k in values if cells[k][0] not in sheets})
        if absent:
            raise WorkbookFileError(f"the workbook {template} names a sheet {absent[0]!r} it does not have")
        dst = output_path(a, out, many)
        key = unicodedata.normalize("NFC", str(dst)).casefold()
        if key in seen:
            raise ScenarioFileError(f"scenarios {_clip(seen[key].name or 'scenario')!r} and "
                                    f"{_clip(a.name or 'scenario')!r} would both be written to {dst}; rename one "
                                    f"(file names keep only letters, digits, '.', '_' and '-')")
        seen[key] = a
        if dst.exists() or dst.is_symlink():
            writable_target(dst)
        planned.append((item, dst))
    return planned


def _one(job: tuple[dict[str, Any], str, str, str, str | None, float | None]) -> tuple[str, str, Any]:
    raw, name, dst, template, backend, timeout = job
    us = uncertain_from_data(raw, default_name=name)[0]
    a, unc = us.base, us.uncertainty
    report = None
    if not backend:
        fill(us, dst, template)
    else:
        from buildbuy.engine import BuildBuyError

        from . import recalc as rc
        from .fast import applies
        from .limits import run_in_process, run_limited

        inputs = None

        def planned() -> Any:  # one pass: the template filled in memory and computed by its compiled plan
            nonlocal inputs
            from .fast import recalc_fast

            pkg = _open_template(template)
            inputs = scenario_cells(a, pkg, template, unc)
            return recalc_fast(template, dst, inputs, package=pkg)

        def work() -> Any:
            if backend == "formualizer":  # one pass, the backend computing what the plan did not vouch for
                return rc.recalc(template, dst, backend=backend, inputs=inputs, plan=False)
            fill(us, dst, template)
            return rc.recalc(dst, dst, backend=backend)

        try:
            # The plan stays in Python, so an alarm stops it in this process; the backend runs in a child process
            # killed at the limit, since a native evaluation cannot be interrupted otherwise.
            rep = run_in_process(timeout, planned, writes=dst) if applies(backend) else None
            if rep is None:
                rep = run_limited(timeout, work, writes=dst)
        except BuildBuyError as exc:
            fill(us, dst, template)
            raise WorkbookFileError(f"scenario {name!r}: {exc} (its workbook {dst} was written without computed "
                                    f"values)") from None
        report = (rep.check_total, [e.line() for e in rep.errors], rep.seconds, rep.backend)
    return name, dst, report


_TEMPLATES: dict[str, tuple[tuple[int, int, int, int], Package]] = {}


def _open_template(template: str) -> Package:
    """The template, opened once per process and kept open while the file is unchanged (a batch reads it for
    every scenario; its parts are inflated once). Never a handle inherited from a parent process: forked
    workers would share its file offset and read each other's bytes."""
    st = os.stat(template)
    stamp = (os.getpid(), st.st_mtime_ns, st.st_size, st.st_ino)
    hit = _TEMPLATES.get(template)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    if hit is not None and hit[0][0] == os.getpid():
        hit[1].close()
    pkg = Package(template)
    _TEMPLATES[template] = (stamp, pkg)
    return pkg


def _warm(template: str, backend: str | None) -> None:
    """A worker's start: the template's compiled plan and the engine loaded once, before the per-workbook
    children (each recalculation runs in a child killed at its time limit) inherit them."""
    if not backend:
        return  # nothing is recalculated
    from .fast import applies, warm

    if applies(backend):
        warm(template)


def fill_many(scenarios: list[Assumptions] | list[UncertainScenario], out: str | Path, *,
              template: str | Path = TEMPLATE_PATH, recalc_backend: str | None = None,
              workers: int | None = None, progress: bool = True, timeout: float | None = None
              ) -> list[FillResult]:
    """Fill (and optionally recalculate) many scenarios, in parallel on every core, with a progress bar.

    ``timeout``: seconds one workbook's recalculation may take (Unix; None or 0 for no limit)."""
    out = Path(out)
    # the workers re-read each scenario without your catalog
    scenarios = [dataclasses.replace(a, base=portable(a.base)) if isinstance(a, UncertainScenario) else portable(a)
                 for a in scenarios]
    planned = plan(scenarios, out, template)
    many = len(scenarios) > 1 or not out.suffix
    (out if many else out.parent).mkdir(parents=True, exist_ok=True)
    jobs = []
    for item, dst in planned:
        unc = item.uncertainty if isinstance(item, UncertainScenario) else None
        # The worker reads the scenario back without your catalog: its figures travel as inputs.
        a = portable(item.base if isinstance(item, UncertainScenario) else item)
        raw = {k: a[k] for k in a.given if not (unc and k in unc.ranges)}
        raw["name"] = a.name
        if unc:  # in the file's order: the order of the ranges fixes which random numbers each input gets
            raw.update({k: r.as_dict() for k, r in unc.ranges.items()})
            if unc.correlations:
                raw["correlation"] = [{"inputs": [x, y], "rank": rho} for x, y, rho in unc.correlations]
        jobs.append((raw, a.name or "scenario", str(dst), str(template), recalc_backend, timeout))
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    results = []
    bar = _bar(len(jobs), progress)
    if workers <= 1 or len(jobs) == 1:
        _warm(str(template), recalc_backend)
        for job in jobs:
            results.append(_one(job))
            bar.update(1)
    else:
        _warm(str(template), recalc_backend)  # here first: workers forked from this process start warm
        with ProcessPoolExecutor(max_workers=workers, initializer=_warm,
                                 initargs=(str(template), recalc_backend)) as pool:
            # Small chunks: the last ones decide when the run ends, and a workbook takes a few tens of ms.
            for res in pool.map(_one, jobs, chunksize=max(1, min(8, len(jobs) // (workers * 32)))):
                results.append(res)
                bar.update(1)
    bar.close()
    return [FillResult(name, Path(dst), report[:3], report[3]) if report else FillResult(name, Path(dst))
            for name, dst, report in results]


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="workbook", disable=not enabled or total < 2, leave=False)
