"""Units of summary metrics, and how a number of each unit is shown (Excel format, HTML text)."""

from __future__ import annotations

import math

# metric (summary.json path without its key) -> unit
METRIC_UNITS: dict[str, str] = {
    "ettr": "fraction",
    "job_completed": "fraction",
    "node_availability": "fraction",
    "job_mttf_hours": "hours",
    "time_to_train_days": "days",
    "stockout_days": "days",
    "job_interruptions": "count",
    "interruptions": "count",
    "interruptions.by_category": "count",
    "node_failures": "count",
    "goodput_gpu_hours": "GPU-hours",
    "lost_gpu_hours": "GPU-hours",
    "nodes_retired": "nodes",
    "repair_backlog_max": "nodes",
    "parts_consumed": "parts",
    "parts_spend_usd": "USD",
}

# unit -> Excel number format
EXCEL_FORMATS: dict[str, str] = {
    "fraction": "0.00%",
    "USD": '"$"#,##0',
    "GPU-hours": "#,##0",
    "count": "#,##0.0",
    "nodes": "#,##0.0",
    "parts": "#,##0.0",
    "hours": "#,##0.00",
    "days": "#,##0.0",
    "PFLOP/s": "#,##0.0",
    "integer": "#,##0",
    "date": "yyyy-mm-dd",
    "": "General",
}


def metric_unit(metric: str) -> str:
    """The unit of a summary metric; guessed from its name's suffix when not listed."""
    if metric in METRIC_UNITS:
        return METRIC_UNITS[metric]
    for suffix, unit in (("_usd", "USD"), ("_gpu_hours", "GPU-hours"), ("_hours", "hours"),
                         ("_days", "days")):
        if metric.endswith(suffix):
            return unit
    return ""


def excel_format(unit: str) -> str:
    """The Excel number format of a unit (General when unknown)."""
    return EXCEL_FORMATS.get(unit, "General")


def show(value: float | int | None, unit: str) -> str:
    """A number as a person reads it in the HTML page: 87.2 %, $1,620,763, 5.86."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "fraction":
        return f"{value * 100:.1f} %"
    if unit == "USD":
        return f"${value:,.0f}"
    if unit in ("GPU-hours", "integer"):
        return f"{value:,.0f}"
    if unit == "hours":
        return f"{value:,.2f}"
    return f"{value:,.1f}"
