"""Read the files of an output folder (reports read results, never the engine or the solver).

Two kinds of folder, and their union:
- a simulation run (`planner run`): summary.json, inputs.json, scenario.yaml, timeseries,
  shocks and replications tables;
- an optimization (`planner optimize`): optimization.json and the plan_* tables;
- `planner run` of a scenario with a procurement section writes both.
And a what-if study (`planner study`): study.json, study.yaml, the study_* tables (but
study_results) and the cases/<key>.json of failed cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import InputError
from planner.outputs.layout import COMPLETE, OptimizeFolder, RunFolder, StudyFolder, parquet
from planner.quarters import quarter_start
from planner.scenario.yaml_lines import load_yaml


@dataclass(frozen=True)
class Pool:
    """A pool as the report needs it: its name, SKU and PFLOP/s per healthy node."""

    name: str
    sku: str
    pflops_per_node: float


@dataclass(frozen=True)
class Plan:
    """The optimizer's files: optimization.json and the plan_* tables (Parquet, typed)."""

    optimization: dict[str, Any]
    orders: pd.DataFrame
    recourse: pd.DataFrame
    stockpile: pd.DataFrame
    platforms: pd.DataFrame
    fleet: pd.DataFrame
    capacity: pd.DataFrame
    costs: pd.DataFrame
    buy: pd.DataFrame
    contingent: pd.DataFrame
    cash: pd.DataFrame
    shadow_prices: pd.DataFrame
    inputs: pd.DataFrame | None  # plan_inputs; None in a folder written before it existed
    pareto: pd.DataFrame | None
    limit_prices: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    loop_rounds: pd.DataFrame | None = None  # run --loop: the closed loop's tables
    loop_plans: pd.DataFrame | None = None
    loop_factors: pd.DataFrame | None = None
    loop_capacity: pd.DataFrame | None = None
    oos_paths: pd.DataFrame | None = None  # optimize --out-of-sample M
    oos_replications: pd.DataFrame | None = None
    oos_summary: pd.DataFrame | None = None

    @property
    def quarters(self) -> list[str]:
        """Every planning period, in order (the capacity table covers them all)."""
        return [str(q) for q in dict.fromkeys(self.capacity["period"])]

    @property
    def probabilities(self) -> dict[str, float]:
        """Scenario -> probability, in plan_costs order."""
        return {str(s): float(p) for s, p in zip(self.costs["scenario"], self.costs["probability"],
                                                  strict=True)}

    @property
    def risk_measure(self) -> str | None:
        """`cost` or `shortfall`: what the Pareto front's CVaR measures (None without a front)."""
        if self.pareto is None:
            return None
        column = next((c for c in self.pareto.columns if str(c).startswith("cvar_")
                       and c != "cvar_cap"), None)
        return column.removeprefix("cvar_") if column else None

    def vendors(self) -> dict[str, str]:
        """SKU -> vendor (every orderable SKU is in plan_orders)."""
        return dict(zip(self.orders["sku"].astype(str), self.orders["vendor"].astype(str),
                        strict=True))

    def platforms_of(self) -> dict[str, str]:
        """SKU -> software platform."""
        return dict(zip(self.orders["sku"].astype(str), self.orders["platform"].astype(str),
                        strict=True))

    def pflops_per_node(self) -> dict[str, float]:
        """SKU -> effective PFLOP/s per available node (the optimizer's g_k), from first-stage
        orders where the SKU was ordered, else from the fleet table where nodes are available."""
        out: dict[str, float] = {}
        fleet = self.fleet[self.fleet["available_nodes"] > 0]
        for sku, pflops, nodes in zip(fleet["sku"], fleet["effective_pflops"],
                                      fleet["available_nodes"], strict=True):
            out.setdefault(str(sku), float(pflops) / float(nodes))
        ordered = self.orders[self.orders["nodes"] > 0]
        for sku, pflops, nodes in zip(ordered["sku"], ordered["effective_pflops"], ordered["nodes"],
                                      strict=True):
            out[str(sku)] = float(pflops) / float(nodes)
        return out


@dataclass(frozen=True)
class FailedCase:
    """A case of study_failures: its error, and what cases/<key>.json tells of it when the case
    ran and raised (`key` and `params` are None for a case whose scenario did not validate:
    it never ran, so it has no key and no stored record)."""

    name: str
    error: str
    key: str | None
    params: list[tuple[str, Any]] | None

    @property
    def status(self) -> str:
        return "invalid" if self.key is None else "failed"


