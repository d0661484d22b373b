"""The sheets of report.xlsx as DataFrames, built from a run folder's files.

SHEET_COLUMNS is the stable contract (docs/outputs.md): sheet names in order and each sheet's
columns. The CSV/Parquet twins and the workbook are written from these same frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.reports import series
from planner.reports.assumptions import assumption_rows
from planner.reports.folder import RunFolder
from planner.reports.units import metric_unit

SHEET_COLUMNS: dict[str, list[str]] = {
    "Summary": ["metric", "key", "unit", "n", "mean", "std", "p10", "p50", "p90",
                "ci95_low", "ci95_high"],
    "Plan": ["item", "pool", "sku", "part", "order_date", "quantity", "unit_price [USD]",
             "cost [USD]", "note"],
    "Risk": ["measure", "metric", "key", "unit", "value", "limit", "note"],
    "Capacity": ["pool", "sku", "day", "date", "installed_nodes_p50 [nodes]",
                 "healthy_nodes_p10 [nodes]", "healthy_nodes_p50 [nodes]",
                 "healthy_nodes_p90 [nodes]", "effective_compute_p10 [PFLOP/s]",
                 "effective_compute_p50 [PFLOP/s]", "effective_compute_p90 [PFLOP/s]",
                 "effective_compute_p10_p90_width [PFLOP/s]"],
    "Parts": ["sku", "part", "unit_price [USD]", "stockout_mean [days]", "stockout_p10 [days]",
              "stockout_p50 [days]", "stockout_p90 [days]", "consumed_mean [parts]",
              "consumed_p10 [parts]", "consumed_p50 [parts]", "consumed_p90 [parts]",
              "final_stock_p50 [parts]"],
    "Assumptions": ["section", "path", "value", "value_text", "source"],
}
SHEETS: list[str] = list(SHEET_COLUMNS)

# column -> unit of its number format (the workbook's formats; Summary rows use their `unit`)
COLUMN_UNITS: dict[str, str] = {
    "n": "integer",
    "quantity": "integer",
    "unit_price [USD]": "USD",
    "cost [USD]": "USD",
    "order_date": "date",
    "date": "date",
    "day": "",
}
TEXT_COLUMNS = {"metric", "key", "unit", "item", "pool", "sku", "part", "note", "measure",
                "section", "path", "value_text", "source"}
DATE_COLUMNS = {"date", "order_date"}

NO_PLAN = ("No procurement plan: this folder is a simulation run (planner run). "
           "The optimizer fills this sheet.")
NO_RISK = ("No risk measures: this folder is a simulation run without a procurement plan. "
           "The optimizer fills this sheet.")

_STATS = ("mean", "std", "p10", "p50", "p90")


def _typed(rows: list[dict[str, Any]] | pd.DataFrame, sheet: str) -> pd.DataFrame:
    """The frame with the sheet's columns in order and stable dtypes: text as str, dates as
    datetime64, `n` as int64, every other column float64."""
    frame = pd.DataFrame(rows).reindex(columns=SHEET_COLUMNS[sheet])
    for col in frame.columns:
        if col in TEXT_COLUMNS:
            frame[col] = frame[col].map(_text)
        elif col in DATE_COLUMNS:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        elif col == "n":
            frame[col] = frame[col].astype("int64")
        else:
            frame[col] = frame[col].astype("float64")
    return frame


def _text(value: Any) -> str | None:
    """Text cell: None when missing (never the string "None" or "nan")."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _is_stats(node: Any) -> bool:
    return isinstance(node, dict) and {"n", "mean", "p50"} <= set(node)


