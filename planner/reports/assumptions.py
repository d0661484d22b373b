"""Every input of a run as rows: run facts, scenario fields, resolved values, catalog entries
(with their sources) and the scenario file text, one line per row; and, with a plan, every input
of the optimizer (plan_inputs) with its source."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from planner.errors import InputError
from planner.outputs.layout import OptimizeFolder, RunFolder
from planner.reports.folder import OutputFolder, Plan
from planner.reports.units import unit_by_suffix
from planner.scenario.yaml_lines import load_yaml

# Row = (section, path, value, value_text, unit, source)
Row = tuple[str, str, float | None, str | None, str, str | None]

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


# catalog and scenario fields whose names do not end in their unit
_FIELD_UNITS = {"node_power_kw": "kW", "power_cap_mw": "MW", "bf16_dense_tflops": "TFLOPS",
                "memory_gb": "GB", "failure_rate_per_1000_node_days": "per 1000 node-days",
                "horizon_days": "days", "lead_time_quarters": "quarters",
                "electricity_usd_per_kwh": "USD per kWh",
                "unmet_penalty_usd_per_pflops_hour": "USD per PFLOP/s-hour",
                "usd_per_gpu_hour": "USD per GPU-hour", "cap_gpus": "GPUs",
                "asset_life_years": "years", "vendor_caps_nodes_per_quarter": "nodes per quarter",
                "repair_hours_median": "hours"}


def _unit(path: str, value: Any) -> str:
    """The unit of a number at `path`, from its field's name or its parent's (a key under
    `part_prices_usd`, a distribution's `median` under `diagnosis_hours`); empty for text or
    a name that does not say it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    names = [step for step in _steps(path) if isinstance(step, str) and step != "value"]
    for name in reversed(names[-2:]):
        unit = _FIELD_UNITS.get(name) or unit_by_suffix(name)
        if unit:
            return unit
    return ""


def _input_cell(value: Any, value_text: Any) -> tuple[float | None, str | None]:
    """A plan_inputs value as (number, text): its number when finite, else its text (an
    infinite number, which a workbook cannot hold, as text too)."""
    text = None if value_text is None or (isinstance(value_text, float)
                                          and math.isnan(value_text)) else str(value_text)
    number = float(value) if value is not None else math.nan
    if math.isfinite(number):
        return number, text or None
    if not math.isnan(number):
        return None, text or str(number)
    return None, text or None


def plan_input_rows(plan: Plan) -> list[Row]:
    """One row per plan_inputs row, in its order: section `optimizer <section>`, path
    `<parameter>` or `<parameter>[<index>]`, the value and its source."""
    if plan.inputs is None:
        return []
    rows: list[Row] = []
    for r in plan.inputs.to_dict("records"):
        index = r.get("index")
        index = "" if index is None or (isinstance(index, float) and math.isnan(index)) else index
        path = f"{r['parameter']}[{index}]" if str(index) else str(r["parameter"])
        unit = r.get("unit")
        unit = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
        rows.append((f"optimizer {r['section']}", path, *_input_cell(r["value"], r["value_text"]),
                     unit, r["source"]))
    return rows


def _optimization_rows(run: OutputFolder) -> list[Row]:
    """An optimize-only folder: the run facts of optimization.json, then every input of the
    optimizer (plan_inputs); without plan_inputs (a folder written before it), one row saying
    that the scenario is not in the folder instead."""
    opt = run.plan.optimization if run.plan is not None else {}
    rows: list[Row] = []
    for field in _OPTIMIZATION_FIELDS:
        for path, leaf in flatten(opt.get(field), field):
            rows.append(("run", path, *cell(leaf), _unit(path, leaf), OptimizeFolder.OPTIMIZATION))
    inputs = plan_input_rows(run.plan) if run.plan is not None else []
    if inputs:
        return rows + inputs
    rows.append((RunFolder.SCENARIO, RunFolder.SCENARIO, None,
                 NO_SCENARIO_FILE.format(source=opt.get("source") or "unknown"), "", None))
    return rows


def assumption_rows(run: OutputFolder) -> list[Row]:
    """All rows of the Assumptions sheet, in a stable order: a run's inputs, then the
    optimizer's (plan_inputs) when the folder holds a plan."""
    if run.summary is None:
        return _optimization_rows(run)
    return _run_rows(run) + (plan_input_rows(run.plan) if run.plan is not None else [])


def _run_rows(run: OutputFolder) -> list[Row]:
    """A run's inputs: summary.json facts, the resolved scenario with each field's origin,
    resolved values, catalog entries with their sources, the scenario file's lines."""
    rows: list[Row] = []
    summary = run.summary
    for field in _RUN_FIELDS:
        for path, leaf in flatten(summary.get(field), field):
            rows.append(("run", path, *cell(leaf), _unit(path, leaf), RunFolder.SUMMARY))
    overrides = [str(o) for o in summary.get("overrides") or []]
    file_data = _file_data(run.scenario_text)
    for path, leaf in flatten(run.scenario, ""):
        rows.append(("scenario", path, *cell(leaf), _unit(path, leaf),
                     _origin(path, file_data, overrides)))
    jobs = {job["name"]: job for job in run.scenario.get("jobs", [])}
    for name, hours in (run.inputs.get("checkpoint_interval_hours") or {}).items():
        asked = jobs.get(name, {}).get("checkpoint_interval_hours")
        source = "Daly optimum for the job's expected MTBF (auto)" if asked == "auto" else "scenario"
        rows.append(("resolved", f"checkpoint_interval_hours.{name}", *cell(hours), "hours",
                     source))
    for path, leaf, source in _sourced(run.inputs.get("catalog", {}), "catalog"):
        rows.append(("catalog", path, *cell(leaf), _unit(path, leaf), source))
    for number, line in enumerate(run.scenario_text.splitlines(), start=1):
        rows.append((RunFolder.SCENARIO, f"{RunFolder.SCENARIO}:{number}", None, line or None,
                     "", None))
    return rows
