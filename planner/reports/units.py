"""Units of metrics and of the optimizer's figures, and how a number of each unit is shown
(Excel format, HTML text). Metric units come from the registry (planner/metrics.py)."""

from __future__ import annotations

import math

import numpy as np

from planner.metrics import PLAN_PREFIX, unit_of

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
    "PFLOP/s-hours": "#,##0",
    "seconds": "#,##0.000",
    "USD per USD": "0.0000",
    "integer": "#,##0",
    "coefficient": "0.000",
    "factor": "0.0000",
    "MW": "#,##0.0###",
    "rack": "#,##0.0##",
    "node": "#,##0.0##",
    "date": "yyyy-mm-dd",
    "": "General",
}


# name suffix -> unit, longest first where one suffix ends another
_SUFFIX_UNITS = (("_usd", "USD"), ("_gpu_hours", "GPU-hours"), ("_pflops_hours", "PFLOP/s-hours"),
                 ("_hours", "hours"), ("_days", "days"), ("_pflops", "PFLOP/s"))


def unit_by_suffix(name: str) -> str:
    """The unit a name's suffix states (`expected_cost_usd` -> USD), or ''."""
    return next((unit for suffix, unit in _SUFFIX_UNITS if name.endswith(suffix)), "")


def metric_label(metric: str, key: str | None = None) -> str:
    """A metric's human label from the registry (planner/metrics.py), for a summary row (its
    path and key) or a flat name; a name the registry does not know reads as its words."""
    from planner.metrics import resolve

    for name in ((f"{metric}.{key}", metric) if key is not None else (metric,)):
        found = resolve(name)
        if found is not None:
            return found[0].label
    return metric.removeprefix("plan.").replace("_", " ").replace(".", " ")


def metric_unit(metric: str, key: str | None = None) -> str:
    """The unit of a summary metric (its path without the key, and the key: `interruptions`,
    `total`) from the metric registry; guessed from the name's suffix when the registry does
    not know it (a folder written by another version)."""
    for name in ((f"{metric}.{key}", metric) if key is not None else (metric,)):
        unit = unit_of(name)
        if unit is not None:
            return unit
    return unit_by_suffix(metric)


# optimization.json leaf path -> unit, where the name's suffix does not tell
OPTIMIZATION_UNITS: dict[str, str] = {
    "objective": "USD",
    "bound": "USD",
    "gap": "fraction",
    "cvar_alpha": "fraction",
    "discount_rate": "fraction",
}


def optimization_unit(path: str) -> str:
    """The unit of a leaf of optimization.json, by its dotted path."""
    if path in OPTIMIZATION_UNITS:
        return OPTIMIZATION_UNITS[path]
    if path.startswith("timings_s."):
        return "seconds"
    if path.startswith("orders_by_vendor_nodes."):
        return "nodes"
    return unit_by_suffix(path)


def study_metric_label(metric: str) -> str:
    """A study metric's flat name as a reader names it, from the metric registry:
    `goodput_gpu_hours` -> goodput, `ettr.pretrain-8k` -> ETTR pretrain-8k,
    `stockout_days.H800/gpu_board` -> stock-out days H800/gpu_board; a name the registry does
    not know reads as its words."""
    from planner.metrics import resolve

    found = resolve(metric)
    if found is None:
        return metric_label(metric)
    registered, key = found
    return f"{registered.label} {key}" if key else registered.label


def study_metric_unit(metric: str) -> str:
    """The unit of a metric of a study (its flat name in study_cases): `ettr.pretrain-8k` is
    an `ettr` (fraction), `stockout_days.H800/gpu_board` days, `plan.expected_cost_usd` USD,
    `plan.share.Nvidia` a fraction."""
    unit = unit_of(metric)
    if unit is not None:
        return unit
    if metric.startswith(PLAN_PREFIX):
        return optimization_unit(metric.removeprefix(PLAN_PREFIX))
    return unit_by_suffix(metric.split(".")[0])


# what a limit counts (plan_shadow_prices `unit`: USD, MW, rack, node; a folder of an earlier
# version held the limit's name there) -> the unit its shadow price is per
_RHS_UNITS = {"budget_usd": "USD", "total_budget_usd": "USD", "power_cap_mw": "MW",
              "racks": "rack", "supply_nodes": "node"}


def shadow_price_unit(rhs_unit: str) -> str:
    """USD of objective per unit of right-hand side: `USD per MW`, `USD per USD`, ..."""
    return f"USD per {_RHS_UNITS.get(rhs_unit, rhs_unit)}"


def excel_format(unit: str) -> str:
    """The Excel number format of a unit (General when unknown)."""
    if unit not in EXCEL_FORMATS and unit.startswith("USD per "):
        return '"$"#,##0.00'
    return EXCEL_FORMATS.get(unit, "General")


def show(value: float | int | None, unit: str) -> str:
    """A number as a person reads it in the HTML page: 87.2 %, $1,620,763, -$12.50, $311.9M
    (unit `USD millions`), 5.86."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "fraction":
        if value and abs(value) < 0.001:
            return f"{value * 100:.2g} %"
        return f"{value * 100:.1f} %"
    sign = "-" if value < 0 and not _rounds_to_zero(value, unit) else ""
    if unit == "USD":
        return f"{sign}${abs(value):,.0f}"
    if unit == "USD millions":
        return f"{sign}${abs(value) / 1e6:,.1f}M"
    if unit == "USD per USD":
        return f"{value:,.4f}"
    if unit.startswith("USD per "):
        return f"{sign}${abs(value):,.2f}"
    if unit in ("GPU-hours", "integer", "PFLOP/s-hours"):
        return f"{value:,.0f}"
    if unit == "hours":
        return f"{value:,.2f}"
    if unit == "seconds":
        return f"{value:,.3f}"
    if unit == "coefficient":
        return f"{value:,.3f}"
    if unit == "factor":
        return f"{value:,.4f}"
    if unit in ("MW", "rack", "node"):  # a limit: its validity interval can end a hair away
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:,.1f}"


def _rounds_to_zero(value: float, unit: str) -> bool:
    """Whether a money figure shows as zero in its unit (no `-$0.00` for a round-off)."""
    if unit == "USD millions":
        return round(abs(value) / 1e6, 1) == 0
    return round(abs(value), 2 if unit.startswith("USD per ") else 0) == 0


def nearly_whole(value: float | int | None, tolerance: float = 1e-6) -> bool:
    """A whole number up to solver round-off (8.000000000000073): shown without decimals."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return False
    return abs(float(value) - round(float(value))) <= tolerance * max(1.0, abs(float(value)))


def compact_value(value: float, unit: str, span: float) -> str:
    """A metric value for tick and bar labels: % for fractions, $M for USD, M or k suffixes
    for large numbers (enough decimals to tell values `span` apart)."""
    if unit == "fraction":
        return show(value, unit)
    prefix = "$" if unit == "USD" else ""
    sign = "-" if value < 0 else ""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            step = span / scale if span > 0 else 1.0
            decimals = min(3, max(1, -int(np.floor(np.log10(step))) + 1)) if step < 10 else 1
            return f"{sign}{prefix}{abs(value) / scale:,.{decimals}f}{suffix}"
    return f"{sign}{prefix}{abs(value):,.4g}"


def parameter_text(value: object) -> str:
    """A parameter value as text (tornado tables hold them as text): numbers with separators."""
    try:
        return f"{float(str(value)):,.10g}"
    except ValueError:
        return str(value)


def counted(count: int, noun: str) -> str:
    """'1 replication', '4 replications' (the noun's plural by an added s)."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
