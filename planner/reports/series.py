"""P10/P50/P90 across replications of a timeseries quantity, per sampled day."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}


def _on_shared_days(timeseries: pd.DataFrame) -> pd.Series:
    """Which rows to band: all but a replication's last sample taken on a day no other
    replication sampled (a replication stopped at its own moment, `simulation.stop:
    jobs_done`); with one replication, every row."""
    if timeseries["replication"].nunique() <= 1:
        return pd.Series(True, index=timeseries.index)
    day = timeseries["day"].astype(float)
    shared = day.map(day.value_counts()) > 1
    last = timeseries.index.isin(day.groupby(timeseries["replication"]).idxmax())
    return shared | ~last


def band(timeseries: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    """Columns day, p10, p50, p90: quantiles (linear, as numpy's percentile) over the
    replications of `values` (a series aligned with `timeseries`) at each sampled day, over
    the replications still running that day. NaN values (e.g. a share of zero installed nodes)
    are left out, and so is the last sample of a replication that stopped on a day of its own
    (`simulation.stop: jobs_done`): one replication's value is no quantile."""
    keep = _on_shared_days(timeseries)
    timeseries, values = timeseries[keep], values[keep]
    grouped = values.astype(float).groupby(timeseries["day"].astype(float), sort=True)
    out = pd.DataFrame({name: grouped.quantile(q) for name, q in QUANTILES.items()})
    out.index.name = "day"
    return out.reset_index()


def healthy_nodes(timeseries: pd.DataFrame, pool: str) -> pd.DataFrame:
    """Healthy (available) nodes of a pool: P10/P50/P90 per day."""
    return band(timeseries, timeseries[f"{pool}.healthy_nodes"])


def installed_nodes(timeseries: pd.DataFrame, pool: str) -> pd.DataFrame:
    """Installed nodes of a pool: P10/P50/P90 per day."""
    return band(timeseries, timeseries[f"{pool}.installed_nodes"])


def availability(timeseries: pd.DataFrame, pool: str) -> pd.DataFrame:
    """Healthy / installed nodes of a pool (undefined while none is installed): P10/P50/P90."""
    installed = timeseries[f"{pool}.installed_nodes"].astype(float).replace(0.0, np.nan)
    return band(timeseries, timeseries[f"{pool}.healthy_nodes"] / installed)


def stock_columns(timeseries: pd.DataFrame) -> list[str]:
    """The `stock.<sku>/<part>` columns, in table order."""
    return [c for c in timeseries.columns if c.startswith("stock.")]


def final_values(timeseries: pd.DataFrame, column: str) -> pd.Series:
    """The value of `column` at the last sampled day of each replication."""
    last = timeseries.sort_values(["replication", "day"]).groupby("replication").tail(1)
    return last[column].astype(float)


def weighted_quantile(values: np.ndarray | pd.Series, weights: np.ndarray | pd.Series,
                      q: float) -> float:
    """The q-quantile of a discrete distribution (scenario values with probabilities): the
    smallest value v with P(X <= v) >= q, weights normalised to sum 1 (no interpolation, so
    the result is always one of the scenarios' values). NaN when every weight is zero."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if len(v) == 0 or total <= 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cumulative = np.cumsum(w[order]) / total
    index = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
    return float(v[order][min(index, len(v) - 1)])
