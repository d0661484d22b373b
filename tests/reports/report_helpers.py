"""Helpers of the report tests: running `planner run` / `planner optimize` / `planner study`
into a folder,
finding LibreOffice and exporting workbooks through it, the golden sheet and column names, and
comparing cells across openpyxl, Parquet and CSV."""

from __future__ import annotations

import base64
import csv
import io
import math
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import matplotlib.image
import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.conftest import run_planner

ROOT = Path(__file__).resolve().parents[2]

# The stable contract (docs/outputs.md): sheet names in order, each sheet's columns, the same
# for every kind of output folder.
# sheets that hold one placeholder row (only a note) in a folder without a plan
PLAN_ONLY_SHEETS = ("Plan", "Buy", "Contingent", "Cash", "Prices", "Risk")
GOLDEN: dict[str, list[str]] = {
    "Summary": ["metric", "label", "key", "unit", "n", "mean", "std", "p10", "p50", "p90",
                "ci95_low", "ci95_high"],
    "Plan": ["item", "quarter", "scenario", "sku", "vendor", "platform", "part", "quantity",
             "unit_price [USD]", "cost [USD]", "effective_pflops [PFLOP/s]", "note"],
    "Buy": ["sku", "vendor", "order_quarter", "delivery_quarter", "nodes", "unit_price [USD]",
            "cost [USD]", "note"],
    "Contingent": ["if", "quarter", "sku", "vendor", "nodes", "unit_price [USD]", "cost [USD]",
                   "probability", "scenarios", "note"],
    "Cash": ["quarter", "kind", "scenario", "probability", "capex [USD]", "recourse [USD]",
             "stockpile [USD]", "porting [USD]", "power [USD]", "rental [USD]", "cash_out [USD]",
             "discount_factor", "cash_out_discounted [USD]", "budget [USD]",
             "budgeted_spend [USD]", "headroom [USD]", "note"],
    "Prices": ["kind", "family", "limit", "index", "scenario", "unit", "limit_value",
               "shadow_price [USD per unit]", "valid_from", "valid_to", "degenerate", "step",
               "change_per_unit_up [USD per unit]", "change_per_unit_down [USD per unit]",
               "note"],
    "Risk": ["section", "measure", "scenario", "index", "unit", "value", "value_text", "limit",
             "probability", "capex [USD]", "stockpile [USD]", "recourse [USD]", "power [USD]",
             "rental [USD]", "unmet_penalty [USD]", "porting [USD]", "salvage [USD]",
             "total_cost [USD]", "shortfall [PFLOP/s-hours]", "expected_cost [USD]", "note"],
    "Capacity": ["pool", "sku", "day", "date", "installed_nodes_p50 [nodes]",
                 "healthy_nodes_p10 [nodes]", "healthy_nodes_p50 [nodes]",
                 "healthy_nodes_p90 [nodes]", "effective_compute_p10 [PFLOP/s]",
                 "effective_compute_p50 [PFLOP/s]", "effective_compute_p90 [PFLOP/s]",
                 "effective_compute_p10_p90_width [PFLOP/s]", "quarter", "demand [PFLOP/s]",
                 "rented_compute_p50 [PFLOP/s]", "unmet_demand_p90 [PFLOP/s]"],
    "Parts": ["sku", "part", "unit_price [USD]", "stockout_mean [days]", "stockout_p10 [days]",
              "stockout_p50 [days]", "stockout_p90 [days]", "consumed_mean [parts]",
              "consumed_p10 [parts]", "consumed_p50 [parts]", "consumed_p90 [parts]",
              "cannibalized_mean [parts]", "final_stock_p50 [parts]", "stockpile_planned [parts]"],
    "Runway": ["case", "parameters", "pool", "sku", "threshold", "n", "censored_share",
               "p10 [days]", "p10_censored", "p50 [days]", "p50_censored", "p90 [days]",
               "p90_censored", "note"],
    "Assumptions": ["section", "path", "value", "value_text", "unit", "source"],
}
# A study folder's workbook: the eleven sheets above, then Cases and Sensitivity. Cases starts with
# these fixed columns; the study's own (`param.<path>`, then `<metric> mean`) follow.
CASES_FIXED: list[str] = ["case", "key", "status", "error"]
STUDY_GOLDEN: dict[str, list[str]] = {
    **GOLDEN,
    "Cases": CASES_FIXED,
    "Sensitivity": ["section", "parameter", "metric", "value_at_min", "metric_min", "value_at_max",
                    "metric_max", "swing", "metric_mean", "spearman_rho", "src", "rank", "note"],
}
SIMULATION_PLOTS = ("capacity", "availability", "stock", "interruptions", "lost_gpu_hours")
RUNWAY_PLOT = "runway"  # a run in which a block of a pool's parts began within the horizon
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LO_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def _planner(*args: str, codes: tuple[int, ...] = (0,)) -> None:
    proc = run_planner(*args)
    assert proc.returncode in codes, proc.stderr


