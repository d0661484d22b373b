"""Study results as tables: tidy (case x replication x metric), per-case statistics, tornado
(main effect of each varied parameter), for sampled studies a global sensitivity ranking, and,
when the cases report a runway, the runway curve (its percentiles per case)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from planner.metrics import bounds_of
from planner.runway import COLUMNS as RUNWAY_COLUMNS
from planner.runway import runway_table
from planner.stats import describe


def param_value(value):
    """A scalar for a table cell: dates as ISO text, lists and mappings as JSON text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def tidy(records: list[dict]) -> pd.DataFrame:
    """One row per (case, replication, metric); varied parameters as `param.<path>` columns."""
    rows = []
    paths = sorted({p for r in records for p, _ in r["params"]})
    for r in records:
        params = {f"param.{p}": param_value(v) for p, v in r["params"]}
        for rep, metrics in sorted(r["metrics"].items(), key=lambda kv: int(kv[0])):
            for metric, value in metrics.items():
                rows.append({"case": r["name"], "key": r["key"], "replication": int(rep),
                             "metric": metric, "value": np.nan if value is None else float(value),
                             **{f"param.{p}": params.get(f"param.{p}") for p in paths}})
    columns = ["case", "key", "replication", "metric", "value", *[f"param.{p}" for p in paths]]
    frame = pd.DataFrame(rows, columns=columns)
    for c in columns[5:]:
        kinds = {_kind(v) for v in frame[c] if not _missing(v)}
        if len(kinds) > 1 or "text" in kinds:  # mixed (say 30, 120, true): all as text
            frame[c] = frame[c].map(lambda v: None if _missing(v) else str(v))
    return frame


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _kind(value) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    return "text"


def case_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per case and metric: n, mean, std, P10, P50, P90 and the 95 % CI over replications."""
    params = [c for c in table.columns if c.startswith("param.")]
    rows = []
    for (case, metric), group in table.groupby(["case", "metric"], sort=False):
        d = describe(group["value"].to_numpy(), bounds_of(str(metric)))
        ci = d["ci95"] or [None, None]
        first = group.iloc[0]
        rows.append({"case": case, "key": first["key"], "metric": metric, "n": d["n"],
                     "mean": d["mean"], "std": d["std"], "p10": d["p10"], "p50": d["p50"],
                     "p90": d["p90"], "ci95_low": ci[0], "ci95_high": ci[1],
                     **{p: first[p] for p in params}})
    return pd.DataFrame(rows)


def _case_means(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    return summary[summary["metric"] == metric]


def tornado(summary: pd.DataFrame, metric: str, sampled: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Main effect of each varied parameter on the case means of `metric`: mean over the cases
    at each of its values (the others averaged out; a sampled parameter's values are binned in
    terciles); sorted by the spread, largest first."""
    means = _case_means(summary, metric)
    rows = []
    for col in [c for c in summary.columns if c.startswith("param.")]:
        values = means[[col, "mean"]].dropna()
        if values[col].nunique() < 2:
            continue
        if col.removeprefix("param.") in sampled and values[col].nunique() > 3:
            # a sampled parameter: low, middle and high third of its values
            bins = pd.qcut(values[col], 3, duplicates="drop")
            values = values.assign(**{col: bins.map(lambda b: f"{b.left:.4g}..{b.right:.4g}")})
        effect = values.groupby(col, observed=True)["mean"].mean()
        lo_value, hi_value = effect.idxmin(), effect.idxmax()
        rows.append({"parameter": col.removeprefix("param."), "metric": metric,
                     "value_at_min": str(lo_value), "metric_min": float(effect.min()),
                     "value_at_max": str(hi_value), "metric_max": float(effect.max()),
                     "swing": float(effect.max() - effect.min())})
    frame = pd.DataFrame(rows, columns=["parameter", "metric", "value_at_min", "metric_min",
                                        "value_at_max", "metric_max", "swing"])
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def global_ranking(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """For sampled studies: Spearman rank correlation and standardized regression coefficient
    of each numeric parameter with the case mean of `metric`, ranked by |SRC|."""
    from scipy import stats as sps  # scipy.stats: 1 s of a study; sampled studies only

    means = _case_means(summary, metric).dropna(subset=["mean"])
    cols = [c for c in summary.columns if c.startswith("param.")
            and pd.api.types.is_numeric_dtype(means[c]) and means[c].nunique() > 1]
    columns = ["parameter", "metric", "spearman_rho", "src", "rank"]
    if not cols or len(means) < 3:
        return pd.DataFrame(columns=columns)
    x = means[cols].to_numpy(float)
    y = means["mean"].to_numpy(float)
    xs = (x - x.mean(0)) / x.std(0)
    ys = (y - y.mean()) / y.std() if y.std() > 0 else y * 0
    src, *_ = np.linalg.lstsq(np.column_stack([xs, np.ones(len(ys))]), ys, rcond=None)
    rows = [{"parameter": c.removeprefix("param."), "metric": metric,
             "spearman_rho": float(sps.spearmanr(x[:, i], y).statistic) if y.std() > 0 else 0.0,
             "src": float(src[i])} for i, c in enumerate(cols)]
    frame = pd.DataFrame(rows).sort_values("src", key=np.abs, ascending=False, kind="stable")
    frame["rank"] = range(1, len(frame) + 1)
    return frame[columns].reset_index(drop=True)


def runway_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Per case (study order), exposed pool and threshold: the runway percentiles over the
    case's replications (planner.runway.runway_table: censored replications taken into
    account), then the case's `param.<path>` columns. No row when no case reports a runway."""
    params = [c for c in table.columns if c.startswith("param.")]
    frames = []
    for (case, key), group in table.groupby(["case", "key"], sort=False):
        wide = group.pivot(index="replication", columns="metric", values="value")[
            list(dict.fromkeys(group["metric"]))]  # metrics in the order the simulator gives
        curve = runway_table(wide)
        if curve.empty:
            continue
        curve.insert(0, "key", key)
        curve.insert(0, "case", case)
        first = group.iloc[0]
        for p in params:
            curve[p] = first[p]
        frames.append(curve)
    columns = ["case", "key", *RUNWAY_COLUMNS, *params]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
