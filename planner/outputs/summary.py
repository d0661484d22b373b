"""Turn replications into summary.json's structure and into tidy tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner import __version__
from planner.metrics import bounds_of, summary_path
from planner.montecarlo import MonteCarloResult
from planner.sim.failure_log import EVENT_COLUMNS
from planner.sim.results import ReplicationResult
from planner.stats import describe
from planner.units import HOURS_PER_DAY


def _insert(tree: dict, flat_name: str, value: Any) -> None:
    """Put a metric's statistics where summary.json nests it (planner.metrics.summary_path)."""
    *parents, leaf = summary_path(flat_name)
    for name in parents:
        tree = tree.setdefault(name, {})
    tree[leaf] = value


def build_summary(mc: MonteCarloResult) -> dict[str, Any]:
    """summary.json: per metric mean, std, p10, p50, p90, ci95 and n over replications."""
    scenario = mc.loaded.scenario
    keys: list[str] = []
    for r in mc.results:
        for k in r.metrics:
            if k not in keys:
                keys.append(k)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "source": mc.loaded.source,
        "overrides": list(mc.loaded.overrides),
        "seed": scenario.seed,
        "replications": len(mc.results),
        "adaptive_stop": mc.adaptive_stop,
        "horizon_days": scenario.horizon_days,
        "version": __version__,
        "checkpoint_interval_hours": {
            job.name: interval for job, interval in zip(scenario.jobs, mc.setup.job_intervals_hours,
                                                        strict=True)
        },
    }
    for key in keys:
        values = [r.metrics.get(key, float("nan")) for r in mc.results]
        _insert(out, key, describe(values, bounds_of(key)))
    return out


def metrics_table(mc: MonteCarloResult) -> pd.DataFrame:
    """One row per replication, one column per flat metric."""
    rows = [{"replication": r.replication, **r.metrics} for r in mc.results]
    return pd.DataFrame(rows)


def timeseries_table(mc: MonteCarloResult) -> pd.DataFrame:
    """replication x sampled day: node states per pool, stock per part, job progress."""
    frames = []
    for r in mc.results:
        frame = pd.DataFrame(r.timeseries)
        frame.insert(0, "replication", r.replication)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def events_table(mc: MonteCarloResult) -> pd.DataFrame:
    """Every node failure: replication, time, pool, node, category, kind, job, outcome, downtime."""
    return events_of(mc.results)


def events_of(results: Sequence[ReplicationResult]) -> pd.DataFrame:
    """The events table of these replications (events_table without the Monte-Carlo wrapper)."""
    frames = []
    for r in results:
        frame = pd.DataFrame.from_records(r.events, columns=list(EVENT_COLUMNS))
        frame.insert(0, "replication", r.replication)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=EVENT_COLUMNS)
    table["time_days"] = table["time_hours"] / HOURS_PER_DAY
    return table.astype({"node": "int64", "replication": "int64"})


def shocks_table(mc: MonteCarloResult) -> pd.DataFrame:
    """The supply shocks that happened in each replication, with their dates."""
    start = mc.loaded.scenario.start_date
    rows = []
    for r in mc.results:
        for name, vendor, start_h, end_h in r.shocks:
            rows.append({
                "replication": r.replication, "shock": name, "vendor": vendor,
                "start_day": start_h / HOURS_PER_DAY,
                "end_day": end_h / HOURS_PER_DAY if end_h != float("inf") else None,
                "start_date": (pd.Timestamp(start) + pd.Timedelta(hours=start_h)).date().isoformat(),
                "permanent": end_h == float("inf"),
            })
    columns = ["replication", "shock", "vendor", "start_day", "end_day", "start_date", "permanent"]
    return pd.DataFrame(rows, columns=columns)


def inputs_record(mc: MonteCarloResult) -> dict[str, Any]:
    """Every input used: the validated scenario (defaults filled in) and the catalog entries it
    uses, each number with its source."""
    scenario, catalog = mc.loaded.scenario, mc.loaded.catalog
    skus = {p.sku for p in scenario.cluster.pools}

    def sourced(obj: Any) -> Any:
        if hasattr(obj, "value") and hasattr(obj, "source"):
            return {"value": obj.value, "source": obj.source}
        if hasattr(obj, "model_dump"):  # a duration (a category's repair_hours)
            return obj.model_dump(mode="json", exclude_none=True)
        if isinstance(obj, dict):
            return {k: sourced(v) for k, v in obj.items()}
        return obj

    def entry(obj: Any) -> dict[str, Any]:
        return {k: sourced(v) for k, v in vars(obj).items()}

    return {
        "scenario": scenario.model_dump(mode="json"),
        "catalog": {
            "skus": {name: entry(catalog.skus[name]) for name in sorted(skus)},
            "categories": {name: entry(c) for name, c in catalog.categories.items()},
            "shared_components": {name: entry(c)
                                  for name, c in catalog.shared_components.items()},
            "parts": {name: entry(p) for name, p in catalog.parts.items()},
        },
        "checkpoint_interval_hours": dict(zip([j.name for j in scenario.jobs],
                                              mc.setup.job_intervals_hours, strict=True)),
    }
