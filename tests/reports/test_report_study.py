"""Reports of a what-if study folder (`planner study`): a small grid in the manner of
scenarios/study-block-date.yaml (block date x GPU-board stock on h800-10k, 30 days), plus a
case whose scenario does not validate. Golden sheet and fixed column names, the Cases sheet read
back through LibreOffice and openpyxl equals study_cases, Sensitivity equals study_tornado,
twins equal sheets, the tornado chart, a self-contained page."""

from __future__ import annotations

import json
import math
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from report_helpers import (
    CASES_FIXED,
    GOLDEN,
    PLAN_ONLY_SHEETS,
    ROOT,
    STUDY_GOLDEN,
    assert_golden_columns,
    assert_libreoffice_sheets,
    assert_self_contained_page,
    assert_twins_equal_sheets,
    close,
    libreoffice_export,
    lo_number,
    norm,
    planner_study,
    read_csv_dicts,
    sheet_dicts,
    sheet_rows,
)

from planner.outputs.layout import ReportFiles
from planner.reports import STUDY_SHEET_COLUMNS, STUDY_SHEETS, write_reports

# every test here reads folders the command line writes in a subprocess
pytestmark = pytest.mark.slow

STUDY_PLOTS = ("tornado", "interaction")  # the grid crosses its two parameters
DATE = "supply_shocks[0].date"
STOCK = "cluster.spares.items[0].initial_stock"
STUDY = {
    "name": "t-report-study",
    "description": "Block date x H800 GPU-board stock, 30 days (report test).",
    "base": str(ROOT / "scenarios" / "h800-10k.yaml"),
    "seed": 11,
    "replications": 2,
    "metrics": ["goodput_gpu_hours", "ettr"],
    "set": {"horizon_days": 30, "supply_shocks[0].window_start_date": None,
            "supply_shocks[0].window_end_date": None,
            "cluster.spares.items[0].base_stock_level": None},
    "grid": {DATE: ["2027-01-05", "2027-01-25"], STOCK: [10, 120]},
    # invalid (negative stock): recorded as a failed case, never run
    "cases": [{"name": "bad-stock", "set": {STOCK: -5}}],
    "sensitivity": {"metric": "goodput_gpu_hours"},
}
METRICS = ["ettr.pretrain-8k", "ettr.research-2k", "goodput_gpu_hours"]


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study")
    study_file = root / "study.yaml"
    study_file.write_text(yaml.safe_dump(STUDY, sort_keys=False))
    out = planner_study(study_file, root / "out")
    write_reports(out)
    return out


@pytest.fixture(scope="module")
def values(study_dir) -> openpyxl.Workbook:
    return openpyxl.load_workbook(study_dir / "report.xlsx", read_only=True, data_only=True)


@pytest.fixture(scope="module")
def exported(study_dir, tmp_path_factory) -> Path:
    """Every sheet exported by LibreOffice Calc headless as report-<Sheet>.csv."""
    return libreoffice_export({"report": study_dir / "report.xlsx"},
                              tmp_path_factory.mktemp("libreoffice-study"))


def study_cases(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "study_cases.parquet")


def expected_means(folder: Path) -> dict[str, dict[str, float]]:
    """case -> metric -> mean, from study_cases."""
    out: dict[str, dict[str, float]] = {}
    for r in study_cases(folder).to_dict("records"):
        out.setdefault(r["case"], {})[r["metric"]] = r["mean"]
    return out


def test_study_folder_gets_every_report_file_and_no_temp_file(study_dir):
    names = {p.name for p in study_dir.iterdir()}
    expected = {"report.xlsx", "report.html", "plot_tornado.svg", "plot_interaction.svg"}
    expected |= {f"report_{s}.{ext}" for s in STUDY_GOLDEN for ext in ("csv", "parquet")}
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]
    assert sorted(n for n in names if n.startswith("plot_")) == ["plot_interaction.svg",
                                                                 "plot_tornado.svg"]
    assert "tornado" in ReportFiles.PLOTS and "interaction" in ReportFiles.PLOTS


def test_sheet_names_and_fixed_columns_equal_the_golden_list(study_dir, values):
    assert list(STUDY_GOLDEN) == STUDY_SHEETS
    assert STUDY_SHEET_COLUMNS == STUDY_GOLDEN
    assert {s: STUDY_SHEET_COLUMNS[s] for s in GOLDEN} == GOLDEN  # standard sheets unchanged
    assert_golden_columns(study_dir, values, STUDY_GOLDEN)
    header = sheet_rows(values, "Cases")[0]
    params = sorted(c for c in study_cases(study_dir).columns if c.startswith("param."))
    assert params == [f"param.{STOCK}", f"param.{DATE}"]  # sorted by path
    assert header == [*CASES_FIXED, *params, *(f"{m} mean" for m in METRICS)]


