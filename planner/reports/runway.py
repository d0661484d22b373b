"""The rows of the Runway sheet: how long each pool exposed to a parts block keeps its node
availability above 90 %, 80 % and 50 % (docs/outputs.md, "Runway").

A run: one row per exposed pool and threshold, the percentiles worked out from replications.parquet
(planner.runway.runway_table, Kaplan-Meier over the replications with a block in the run). A
study: one row per case, pool and threshold of study_runway (the runway curve: the same
percentiles per case, e.g. per stockpile level), its varied parameters in `parameters`. A
folder with neither: one row whose note says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.reports.folder import OutputFolder, StudyFiles
from planner.reports.units import counted, show
from planner.runway import QUANTILES, runway_table

NO_RUNWAY_OPTIMIZE = ("No runway: this folder is an optimization without a simulation; "
                      "`planner run` reports the runway of the pools whose spare parts a supply "
                      "shock blocks.")
NO_RUNWAY_RUN = ("No runway: no supply shock of the scenario blocks the spare parts (orders, "
                 "deliveries or RMA) of a pool.")
NO_RUNWAY_STUDY = ("No runway curve: this folder is a study (planner study) whose cases report "
                   "no runway (collect the `runway` metrics, of a base scenario whose supply "
                   "shock blocks a pool's spare parts).")
RUNWAY_NOTE = ("days from the block's start until the pool's node availability (healthy / "
               "installed) is first sampled below the threshold; Kaplan-Meier percentiles over "
               "the replications with a block in the run")


def percentile_text(days: float, censored: bool | None) -> str:
    """A runway percentile as the report shows it: `63.2` days, or `> 412.0` when censored."""
    return ("> " if censored else "") + show(days, "days")


def _flag(value: Any) -> bool:
    return value is True or value == "true" or (isinstance(value, np.bool_) and bool(value))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _note(row: dict[str, Any]) -> str:
    """What a row means: the definition, how many replications were censored, and which
    percentiles were not reached (more than the longest time watched)."""
    n = int(row["n"]) if not _missing(row["n"]) else 0
    if n == 0:
        return "no replication had a block of the pool's parts within the run"
    censored = int(round(float(row["censored_share"]) * n))
    parts = [RUNWAY_NOTE, f"{censored} of {counted(n, 'replication')} did not see the threshold crossed "
             "within the days watched (censored)"]
    above = [q.upper() for q in QUANTILES if _flag(row.get(f"{q}_censored"))]
    if above:
        parts.append(f"{', '.join(above)} not reached: more than "
                     f"{show(float(row[f'{above[0].lower()}']), 'days')} days, the longest time "
                     "watched")
    return "; ".join(parts)


def _sheet_row(row: dict[str, Any], sku: str | None, case: str | None,
               parameters: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"case": case, "parameters": parameters, "pool": row["pool"],
                           "sku": sku, "threshold": row["threshold"], "n": row["n"],
                           "censored_share": row["censored_share"]}
    for q in QUANTILES:
        out[f"{q} [days]"] = row[q]
        flag = row.get(f"{q}_censored")
        out[f"{q}_censored"] = None if _missing(flag) else _flag(flag)
    out["note"] = _note(row)
    return out


def run_rows(run: OutputFolder) -> list[dict[str, Any]]:
    """A run: one row per exposed pool and threshold; an optimize-only folder or a run without
    a parts block: one note row."""
    if not run.simulated:
        return [{"note": NO_RUNWAY_OPTIMIZE}]
    metrics = run.replication_metrics
    table = runway_table(metrics) if metrics is not None else pd.DataFrame()
    if table.empty:
        return [{"note": NO_RUNWAY_RUN}]
    skus = {pool.name: pool.sku for pool in run.pools}
    return [_sheet_row(r, skus.get(str(r["pool"])), None, None)
            for r in table.to_dict("records")]


def parameters_text(row: dict[str, Any]) -> str | None:
    """A case's varied parameters as `path=value` joined by `; ` (those it sets)."""
    items = [f"{k.removeprefix('param.')}={v:g}" if isinstance(v, float)
             else f"{k.removeprefix('param.')}={v}"
             for k, v in row.items() if k.startswith("param.") and not _missing(v)]
    return "; ".join(items) or None


def study_rows(study: StudyFiles) -> list[dict[str, Any]]:
    """A study: one row per case, pool and threshold of study_runway, by pool, then threshold,
    then case (so each threshold's curve reads down the rows, and a chart takes it as one
    range); none: one note row."""
    table = study.runway
    if table is None or table.empty:
        return [{"note": NO_RUNWAY_STUDY}]
    pools = {p: i for i, p in enumerate(dict.fromkeys(table["pool"]))}
    thresholds = {t: i for i, t in enumerate(dict.fromkeys(table["threshold"]))}
    records = table.to_dict("records")
    order = sorted(range(len(records)), key=lambda i: (pools[records[i]["pool"]],
                                                       thresholds[records[i]["threshold"]], i))
    return [_sheet_row(records[i], None, str(records[i]["case"]), parameters_text(records[i]))
            for i in order]
