"""`planner run`, `schema`, `catalog`: outputs, determinism across runs and worker counts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, invoke_planner, run_planner

SCENARIO = str(ROOT / "scenarios/h800-10k.yaml")
SHORT = ("--set", "horizon_days=90", "-r", "3")


def _run(out: Path, *extra: str):
    proc = run_planner("run", SCENARIO, "--out", str(out), *SHORT, *extra)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "a"
    _run(out, "--workers", "1")
    return out


@pytest.mark.slow
def test_run_writes_every_output(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    for stem in ("timeseries", "events", "replications"):
        assert {f"{stem}.parquet", f"{stem}.csv"} <= names
    assert {"summary.json", "scenario.yaml"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("ettr", "goodput_gpu_hours", "interruptions", "job_mttf_hours",
                "node_availability", "lost_gpu_hours", "stockout_days", "parts_consumed",
                "repair_backlog_max", "scenario", "seed", "replications", "version"):
        assert key in summary, key
    assert summary["replications"] == 3 and summary["seed"] == 20270101
    assert set(summary["lost_gpu_hours"]) == {"lost_work", "restart", "waiting_for_nodes",
                                              "checkpoint_writes"}
    stats = summary["ettr"]["pretrain-8k"]
    assert set(stats) == {"n", "mean", "std", "p10", "p50", "p90", "ci95"}
    assert 0 < stats["p10"] <= stats["p50"] <= stats["p90"] <= 1
    assert "gpu" in summary["interruptions"]["by_category"]
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert ts["replication"].nunique() == 3 and ts["day"].max() == pytest.approx(90)
    assert {"h800.healthy_nodes", "h800.in_repair_nodes", "h800.waiting_parts_nodes",
            "h800.retired_nodes", "stock.H800/gpu_board",
            "pretrain-8k.progress_gpu_hours"} <= set(ts.columns)
    events = pd.read_parquet(run_dir / "events.parquet")
    assert {"time_hours", "node", "category", "outcome"} <= set(events.columns)
    csv_events = pd.read_csv(run_dir / "events.csv")
    assert len(csv_events) == len(events)


@pytest.mark.slow
def test_same_seed_gives_identical_summary_whatever_the_workers(run_dir, tmp_path):
    _run(tmp_path / "b", "--workers", "1")
    _run(tmp_path / "c", "--workers", "2")
    first = (run_dir / "summary.json").read_bytes()
    assert (tmp_path / "b" / "summary.json").read_bytes() == first
    assert (tmp_path / "c" / "summary.json").read_bytes() == first
    other = _run(tmp_path / "d", "--seed", "5")
    assert other.returncode == 0
    assert (tmp_path / "d" / "summary.json").read_bytes() != first


def test_schema_is_json_schema_with_field_docs():
    result = invoke_planner("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    pool = schema["$defs"]["Pool"]
    assert pool["additionalProperties"] is False
    assert "description" in pool["properties"]["nodes"]


def test_catalog_lists_required_skus(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = invoke_planner("catalog")
    assert result.exit_code == 0
    for sku in ("H100", "H800", "H20", "A800", "Ascend-910B", "Ascend-910C", "MLU370-X8",
                "MLU590"):
        assert sku in result.stdout


@pytest.mark.slow
def test_adaptive_replications_stop_on_the_target(planner_cli, tmp_path):
    out = tmp_path / "adaptive"
    proc = planner_cli("run", SCENARIO, "--out", str(out),
                "--set", "horizon_days=30", "-w", "1",
                "--set", "simulation.adaptive={metric: goodput_gpu_hours, target_rel_half_width: 0.5,"
                         " min_replications: 3, max_replications: 9, batch_replications: 2}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 3
    assert "half-width" in summary["adaptive_stop"]


@pytest.mark.slow
def test_adaptive_replications_stop_at_the_maximum(planner_cli, tmp_path):
    out = tmp_path / "adaptive-max"
    proc = planner_cli("run", SCENARIO, "--out", str(out),
                "--set", "horizon_days=30", "-w", "1",
                "--set", "simulation.adaptive={metric: interruptions.total, "
                         "target_rel_half_width: 0.0001, min_replications: 3, max_replications: 7, "
                         "batch_replications: 2}")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 7
    assert "max_replications" in summary["adaptive_stop"]


def test_an_output_folder_that_cannot_be_written_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke_planner("run", SCENARIO, "-r", "1", "-q", "--out", str(blocker / "out"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{blocker / 'out'} --out: cannot write"), lines


@pytest.mark.slow
def test_report_on_a_damaged_folder_is_a_one_line_error(run_dir, tmp_path):
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(run_dir, damaged)
    (damaged / "summary.json").write_text("{not json")
    result = invoke_planner("report", str(damaged))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines == [f"{damaged} cannot rebuild the reports: summary.json: not valid JSON "
                     "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"]
