"""Write report.xlsx from the sheet frames: frozen header, autofilter, number formats (by the
unit in a column's name, or the row's `unit` where rows differ), fitted column widths; native
charts: on Capacity one per pool (effective compute: P10-P90 band and P50
line over dates; for an optimize-only folder one for the whole fleet by quarter, with demand),
on Risk the cost-risk Pareto front when the optimizer traced one, on Sensitivity (a study
folder) the tornado: swing per parameter, on Runway (a study folder with a runway curve) one
per pool: the runway's P50 per case for each threshold."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from planner.reports.tables import COLUMN_UNITS, DATE_COLUMNS, is_text_column
from planner.reports.units import excel_format, nearly_whole, shadow_price_unit, study_metric_unit

_UNIT_IN_HEADER = re.compile(r"\[([^\]]+)\]$")
_MAX_WIDTH = 70
_SUMMARY_STATS = {"mean", "std", "p10", "p50", "p90", "ci95_low", "ci95_high"}
_RISK_ROW_UNITS = {"value", "limit"}
# Prices: figures of the limit in the row's unit, and prices in USD per that unit
_PRICES_LIMIT_UNITS = {"limit_value", "valid_from", "valid_to", "step"}
_PRICES_PER_UNIT = {"shadow_price [USD per unit]", "change_per_unit_up [USD per unit]",
                    "change_per_unit_down [USD per unit]"}
_SENSITIVITY_METRIC_UNITS = {"metric_min", "metric_max", "swing", "metric_mean"}
_MEAN_SUFFIX = " mean"


def _missing(value: Any) -> bool:
    return (value is None or value is pd.NaT or value is pd.NA
            or (isinstance(value, float) and math.isnan(value)))


def _whole(value: Any) -> bool:
    return not _missing(value) and float(value).is_integer()


def _nearly_whole(value: Any) -> bool:
    return not _missing(value) and nearly_whole(float(value))


def _cell_unit(sheet: str, column: str, row: Mapping[str, Any]) -> str:
    """The unit whose number format a cell gets."""
    if sheet == "Summary" and column in _SUMMARY_STATS:
        return str(row["unit"]) if not _missing(row["unit"]) else ""
    if sheet == "Risk" and column in _RISK_ROW_UNITS:
        return str(row["unit"]) if not _missing(row["unit"]) else ""
    if sheet == "Prices" and column in _PRICES_LIMIT_UNITS | _PRICES_PER_UNIT:
        unit = str(row["unit"]) if not _missing(row["unit"]) else ""
        return shadow_price_unit(unit) if column in _PRICES_PER_UNIT and unit else unit
    if sheet == "Sensitivity" and column in _SENSITIVITY_METRIC_UNITS:
        return study_metric_unit(str(row["metric"])) if not _missing(row["metric"]) else ""
    if sheet == "Cases" and column.endswith(_MEAN_SUFFIX):
        return study_metric_unit(column.removesuffix(_MEAN_SUFFIX))
    if sheet == "Cases" and column.startswith("param."):
        return ""
    if sheet == "Assumptions" and column == "value":
        return "integer" if _whole(row["value"]) else ""
    if column == "quantity":
        return "integer" if _nearly_whole(row["quantity"]) else "count"
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column]
    match = _UNIT_IN_HEADER.search(column)
    return match.group(1) if match else ""


def _shown_width(value: Any, unit: str) -> int:
    """About how many characters Excel shows for a value in the unit's format."""
    if _missing(value):
        return 0
    if isinstance(value, str):
        return len(value)
    if unit == "date":
        return 10
    v = float(value)
    if unit == "fraction":
        return len(f"{v * 100:.2f}%")
    if unit in ("USD", "GPU-hours", "integer"):
        return len(f"{v:,.0f}") + (unit == "USD")
    if unit == "hours":
        return len(f"{v:,.2f}")
    if unit:
        return len(f"{v:,.1f}")
    return min(len(repr(v)), 12)