def summary_metrics(summary: dict[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(metric, key, stats) for every metric of summary.json, in file order. The key is the
    last level (a job, pool, category or sku/part); None for a one-level metric."""
    found: list[tuple[str, str | None, dict[str, Any]]] = []

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for name, child in node.items():
            if _is_stats(child):
                if path:
                    found.append((".".join(path), name, child))
                else:
                    found.append((name, None, child))
            elif isinstance(child, dict):
                walk(child, [*path, name])

    walk(summary, [])
    return found


def _num(value: Any) -> float:
    return float(value) if value is not None else np.nan


def summary_sheet(run: RunFolder) -> pd.DataFrame:
    """One row per metric and key: n, mean, std, P10/P50/P90 and the 95 % CI, with the unit."""
    rows = []
    for metric, key, stats in summary_metrics(run.summary):
        ci = stats.get("ci95") or [None, None]
        rows.append({"metric": metric, "key": key, "unit": metric_unit(metric), "n": stats["n"],
                     **{s: _num(stats.get(s)) for s in _STATS},
                     "ci95_low": _num(ci[0]), "ci95_high": _num(ci[1])})
    return _typed(rows, "Summary")


def plan_sheet(run: RunFolder) -> pd.DataFrame:
    """Placeholder until the optimizer exists: one row saying there is no plan."""
    return _typed([{"note": NO_PLAN}], "Plan")


def risk_sheet(run: RunFolder) -> pd.DataFrame:
    """Placeholder until the optimizer exists: one row saying there is no risk measure."""
    return _typed([{"note": NO_RISK}], "Risk")


def capacity_sheet(run: RunFolder) -> pd.DataFrame:
    """Per pool and sampled day: installed nodes P50, healthy nodes and effective compute
    (healthy nodes x accelerators per node x BF16 dense TFLOPS / 1000) P10/P50/P90, and the
    P10-P90 width (what the chart's band stacks on P10)."""
    ts = run.timeseries
    frames = []
    for pool in run.pools:
        healthy = series.healthy_nodes(ts, pool.name)
        installed = series.installed_nodes(ts, pool.name)
        frame = pd.DataFrame({"pool": pool.name, "sku": pool.sku, "day": healthy["day"],
                              "date": run.dates(healthy["day"]),
                              "installed_nodes_p50 [nodes]": installed["p50"]})
        for q in series.QUANTILES:
            frame[f"healthy_nodes_{q} [nodes]"] = healthy[q]
        for q in series.QUANTILES:
            frame[f"effective_compute_{q} [PFLOP/s]"] = healthy[q] * pool.pflops_per_node
        frame["effective_compute_p10_p90_width [PFLOP/s]"] = (
            frame["effective_compute_p90 [PFLOP/s]"] - frame["effective_compute_p10 [PFLOP/s]"])
        frames.append(frame)
    return _typed(pd.concat(frames, ignore_index=True) if frames else [], "Capacity")


def _part_price(run: RunFolder, sku: str, part: str) -> float:
    """The SKU's price for the part, else the part's default price (catalog in inputs.json)."""
    catalog = run.inputs.get("catalog", {})
    entry = catalog.get("skus", {}).get(sku, {}).get("part_prices_usd", {}).get(part)
    entry = entry or catalog.get("parts", {}).get(part, {}).get("price_usd")
    if isinstance(entry, dict):
        entry = entry.get("value")
    return _num(entry)


def parts_sheet(run: RunFolder) -> pd.DataFrame:
    """Per SKU and part: stock-out days and parts consumed (summary.json), final stock P50
    (last sampled day of timeseries), unit price (catalog)."""
    stockouts = run.summary.get("stockout_days", {})
    consumed = run.summary.get("parts_consumed", {})
    names = list(dict.fromkeys([*stockouts, *consumed]))
    names += [c.removeprefix("stock.") for c in series.stock_columns(run.timeseries)
              if c.removeprefix("stock.") not in names]
    rows = []
    for name in names:
        sku, _, part = name.partition("/")
        row: dict[str, Any] = {"sku": sku, "part": part, "unit_price [USD]": _part_price(run, sku, part)}
        for label, source, unit in (("stockout", stockouts, "days"), ("consumed", consumed, "parts")):
            stats = source.get(name, {})
            for s in ("mean", "p10", "p50", "p90"):
                row[f"{label}_{s} [{unit}]"] = _num(stats.get(s))
        column = f"stock.{name}"
        if column in run.timeseries:
            row["final_stock_p50 [parts]"] = float(np.median(series.final_values(run.timeseries,
                                                                                column)))
        rows.append(row)
    return _typed(rows, "Parts")


def assumptions_sheet(run: RunFolder) -> pd.DataFrame:
    """Every input used, see planner.reports.assumptions."""
    return _typed([dict(zip(SHEET_COLUMNS["Assumptions"], row, strict=True))
                   for row in assumption_rows(run)], "Assumptions")


def build_sheets(run: RunFolder) -> dict[str, pd.DataFrame]:
    """Every sheet, in workbook order."""
    builders = {"Summary": summary_sheet, "Plan": plan_sheet, "Risk": risk_sheet,
                "Capacity": capacity_sheet, "Parts": parts_sheet, "Assumptions": assumptions_sheet}
    return {name: builders[name](run) for name in SHEETS}
