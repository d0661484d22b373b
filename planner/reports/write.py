"""write_reports: the reports of an output folder (the package docstring says which)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from planner.outputs.atomic import atomic_write, write_table, write_text
from planner.outputs.layout import ReportFiles
from planner.reports import html
from planner.reports.drawing import PLOTTING_MODULE, FigureProcess, run_job
from planner.reports.folder import read_folder
from planner.reports.study_sheets import build_study_sheets
from planner.reports.tables import (
    SHEET_COLUMNS,
    SHEETS,
    STUDY_SHEET_COLUMNS,
    STUDY_SHEETS,
    build_sheets,
    capacity_sheet,
)
from planner.reports.workbook import write_workbook

__all__ = ["SHEETS", "SHEET_COLUMNS", "STUDY_SHEETS", "STUDY_SHEET_COLUMNS", "write_reports"]

log = logging.getLogger("planner")


def write_reports(folder: Path, require_complete: bool = True, png: bool = False,
                  drawer: FigureProcess | None = None) -> None:
    """Read an output folder (a run's summary.json, inputs.json, scenario.yaml, timeseries,
    shocks and replications tables; the optimizer's optimization.json and plan_* tables; or both; or a study's
    study.json, study.yaml and study_* tables) and write the reports beside them. A finished
    folder has its `complete` marker; a command writing a new folder (not yet marked) passes
    require_complete=False. The plots are SVG (also embedded in report.html); `png` adds each
    as PNG for slides and documents that take no SVG. With a `drawer` (started when the
    command began), the figures are drawn there while the workbook is written here."""
    folder = Path(folder)
    start = time.perf_counter()
    run = read_folder(folder, require_complete=require_complete)
    suffixes = ReportFiles.PLOT_SUFFIXES if png else (ReportFiles.PLOT_SUFFIX,)
    if run.study is not None:
        sheets = build_study_sheets(run)
        title = f"Study report: {run.name}"
        drawn_figures = run_job(drawer, f"{PLOTTING_MODULE}:render_study", run.study,
                                sheets["Sensitivity"], suffixes)
    else:
        capacity = capacity_sheet(run)  # what the figures need, first: they start drawing
        drawn_figures = run_job(drawer, f"{PLOTTING_MODULE}:render", run, capacity, suffixes)
        sheets = build_sheets(run, capacity)
        title = f"{'Planning report' if run.simulated else 'Procurement plan'}: {run.name}"
    for name, frame in sheets.items():
        write_table(folder, ReportFiles.sheet(name), frame)
    created = run.start_date.to_pydatetime() if run.inputs is not None else None
    atomic_write(folder / ReportFiles.WORKBOOK,
                 lambda tmp: write_workbook(tmp, sheets, title, created))
    drawn = drawn_figures()
    for suffix, by_name in drawn.items():
        for name, data in by_name.items():
            atomic_write(folder / ReportFiles.plot(name, suffix),
                         lambda tmp, data=data: tmp.write_bytes(data))
    # left by an earlier report of other files or formats: no longer true
    for name in ReportFiles.PLOTS:
        for suffix in ReportFiles.PLOT_SUFFIXES:
            if name not in drawn.get(suffix, {}):
                (folder / ReportFiles.plot(name, suffix)).unlink(missing_ok=True)
    images = drawn[ReportFiles.PLOT_SUFFIX]
    page = (html.study_page(run, sheets, images) if run.study is not None
            else html.page(run, sheets, images))
    write_text(folder / ReportFiles.PAGE, page)
    log.info("reports written in %.2f s", time.perf_counter() - start)