def test_cases_sheet_read_by_openpyxl_equals_study_cases(study_dir, values):
    rows = sheet_dicts(values, "Cases")
    expected = expected_means(study_dir)
    ok = [r for r in rows if r["status"] == "ok"]
    assert [r["case"] for r in ok] == list(expected) and len(ok) == 4
    keys = study_cases(study_dir).drop_duplicates("case").set_index("case")["key"]
    for row in ok:
        assert row["key"] == keys[row["case"]] and row["error"] is None
        for metric, mean in expected[row["case"]].items():
            assert close(row[f"{metric} mean"], mean), (row["case"], metric)
    grid = {(r[f"param.{DATE}"], r[f"param.{STOCK}"]) for r in ok}
    assert grid == {(d, s) for d in STUDY["grid"][DATE] for s in STUDY["grid"][STOCK]}


def test_failed_case_is_listed_with_its_error(study_dir, values):
    failures = pd.read_parquet(study_dir / "study_failures.parquet")
    assert list(failures["case"]) == ["bad-stock"]
    (row,) = [r for r in sheet_dicts(values, "Cases") if r["status"] != "ok"]
    assert row["case"] == "bad-stock" and row["status"] == "invalid"
    assert row["error"] == failures["error"].iloc[0] and row["key"] is None
    assert all(row[f"{m} mean"] is None for m in METRICS)


def test_workbook_opens_in_libreoffice_and_cases_equal_study_cases(exported, study_dir):
    assert_libreoffice_sheets(exported, "report", study_dir, STUDY_GOLDEN)
    rows = read_csv_dicts(exported / "report-Cases.csv")
    expected = expected_means(study_dir)
    ok = [r for r in rows if r["status"] == "ok"]
    assert [r["case"] for r in ok] == list(expected)
    for row in ok:
        for metric, mean in expected[row["case"]].items():
            got = lo_number(row[f"{metric} mean"])
            assert close(got, mean), (row["case"], metric, row[f"{metric} mean"], mean)
    assert [r["status"] for r in rows if r["status"] != "ok"] == ["invalid"]


def test_sensitivity_sheet_equals_study_tornado(study_dir, values):
    tornado = pd.read_parquet(study_dir / "study_tornado.parquet")
    rows = sheet_dicts(values, "Sensitivity")
    assert [r["section"] for r in rows] == ["tornado"] * len(tornado)  # a grid: no ranking
    assert len(tornado) == 2
    for row, expected in zip(rows, tornado.to_dict("records"), strict=True):
        for column, value in expected.items():
            if isinstance(value, float):
                assert close(row[column], value), (column, row[column], value)
            else:
                assert row[column] == str(value), (column, row[column], value)
    cases = study_cases(study_dir)
    centre = cases.loc[cases["metric"] == "goodput_gpu_hours", "mean"].mean()
    assert all(close(r["metric_mean"], centre) for r in rows)
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)


def test_standard_sheets_of_a_study(study_dir):
    summary = pd.read_parquet(study_dir / "report_Summary.parquet")
    cases = study_cases(study_dir)
    assert list(zip(summary["key"], summary["metric"], strict=True)) == \
        list(zip(cases["case"], cases["metric"], strict=True))
    for s in ("mean", "std", "p10", "p50", "p90", "ci95_low", "ci95_high"):
        for got, want in zip(summary[s], cases[s], strict=True):
            assert close(norm(got), norm(want)), s
    assert list(summary["n"]) == list(cases["n"])
    units = dict(zip(summary["metric"], summary["unit"], strict=False))
    assert units == {"ettr.pretrain-8k": "fraction", "ettr.research-2k": "fraction",
                     "goodput_gpu_hours": "GPU-hours"}
    for sheet, column in (*((s, "note") for s in PLAN_ONLY_SHEETS), ("Capacity", "pool"),
                          ("Parts", "sku"), ("Runway", "note")):
        frame = pd.read_parquet(study_dir / f"report_{sheet}.parquet")
        assert len(frame) == 1 and "study" in frame[column].iloc[0], sheet
        assert frame.drop(columns=column).isna().all(axis=None), sheet
    assert "simulator only" in pd.read_parquet(study_dir / "report_Plan.parquet")["note"].iloc[0]
    assumptions = pd.read_parquet(study_dir / "report_Assumptions.parquet")
    info = json.loads((study_dir / "study.json").read_text())
    run = assumptions[assumptions["section"] == "run"].set_index("path")
    assert list(run.index) == list(info)
    assert (run["source"] == "study.json").all()
    assert run.loc["cases", "value"] == info["cases"] == 5
    assert run.loc["study", "value_text"] == "t-report-study"
    lines = assumptions[assumptions["section"] == "study.yaml"]
    text = (study_dir / "study.yaml").read_text().splitlines()
    assert [v if isinstance(v, str) else "" for v in lines["value_text"]] == text


def test_csv_and_parquet_twins_equal_the_sheets(study_dir, values):
    assert_twins_equal_sheets(study_dir, values, list(STUDY_GOLDEN))