@dataclass(frozen=True)
class StudyFiles:
    """A study folder's files: study.json, study.yaml and the study_* tables (Parquet)."""

    info: dict[str, Any]
    text: str
    cases: pd.DataFrame
    tornado: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    failures: list[FailedCase]
    runway: pd.DataFrame | None = None  # study_runway: when the cases have runway metrics

    @property
    def name(self) -> str:
        return str(self.info.get("study") or "")

    @property
    def file_data(self) -> dict[str, Any]:
        """The study file parsed (empty when it does not parse)."""
        try:
            data = load_yaml(self.text, StudyFolder.STUDY_FILE)
        except InputError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def param_columns(self) -> list[str]:
        """`param.<path>` of every varied parameter, succeeded or failed cases, sorted by path
        (study_cases already sorts them so)."""
        paths = {c for c in self.cases.columns if str(c).startswith("param.")}
        paths |= {f"param.{p}" for f in self.failures for p, _ in f.params or []}
        return sorted(paths, key=lambda c: c.removeprefix("param."))

    @property
    def metrics(self) -> list[str]:
        """Collected metrics in the order they first appear in study_cases."""
        if "metric" not in self.cases.columns:
            return []
        return [str(m) for m in dict.fromkeys(self.cases["metric"])]

    @property
    def optimizer_metrics(self) -> bool:
        """The cases ran the optimizer (their plan.* metrics are in the Cases sheet)."""
        return (self.info.get("command") in ("optimize", "both")
                or any(m.startswith("plan.") for m in self.metrics))


@dataclass(frozen=True)
class OutputFolder:
    """Everything a report uses, as read from the folder's files. The run fields are None in an
    optimize-only folder; `plan` is None in a folder without optimizer files; in a study folder
    only `study` is set."""

    path: Path
    summary: dict[str, Any] | None
    inputs: dict[str, Any] | None
    scenario_text: str | None
    timeseries: pd.DataFrame | None
    shocks: pd.DataFrame | None
    plan: Plan | None
    study: StudyFiles | None = None
    replication_metrics: pd.DataFrame | None = None  # replications.parquet (the runway)

    @property
    def simulated(self) -> bool:
        """A simulation run's files are here (summary.json and the rest)."""
        return self.summary is not None

    @property
    def name(self) -> str:
        """The scenario's name, from summary.json or optimization.json (a study's name)."""
        if self.study is not None:
            return self.study.name
        if self.summary is not None:
            return str(self.summary.get("scenario") or self.scenario.get("name", ""))
        return str(self.plan.optimization.get("scenario") or "") if self.plan else ""

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario (inputs.json "scenario"); empty without inputs.json."""
        return (self.inputs or {}).get("scenario", {})

    @property
    def start_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.scenario["start_date"])

    @property
    def pools(self) -> list[Pool]:
        """Pools in scenario order; compute per node from the catalog entries in inputs.json."""
        if self.inputs is None:
            return []
        skus = self.inputs["catalog"]["skus"]
        pools = []
        for pool in self.scenario["cluster"]["pools"]:
            sku = skus[pool["sku"]]
            tflops = _number(sku["accelerators_per_node"]) * _number(sku["bf16_dense_tflops"])
            pools.append(Pool(pool["name"], pool["sku"], tflops / 1000.0))
        return pools

    @property
    def horizon_days(self) -> float:
        return float(self.scenario["horizon_days"])

    @property
    def replications(self) -> int:
        return int(self.summary.get("replications") or self.timeseries["replication"].nunique())

    def shocks_within_horizon(self) -> pd.DataFrame:
        """The shocks that start before the horizon ends (later ones were drawn but never hit)."""
        return self.shocks[self.shocks["start_day"].astype(float) <= self.horizon_days]

    def dates(self, days: pd.Series) -> pd.Series:
        """Calendar timestamps of simulated days since the scenario's start date."""
        return self.start_date + pd.to_timedelta(days.astype(float), unit="D")


def quarter_date(label: str) -> pd.Timestamp:
    """The first day of a quarter label such as 2027Q3."""
    return pd.Timestamp(quarter_start(str(label)))


def _number(entry: Any) -> float:
    """A catalog number, sourced ({value, source}) or plain."""
    return float(entry["value"] if isinstance(entry, dict) else entry)


# plan tables read when present though the optimizer always writes them: plan_inputs is newer
# than the other tables, and a folder written before it still makes a report
_READ_IF_PRESENT = (OptimizeFolder.INPUTS,)


def _read_plan(folder: Path) -> Plan | None:
    """optimization.json and the plan tables; None when the folder holds no optimization."""
    if not (folder / OptimizeFolder.OPTIMIZATION).exists():
        return None
    files = {n: parquet(OptimizeFolder.table(n)) for n in OptimizeFolder.TABLES
             if n not in _READ_IF_PRESENT}
    missing = [name for name in files.values() if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: {OptimizeFolder.OPTIMIZATION} without "
                                f"{', '.join(missing)}")
    tables = {n: _parquet(folder / name) for n, name in files.items()}
    for name in (*_READ_IF_PRESENT, *OptimizeFolder.OPTIONAL):
        path = folder / parquet(OptimizeFolder.table(name))
        tables[name] = _parquet(path) if path.exists() else None
    return Plan(optimization=_json(folder / OptimizeFolder.OPTIMIZATION), **tables)


