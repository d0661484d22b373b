"""The Python API (planner.api, re-exported from planner): the same passes as the command line,
results as tables with short reprs, folders written whole; bad input is an InputError."""

from __future__ import annotations

import runpy

import pandas as pd
import pytest
import yaml

import planner
from planner.reports.folder import read_folder
from tests.conftest import ROOT

H800 = ROOT / "scenarios" / "h800-10k.yaml"
PROCUREMENT = ROOT / "scenarios" / "procurement-2027.yaml"
TRACE = ROOT / "data" / "stepfun-fault-trace" / "fault_trace.json"


def test_import_planner_is_light_and_names_the_api():
    assert {"load_scenario", "simulate", "optimize", "study", "calibrate"} <= set(planner.__all__)
    assert callable(planner.simulate) and planner.InputError is planner.api.InputError


def test_overrides_as_a_mapping_or_as_assignments_are_the_same():
    one = planner.load_scenario(H800, overrides={"cluster.pools[0].nodes": 1400, "seed": 3})
    two = planner.load_scenario(H800, overrides=["cluster.pools[0].nodes=1400", "seed=3"])
    assert one.scenario == two.scenario and one.scenario.cluster.pools[0].nodes == 1400


def test_bad_input_is_one_line_naming_the_file_and_the_field():
    with pytest.raises(planner.InputError) as caught:
        planner.load_scenario(H800, overrides={"horizon_days": -1})
    message = str(caught.value)
    assert "\n" not in message and "h800-10k.yaml" in message and "horizon_days" in message


@pytest.fixture(scope="module")
def simulated():
    scenario = planner.load_scenario(H800, overrides={"simulation.replications": 3})
    return planner.simulate(scenario, workers=1)


def test_a_simulation_has_tables_and_a_short_repr(simulated):
    assert len(repr(simulated)) < 200 and "3 replications" in repr(simulated)
    summary = simulated.summary
    assert list(summary.columns) == planner.api.SUMMARY_COLUMNS
    goodput = summary.set_index("metric").loc["goodput_gpu_hours"]
    assert goodput["label"] == "goodput" and goodput["n"] == 3
    assert goodput["p10"] <= goodput["p50"] <= goodput["p90"]
    ts = simulated.timeseries
    assert list(ts.columns) == ["replication", "date", "day", "series", "value"]
    start = pd.Timestamp(simulated.scenario.scenario.start_date)
    assert (ts["date"] == start + pd.to_timedelta(ts["day"], unit="D")).all()
    assert len(simulated.replications) == 3 and "time_hours" in simulated.events
    assert "<table" in simulated._repr_html_()


def test_workers_do_not_change_the_numbers(simulated):
    again = planner.simulate(simulated.scenario, workers=2)
    pd.testing.assert_frame_equal(simulated.replications, again.replications)


def test_to_folder_writes_what_planner_run_writes(simulated, tmp_path):
    folder = simulated.to_folder(tmp_path / "run")
    assert (folder / "report.html").exists() and (folder / "complete").exists()
    assert read_folder(folder).name == "h800-10k"


def test_optimize_gives_the_plan_tables(tmp_path):
    result = planner.optimize(PROCUREMENT, analyses="none")
    assert "optimal" in repr(result) and len(repr(result)) < 200
    assert {"orders", "buy", "stockpile", "capacity", "cash"} <= set(result.plan)
    figures = result.summary.set_index("figure")["value"]
    assert figures["expected_cost_usd"] > 0
    folder = result.to_folder(tmp_path / "opt")
    assert (folder / "optimization.json").exists() and (folder / "report.xlsx").exists()


def test_a_procurement_scenario_is_planned_then_simulated():
    scenario = planner.load_scenario(PROCUREMENT, overrides={"simulation.replications": 1})
    result = planner.simulate(scenario, workers=1)
    assert result.plan is not None and "plan applied" in repr(result)


def test_a_study_runs_into_a_folder(tmp_path):
    study_file = tmp_path / "s.yaml"
    study_file.write_text(yaml.safe_dump({
        "name": "api-study", "base": str(H800), "replications": 2,
        "set": {"horizon_days": 60}, "grid": {"cluster.pools[0].nodes": [1280, 1400]}}))
    result = planner.study(study_file, folder=tmp_path / "out", workers=1)
    assert result.cases["case"].nunique() == 2 and result.failures == []
    assert not result.results.empty and "2 cases" in repr(result)
    copy = result.to_folder(tmp_path / "copy")
    assert (copy / "report.html").exists()


@pytest.mark.slow
def test_calibrate_fits_the_trace(tmp_path):
    result = planner.calibrate(TRACE, nodes=400, days=348, log_format="stepfun")
    assert len(result.rates) > 0 and "categories" in repr(result)
    assert "cluster" in yaml.safe_load(result.overrides)
    folder = result.to_folder(tmp_path / "cal")
    assert (folder / "overrides.yaml").exists()


@pytest.mark.slow
def test_the_notebook_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(ROOT / "examples" / "notebook.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "goodput" in printed and "ETTR (pretrain-8k)" in printed
