"""The sanction options from the command line: --out-of-sample and --loop write their tables
and reports; misuse is one line and exit 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from tests.conftest import ROOT, invoke_planner

SANCTIONS = ROOT / "scenarios" / "sanctions-2027.yaml"
SMALL = ("--set", "sanctions.paths=200", "--set", "sanctions.leaves=5",
         "--set", "procurement.quarters=4")


@pytest.mark.parametrize("args, pattern", [
    (("run", str(ROOT / "scenarios" / "h800-10k.yaml"), "--loop", "2"),
     "--loop 2: needs a procurement section"),
    (("optimize", str(ROOT / "scenarios" / "procurement-2027.yaml"), "--out-of-sample", "10"),
     "--out-of-sample 10: needs a sanctions section"),
    (("optimize", str(SANCTIONS), "--scheduler", "local"),
     "--scheduler local: applies to --out-of-sample only"),
    (("optimize", str(SANCTIONS), "--out-of-sample", "10", "--scheduler", "udp://x"),
     "--scheduler udp://x: must be `local` or the address"),
    (("run", str(SANCTIONS), "--loop", "-1"), "--loop -1: must be at least 0"),
    (("optimize", str(SANCTIONS), "--out-of-sample", "10", "--rolling", "-5"),
     "--rolling -5: must be at least 0"),
])
def test_misuse_is_one_line_and_exit_2(tmp_path, args, pattern):
    result = invoke_planner(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and pattern in lines[0], lines
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_out_of_sample_writes_its_tables_and_report_section(tmp_path):
    out = tmp_path / "oos"
    result = invoke_planner("optimize", str(SANCTIONS), *SMALL, "--out-of-sample", "300",
                            "--rolling", "60", "--out", str(out))
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "plan_oos_summary.csv")
    assert list(summary["measure"]) == [
        "in-sample expected cost", "out-of-sample expected cost",
        "out-of-sample unmet demand (PFLOP/s-hours)", "rolling-horizon expected cost",
        "rolling-horizon unmet demand (PFLOP/s-hours)", "lower bound (risk-neutral optimum)",
        "optimality gap (Mak-Morton-Wood)"]
    assert summary.set_index("measure").loc["rolling-horizon expected cost", "n"] == 60
    paths = pd.read_csv(out / "plan_oos_paths.csv")
    assert paths.groupby("policy")["weight"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert len(pd.read_csv(out / "plan_oos_replications.csv")) == 5
    assert "Out of sample" in (out / "report.html").read_text()
    assert (out / "plot_out_of_sample.svg").exists()
    risk = pd.read_excel(out / "report.xlsx", sheet_name="Risk")
    assert list(risk[risk["section"] == "out_of_sample"]["measure"]) == list(summary["measure"])
    assert "out of sample" in result.output


@pytest.mark.slow
def test_run_loop_writes_its_rounds(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "loop"
    result = invoke_planner("run", str(SANCTIONS), *SMALL, "-r", "2", "--loop", "4",
                            "--out", str(out))
    assert result.exit_code == 0, result.output
    rounds = pd.read_csv(out / "plan_loop_rounds.csv")
    assert 1 <= len(rounds) <= 4 and rounds["round"].tolist() == list(range(1, len(rounds) + 1))
    info = json.loads((out / "optimization.json").read_text())["loop"]
    assert info["rounds"] == len(rounds)
    assert info["converged"] == (not rounds["plan_changed"].iloc[-1])
    assert (out / "plan_loop_capacity.csv").exists() and "closed loop" in result.output
    assert yaml.safe_load((out / "scenario.yaml").read_text())["name"] == "sanctions-2027"