def _stored_failures(folder: Path, errors: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Case name -> its record in cases/*.json, for the failed cases (name and error as in
    study_failures; a record left by an earlier version of the study with another error does
    not match). Read only when some case failed."""
    found: dict[str, dict[str, Any]] = {}
    if not errors:
        return found
    for path in sorted((folder / StudyFolder.CASE_STORE).glob("*" + StudyFolder.CASE_SUFFIX)):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        name = str(record.get("name"))
        if record.get("error") and errors.get(name) == record["error"]:
            found.setdefault(name, record)
            if len(found) == len(errors):
                break
    return found


# what a report needs of each JSON file: (dotted path, type) that must be there
_JSON_SHAPES: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    RunFolder.SUMMARY: (("scenario", str), ("replications", int), ("seed", int)),
    RunFolder.INPUTS: (("scenario", dict), ("scenario.start_date", str),
                       ("scenario.horizon_days", (int, float)), ("scenario.cluster.pools", list),
                       ("catalog", dict), ("catalog.skus", dict)),
    OptimizeFolder.OPTIMIZATION: (("status", str),),
    StudyFolder.STUDY: (("study", str), ("command", str)),
}


def _json(path: Path) -> dict[str, Any]:
    """A JSON file of the folder, of the shape planner writes; a damaged or reshaped one is a
    ValueError naming it and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"{path.name}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: not a JSON object (it holds {type(data).__name__})")
    for dotted_path, kind in _JSON_SHAPES.get(path.name, ()):
        node: Any = data
        for step in dotted_path.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        if not isinstance(node, kind) or isinstance(node, bool):
            raise ValueError(f"{path.name}: no {dotted_path} of the kind planner writes")
    return data


def _parquet(path: Path) -> pd.DataFrame:
    """A Parquet table of the folder; a damaged one is a ValueError naming it."""
    try:
        return pd.read_parquet(path)
    except (ValueError, TypeError, OSError) as e:
        raise ValueError(f"{path.name}: not a readable Parquet table ({e})") from None


def _read_study(folder: Path) -> StudyFiles:
    missing = [name for name in StudyFolder.REPORT_INPUTS if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: {StudyFolder.STUDY} without {', '.join(missing)}")

    def table(name: str) -> pd.DataFrame | None:
        path = folder / parquet(StudyFolder.table(name))
        return _parquet(path) if path.exists() else None

    info = _json(folder / StudyFolder.STUDY)
    failures_table = table(StudyFolder.FAILURES)
    pairs = [(str(c), str(e)) for c, e in zip(failures_table["case"], failures_table["error"],
                                                strict=True)] if len(failures_table) else []
    stored = _stored_failures(folder, dict(pairs))
    failures = []
    for name, error in pairs:
        record = stored.get(name)
        failures.append(FailedCase(name, error, str(record["key"]) if record else None,
                                   [(str(p), v) for p, v in record.get("params", [])]
                                   if record else None))
    return StudyFiles(info=info,
                      text=(folder / StudyFolder.STUDY_FILE).read_text(encoding="utf-8"),
                      cases=table(StudyFolder.CASES), tornado=table(StudyFolder.TORNADO),
                      sensitivity=table(StudyFolder.SENSITIVITY), failures=failures,
                      runway=table(StudyFolder.RUNWAY))


def read_folder(folder: Path, require_complete: bool = True) -> OutputFolder:
    """Load what the folder holds: a study's files (when study.json is there); else the run
    files (all of them, when summary.json is there) and the optimizer's files (when
    optimization.json is there); at least one of the two. A folder without its `complete`
    marker is refused unless `require_complete` is False (the command still writing it)."""
    folder = Path(folder)
    if require_complete and not (folder / COMPLETE).exists():
        raise FileNotFoundError(f"{folder}: no `{COMPLETE}` marker: the command that wrote it "
                                "did not finish; run it again to rebuild the folder")
    if (folder / StudyFolder.STUDY).exists():
        return OutputFolder(folder, None, None, None, None, None, None, study=_read_study(folder))
    plan = _read_plan(folder)
    if not (folder / RunFolder.SUMMARY).exists():
        if plan is None:
            raise FileNotFoundError(f"{folder}: neither {RunFolder.SUMMARY} (planner run), "
                                    f"{OptimizeFolder.OPTIMIZATION} (planner optimize) nor "
                                    f"{StudyFolder.STUDY} (planner study): not an output folder")
        return OutputFolder(folder, None, None, None, None, None, plan)
    missing = [name for name in RunFolder.REPORT_INPUTS if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: {RunFolder.SUMMARY} without {', '.join(missing)}")
    return OutputFolder(
        path=folder,
        summary=_json(folder / RunFolder.SUMMARY),
        inputs=_json(folder / RunFolder.INPUTS),
        scenario_text=(folder / RunFolder.SCENARIO).read_text(encoding="utf-8"),
        timeseries=_parquet(folder / parquet(RunFolder.TIMESERIES)),
        shocks=_parquet(folder / parquet(RunFolder.SHOCKS)),
        plan=plan,
        replication_metrics=_parquet(folder / parquet(RunFolder.REPLICATIONS)),
    )
