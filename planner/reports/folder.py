"""Read the files of an output folder (reports read results, never the engine or the solver).

Two kinds of folder, and their union:
- a simulation run (`planner run`): summary.json, inputs.json, scenario.yaml, timeseries and
  shocks tables;
- an optimization (`planner optimize`): optimization.json and the plan_* tables;
- `planner run` of a scenario with a procurement section writes both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner.quarters import quarter_start

RUN_FILES = ("summary.json", "inputs.json", "scenario.yaml", "timeseries.parquet", "shocks.parquet")
# plan_<name>.parquet tables the optimizer always writes (plan_pareto only with --pareto)
PLAN_TABLES = ("orders", "recourse", "stockpile", "platforms", "fleet", "capacity", "costs",
               "shadow_prices")


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
    shadow_prices: pd.DataFrame
    pareto: pd.DataFrame | None

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
class OutputFolder:
    """Everything a report uses, as read from the folder's files. The run fields are None in an
    optimize-only folder; `plan` is None in a folder without optimizer files."""

    path: Path
    summary: dict[str, Any] | None
    inputs: dict[str, Any] | None
    scenario_text: str | None
    timeseries: pd.DataFrame | None
    shocks: pd.DataFrame | None
    plan: Plan | None

    @property
    def simulated(self) -> bool:
        """A simulation run's files are here (summary.json and the rest)."""
        return self.summary is not None

    @property
    def name(self) -> str:
        """The scenario's name, from summary.json or optimization.json."""
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


def _read_plan(folder: Path) -> Plan | None:
    """optimization.json and the plan tables; None when the folder holds no optimization."""
    if not (folder / "optimization.json").exists():
        return None
    missing = [f"plan_{n}.parquet" for n in PLAN_TABLES if not (folder / f"plan_{n}.parquet").exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: optimization.json without {', '.join(missing)}")
    tables = {n: pd.read_parquet(folder / f"plan_{n}.parquet") for n in PLAN_TABLES}
    pareto = folder / "plan_pareto.parquet"
    return Plan(optimization=json.loads((folder / "optimization.json").read_text(encoding="utf-8")),
                pareto=pd.read_parquet(pareto) if pareto.exists() else None, **tables)


def read_folder(folder: Path) -> OutputFolder:
    """Load what the folder holds: the run files (all of them, when summary.json is there) and
    the optimizer's files (when optimization.json is there); at least one of the two."""
    folder = Path(folder)
    plan = _read_plan(folder)
    if not (folder / "summary.json").exists():
        if plan is None:
            raise FileNotFoundError(f"{folder}: neither summary.json (planner run) nor "
                                    "optimization.json (planner optimize): not an output folder")
        return OutputFolder(folder, None, None, None, None, None, plan)
    missing = [name for name in RUN_FILES if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: summary.json without {', '.join(missing)}")
    return OutputFolder(
        path=folder,
        summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
        inputs=json.loads((folder / "inputs.json").read_text(encoding="utf-8")),
        scenario_text=(folder / "scenario.yaml").read_text(encoding="utf-8"),
        timeseries=pd.read_parquet(folder / "timeseries.parquet"),
        shocks=pd.read_parquet(folder / "shocks.parquet"),
        plan=plan,
    )
