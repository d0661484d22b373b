"""The runway table: per pool exposed to a parts block and per availability threshold, the
runway's P10/P50/P90 over the replications in which the block began within the run, with the
censored replications (threshold not crossed while watched) taken into account.

Built from the per-replication metrics `runway.days.<pool>/<pct>` and
`runway.censored.<pool>/<pct>` (planner.metrics): by the run's reports from replications.parquet
and by a study from its cases' results, so both read the runway the same way. The percentiles are
Kaplan-Meier quantiles (planner.stats.censored_quantile): a censored replication says "more than
the days watched", which neither drops it (that would shorten the runway) nor takes its bound as
its runway. A percentile that the replications do not reach is censored itself: more than the
longest time watched, shown as "> N days".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.metrics import RUNWAY_CENSORED, RUNWAY_DAYS, resolve, split_runway_key
from planner.stats import censored_quantile

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}
COLUMNS = ["pool", "threshold", "n", "censored", "censored_share",
           *(c for q in QUANTILES for c in (q, f"{q}_censored"))]


def runway_keys(metrics: list[str]) -> list[str]:
    """The keys (`<pool>/<pct>`) of the runway metrics among flat metric names, in their order,
    each with both its days and its censoring."""
    names = set(metrics)
    keys = []
    for name in metrics:
        found = resolve(name)
        if found is None or found[0] is not RUNWAY_DAYS or found[1] is None:
            continue
        if RUNWAY_CENSORED.flat(found[1]) in names:
            keys.append(found[1])
    return list(dict.fromkeys(keys))


def runway_row(days: np.ndarray, censored: np.ndarray) -> dict[str, Any]:
    """n (replications with a block in the run), censored (how many did not see the threshold
    crossed), its share, and each percentile with whether it is censored (then the value is
    the longest time watched, a lower bound)."""
    days = np.asarray(days, dtype=float)
    censored = np.asarray(censored, dtype=float)
    keep = np.isfinite(days) & np.isfinite(censored)
    days, flags = days[keep], censored[keep] > 0
    n = int(days.size)
    row: dict[str, Any] = {"n": n, "censored": int(flags.sum()),
                           "censored_share": float(flags.mean()) if n else np.nan}
    for name, q in QUANTILES.items():
        value, above = censored_quantile(days, flags, q)
        row[name] = value
        row[f"{name}_censored"] = bool(above) if n else None
    return row


def runway_table(replications: pd.DataFrame) -> pd.DataFrame:
    """One row per runway key of `replications` (one row per replication, one column per flat
    metric), in column order: pool, threshold (a fraction), then runway_row's figures."""
    rows = []
    for key in runway_keys([str(c) for c in replications.columns]):
        pool, threshold = split_runway_key(key)
        rows.append({"pool": pool, "threshold": threshold, **runway_row(
            replications[RUNWAY_DAYS.flat(key)].to_numpy(dtype=float),
            replications[RUNWAY_CENSORED.flat(key)].to_numpy(dtype=float))})
    return pd.DataFrame(rows, columns=COLUMNS)
