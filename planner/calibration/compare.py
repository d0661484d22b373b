"""A simulated run beside the incident log it should reproduce (`planner compare RUN_DIR LOG`).

Per category: the simulated failures per replication, scaled to the log's node-days (nodes x
window), against the log's count; the per-node index of dispersion (variance / mean of faults per
node) of the run and of the log; repair p50 and p90 of both by Kaplan-Meier, repairs open at the
end counted as censored. Each row has a tolerance and passes or fails (docs/calibration.md): a
count within 10 % or the log count's exact Poisson 95 % band, a percentile within 25 % or the
log's own 95 % interval of that percentile, whichever is wider. A log cannot pin its p90 down
more closely than that interval (a class of 40 repairs has four above its p90), so a tighter
verdict would judge the log's noise, not the simulator.

A log class is matched to the run's category `fit_<class>` (a run with planner calibrate's
overrides), else to the catalog category it is like (a run on the catalog: classes like the same
category are counted together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from planner.calibration.estimate import km_quantile, km_quantile_interval
from planner.calibration.log import FaultLog
from planner.calibration.mapping import Likeness, fitted_name
from planner.units import HOURS_PER_DAY

COUNT_TOLERANCE = 0.10  # relative, or the log count's Poisson 95 % band when wider
SPREAD_TOLERANCE = 0.25  # dispersion index and repair percentiles, relative (a percentile: or
# the log's own 95 % interval of it when wider)
FAILURE_KINDS = ("hard", "transient")  # events.parquet rows that are failures


@dataclass(frozen=True)
class Row:
    check: str
    category: str
    log: float
    simulated: float
    low: float
    high: float

    @property
    def passed(self) -> bool:
        return bool(math.isfinite(self.simulated) and self.low <= self.simulated <= self.high)

    def as_dict(self) -> dict:
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"check": self.check, "category": self.category, "log": clean(self.log),
                "simulated": clean(self.simulated), "tolerance": [clean(self.low),
                                                                  clean(self.high)],
                "pass": self.passed}


LEVELS = (0.5, 0.9)


def _km(hours: np.ndarray, censored: np.ndarray
        ) -> tuple[list[float], list[tuple[float, float]]]:
    """Kaplan-Meier p50 and p90 (NaN where the curve does not reach them), and the 95 %
    interval of each (NaN without closed repairs)."""
    if len(hours) == 0 or (~censored).sum() == 0:
        return [math.nan] * len(LEVELS), [(math.nan, math.nan)] * len(LEVELS)
    x = np.maximum(hours, 1.0 / 60.0)
    sf = stats.ecdf(stats.CensoredData(uncensored=x[~censored], right=x[censored])).sf
    return ([km_quantile(sf.quantiles, sf.probabilities, level) for level in LEVELS],
            [km_quantile_interval(sf, level) for level in LEVELS])


def _dispersion(counts: np.ndarray) -> float:
    mean = counts.mean()
    return float(counts.var(ddof=1) / mean) if mean > 0 and len(counts) > 1 else math.nan


def _band(value: float, relative: float) -> tuple[float, float]:
    return value * (1 - relative), value * (1 + relative)


def compare(events: pd.DataFrame, run_days: dict[int, float], run_nodes: int, log: FaultLog,
            likeness: dict[str, Likeness]) -> list[Row]:
    """The rows of the comparison: counts per category, dispersion, repair percentiles.
    `run_days`: each replication's simulated length (the horizon, or less with stop:
    jobs_done)."""
    replications = len(run_days)
    failures = events[events["kind"].isin(FAILURE_KINDS)]
    run_names = set(failures["category"])
    key_of = {cls: fitted_name(cls) if fitted_name(cls) in run_names else likeness[cls].like
              for cls in log.categories()}
    log_frame = pd.DataFrame({
        "key": [key_of[f.category] for f in log.faults], "node": [f.node for f in log.faults],
        "hours": [f.downtime_hours for f in log.faults],
        "censored": [f.censored for f in log.faults]})
    # failures per replication, scaled from the run's node-days to the log's
    scale = (log.nodes * log.window_days) * replications / (run_nodes * sum(run_days.values()))
    rows: list[Row] = []
    for key in dict.fromkeys(key_of.values()):
        mine = log_frame[log_frame["key"] == key]
        sim = failures[failures["category"] == key]
        count = float(len(mine))
        simulated = len(sim) / replications * scale
        poisson_low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
        poisson_high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
        low, high = _band(count, COUNT_TOLERANCE)
        rows.append(Row("failures", key, count, simulated, min(low, poisson_low),
                        max(high, poisson_high)))
        log_values, log_intervals = _km(mine["hours"].to_numpy(), mine["censored"].to_numpy())
        downtime = sim["downtime_hours"].to_numpy(dtype=float)
        open_at_end = ~np.isfinite(downtime)
        ends = sim["replication"].map(run_days).to_numpy(dtype=float) * HOURS_PER_DAY
        downtime = np.where(open_at_end, ends - sim["time_hours"].to_numpy(), downtime)
        sim_values, _ = _km(downtime, open_at_end)
        for level, log_value, (ci_low, ci_high), sim_value in zip(
                LEVELS, log_values, log_intervals, sim_values, strict=True):
            if math.isfinite(log_value):
                low, high = _band(log_value, SPREAD_TOLERANCE)
                rows.append(Row(f"repair p{round(level * 100)} h", key, log_value, sim_value,
                                min(low, ci_low) if math.isfinite(ci_low) else low,
                                max(high, ci_high) if math.isfinite(ci_high) else high))
    log_counts = np.zeros(log.nodes)
    per_node = log_frame.groupby("node").size().to_numpy()
    log_counts[:len(per_node)] = per_node
    sim_dispersion = []
    for _, rep in failures.groupby("replication"):
        counts = np.zeros(run_nodes)
        per_node = rep.groupby(["pool", "node"]).size().to_numpy()
        counts[:len(per_node)] = per_node
        sim_dispersion.append(_dispersion(counts))
    log_dispersion = _dispersion(log_counts)
    rows.append(Row("per-node dispersion (variance / mean)", "all", log_dispersion,
                    float(np.mean(sim_dispersion)) if sim_dispersion else math.nan,
                    *_band(log_dispersion, SPREAD_TOLERANCE)))
    return rows