class _Formats:
    """One Format object per Excel number format, made on first use."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self._cache: dict[str, Format] = {}
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1,
                                           "valign": "top"})
        self.text = workbook.add_format({})

    def number(self, unit: str) -> Format:
        fmt = excel_format(unit)
        if fmt not in self._cache:
            self._cache[fmt] = self._workbook.add_format({"num_format": fmt})
        return self._cache[fmt]


def _text_columns(sheet: str, frame: pd.DataFrame) -> set[str]:
    """Columns written as text: the named text columns, and any other column of text (object)
    dtype (a study's `param.<path>` column of dates or lists)."""
    return {c for c in frame.columns if is_text_column(sheet, c) or frame[c].dtype == object}


def _write_sheet(ws: Worksheet, sheet: str, frame: pd.DataFrame, formats: _Formats) -> None:
    """Header, typed cells, widths, frozen header and autofilter."""
    columns = list(frame.columns)
    text_columns = _text_columns(sheet, frame)
    widths = [len(c) for c in columns]
    for c, name in enumerate(columns):
        ws.write_string(0, c, name, formats.header)
    for r, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        row = dict(zip(columns, values, strict=True))
        for c, name in enumerate(columns):
            value = row[name]
            text = name in text_columns
            unit = "" if text else _cell_unit(sheet, name, row)
            fmt = formats.text if text else formats.number(unit)
            if _missing(value):
                ws.write_blank(r, c, None, fmt)
            elif text:
                ws.write_string(r, c, str(value), fmt)
            elif name in DATE_COLUMNS:
                # Excel keeps no nanoseconds: a replication that ends mid-day (stop: jobs_done)
                # has a last sample at a fraction of a day
                ws.write_datetime(r, c, pd.Timestamp(value).round("us").to_pydatetime(), fmt)
            else:
                ws.write_number(r, c, float(value), fmt)
            widths[c] = max(widths[c], _shown_width(value, unit))
    for c, width in enumerate(widths):
        ws.set_column(c, c, min(width + 2, _MAX_WIDTH))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)


def _month_step(dates: pd.Series) -> int:
    """Months between date-axis labels: about a dozen labels at most."""
    span = (dates.max() - dates.min()).days if len(dates) else 0
    return max(1, math.ceil(span / 30.4 / 12))


def _axis_min(low: pd.Series, high: pd.Series) -> float:
    """A round lower bound for the value axis that keeps the band readable (0 when near)."""
    lo, hi = float(low.min()), float(high.max())
    span = hi - lo
    if not math.isfinite(span) or span <= 0 or lo <= 0:
        return 0.0
    step = 10.0 ** math.floor(math.log10(span))
    return max(0.0, math.floor((lo - 0.1 * span) / step) * step)