def test_workbook_formats_and_native_tornado_chart(study_dir):
    workbook = openpyxl.load_workbook(study_dir / "report.xlsx")
    cases = workbook["Cases"]
    header = [c.value for c in cases[1]]
    assert cases.freeze_panes == "A2"
    assert cases.cell(2, header.index("ettr.pretrain-8k mean") + 1).number_format == "0.00%"
    assert cases.cell(2, header.index("goodput_gpu_hours mean") + 1).number_format == "#,##0"
    assert cases.cell(2, header.index(f"param.{DATE}") + 1).data_type == "s"
    assert cases.cell(2, header.index(f"param.{STOCK}") + 1).data_type == "n"
    with zipfile.ZipFile(study_dir / "report.xlsx") as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) == 1  # only the tornado: no capacity chart of the placeholder row
        index = workbook.sheetnames.index("Sensitivity") + 1
        rels = z.read(f"xl/worksheets/_rels/sheet{index}.xml.rels").decode()
        assert "drawing" in rels
        chart = z.read(charts[0]).decode()
    assert "<c:barChart>" in chart and '<c:barDir val="bar"/>' in chart
    assert "Sensitivity!$H$2:$H$3" in chart  # swing of the two tornado rows
    assert "Sensitivity!$B$2:$B$3" in chart  # the parameters


def test_html_is_self_contained_with_the_tornado_cases_and_failures(study_dir):
    page = assert_self_contained_page(study_dir, STUDY_PLOTS)
    for words in ("Study report: t-report-study", "Sensitivity", "grid-2027-01-05-10",
                  "bad-stock", "invalid", STOCK, "Failed cases"):
        assert words in page, words
    assert "Global ranking" not in page  # a grid study has none


def test_a_case_that_ran_and_failed_has_its_key_and_parameters(study_dir, tmp_path):
    """A copy of the folder with one more failure, of a case that ran and raised: its record
    in cases/<key>.json gives its key and parameters; stale records do not match."""
    copy = tmp_path / "copy"
    shutil.copytree(study_dir, copy)
    error = "RuntimeError: boom"
    record = {"name": "grid-2027-02-01-60", "key": "f" * 20, "seed": 1,
              "params": [[DATE, "2027-02-01"], [STOCK, 60]], "overrides": [], "metrics": {},
              "error": error, "elapsed_s": 0.1}
    (copy / "cases" / f"{record['key']}.json").write_text(json.dumps(record))
    stale = {**record, "key": "e" * 20, "error": "RuntimeError: an earlier version"}
    (copy / "cases" / f"{stale['key']}.json").write_text(json.dumps(stale))
    failures = pd.read_parquet(copy / "study_failures.parquet")
    failures = pd.concat([pd.DataFrame({"case": [record["name"]], "error": [error]}), failures],
                         ignore_index=True)
    failures.to_parquet(copy / "study_failures.parquet", index=False)
    write_reports(copy, require_complete=False)  # a folder built by hand
    cases = pd.read_parquet(copy / "report_Cases.parquet")
    failed = cases[cases["status"] != "ok"].set_index("case")
    assert list(failed.index) == [record["name"], "bad-stock"]
    row = failed.loc[record["name"]]
    assert row["status"] == "failed" and row["key"] == "f" * 20 and row["error"] == error
    assert row[f"param.{DATE}"] == "2027-02-01" and row[f"param.{STOCK}"] == 60
    assert all(math.isnan(row[f"{m} mean"]) for m in METRICS)


def test_an_optimizer_study_says_its_plan_metrics_are_in_cases(study_dir, tmp_path):
    """A copy relabelled as an optimize study (command and plan.* metrics): Plan and Risk point
    to the Cases sheet, and plan metrics get their units."""
    copy = tmp_path / "opt"
    shutil.copytree(study_dir, copy)
    info = json.loads((copy / "study.json").read_text())
    (copy / "study.json").write_text(json.dumps({**info, "command": "optimize"}))
    cases = study_cases(copy)
    cases["metric"] = cases["metric"].map({"goodput_gpu_hours": "plan.expected_cost_usd",
                                           "ettr.pretrain-8k": "plan.share.Huawei",
                                           "ettr.research-2k": "plan.stockpile_units"})
    cases.to_parquet(copy / "study_cases.parquet", index=False)
    write_reports(copy, require_complete=False)  # a folder built by hand
    for sheet in PLAN_ONLY_SHEETS:
        note = pd.read_parquet(copy / f"report_{sheet}.parquet")["note"].iloc[0]
        assert "ran the optimizer" in note and "Cases" in note, sheet
    summary = pd.read_parquet(copy / "report_Summary.parquet")
    assert dict(zip(summary["metric"], summary["unit"], strict=False)) == {
        "plan.expected_cost_usd": "USD", "plan.share.Huawei": "fraction",
        "plan.stockpile_units": "parts"}
    assert "plan.expected_cost_usd mean" in pd.read_parquet(copy / "report_Cases.parquet")


def test_the_study_page_names_its_metric_as_the_registry_does(study_dir):
    page = (study_dir / "report.html").read_text(encoding="utf-8")
    assert "<th>goodput mean</th>" in page and "goodput_gpu_hours mean" not in page
    assert "Main effect of each varied parameter on goodput:" in page
