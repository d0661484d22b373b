"""Reports of a two-pool run without supply shocks, made from a copy of only the files that
reports read, twice (the second write replaces the first)."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report_helpers import planner_run

from planner.reports import write_reports

# every test here reads folders the command line writes in a subprocess
pytestmark = pytest.mark.slow

# what reports read (replications: the runway); everything else of a run folder (events) is not
# needed
READ = ("summary.json", "inputs.json", "scenario.yaml", "timeseries.parquet", "shocks.parquet",
        "replications.parquet")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pools")
    run = planner_run("scenarios/mixed-h800-ascend.yaml", root / "run", "--set", "horizon_days=240",
                      "--set", "supply_shocks=[]", "-r", "2")
    copy = root / "copy"
    copy.mkdir()
    for name in READ:
        shutil.copy(run / name, copy / name)
    write_reports(copy, require_complete=False)  # a folder built by hand
    write_reports(copy, require_complete=False)  # a folder built by hand
    return copy


def test_reports_need_only_the_files_they_read_and_rewrite_cleanly(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert {"report.xlsx", "report.html", "plot_capacity.svg", "report_Capacity.csv"} <= names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]


def test_capacity_has_each_pool_and_a_chart_per_pool(report_dir):
    capacity = pd.read_parquet(report_dir / "report_Capacity.parquet")
    assert list(dict.fromkeys(capacity["pool"])) == ["h800", "ascend"]
    ascend = capacity[capacity["pool"] == "ascend"].set_index("day")
    assert ascend.loc[0.0, "effective_compute_p50 [PFLOP/s]"] == 0  # nothing delivered yet
    # 128 Ascend nodes delivered on 2027-02-01 (day 31): 8 x 313 TFLOPS each at most
    assert 0 < ascend.loc[40.0, "effective_compute_p90 [PFLOP/s]"] <= 128 * 8 * 313 / 1000
    assert ascend.loc[40.0, "installed_nodes_p50 [nodes]"] == 128
    with zipfile.ZipFile(report_dir / "report.xlsx") as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 2
    sheets = openpyxl.load_workbook(report_dir / "report.xlsx", read_only=True).sheetnames
    # a run without an optimizer: the plan's sheets are empty and left out of the workbook
    assert sheets == ["Summary", "Capacity", "Parts", "Assumptions"]  # no parts block: no runway


def test_parts_cover_both_skus_and_the_page_says_no_shock_happened(report_dir):
    parts = pd.read_parquet(report_dir / "report_Parts.parquet")
    assert set(parts["sku"]) == {"H800", "Ascend-910B"}
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "No supply shock started within the horizon" in page
    assert "ascend" in page and "https://" not in page
