"""Planning spreadsheets and visual reports, made from the files of an output folder only.

`write_reports(folder)` writes report.xlsx, its tidy twins report_<Sheet>.csv/.parquet,
plot_<name>.svg (and plot_<name>.png when asked) and report.html into the folder, each
atomically (docs/outputs.md). The folder
is a simulation run (`planner run`), an optimization (`planner optimize`), or both (`planner
run` of a scenario with a procurement section), or a what-if study (`planner study`: its
workbook adds the sheets Cases and Sensitivity)."""

from __future__ import annotations

from typing import Any

# loaded on first use (planner/reports/write.py), so that the drawing process's module
# (planner.reports.drawing) is imported without pandas at a command's start
__all__ = ["SHEETS", "SHEET_COLUMNS", "STUDY_SHEETS", "STUDY_SHEET_COLUMNS", "write_reports"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from planner.reports import write

        return getattr(write, name)
    raise AttributeError(f"module 'planner.reports' has no attribute {name!r}")