def planner_run(scenario: str, out: Path, *args: str) -> Path:
    """`planner run ROOT/scenario --out out -w 1 -q args...` in a subprocess; returns out."""
    _planner("run", str(ROOT / scenario), "--out", str(out), "-w", "1", "-q", *args)
    return out


def planner_optimize(scenario: str, out: Path, *args: str) -> Path:
    """`planner optimize ROOT/scenario --out out -q args...` in a subprocess; returns out."""
    _planner("optimize", str(ROOT / scenario), "--out", str(out), "-q", *args)
    return out


def planner_study(study_file: Path, out: Path, *args: str) -> Path:
    """`planner study study_file --out out -w 1 -q args...` in a subprocess; returns out (exit
    code 5, a case failed, is fine: the folder is written all the same)."""
    _planner("study", str(study_file), "--out", str(out), "-w", "1", "-q", *args, codes=(0, 5))
    return out


def require_soffice() -> str:
    """The soffice executable; without one, skip (CI unset) or fail (CI set)."""
    found = shutil.which("soffice")
    if found:
        return found
    if "CI" in os.environ:
        pytest.fail("soffice (LibreOffice Calc) is not on PATH; .ci/run installs "
                    "libreoffice-calc-nogui")
    pytest.skip("soffice (LibreOffice Calc) is not on PATH; set CI to make this a failure")
    raise AssertionError("unreachable")


def libreoffice_export(workbooks: dict[str, Path], work: Path) -> Path:
    """Every sheet of each workbook exported by one LibreOffice Calc headless call as
    <name>-<Sheet>.csv in the returned folder (`workbooks`: name -> report.xlsx)."""
    soffice = require_soffice()
    sources = work / "in"
    sources.mkdir(parents=True)
    for name, path in workbooks.items():
        shutil.copy(path, sources / f"{name}.xlsx")
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
         "--convert-to", LO_CSV, "--outdir", str(work / "out"),
         *(str(sources / f"{name}.xlsx") for name in workbooks)],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr
    return work / "out"


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def read_csv_dicts(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def close(actual: float | None, expected: float | None, rel: float = 1e-9) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-300)


def norm(value: Any) -> Any:
    """A cell value comparable across openpyxl, Parquet and CSV: None for missing, float for
    numbers, Timestamp for dates."""
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, datetime | pd.Timestamp | np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return a == b


