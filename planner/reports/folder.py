"""Read the files of a `planner run` output folder (reports read results, never the engine)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Pool:
    """A pool as the report needs it: its name, SKU and PFLOP/s per healthy node."""

    name: str
    sku: str
    pflops_per_node: float


@dataclass(frozen=True)
class RunFolder:
    """Everything a report uses, as read from the folder's files."""

    path: Path
    summary: dict[str, Any]
    inputs: dict[str, Any]
    scenario_text: str
    timeseries: pd.DataFrame
    shocks: pd.DataFrame

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario (inputs.json "scenario")."""
        return self.inputs["scenario"]

    @property
    def start_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.scenario["start_date"])

    @property
    def pools(self) -> list[Pool]:
        """Pools in scenario order; compute per node from the catalog entries in inputs.json."""
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


def _number(entry: Any) -> float:
    """A catalog number, sourced ({value, source}) or plain."""
    return float(entry["value"] if isinstance(entry, dict) else entry)


def read_folder(folder: Path) -> RunFolder:
    """Load summary.json, inputs.json, scenario.yaml, timeseries and shocks tables of a run."""
    folder = Path(folder)

    def table(stem: str) -> pd.DataFrame:
        return pd.read_parquet(folder / f"{stem}.parquet")

    return RunFolder(
        path=folder,
        summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
        inputs=json.loads((folder / "inputs.json").read_text(encoding="utf-8")),
        scenario_text=(folder / "scenario.yaml").read_text(encoding="utf-8"),
        timeseries=table("timeseries"),
        shocks=table("shocks"),
    )
