"""Every input of a run as rows: run facts, scenario fields, resolved values, catalog entries
(with their sources) and the scenario file text, one line per row."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from planner.errors import InputError
from planner.outputs.layout import OptimizeFolder, RunFolder
from planner.reports.folder import OutputFolder
from planner.scenario.yaml_lines import load_yaml

# Row = (section, path, value, value_text, source)
Row = tuple[str, str, float | None, str | None, str | None]

_RUN_FIELDS = ("scenario", "source", "overrides", "seed", "replications", "adaptive_stop",
               "horizon_days", "version")
_OPTIMIZATION_FIELDS = ("scenario", "source", "version")
NO_SCENARIO_FILE = ("No scenario.yaml or inputs.json in this folder (planner optimize writes "
                    "neither): the scenario's fields are not listed here. Scenario file: {source}")
_EXACT_FLOAT = 2**53


def cell(value: Any) -> tuple[float | None, str | None]:
    """A scalar as (number, text): numbers go to the number column, everything else to text
    (null, true/false, strings; integers too large for a float stay exact as text)."""
    if value is None:
        return None, "null"
    if isinstance(value, bool):
        return None, "true" if value else "false"
    if isinstance(value, int):
        return (float(value), None) if abs(value) <= _EXACT_FLOAT else (None, str(value))
    if isinstance(value, float):
        return (value, None) if math.isfinite(value) else (None, str(value))
    return None, str(value)


def flatten(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, scalar) pairs; list items as path[i]; empty containers as [] or {}."""
    if isinstance(value, dict):
        if not value:
            yield path, "{}"
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if not value:
            yield path, "[]"
        for i, item in enumerate(value):
            yield from flatten(item, f"{path}[{i}]")
    else:
        yield path, value


def _sourced(value: Any, path: str) -> Iterator[tuple[str, Any, str | None]]:
    """Like flatten, but a {value, source} entry is one leaf carrying its source."""
    if isinstance(value, dict) and set(value) == {"value", "source"}:
        yield path, value["value"], value["source"]
    elif isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _sourced(item, f"{path}.{key}")
    else:
        for leaf_path, leaf in flatten(value, path):
            yield leaf_path, leaf, None


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def _origin(path: str, file_data: Any, overrides: list[str]) -> str:
    """Where a resolved scenario field came from: `--set`, the scenario file, or a default."""
    for override in overrides:
        target = override.partition("=")[0].strip()
        if path == target or path.startswith((target + ".", target + "[")):
            return "--set"
    node = file_data
    for step in _steps(path):
        if not isinstance(node, dict | list):
            return RunFolder.SCENARIO  # a shorthand in the file (e.g. `30`: a fixed distribution)
        found = (step in node) if isinstance(node, dict) else (isinstance(step, int)
                                                                and step < len(node))
        if not found:
            return "default"
        node = node[step]
    return RunFolder.SCENARIO


def _file_data(text: str) -> Any:
    try:
        return load_yaml(text, RunFolder.SCENARIO) or {}
    except InputError:
        return {}


def _optimization_rows(run: OutputFolder) -> list[Row]:
    """An optimize-only folder: the run facts of optimization.json, and one row saying that
    the scenario is not in the folder."""
    opt = run.plan.optimization if run.plan is not None else {}
    rows: list[Row] = []
    for field in _OPTIMIZATION_FIELDS:
        for path, leaf in flatten(opt.get(field), field):
            rows.append(("run", path, *cell(leaf), OptimizeFolder.OPTIMIZATION))
    rows.append((RunFolder.SCENARIO, RunFolder.SCENARIO, None,
                 NO_SCENARIO_FILE.format(source=opt.get("source") or "unknown"), None))
    return rows


def assumption_rows(run: OutputFolder) -> list[Row]:
    """All rows of the Assumptions sheet, in a stable order."""
    if run.summary is None:
        return _optimization_rows(run)
    rows: list[Row] = []
    summary = run.summary
    for field in _RUN_FIELDS:
        for path, leaf in flatten(summary.get(field), field):
            rows.append(("run", path, *cell(leaf), RunFolder.SUMMARY))
    overrides = [str(o) for o in summary.get("overrides") or []]
    file_data = _file_data(run.scenario_text)
    for path, leaf in flatten(run.scenario, ""):
        rows.append(("scenario", path, *cell(leaf), _origin(path, file_data, overrides)))
    jobs = {job["name"]: job for job in run.scenario.get("jobs", [])}
    for name, hours in (run.inputs.get("checkpoint_interval_hours") or {}).items():
        asked = jobs.get(name, {}).get("checkpoint_interval_hours")
        source = "Daly optimum for the job's expected MTBF (auto)" if asked == "auto" else "scenario"
        rows.append(("resolved", f"checkpoint_interval_hours.{name}", *cell(hours), source))
    for path, leaf, source in _sourced(run.inputs.get("catalog", {}), "catalog"):
        rows.append(("catalog", path, *cell(leaf), source))
    for number, line in enumerate(run.scenario_text.splitlines(), start=1):
        rows.append((RunFolder.SCENARIO, f"{RunFolder.SCENARIO}:{number}", None, line or None,
                     None))
    return rows