def sheet_rows(values: openpyxl.Workbook, sheet: str) -> tuple[list[str], list[tuple]]:
    rows = list(values[sheet].iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def sheet_dicts(values: openpyxl.Workbook, sheet: str) -> list[dict[str, Any]]:
    header, rows = sheet_rows(values, sheet)
    return [dict(zip(header, row, strict=True)) for row in rows]


def lo_number(text: str) -> float | None:
    """A number as LibreOffice's CSV export writes it (percent cells keep their % sign)."""
    if text == "":
        return None
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


# sheets whose golden list is only the first columns (the rest depend on the folder)
OPEN_SHEETS = {"Cases"}


def has_data(frame: pd.DataFrame) -> bool:
    """Some value outside the note column (what the workbook keeps a sheet for)."""
    return bool(frame.drop(columns=["note"], errors="ignore").notna().to_numpy().any())


def workbook_sheet_names(folder: Path, golden=None) -> list[str]:
    """The sheets report.xlsx holds: those whose twin has rows, in the golden order."""
    names = list(golden or GOLDEN)
    kept = [s for s in names if has_data(pd.read_parquet(folder / f"report_{s}.parquet"))]
    return kept or names[:1]


def _header_matches(header: list[str], sheet: str, columns: list[str]) -> bool:
    if sheet in OPEN_SHEETS:
        return header[:len(columns)] == columns
    return header == columns


def assert_golden_columns(folder: Path, values: openpyxl.Workbook,
                          golden: dict[str, list[str]] = GOLDEN) -> None:
    """Sheet names in order and every sheet's columns in the workbook and both twins (for
    OPEN_SHEETS, the golden columns first, and the same columns in all three)."""
    assert values.sheetnames == workbook_sheet_names(folder, golden)
    for sheet, columns in golden.items():
        if sheet in values.sheetnames:
            header = sheet_rows(values, sheet)[0]
        else:  # an empty sheet is left out of the workbook; its twins keep the columns
            header = list(pd.read_parquet(folder / f"report_{sheet}.parquet").columns)
        assert _header_matches(header, sheet, columns), (sheet, header)
        assert list(pd.read_parquet(folder / f"report_{sheet}.parquet").columns) == header
        assert read_csv_rows(folder / f"report_{sheet}.csv")[0] == header


def assert_twins_equal_sheets(folder: Path, values: openpyxl.Workbook,
                              sheets: list[str] | None = None) -> None:
    """report_<Sheet>.parquet and .csv hold the sheet's values, cell by cell."""
    for sheet in sheets or list(GOLDEN):
        if sheet not in values.sheetnames:  # no data: not in the workbook
            continue
        frame = pd.read_parquet(folder / f"report_{sheet}.parquet")
        columns, rows = sheet_rows(values, sheet)
        assert list(frame.columns) == columns, sheet
        csv_rows = read_csv_rows(folder / f"report_{sheet}.csv")[1:]
        assert len(rows) == len(frame) == len(csv_rows) > 0, sheet
        for i, (xlsx_row, csv_row) in enumerate(zip(rows, csv_rows, strict=True)):
            for c, name in enumerate(columns):
                expected = norm(frame.iloc[i, c])
                got_xlsx = norm(xlsx_row[c])
                if isinstance(expected, float):
                    got_csv = norm(float(csv_row[c]) if csv_row[c] else None)
                elif isinstance(expected, pd.Timestamp):
                    got_csv = norm(pd.Timestamp(csv_row[c]) if csv_row[c] else None)
                else:
                    got_csv = norm(csv_row[c])
                assert same(got_xlsx, expected), (sheet, i, name, got_xlsx, expected)
                assert same(got_csv, expected), (sheet, i, name, got_csv, expected)


def assert_libreoffice_sheets(exported: Path, name: str, folder: Path,
                              golden: dict[str, list[str]] = GOLDEN) -> None:
    """LibreOffice exported every sheet of `name`.xlsx with the golden header and every row."""
    for sheet, columns in golden.items():
        if sheet not in workbook_sheet_names(folder, golden):
            continue
        path = exported / f"{name}-{sheet}.csv"
        assert path.exists(), f"LibreOffice exported no {path.name}"
        rows = read_csv_rows(path)
        frame = pd.read_parquet(folder / f"report_{sheet}.parquet")
        assert _header_matches(rows[0], sheet, columns), sheet
        assert rows[0] == list(frame.columns), sheet
        assert len(rows) - 1 == len(frame), sheet


def assert_self_contained_page(folder: Path, plots: tuple[str, ...]) -> str:
    """report.html links to nothing outside itself; its images are exactly the plot files,
    each an SVG that parses, with its size, text as text and no date. Returns the page."""
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    sources = re.findall(r"""src\s*=\s*["']([^"']*)["']""", page, re.IGNORECASE)
    assert len(sources) == len(plots)
    assert all(s.startswith("data:") for s in sources)
    embedded = set()
    for source in sources:
        head, _, data = source.partition(",")
        assert head == "data:image/svg+xml;base64"
        image = base64.b64decode(data, validate=True)
        root = ElementTree.fromstring(image)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert float(root.get("width").removesuffix("pt")) > 100
        assert float(root.get("height").removesuffix("pt")) > 100
        assert root.find(".//{http://www.w3.org/2000/svg}text") is not None  # text as text
        assert b"<dc:date>" not in image
        embedded.add(image)
    assert embedded == {(folder / f"plot_{p}.svg").read_bytes() for p in plots}
    return page


def assert_png_file(path: Path) -> None:
    """`path` is a PNG that decodes to an image over 100 pixels each way."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
