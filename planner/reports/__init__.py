"""Planning spreadsheets and visual reports, made from the files of a run folder only.

`write_reports(folder)` writes report.xlsx, its tidy twins report_<Sheet>.csv/.parquet,
plot_<name>.png and report.html into the folder, each atomically (docs/outputs.md)."""

from __future__ import annotations

from pathlib import Path

from planner.outputs import atomic_write, write_table, write_text
from planner.reports import html, plots
from planner.reports.folder import read_folder
from planner.reports.tables import SHEET_COLUMNS, SHEETS, build_sheets
from planner.reports.workbook import write_workbook

__all__ = ["SHEETS", "SHEET_COLUMNS", "write_reports"]


def write_reports(folder: Path) -> None:
    """Read a `planner run` output folder (summary.json, inputs.json, scenario.yaml,
    timeseries and shocks tables) and write the reports beside them."""
    folder = Path(folder)
    run = read_folder(folder)
    sheets = build_sheets(run)
    for name, frame in sheets.items():
        write_table(folder, f"report_{name}", frame)
    title = f"Planning report: {run.summary.get('scenario') or run.scenario.get('name', '')}"
    atomic_write(folder / "report.xlsx", lambda tmp: write_workbook(tmp, sheets, title))
    pngs = plots.render(run, sheets["Capacity"])
    for name, data in pngs.items():
        atomic_write(folder / f"plot_{name}.png", lambda tmp, data=data: tmp.write_bytes(data))
    write_text(folder / "report.html", html.page(run, sheets, pngs))
