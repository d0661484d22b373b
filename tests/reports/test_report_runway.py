"""The runway in the reports: the Runway sheet (run and study), its plots and the page's
section, written in this process from small folders (a run exposed to a parts block, one that
is not, a study over stockpile levels)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from planner.metrics import RUNWAY_THRESHOLDS
from planner.montecarlo import run_monte_carlo
from planner.outputs.run import write_run
from planner.reports import runway_plots, write_reports
from planner.reports.folder import OutputFolder
from planner.reports.plots import png
from planner.reports.runway import NO_RUNWAY_OPTIMIZE, NO_RUNWAY_RUN, run_rows
from planner.runway import runway_table
from planner.studies.run import load_study, run_study
from tests.conftest import load
from tests.reports.report_helpers import workbook_sheet_names
from tests.sim.scenarios import parts_block_decay

# a 90-day run blocked at a random date of its first 40 days: 90 % is crossed about 53 days
# after the block in some replications and not in others (censored); 50 % never
SHOCK = {"name": "block", "vendor": "Nvidia", "window_start_date": "2027-01-01",
         "window_end_date": "2027-02-10"}


def _run_folder(tmp: Path, data: dict) -> Path:
    folder = tmp / "run"
    write_run(run_monte_carlo(load(data), workers=1), folder)
    write_reports(folder, require_complete=False)
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    data = parts_block_decay(2000, 0.002, horizon_days=90, shock=SHOCK)
    data["simulation"]["replications"] = 12
    return _run_folder(tmp_path_factory.mktemp("runway-run"), data)


def test_the_runway_sheet_holds_the_runway_table_of_the_replications(run_dir):
    sheet = pd.read_parquet(run_dir / "report_Runway.parquet")
    table = runway_table(pd.read_parquet(run_dir / "replications.parquet"))
    assert list(sheet["pool"]) == ["p"] * 3 and list(sheet["sku"]) == ["H800"] * 3
    assert list(sheet["threshold"]) == list(RUNWAY_THRESHOLDS)
    assert sheet["case"].isna().all() and sheet["parameters"].isna().all()
    assert list(sheet["n"]) == list(table["n"]) == [12] * 3
    assert list(sheet["censored_share"]) == list(table["censored_share"])
    for q in ("p10", "p50", "p90"):
        assert list(sheet[f"{q} [days]"]) == list(table[q])
        assert list(sheet[f"{q}_censored"]) == ["true" if v else "false"
                                                for v in table[f"{q}_censored"]]
    ninety, fifty = sheet.iloc[0], sheet.iloc[2]
    assert 0 < ninety["censored_share"] < 1 and ninety["p10_censored"] == "false"
    assert fifty["censored_share"] == 1 and fifty["p50_censored"] == "true"
    assert "not reached: more than" in fifty["note"]


def test_the_workbook_has_the_runway_sheet_after_parts(run_dir):
    workbook = openpyxl.load_workbook(run_dir / "report.xlsx", read_only=True)
    names = workbook_sheet_names(run_dir)
    assert workbook.sheetnames == names and "Runway" in names
    assert names.index("Runway") == names.index("Parts") + 1


def test_the_page_shows_the_runway_with_censored_percentiles(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="runway-under-a-parts-block">Runway under a parts block</h2>' in page
    section = page[page.index('<h2 id="runway-under'):page.index('<h2 id="spare-parts"')]
    assert "&gt; " in section and "runway survival curves" in section
    assert (run_dir / "plot_runway.svg").stat().st_size > 10_000


def test_a_run_without_a_parts_block_has_a_note_and_no_runway_plot(tmp_path):
    data = parts_block_decay(50, 0.002, horizon_days=20, shock={
        "name": "nodes-only", "vendor": "Nvidia", "date": "2027-01-05", "block_orders": False,
        "block_deliveries": False, "block_rma": False})
    folder = _run_folder(tmp_path, data)
    sheet = pd.read_parquet(folder / "report_Runway.parquet")
    assert len(sheet) == 1 and sheet["note"].iloc[0] == NO_RUNWAY_RUN and sheet["pool"].isna().all()
    assert not (folder / "plot_runway.svg").exists()
    assert "Runway under a parts block" not in (folder / "report.html").read_text(encoding="utf-8")


def test_an_optimize_only_folder_has_a_note():
    folder = OutputFolder(Path("."), None, None, None, None, None, None)
    assert run_rows(folder) == [{"note": NO_RUNWAY_OPTIMIZE}]


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("runway-study")
    base = tmp / "base.yaml"
    shock = {"name": "block", "vendor": "Nvidia", "date": "2027-01-11"}
    base.write_text(yaml.safe_dump(parts_block_decay(200, 0.005, horizon_days=300, shock=shock)))
    study = {"name": "t-runway-report", "base": str(base), "seed": 2, "replications": 4,
             "metrics": ["runway"],
             "cases": [{"name": name, "set": {"cluster.spares.items[0].initial_stock": stock}}
                       for name, stock in (("none", 0), ("half", 100), ("all", 200))]}
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    run_study(load_study(path), tmp / "out", workers=1)
    write_reports(tmp / "out")
    return tmp / "out"


def test_a_studys_runway_sheet_is_its_runway_curve_by_threshold(study_dir):
    sheet = pd.read_parquet(study_dir / "report_Runway.parquet")
    curve = pd.read_parquet(study_dir / "study_runway.parquet")
    # the curve of each threshold reads down the rows: by threshold, then case
    assert list(zip(sheet["threshold"], sheet["case"], strict=True)) == [
        (t, c) for t in RUNWAY_THRESHOLDS for c in ("none", "half", "all")]
    assert sheet["parameters"].iloc[0] == "cluster.spares.items[0].initial_stock=0"
    assert sheet["parameters"].iloc[-1] == "cluster.spares.items[0].initial_stock=200"
    expected = curve.set_index(["case", "threshold"])["p50"]
    assert [expected[(c, t)] for c, t in zip(sheet["case"], sheet["threshold"], strict=True)] \
        == list(sheet["p50 [days]"])
    assert sheet["sku"].isna().all()
    with zipfile.ZipFile(study_dir / "report.xlsx") as z:  # the native runway-curve chart
        assert any("Runway curve of pool p" in z.read(n).decode("utf-8")
                   for n in z.namelist() if n.startswith("xl/charts/chart"))
    assert (study_dir / "plot_runway_curve.svg").stat().st_size > 10_000
    page = (study_dir / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="runway-curve">Runway curve</h2>' in page and "runway percentiles per case" in page


def test_the_runway_figures_draw_censored_points_and_cases_without_one_numeric_parameter():
    """A grid of two parameters (no single x value): the cases in order; censored P50s and a
    pool never blocked are drawn without failing."""
    rows = []
    for i, (stock, date) in enumerate([(0, "2027-02-01"), (100, "2027-02-01"),
                                       (0, "2027-05-01"), (100, "2027-05-01")]):
        for threshold, p50 in zip(RUNWAY_THRESHOLDS, (20.0 + i, 40.0 + i, 90.0), strict=True):
            rows.append({"case": f"grid-{stock}-{date}", "key": str(i), "pool": "p",
                         "threshold": threshold, "n": 4, "censored": 0, "censored_share": 0.0,
                         "p10": p50 - 5, "p10_censored": False, "p50": p50,
                         "p50_censored": threshold == 0.5, "p90": p50 + 5,
                         "p90_censored": threshold == 0.5, "param.stock": stock,
                         "param.date": date})
    assert png(runway_plots.curve_figure(pd.DataFrame(rows))).startswith(b"\x89PNG")
    replications = pd.DataFrame({
        "runway.days.p/90": [10.0, 30.0], "runway.censored.p/90": [0.0, 1.0],
        "runway.days.q/90": [np.nan, np.nan], "runway.censored.q/90": [np.nan, np.nan]})
    figure = runway_plots.survival_figure(replications, {"p": "H800", "q": "H800"})
    assert len(figure.axes) == 2 and png(figure).startswith(b"\x89PNG")
