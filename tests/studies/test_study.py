"""Studies: identical tables whatever the executor, resumable after SIGKILL, failures reported,
bad study files rejected with one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from planner.errors import InputError
from planner.studies.run import load_study, run_study
from tests.conftest import ROOT, invoke_planner

STUDY = {
    "name": "t-study",
    "base": str(ROOT / "scenarios" / "h800-10k.yaml"),
    "seed": 3,
    "replications": 2,
    "metrics": ["goodput_gpu_hours", "ettr", "stockout_days.H800/gpu_board"],
    "set": {"horizon_days": 45},
    "grid": {"cluster.repair.technicians": [2, 6],
             "cluster.spares.items[0].initial_stock": [10, 80]},
    "cases": [{"name": "no-block", "set": {"supply_shocks": []}}],
    "sensitivity": {"metric": "goodput_gpu_hours"},
}


# an optimizer study with one feasible case and one that cannot be met
OPT_STUDY = {"name": "opt", "base": str(ROOT / "scenarios" / "procurement-2027.yaml"),
             "command": "optimize", "replications": 1,
             "set": {"procurement.solver.profile": "fast"},
             "cases": [{"name": "ok", "set": {}},
                       {"name": "starved", "set": {"procurement.allow_unmet": False,
                                                   "procurement.rental.cap_gpus": 0,
                                                   "procurement.budget_usd_per_quarter": 1e6}}]}


def _write(tmp_path: Path, data: dict, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet")
            for name in ("study_results", "study_cases", "study_tornado")}


def _assert_same(a: dict, b: dict) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> dict[str, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("serial")
    result = run_study(load_study(_write(tmp, STUDY)), tmp / "out", workers=1)
    assert result.cases == 5 and not result.failures
    return _tables(tmp / "out")


@pytest.mark.slow
def test_two_local_workers_give_identical_tables(serial, tmp_path):
    run_study(load_study(_write(tmp_path, STUDY)), tmp_path / "out", workers=2)
    _assert_same(serial, _tables(tmp_path / "out"))


@pytest.mark.slow
def test_dask_local_cluster_over_tcp_gives_identical_tables(serial, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      protocol="tcp", dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        run_study(load_study(_write(tmp_path, STUDY)), tmp_path / "out", workers=2,
                  scheduler=address)
    _assert_same(serial, _tables(tmp_path / "out"))


def test_results_have_one_row_per_case_replication_metric(serial):
    table = serial["study_results"]
    assert table.groupby(["case", "replication", "metric"]).size().max() == 1
    assert set(table["case"]) == {"no-block", "grid-2-10", "grid-2-80", "grid-6-10", "grid-6-80"}
    assert {"param.cluster.repair.technicians",
            "param.cluster.spares.items[0].initial_stock"} <= set(table.columns)
    tornado = serial["study_tornado"]
    assert list(tornado["parameter"])[0] in ("cluster.repair.technicians",
                                             "cluster.spares.items[0].initial_stock")
    assert (tornado["swing"].diff().dropna() <= 0).all()


@pytest.mark.slow
def test_sigkill_mid_study_then_resume_loses_and_duplicates_nothing(serial, tmp_path):
    path = _write(tmp_path, {**STUDY, "replications": 2})
    out = tmp_path / "out"
    # Popen, not the planner_cli fixture: the test kills the study while it runs
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "study", str(path), "--out",
                             str(out), "-w", "1", "-q"], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = list((out / "cases").glob("*.json")) if (out / "cases").exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = list((out / "cases").glob("*.json"))
    assert 2 <= len(stored) < 5, "the kill must land mid-study"
    for file in stored:
        json.loads(file.read_text())  # complete files only: written atomically
    # a kill during a write leaves at most a temp file, which the resumed study removes
    before = {f.name: f.read_bytes() for f in stored}
    result = run_study(load_study(path), out, workers=1)
    assert not list((out / "cases").glob(".*.tmp"))
    assert result.ran == 5 - len(stored)
    assert {f.name: f.read_bytes() for f in stored} == before, "finished cases are not rerun"
    assert len(list((out / "cases").glob("*.json"))) == 5
    _assert_same(serial, _tables(out))


@pytest.mark.slow
def test_a_failing_case_is_reported_and_the_study_goes_on(planner_cli, tmp_path):
    # 10 nodes cannot hold the jobs: that case is invalid, the 1,280-node case is fine
    data = {**STUDY, "cases": [], "grid": {"cluster.pools[0].nodes": [10, 1280]}}
    proc = planner_cli("study", str(_write(tmp_path, data)), "--out", str(tmp_path / "out"),
                       "-w", "1", "-q")  # failures are listed even when quiet
    assert proc.returncode == 5, proc.stderr  # a case failed; the others are written
    failures = pd.read_csv(tmp_path / "out" / "study_failures.csv")
    assert list(failures["case"]) == ["grid-10"]
    assert "exceed pool" in failures["error"].iloc[0]
    assert "case grid-10 failed: " in proc.stderr
    results = pd.read_parquet(tmp_path / "out" / "study_results.parquet")
    assert set(results["case"]) == {"grid-1280"}


def test_optimizer_case_that_is_infeasible_is_a_failure_not_a_crash(tmp_path):
    data = OPT_STUDY
    result = run_study(load_study(_write(tmp_path, data)), tmp_path / "out", workers=1)
    assert [name for name, _ in result.failures] == ["starved"]
    assert result.failures[0][1].startswith("Infeasible: the budget in ")
    assert "is short by $" in result.failures[0][1]


@pytest.mark.parametrize(("change", "pattern"), [
    ({"grdi": {}}, r"study\.yaml:\d+ grdi: unknown field"),
    ({"grid": {"cluster.poolz[0].nodes": [1]}}, r"study\.yaml:\d+ grid\.cluster\.poolz\[0\]\.nodes: "),
    ({"grid": {"cluster.repair.technicians": [-1, 0]}},
     r"study\.yaml:\d+ grid\.cluster\.repair\.technicians: must be >= 1"),
    ({"cases": [{"name": "x", "set": {"cluster.pools[0].nodez": 3}}]},
     r"study\.yaml:\d+ cases\[0\]\.set\.cluster\.pools\[0\]\.nodez: unknown field"),
    ({"base": "missing.yaml"}, r"study\.yaml:\d+ base: base scenario .*missing\.yaml file not found"),
    ({"base": ""}, r"study\.yaml:\d+ base: "),
    ({"base": "."}, r"study\.yaml:\d+ base: base scenario .* is a folder, not a file"),
    ({"replications": 0}, r"study\.yaml:\d+ replications: must be >= 1"),
])
def test_bad_study_file_gets_one_line_error_and_exit_2(tmp_path, change, pattern):
    path = _write(tmp_path, {**STUDY, **change})
    with pytest.raises(InputError):
        run_study(load_study(path), tmp_path / "unused", workers=1)
    result = invoke_planner("study", str(path), "-q", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), lines


def test_sampled_study_ranks_parameters_and_bins_them_for_the_tornado(tmp_path):
    data = {**STUDY, "grid": {}, "cases": [], "replications": 2,
            "samples": {"method": "lhs", "n": 9, "parameters": [
                {"path": "cluster.repair.technicians", "low": 1, "high": 12, "integer": True},
                {"path": "cluster.repair.misdiagnosis_probability", "low": 0.0, "high": 0.3}]}}
    run_study(load_study(_write(tmp_path, data)), tmp_path / "out", workers=1)
    ranking = pd.read_parquet(tmp_path / "out" / "study_sensitivity.parquet")
    assert set(ranking["parameter"]) == {"cluster.repair.technicians",
                                         "cluster.repair.misdiagnosis_probability"}
    assert list(ranking["rank"]) == [1, 2]
    assert ranking["spearman_rho"].between(-1, 1).all()
    tornado = pd.read_parquet(tmp_path / "out" / "study_tornado.parquet")
    assert tornado["value_at_min"].str.contains(r"\.\.").all()  # tercile bins, not single cases
    cases = pd.read_parquet(tmp_path / "out" / "study_cases.parquet")
    assert cases["case"].nunique() == 9


def test_changed_metrics_or_seed_rerun_cases_and_unchanged_study_does_not(tmp_path):
    data = {**STUDY, "cases": [], "grid": {"cluster.repair.technicians": [2, 6]}}
    path = _write(tmp_path, data)
    out = tmp_path / "out"
    assert run_study(load_study(path), out, workers=1).ran == 2
    assert run_study(load_study(path), out, workers=1).ran == 0
    path = _write(tmp_path, {**data, "metrics": ["goodput_gpu_hours"]})
    assert run_study(load_study(path), out, workers=1).ran == 2
    path = _write(tmp_path, {**data, "metrics": ["goodput_gpu_hours"], "seed": 99})
    assert run_study(load_study(path), out, workers=1).ran == 2


@pytest.mark.slow
def test_failed_cases_are_run_again_on_resume(tmp_path):
    data = OPT_STUDY
    path = _write(tmp_path, data)
    first = run_study(load_study(path), tmp_path / "out", workers=1)
    assert first.ran == 2 and len(first.failures) == 1
    again = run_study(load_study(path), tmp_path / "out", workers=1)
    assert again.ran == 1 and len(again.failures) == 1


def test_a_parameter_with_mixed_value_types_is_written_as_text(tmp_path):
    from planner.outputs.atomic import write_table
    from planner.studies.analysis import tidy

    records = [{"name": f"c{i}", "key": f"k{i}", "params": [("a.b", value), ("d", 1.5)],
                "metrics": {"0": {"m": 1.0}}} for i, value in enumerate([30, 120, True, None])]
    table = tidy(records)
    write_table(tmp_path, "t", table)
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["param.a.b"].tolist()[:3] == ["30", "120", "True"]
    assert pd.isna(back["param.a.b"].iloc[3])
    assert back["param.d"].tolist() == [1.5] * 4  # homogeneous numbers stay numbers


def test_a_varied_seed_gives_each_value_its_own_random_stream(tmp_path):
    """`seed` as a study parameter is not dropped: each value is its own case (key and seed)
    with its own results; the same value twice is the same case."""
    data = {**STUDY, "cases": [{"name": "again-1", "set": {"seed": 1}}],
            "grid": {"seed": [1, 2]}, "metrics": ["goodput_gpu_hours"],
            "set": {"horizon_days": 20}, "replications": 1}
    result = run_study(load_study(_write(tmp_path, data)), tmp_path / "out", workers=1)
    assert result.ran == 2  # again-1 is grid-1
    cases = pd.read_parquet(tmp_path / "out" / "study_cases.parquet").set_index("case")
    assert cases.loc["grid-1", "key"] != cases.loc["grid-2", "key"]
    assert cases.loc["again-1", "key"] == cases.loc["grid-1", "key"]
    assert cases.loc["grid-1", "mean"] != cases.loc["grid-2", "mean"]
