"""Write report.xlsx from the sheet frames: frozen header, autofilter, number formats, fitted
column widths and, on Capacity, one native chart per pool (effective compute: P10-P90 band and
P50 line over dates)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from planner.reports.tables import COLUMN_UNITS, DATE_COLUMNS, TEXT_COLUMNS
from planner.reports.units import excel_format

_UNIT_IN_HEADER = re.compile(r"\[([^\]]+)\]$")
_MAX_WIDTH = 70
_SUMMARY_STATS = {"mean", "std", "p10", "p50", "p90", "ci95_low", "ci95_high"}


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _cell_unit(sheet: str, column: str, row: pd.Series) -> str:
    """The unit whose number format a cell gets."""
    if sheet == "Summary" and column in _SUMMARY_STATS:
        return str(row["unit"]) if not _missing(row["unit"]) else ""
    if sheet == "Assumptions" and column == "value":
        value = row["value"]
        return "integer" if not _missing(value) and float(value).is_integer() else ""
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


def _write_sheet(ws: Worksheet, sheet: str, frame: pd.DataFrame, formats: _Formats) -> None:
    """Header, typed cells, widths, frozen header and autofilter."""
    columns = list(frame.columns)
    widths = [len(c) for c in columns]
    for c, name in enumerate(columns):
        ws.write_string(0, c, name, formats.header)
    for r, (_, row) in enumerate(frame.iterrows(), start=1):
        for c, name in enumerate(columns):
            value = row[name]
            unit = "" if name in TEXT_COLUMNS else _cell_unit(sheet, name, row)
            fmt = formats.text if name in TEXT_COLUMNS else formats.number(unit)
            if _missing(value):
                ws.write_blank(r, c, None, fmt)
            elif name in TEXT_COLUMNS:
                ws.write_string(r, c, str(value), fmt)
            elif name in DATE_COLUMNS:
                ws.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), fmt)
            else:
                ws.write_number(r, c, float(value), fmt)
            widths[c] = max(widths[c], _shown_width(value, unit))
    for c, width in enumerate(widths):
        ws.set_column(c, c, min(width + 2, _MAX_WIDTH))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)


def _month_step(days: pd.Series) -> int:
    """Months between date-axis labels: about a dozen labels at most."""
    span = float(days.max() - days.min()) if len(days) else 0.0
    return max(1, math.ceil(span / 30.4 / 12))


def _axis_min(low: pd.Series, high: pd.Series) -> float:
    """A round lower bound for the value axis that keeps the band readable (0 when near)."""
    lo, hi = float(low.min()), float(high.max())
    span = hi - lo
    if not math.isfinite(span) or span <= 0 or lo <= 0:
        return 0.0
    step = 10.0 ** math.floor(math.log10(span))
    return max(0.0, math.floor((lo - 0.1 * span) / step) * step)


def _add_capacity_charts(workbook: xlsxwriter.Workbook, ws: Worksheet, frame: pd.DataFrame) -> None:
    """One chart per pool: effective compute P10-P90 as a filled band (a stacked area: P10
    unfilled, then the P10-P90 width filled) and the P50 as a line, over dates."""
    columns = list(frame.columns)
    date_col = columns.index("date")
    anchor_col = len(columns) + 1
    col = {q: columns.index(f"effective_compute_{q} [PFLOP/s]") for q in ("p10", "p50", "p90")}
    width_col = columns.index("effective_compute_p10_p90_width [PFLOP/s]")
    for i, (pool, block) in enumerate(frame.groupby("pool", sort=False)):
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
        band.combine(line)
        band.set_title({"name": f"Effective compute of pool {pool}: P10-P90 band and P50",
                        "name_font": {"size": 11}})
        band.set_x_axis({"date_axis": True, "num_format": "mmm yyyy", "major_unit_type": "months",
                         "major_unit": _month_step(block["day"]), "name": "date"})
        band.set_y_axis({"name": "PFLOP/s (BF16 dense)", "num_format": "#,##0",
                         "min": _axis_min(block.iloc[:, col["p10"]], block.iloc[:, col["p90"]]),
                         "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        band.set_legend({"position": "bottom", "delete_series": [0]})
        band.set_size({"width": 760, "height": 340})
        ws.insert_chart(1 + 18 * i, anchor_col, band, {"x_offset": 10, "y_offset": 5})


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], title: str) -> None:
    """Write every sheet, in the given order, to the .xlsx file `path` (any file name)."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"title": title, "subject": "Cluster planning report",
                             "comments": "Written by planner.reports from a run folder"})
    formats = _Formats(workbook)
    for sheet, frame in sheets.items():
        ws = workbook.add_worksheet(sheet)
        _write_sheet(ws, sheet, frame, formats)
        if sheet == "Capacity" and len(frame):
            _add_capacity_charts(workbook, ws, frame)
    workbook.close()
