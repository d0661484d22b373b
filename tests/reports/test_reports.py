"""report.xlsx, its CSV/Parquet twins, the plots and report.html of a short h800-10k run:
golden sheet and column names, values read back through LibreOffice and openpyxl equal
summary.json, twins equal sheets, a self-contained page."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from report_helpers import (
    GOLDEN,
    PLAN_ONLY_SHEETS,
    RUNWAY_PLOT,
    SIMULATION_PLOTS,
    assert_golden_columns,
    assert_libreoffice_sheets,
    assert_png_file,
    assert_self_contained_page,
    assert_twins_equal_sheets,
    close,
    libreoffice_export,
    lo_number,
    planner_run,
    read_csv_dicts,
    sheet_rows,
)

from planner.reports import write_reports

# every test here reads folders the command line writes in a subprocess
pytestmark = pytest.mark.slow

# the block of the first replication begins on day 42 of the 60 days: a runway to draw
PLOTS = (*SIMULATION_PLOTS, RUNWAY_PLOT)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = planner_run("scenarios/h800-10k.yaml", tmp_path_factory.mktemp("reports") / "run",
                      "--set", "horizon_days=60", "-r", "3")
    write_reports(out)
    return out


@pytest.fixture(scope="module")
def summary(run_dir) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


@pytest.fixture(scope="module")
def workbook(run_dir) -> openpyxl.Workbook:
    return openpyxl.load_workbook(run_dir / "report.xlsx")


@pytest.fixture(scope="module")
def values(run_dir) -> openpyxl.Workbook:
    return openpyxl.load_workbook(run_dir / "report.xlsx", read_only=True, data_only=True)


@pytest.fixture(scope="module")
def libreoffice_csv(run_dir, tmp_path_factory) -> Path:
    """Every sheet exported by LibreOffice Calc headless as report-<Sheet>.csv."""
    return libreoffice_export({"report": run_dir / "report.xlsx"},
                              tmp_path_factory.mktemp("libreoffice"))


def summary_stats(summary: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """(metric, key) -> stats for every metric of summary.json, walked independently."""
    found: dict[tuple[str, str | None], dict[str, Any]] = {}

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for name, child in node.items():
            if isinstance(child, dict) and {"n", "mean", "p50"} <= set(child):
                found[(".".join(path), name) if path else (name, None)] = child
            elif isinstance(child, dict):
                walk(child, [*path, name])

    walk(summary, [])
    return found


def test_every_report_file_is_written_and_no_temp_file_is_left(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    expected = {"report.xlsx", "report.html", *(f"plot_{p}.svg" for p in PLOTS)}
    expected |= {f"report_{s}.{ext}" for s in GOLDEN for ext in ("csv", "parquet")}
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]
    assert not [n for n in names if n.startswith("plan_") or n.startswith("plot_")
                and n.removeprefix("plot_").removesuffix(".svg") not in PLOTS]


def test_sheet_names_and_columns_equal_the_golden_list(run_dir, values):
    assert_golden_columns(run_dir, values)


def test_summary_sheet_read_by_openpyxl_equals_summary_json(values, summary):
    header, rows = sheet_rows(values, "Summary")
    expected = summary_stats(summary)
    key = header.index("key")
    got = {(r[0], r[key]): dict(zip(header, r, strict=True)) for r in rows}
    assert list(got) == list(expected)
    for key, stats in expected.items():
        row = got[key]
        assert row["n"] == stats["n"], key
        for s in ("mean", "std", "p10", "p50", "p90"):
            assert close(row[s], stats[s]), (key, s, row[s], stats[s])
        low, high = stats["ci95"] or (None, None)
        assert close(row["ci95_low"], low) and close(row["ci95_high"], high), key
    assert got[("ettr", "pretrain-8k")]["unit"] == "fraction"
    assert got[("ettr", "pretrain-8k")]["label"] == "ETTR"
    assert got[("parts_spend_usd", None)]["unit"] == "USD"


def test_workbook_opens_in_libreoffice_and_its_values_equal_summary_json(libreoffice_csv, summary,
                                                                         run_dir):
    assert_libreoffice_sheets(libreoffice_csv, "report", run_dir)
    rows = read_csv_dicts(libreoffice_csv / "report-Summary.csv")
    expected = summary_stats(summary)
    assert [(r["metric"], r["key"] or None) for r in rows] == list(expected)
    for row in rows:
        stats = expected[(row["metric"], row["key"] or None)]
        assert int(row["n"]) == stats["n"]
        for s in ("mean", "p10", "p50", "p90"):
            assert close(lo_number(row[s]), stats[s]), (row["metric"], row["key"], s, row[s])


def test_csv_and_parquet_twins_equal_the_sheets(run_dir, values):
    assert_twins_equal_sheets(run_dir, values)


def test_workbook_layout_formats_and_capacity_chart(run_dir, workbook):
    for sheet, columns in GOLDEN.items():
        if sheet not in workbook.sheetnames:  # no data: left out (its twins keep the columns)
            continue
        ws = workbook[sheet]
        assert ws.freeze_panes == "A2", sheet
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9, sheet
        assert ws.sheet_properties.pageSetUpPr.fitToPage, sheet  # fit to one page wide:
        assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0, sheet
        last = openpyxl.utils.get_column_letter(len(columns))
        assert ws.auto_filter.ref == f"A1:{last}{max(ws.max_row, 2)}", sheet
        widths = {c: dim.width for dim in ws.column_dimensions.values()
                  for c in range(dim.min, dim.max + 1)}  # adjacent equal columns are grouped
        for c, name in enumerate(columns, start=1):
            assert widths[c] >= min(len(name), 60), (sheet, name, widths[c])
    key = GOLDEN["Summary"].index("key")
    summary = {(r[0].value, r[key].value): r for r in workbook["Summary"].iter_rows(min_row=2)}
    mean = GOLDEN["Summary"].index("mean")
    assert summary[("ettr", "pretrain-8k")][mean].number_format == "0.00%"
    assert summary[("parts_spend_usd", None)][mean].number_format == '"$"#,##0'
    assert summary[("goodput_gpu_hours", None)][mean].number_format == "#,##0"
    capacity = workbook["Capacity"]
    assert capacity.cell(2, GOLDEN["Capacity"].index("date") + 1).number_format == "yyyy-mm-dd"
    assert capacity.cell(2, GOLDEN["Capacity"].index("date") + 1).is_date
    with zipfile.ZipFile(run_dir / "report.xlsx") as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) == 1  # one pool in h800-10k
        index = workbook.sheetnames.index("Capacity") + 1
        capacity_rels = z.read(f"xl/worksheets/_rels/sheet{index}.xml.rels").decode()
        assert "drawing" in capacity_rels
        chart = z.read(charts[0]).decode()
    assert "<c:areaChart>" in chart and "<c:lineChart>" in chart and "<c:dateAx>" in chart
    assert "Capacity!$J$2:$J$62" in chart  # effective compute P50 over the 61 sampled days


def test_capacity_is_healthy_nodes_times_catalog_compute(run_dir):
    capacity = pd.read_parquet(run_dir / "report_Capacity.parquet")
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    inputs = json.loads((run_dir / "inputs.json").read_text())
    sku = inputs["catalog"]["skus"]["H800"]
    per_node = sku["accelerators_per_node"]["value"] * sku["bf16_dense_tflops"]["value"] / 1000
    assert per_node == pytest.approx(8 * 989 / 1000)
    days = sorted(ts["day"].unique())
    assert list(capacity["day"]) == days and set(capacity["pool"]) == {"h800"}
    for q, p in (("p10", 10), ("p50", 50), ("p90", 90)):
        healthy = ts.groupby("day")["h800.healthy_nodes"].apply(lambda v, p=p: np.percentile(v, p))
        assert np.allclose(capacity[f"healthy_nodes_{q} [nodes]"], healthy.to_numpy())
        assert np.allclose(capacity[f"effective_compute_{q} [PFLOP/s]"], healthy.to_numpy() * per_node)
    assert (capacity["effective_compute_p10 [PFLOP/s]"] <= capacity["effective_compute_p90 [PFLOP/s]"]).all()
    assert capacity["date"].iloc[0] == pd.Timestamp("2027-01-01")


def test_parts_sheet_matches_summary_and_final_stock(run_dir, summary):
    parts = pd.read_parquet(run_dir / "report_Parts.parquet")
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    names = list(summary["stockout_days"])
    assert [f"{s}/{p}" for s, p in zip(parts["sku"], parts["part"], strict=True)] == names
    row = parts.set_index(parts["sku"] + "/" + parts["part"]).loc["H800/gpu_board"]
    stats = summary["stockout_days"]["H800/gpu_board"]
    assert row["stockout_p90 [days]"] == pytest.approx(stats["p90"], rel=1e-12)
    assert row["consumed_mean [parts]"] == pytest.approx(
        summary["parts_consumed"]["H800/gpu_board"]["mean"], rel=1e-12)
    final = ts.sort_values("day").groupby("replication")["stock.H800/gpu_board"].last()
    assert row["final_stock_p50 [parts]"] == pytest.approx(float(np.median(final)))
    assert row["unit_price [USD]"] > 0


def test_plan_sheets_say_there_is_no_plan_yet(run_dir):
    for sheet in PLAN_ONLY_SHEETS:
        frame = pd.read_parquet(run_dir / f"report_{sheet}.parquet")
        assert len(frame) == 1, sheet
        assert "simulation run" in frame["note"].iloc[0], sheet
        assert frame.drop(columns="note").isna().all(axis=None), sheet


def test_assumptions_hold_every_input_with_its_origin(run_dir):
    frame = pd.read_parquet(run_dir / "report_Assumptions.parquet")
    assert set(frame["section"]) == {"run", "scenario", "resolved", "catalog", "scenario.yaml"}
    assert not frame.duplicated(["section", "path"]).any()
    by_path = frame[frame["section"] != "run"].set_index("path")
    assert by_path.index.is_unique
    assert by_path.loc["horizon_days", "value"] == 60
    assert by_path.loc["horizon_days", "source"] == "--set"
    assert by_path.loc["cluster.pools[0].nodes", "value"] == 1280
    assert by_path.loc["cluster.pools[0].nodes", "source"] == "scenario.yaml"
    assert by_path.loc["simulation.record_events", "value_text"] == "true"
    assert by_path.loc["simulation.record_events", "source"] == "default"
    assert by_path.loc["catalog.skus.H800.bf16_dense_tflops", "value"] == 989
    assert "989" in by_path.loc["catalog.skus.H800.bf16_dense_tflops", "source"]
    assert by_path.loc["checkpoint_interval_hours.pretrain-8k", "section"] == "resolved"
    text = (run_dir / "scenario.yaml").read_text().splitlines()
    lines = frame[frame["section"] == "scenario.yaml"]
    assert [v if isinstance(v, str) else "" for v in lines["value_text"]] == text
    inputs = json.loads((run_dir / "inputs.json").read_text())
    sourced = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict) and set(node) == {"value", "source"}:
            sourced.append((path, node))
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}")

    walk(inputs["catalog"], "catalog")
    assert len(sourced) > 100
    for path, entry in sourced:  # every sourced catalog number, with its source
        assert by_path.loc[path, "source"] == entry["source"], path
        value = entry["value"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert by_path.loc[path, "value"] == value, path
        else:  # null, true/false and strings are text
            text = value if isinstance(value, str) else json.dumps(value)
            assert by_path.loc[path, "value_text"] == text, path


def test_html_is_self_contained_and_every_image_decodes(run_dir):
    page = assert_self_contained_page(run_dir, PLOTS)
    for words in ("Headline figures", "ETTR", "nvidia-export-block", "interruptions"):
        assert words in page
    assert "Procurement plan" not in page  # a run without procurement has no plan section


def test_png_on_request_and_the_same_svg_bytes_every_time(run_dir, tmp_path):
    """PNGs only when asked, removed by a report that does not ask; the SVGs are the same bytes
    when drawn again (fixed ids, no date)."""
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    write_reports(copy, png=True)
    for name in PLOTS:
        assert (copy / f"plot_{name}.svg").read_bytes() == (run_dir / f"plot_{name}.svg").read_bytes()
        assert_png_file(copy / f"plot_{name}.png")
    write_reports(copy)
    assert not list(copy.glob("plot_*.png"))
    assert {p.name for p in copy.glob("plot_*.svg")} == {f"plot_{name}.svg" for name in PLOTS}
