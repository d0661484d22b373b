"""The out-of-sample proof on an instance whose law is small enough to solve exactly: three
outcomes of one Nvidia block over two quarters. The Mak-Morton-Wood gap's interval (trees of
200 paths) covers the true gap of the plan chosen on 12 paths, the hindsight estimate is not
above the plan's true cost, and the evaluation does not depend on the number of workers."""

from __future__ import annotations

import math

import pytest
import yaml

from planner import pipeline
from planner.sanctions.evaluate import out_of_sample
from planner.scenario.loader import load_scenario_text
from solvers.evaluate import fixed_plan_costs
from solvers.optimize import plan_of
from tests.conftest import ROOT

RATE = 0.3


def _scenario(**sanctions) -> dict:
    data = yaml.safe_load((ROOT / "scenarios" / "sanctions-2027.yaml").read_text())
    proc = data["procurement"]
    proc.update(quarters=2, integer_orders=False, integer_recourse=False,
                risk={"measure": "cost", "alpha": 0.9, "weight": 0.0},
                solver={"profile": "default", "mip_rel_gap": 1e-7})
    proc["demand"] = {"fleet_multiple_start": 1.0, "fleet_multiple_end": 1.3}
    data["sanctions"] = {"paths": 12, "leaves": 10, "seed": 3, "events": [
        {"type": "vendor_node_block", "vendors": ["Nvidia"], "hazard_per_quarter": RATE}],
        **sanctions}
    return data


def _load(data: dict):
    return load_scenario_text(yaml.safe_dump(data, sort_keys=False), "oos.yaml", ())


def _exact(data: dict):
    """The scenario with the law's three outcomes listed with their exact probabilities."""
    p = -math.expm1(-RATE)
    exact = [{"name": "open", "probability": (1 - p) ** 2},
             {"name": "late", "probability": (1 - p) * p,
              "blocks": [{"vendor": "Nvidia", "from_quarter": "2027Q2"}]},
             {"name": "early", "probability": p,
              "blocks": [{"vendor": "Nvidia", "from_quarter": "2027Q1"}]}]
    listed = {**data, "procurement": {**data["procurement"], "scenarios": exact}}
    listed.pop("sanctions")
    return _load(listed)


@pytest.mark.slow
def test_the_gap_interval_covers_the_true_gap_and_hindsight_is_optimistic():
    data = _scenario()
    loaded = _load(data)
    settings = pipeline.solver_settings(loaded)
    plan = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES).optimization.result
    exact = _exact(data)
    best = pipeline.optimize(exact, settings, pipeline.NO_ANALYSES).optimization.result
    optimum = best.summary["expected_cost_usd"]
    on_law = fixed_plan_costs(pipeline.optimize(exact, settings, pipeline.NO_ANALYSES).problem,
                              settings, plan_of(plan))
    true_cost = float((on_law["probability"] * on_law["cost_usd"]).sum())
    true_gap = true_cost - optimum
    assert true_gap >= -1e-6 * optimum
    oos = out_of_sample(loaded, plan, settings, paths=400,
                        in_sample_usd=plan.summary["expected_cost_usd"], workers=1,
                        replications=8, replication_paths=200)
    summary = oos.summary.set_index("measure")
    gap = summary.loc["optimality gap (Mak-Morton-Wood)"]
    assert gap["ci_low_usd"] - 1e-6 * optimum <= true_gap <= gap["ci_high_usd"] + 1e-6 * optimum
    lower = summary.loc["lower bound (risk-neutral optimum)"]
    assert lower["ci_low_usd"] <= optimum * (1 + 1e-6)
    hindsight = summary.loc["out-of-sample expected cost"]
    assert hindsight["ci_low_usd"] <= true_cost  # recourse that knows the future costs less
    assert oos.paths.groupby("policy").size().max() <= 3  # the law has three outcomes


@pytest.mark.slow
def test_the_evaluation_does_not_depend_on_the_workers_or_the_executor():
    loaded = _load(_scenario())
    settings = pipeline.solver_settings(loaded)
    plan = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES).optimization.result
    one = out_of_sample(loaded, plan, settings, 200, 0.0, workers=1, replications=2)
    for other in (out_of_sample(loaded, plan, settings, 200, 0.0, workers=2, replications=2),
                  out_of_sample(loaded, plan, settings, 200, 0.0, workers=2, replications=2,
                                scheduler="local")):
        assert one.summary.equals(other.summary) and one.paths.equals(other.paths)


@pytest.mark.slow
def test_the_rolling_policy_pays_what_the_plan_costs_on_the_law_and_hindsight_pays_less():
    """The tree of 12 paths holds the law's three outcomes, so re-solving on it quarter by
    quarter is the law's own recourse: each path costs what the plan costs in its outcome
    (exact tree, no hindsight); hindsight is never dearer on the same path."""
    data = _scenario()
    loaded = _load(data)
    settings = pipeline.solver_settings(loaded)
    plan = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES).optimization.result
    exact = _exact(data)
    law = fixed_plan_costs(pipeline.optimize(exact, settings, pipeline.NO_ANALYSES).problem,
                           settings, plan_of(plan)).set_index("scenario")["cost_usd"]
    oos = out_of_sample(loaded, plan, settings, paths=300, in_sample_usd=0.0, workers=1,
                        replications=2, replication_paths=50, rolling_paths=300)
    paths = oos.paths.set_index(["policy", "scenario"])["cost_usd"]
    outcome = {"no-event": "open", "Nvidia-block-2027Q2": "late", "Nvidia-block-2027Q1": "early"}
    rolling = paths.loc["first stage fixed, rolling horizon on the reduced tree"]
    hindsight = paths.loc["first stage fixed, recourse with hindsight"]
    assert set(rolling.index) == set(outcome)
    for name, cost in rolling.items():
        assert cost == pytest.approx(law[outcome[name]], rel=1e-6)
        assert hindsight[name] <= cost * (1 + 1e-9)
    summary = oos.summary.set_index("measure")
    law_probability = {sc.name: sc.probability for sc in exact.scenario.procurement.scenarios}
    true_cost = sum(law[name] * p for name, p in law_probability.items())
    row = summary.loc["rolling-horizon expected cost"]
    assert row["ci_low_usd"] <= true_cost <= row["ci_high_usd"]
