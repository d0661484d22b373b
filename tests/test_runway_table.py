"""The runway table (planner/runway.py): one row per exposed pool and threshold of the
per-replication runway metrics, censored replications counted by Kaplan-Meier."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.runway import COLUMNS, runway_keys, runway_table


def _replications() -> pd.DataFrame:
    return pd.DataFrame({
        "replication": [0, 1, 2, 3, 4],
        "goodput_gpu_hours": [1.0, 2.0, 3.0, 4.0, 5.0],
        "runway.days.a/90": [10.0, 20.0, 30.0, 40.0, np.nan],  # replication 4: no block
        "runway.censored.a/90": [0.0, 1.0, 0.0, 0.0, np.nan],
        "runway.days.a/50": [50.0, 60.0, 55.0, 60.0, np.nan],
        "runway.censored.a/50": [1.0, 1.0, 1.0, 1.0, np.nan],
        "runway.days.b/90": [5.0, 6.0, 7.0, 8.0, 9.0],  # no censoring column: not a runway
    })


def test_rows_per_pool_and_threshold_in_column_order():
    table = runway_table(_replications())
    assert list(table.columns) == COLUMNS
    assert list(zip(table["pool"], table["threshold"], strict=True)) == [("a", 0.9), ("a", 0.5)]
    assert runway_keys(list(_replications().columns)) == ["a/90", "a/50"]


def test_percentiles_count_the_censored_replications():
    row = runway_table(_replications()).iloc[0]  # a/90: 10, 20+, 30, 40
    assert row["n"] == 4 and row["censored"] == 1 and row["censored_share"] == 0.25
    # 1 - S: 0.25 at 10, then 20 censored: 0.25 + 0.75/2 = 0.625 at 30, 1 at 40
    assert (row["p10"], row["p10_censored"]) == (10.0, False)
    assert (row["p50"], row["p50_censored"]) == (30.0, False)
    assert (row["p90"], row["p90_censored"]) == (40.0, False)


def test_a_threshold_never_crossed_gives_censored_percentiles_at_the_longest_watch():
    row = runway_table(_replications()).iloc[1]  # a/50: every replication censored
    assert row["censored_share"] == 1.0
    for q in ("p10", "p50", "p90"):
        assert (row[q], row[f"{q}_censored"]) == (60.0, True)


def test_a_pool_never_blocked_has_no_percentile():
    frame = pd.DataFrame({"runway.days.a/80": [np.nan, np.nan],
                          "runway.censored.a/80": [np.nan, np.nan]})
    row = runway_table(frame).iloc[0]
    assert row["n"] == 0 and math.isnan(row["p50"]) and row["p50_censored"] is None


def test_no_runway_metric_no_row():
    table = runway_table(pd.DataFrame({"goodput_gpu_hours": [1.0]}))
    assert table.empty and list(table.columns) == COLUMNS
