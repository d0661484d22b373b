"""`planner optimize` on the example: outputs, exit codes, and the block-probability response."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from planner.procurement import build_input
from planner.scenario.loader import load_scenario
from solvers.optimize import optimize
from solvers.problem import SolverSettings
from tests.conftest import ROOT, invoke_planner

EXAMPLE = ROOT / "scenarios" / "procurement-2027.yaml"


@pytest.fixture(scope="module")
def optimized(planner_cli, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("opt")
    proc = planner_cli("optimize", str(EXAMPLE), "--out", str(out), "--pareto", "3",
                       "--analyses", "all", "--reoptimize-prices", "-q")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
def test_optimize_writes_plan_tables_and_summary(optimized):
    for stem in ("orders", "stockpile", "fleet", "capacity", "costs", "shadow_prices", "pareto",
                 "platforms", "recourse", "buy", "contingent", "cash", "inputs", "limit_prices"):
        assert (optimized / f"plan_{stem}.csv").exists() and (optimized / f"plan_{stem}.parquet").exists()
    summary = json.loads((optimized / "optimization.json").read_text())
    assert summary["status"] in ("optimal", "time_limit")
    for key in ("expected_cost_usd", "cvar_cost_usd", "worst_case_shortfall_pflops",
                "value_of_information", "discount_rate", "shadow_price_convention"):
        assert key in summary
    assert summary["analyses"] == "all"
    assert summary["value_of_information"]["evpi_usd"] >= -1e-3
    log = (optimized / "highs.log").read_text()
    assert "HiGHS" in log and "scal" not in log.lower()  # costs in $M: no badly-scaled warning


@pytest.mark.slow
def test_the_loophole_instance_is_infeasible_and_names_the_share(planner_cli, tmp_path):
    """A 100 % domestic share with no domestic supply: no order of the foreign vendor may slip
    in as a first-quarter 'recourse' (exit 3, the share named). Without the share (and the
    same caps) the instance has a plan."""
    caps = "procurement.vendor_caps_nodes_per_quarter={Nvidia: 250, Huawei: 0, Cambricon: 0}"
    sets = ("--set", "supply_shocks=[]", "--set", caps, "--set", "procurement.allow_unmet=false",
            "--set", "procurement.power_cap_mw=40")
    proc = planner_cli("optimize", str(EXAMPLE), *sets, "--set",
                       "procurement.min_domestic_share=1.0", "--out", str(tmp_path / "a"), "-q")
    assert proc.returncode == 3, proc.stderr
    line = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and len(line.splitlines()) == 1
    assert "infeasible: the minimum domestic share is short by" in line, line
    assert not (tmp_path / "a").exists()
    proc = planner_cli("optimize", str(EXAMPLE), *sets, "--analyses", "none",
                       "--out", str(tmp_path / "b"), "-q")
    assert proc.returncode == 0, proc.stderr


def test_bad_procurement_input_exits_2(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["procurement"]["candidates"][0]["sku"] = "H999"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = invoke_planner("optimize", str(path), "-q", "--out", str(tmp_path / "a"))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "procurement.candidates[0].sku: unknown SKU 'H999'" in result.stderr
    result = invoke_planner("optimize", str(EXAMPLE), "--profile", "nope", "-q",
                            "--out", str(tmp_path / "b"))
    assert result.exit_code == 2 and "unknown solver profile 'nope'" in result.stderr


def test_share_bought_from_the_blocked_vendor_never_rises_with_block_probability():
    """LP relaxation of the example: P(block) 0, 0.2, ..., 1.0."""
    loaded = load_scenario(EXAMPLE)
    base = build_input(loaded.scenario, loaded.catalog)
    shares = []
    for p in np.linspace(0.0, 1.0, 6):
        scenarios = base.scenarios.copy()
        assert list(scenarios.index) == ["no-block", "nvidia-block-from-2027Q3"]
        scenarios.loc["no-block", "probability"] = 1.0 - p
        scenarios.loc["nvidia-block-from-2027Q3", "probability"] = p
        inp = replace(base, scenarios=scenarios, integer_orders=False)
        result = optimize(inp, SolverSettings(mip_rel_gap=0.0), analyses="none").result
        orders = result.orders
        pflops = orders["effective_pflops"].sum()
        nvidia = orders.loc[orders["vendor"] == "Nvidia", "effective_pflops"].sum()
        shares.append(nvidia / pflops if pflops > 0 else 0.0)
    assert all(b <= a + 1e-6 for a, b in zip(shares, shares[1:], strict=False)), shares
    assert shares[-1] < shares[0], shares


HARD = ("--set", "procurement.quarters=12", "--set", "procurement.demand.fleet_multiple_end=3",
        "--set", "supply_shocks=[{name: nv, vendor: Nvidia, probability: 0.6, window_start_date: "
        "2027-03-01, window_end_date: 2029-06-30}, {name: hw, vendor: Huawei, probability: 0.3, "
        "window_start_date: 2027-06-01, window_end_date: 2029-06-30}]",
        "--set", "procurement.solver.mip_rel_gap=0", "--set", "procurement.solver.threads=1")


@pytest.mark.slow
def test_time_limit_before_any_plan_is_not_called_infeasible(planner_cli, tmp_path):
    # the root LP of this instance alone takes seconds: no plan exists after 0.05 s on any
    # machine (the time limit with a plan: tests/solvers/test_highs.py)
    proc = planner_cli("optimize", str(EXAMPLE), *HARD, "--set",
                    "procurement.solver.time_limit_s=0.05", "--out", str(tmp_path), "-q")
    assert proc.returncode == 4, proc.stderr
    assert "no plan: time limit 0.05 s reached before any feasible plan" in proc.stderr
    assert "infeasible" not in proc.stderr


def test_out_of_range_procurement_numbers_are_refused_before_the_solver():
    from solvers.problem import RiskSettings

    with pytest.raises(ValueError, match="risk weight must be in"):
        RiskSettings(weight=1e308)
    loaded = load_scenario(EXAMPLE)
    inp = build_input(loaded.scenario, loaded.catalog)
    skus = inp.skus.copy()
    skus.iloc[0, skus.columns.get_loc("price_usd")] = 1e300
    with pytest.raises(ValueError, match=r"skus table, column price_usd: 1e\+300 is beyond 1e\+15"):
        replace(inp, skus=skus)
    periods = inp.periods.copy()
    periods.iloc[0, periods.columns.get_loc("demand_pflops")] = np.inf
    with pytest.raises(ValueError, match="periods table, column demand_pflops: not a finite"):
        replace(inp, periods=periods)
    periods = inp.periods.copy()
    periods["racks"] = np.inf  # no rack limit is a valid input
    replace(inp, periods=periods)


def test_analyses_none_writes_the_plan_without_prices(tmp_path):
    result = invoke_planner("optimize", str(EXAMPLE), "--analyses", "none", "-q",
                            "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "optimization.json").read_text())
    assert summary["analyses"] == "none" and summary["value_of_information"] == {}
    assert "shadow_prices" not in summary["timings_s"]
    import pandas as pd

    assert pd.read_parquet(tmp_path / "plan_shadow_prices.parquet").empty
    buy = pd.read_parquet(tmp_path / "plan_buy.parquet")
    orders = pd.read_parquet(tmp_path / "plan_orders.parquet")
    assert buy["nodes"].sum() == round(orders["nodes"].sum()) > 0


@pytest.mark.parametrize(("args", "message"), [
    (("--price-step", "0"), "--price-step 0: must be above 0 and at most 0.5"),
    (("--price-step", "0.9"), "--price-step 0.9: must be above 0 and at most 0.5"),
    (("--analyses", "none", "--reoptimize-prices"),
     "--reoptimize-prices: needs --analyses prices or all, not none"),
    (("--analyses", "some"), "Invalid value for '--analyses'"),
])
def test_bad_analysis_options_are_one_line_errors(tmp_path, args, message):
    result = invoke_planner("optimize", str(EXAMPLE), *args, "-q", "--out", str(tmp_path))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_reoptimized_prices_and_utilization_sensitivity_from_the_cli(tmp_path):
    import pandas as pd

    result = invoke_planner("optimize", str(EXAMPLE), "--reoptimize-prices", "--price-step",
                            "0.02", "--sensitivity", "utilization", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    limits = pd.read_parquet(tmp_path / "plan_limit_prices.parquet")
    assert len(limits) and (limits["step"] > 0).all()
    assert {"change_per_unit_up", "change_per_unit_down"} <= set(limits.columns)
    sensitivity = pd.read_parquet(tmp_path / "plan_sensitivity.parquet")
    assert sensitivity["level"].iloc[0] == "base"
    assert set(sensitivity["level"].iloc[1:]) <= {"low", "high", "fixed"}
    assert "plan at each SKU's low and high utilization" in result.stdout
    # the same folder optimized again without them: the old optional tables go
    result = invoke_planner("optimize", str(EXAMPLE), "-q", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "plan_limit_prices.parquet").exists()
    assert not (tmp_path / "plan_sensitivity.parquet").exists()