def _capacity_blocks(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(title, value-axis name, rows) of each chart: one per pool of a simulation run; for the
    optimizer's quarterly capacity (rows with a demand) one for the whole fleet."""
    demand = frame["demand [PFLOP/s]"].notna()
    if demand.any():
        return [("Effective compute of the fleet by quarter (optimizer, across scenarios): "
                 "P10-P90 band, P50 and demand", "PFLOP/s (BF16 dense x SKU utilization)",
                 frame[demand])]
    return [(f"Effective compute of pool {pool}: P10-P90 band and P50", "PFLOP/s (BF16 dense)", block)
            for pool, block in frame.groupby("pool", sort=False)]


def _add_capacity_charts(workbook: xlsxwriter.Workbook, ws: Worksheet, frame: pd.DataFrame) -> None:
    """One chart per block: effective compute P10-P90 as a filled band (a stacked area: P10
    unfilled, then the P10-P90 width filled) and the P50 as a line (and demand, when there is
    one), over dates."""
    columns = list(frame.columns)
    date_col = columns.index("date")
    anchor_col = len(columns) + 1
    col = {q: columns.index(f"effective_compute_{q} [PFLOP/s]") for q in ("p10", "p50", "p90")}
    width_col = columns.index("effective_compute_p10_p90_width [PFLOP/s]")
    demand_col = columns.index("demand [PFLOP/s]")
    for i, (title, y_name, block) in enumerate(_capacity_blocks(frame)):
        first, last = int(block.index.min()) + 1, int(block.index.max()) + 1

        def ref(c: int, first: int = first, last: int = last) -> list:
            return ["Capacity", first, c, last, c]

        band = workbook.add_chart({"type": "area", "subtype": "stacked"})
        band.add_series({"name": "P10", "categories": ref(date_col), "values": ref(col["p10"]),
                         "fill": {"none": True}, "border": {"none": True}})
        band.add_series({"name": "P10-P90", "categories": ref(date_col), "values": ref(width_col),
                         "fill": {"color": "#C6DBEF"}, "border": {"none": True}})
        line = workbook.add_chart({"type": "line"})
        line.add_series({"name": "P50", "categories": ref(date_col), "values": ref(col["p50"]),
                         "line": {"color": "#08519C", "width": 2.0}, "marker": {"type": "none"}})
        if block["demand [PFLOP/s]"].notna().any():
            line.add_series({"name": "demand", "categories": ref(date_col),
                             "values": ref(demand_col),
                             "line": {"color": "#D62728", "width": 1.5, "dash_type": "dash"},
                             "marker": {"type": "none"}})
        band.combine(line)
        band.set_title({"name": title, "name_font": {"size": 11}})
        low = block.iloc[:, col["p10"]]
        high = pd.concat([block.iloc[:, col["p90"]], block.iloc[:, demand_col].dropna()])
        step = _month_step(block["date"])
        if block["quarter"].notna().all() and block["day"].isna().all():  # quarterly rows
            step = 3 * math.ceil(step / 3)
        band.set_x_axis({"date_axis": True, "num_format": "mmm yyyy", "major_unit_type": "months",
                         "major_unit": step, "name": "date"})
        band.set_y_axis({"name": y_name, "num_format": "#,##0",
                         "min": _axis_min(low, high),
                         "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        band.set_legend({"position": "bottom", "delete_series": [0]})
        band.set_size({"width": 760, "height": 340})
        ws.insert_chart(1 + 18 * i, anchor_col, band, {"x_offset": 10, "y_offset": 5})


def _add_pareto_chart(workbook: xlsxwriter.Workbook, ws: Worksheet, frame: pd.DataFrame) -> None:
    """Scatter of the Pareto rows of Risk: CVaR reached (value) on x, expected cost on y, and
    the chosen plan (headline rows: its CVaR and expected cost) as a second point."""
    columns = list(frame.columns)
    value_col = columns.index("value")
    cost_col = columns.index("expected_cost [USD]")
    front = frame[(frame["section"] == "pareto") & frame["value"].notna()
                  & frame["expected_cost [USD]"].notna()]
    if front.empty:
        return
    first, last = int(front.index.min()) + 1, int(front.index.max()) + 1
    measure = str(front["measure"].iloc[0])
    unit = str(front["unit"].iloc[0])
    chart = workbook.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.add_series({"name": "Pareto front (min expected cost s.t. CVaR <= cap)",
                      "categories": ["Risk", first, value_col, last, value_col],
                      "values": ["Risk", first, cost_col, last, cost_col],
                      "line": {"color": "#08519C", "width": 1.5},
                      "marker": {"type": "circle", "size": 6,
                                 "fill": {"color": "#08519C"}, "border": {"color": "#08519C"}}})
    headline = frame[frame["section"] == "headline"].set_index("measure")
    chosen_x = f"{measure}_usd" if measure == "cvar_cost" else f"{measure}_pflops_hours"
    if {chosen_x, "expected_cost_usd"} <= set(headline.index):
        rx = int(frame.index[(frame["section"] == "headline") & (frame["measure"] == chosen_x)][0]) + 1
        ry = int(frame.index[(frame["section"] == "headline")
                             & (frame["measure"] == "expected_cost_usd")][0]) + 1
        chart.add_series({"name": "chosen plan", "categories": ["Risk", rx, value_col, rx, value_col],
                          "values": ["Risk", ry, value_col, ry, value_col],
                          "line": {"none": True},
                          "marker": {"type": "diamond", "size": 9, "fill": {"color": "#D62728"},
                                     "border": {"color": "#D62728"}}})
    fmt = '"$"#,##0,,"M"' if unit == "USD" else "#,##0"
    alpha = headline["value"].get("cvar_alpha") if "cvar_alpha" in headline.index else None
    level = f" {alpha:.0%}" if alpha is not None and not _missing(alpha) else ""
    what = "cost (USD)" if unit == "USD" else "unmet demand (PFLOP/s-hours)"
    chart.set_title({"name": "Cost-risk Pareto front", "name_font": {"size": 11}})
    chart.set_x_axis({"name": f"CVaR{level} of {what}", "num_format": fmt,
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_y_axis({"name": "expected cost (USD)", "num_format": '"$"#,##0,,"M"',
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 380})
    ws.insert_chart(1, len(columns) + 1, chart, {"x_offset": 10, "y_offset": 5})


def _add_tornado_chart(workbook: xlsxwriter.Workbook, ws: Worksheet, frame: pd.DataFrame) -> None:
    """Horizontal bars of the tornado rows of Sensitivity: swing per parameter, the largest on
    top (the rows are sorted by swing, largest first)."""
    columns = list(frame.columns)
    rows = frame[(frame["section"] == "tornado") & frame["swing"].notna()]
    if rows.empty:
        return
    first, last = int(rows.index.min()) + 1, int(rows.index.max()) + 1
    parameter_col, swing_col = columns.index("parameter"), columns.index("swing")
    metric = str(rows["metric"].iloc[0])
    fmt = excel_format(study_metric_unit(metric))
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series({"name": f"swing of {metric}",
                      "categories": ["Sensitivity", first, parameter_col, last, parameter_col],
                      "values": ["Sensitivity", first, swing_col, last, swing_col],
                      "fill": {"color": "#6BAED6"}, "border": {"color": "#08519C"},
                      "data_labels": {"value": True, "num_format": fmt}})
    chart.set_title({"name": f"Tornado: swing of {metric} per varied parameter "
                             "(max - min of its main effect)", "name_font": {"size": 11}})
    # a bar chart's x axis is the horizontal value axis, its y axis the categories (reversed:
    # the first row, the largest swing, on top)
    chart.set_x_axis({"name": f"swing of {metric}", "num_format": fmt, "min": 0,
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    chart.set_y_axis({"reverse": True, "crossing": "max"})  # value axis stays at the bottom
    chart.set_legend({"none": True})
    chart.set_size({"width": 760, "height": 140 + 40 * len(rows)})
    ws.insert_chart(1, len(columns) + 1, chart, {"x_offset": 10, "y_offset": 5})


_RUNWAY_COLORS = ("#08519C", "#D94801", "#A50F15", "#54278F", "#006D2C")


def _add_runway_curve_charts(workbook: xlsxwriter.Workbook, ws: Worksheet,
                             frame: pd.DataFrame) -> None:
    """A study's Runway rows (by pool, threshold, case): per pool a line chart of the runway's
    P50 per case, one line per threshold (the runway curve; censored P50s, lower bounds, are
    marked in the sheet's `p50_censored`)."""
    columns = list(frame.columns)
    case_col, p50_col = columns.index("case"), columns.index("p50 [days]")
    for i, (pool, block) in enumerate(frame.groupby("pool", sort=False)):
        chart = workbook.add_chart({"type": "line"})
        for j, (threshold, rows) in enumerate(block.groupby("threshold", sort=False)):
            first, last = int(rows.index.min()) + 1, int(rows.index.max()) + 1
            color = _RUNWAY_COLORS[j % len(_RUNWAY_COLORS)]
            chart.add_series({"name": f"availability >= {float(threshold):.0%}: P50",
                              "categories": ["Runway", first, case_col, last, case_col],
                              "values": ["Runway", first, p50_col, last, p50_col],
                              "line": {"color": color, "width": 1.75},
                              "marker": {"type": "circle", "size": 5,
                                         "fill": {"color": color}, "border": {"color": color}}})
        chart.set_title({"name": f"Runway curve of pool {pool}: P50 days from the block until "
                                 "availability falls below each threshold",
                         "name_font": {"size": 11}})
        chart.set_x_axis({"name": "case"})
        chart.set_y_axis({"name": "days since the block began", "num_format": "#,##0", "min": 0,
                          "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 760, "height": 360})
        ws.insert_chart(1 + 20 * i, len(columns) + 1, chart, {"x_offset": 10, "y_offset": 5})


# the workbook's "created" property when the folder names no date: a constant, so that the same
# folder always gives the same bytes (xlsxwriter would write the time of writing)
UNDATED = dt.datetime(2000, 1, 1)


A4_PAPER = 9  # xlsxwriter's paper code for A4


def has_data(frame: pd.DataFrame) -> bool:
    """A value in some cell other than the note column."""
    return bool(frame.drop(columns=["note"], errors="ignore").notna().to_numpy().any())


def workbook_sheets(sheets: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sheets the workbook holds: those with data (in a run without an optimizer, the Plan
    or Risk sheet holds only a note saying so; its CSV/Parquet twin keeps the columns)."""
    kept = {name: frame for name, frame in sheets.items() if has_data(frame)}
    return kept or dict(list(sheets.items())[:1])


def _print_setup(ws: Worksheet) -> None:
    """Every sheet prints on A4 landscape, fitted to one page wide, the header row repeated."""
    ws.set_landscape()
    ws.set_paper(A4_PAPER)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], title: str,
                   created: dt.datetime | None = None) -> None:
    """Write every sheet, in the given order, to the .xlsx file `path` (any file name).
    `created`: the date the workbook says it was made (the scenario's start date: the same
    inputs give the same bytes)."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"title": title, "subject": "Cluster planning report",
                             "comments": "Written by planner.reports from an output folder",
                             "created": created or UNDATED})
    formats = _Formats(workbook)
    for sheet, frame in workbook_sheets(sheets).items():
        ws = workbook.add_worksheet(sheet)
        _print_setup(ws)
        _write_sheet(ws, sheet, frame, formats)
        if sheet == "Capacity" and frame["effective_compute_p50 [PFLOP/s]"].notna().any():
            _add_capacity_charts(workbook, ws, frame)
        if sheet == "Risk" and len(frame):
            _add_pareto_chart(workbook, ws, frame)
        if sheet == "Sensitivity" and len(frame):
            _add_tornado_chart(workbook, ws, frame)
        if sheet == "Runway" and frame["case"].notna().any():
            _add_runway_curve_charts(workbook, ws, frame)
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as e:
        # xlsxwriter wraps the OSError (a full disk, a vanished folder): pass on the OSError
        # itself, which the command reports in one line
        cause = e.args[0] if e.args else None
        if isinstance(cause, OSError):
            raise cause from None
        raise
