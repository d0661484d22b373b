"""A fixed plan evaluated per scenario: one scenario that admits no recourse is reported as such
without hiding the others' costs, and each feasible cost is the scenario's own optimum."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from solvers.evaluate import fixed_plan_costs, only_scenarios
from solvers.problem import SolverSettings
from tests.solvers.instances import instance

PLAN = {"u": {"X": 1.0}, "pm": {"X": 1.0}}  # no orders, no stockpile, platform X


def _instance():
    """Vendor A blocked from the start in `blocked`, vendor B out of stock, demand that the
    installed a1 nodes and rental cannot meet alone: `blocked` admits no recourse."""
    inp = instance(periods=3, demand_pflops=48.0, budget_usd=1e8, block_probability=0.5,
                   block_from=0, allow_unmet=False)
    caps = inp.supply_caps.copy()
    caps.loc[caps.index.get_level_values("vendor") == "B", "supply_cap_nodes"] = 0.0
    return replace(inp, supply_caps=caps, hindsight=True)


def test_an_infeasible_scenario_does_not_hide_the_others():
    inp = _instance()
    rows = fixed_plan_costs(inp, SolverSettings(), PLAN).set_index("scenario")
    assert not rows.loc["blocked", "feasible"] and math.isinf(rows.loc["blocked", "cost_usd"])
    assert rows.loc["open", "feasible"] and math.isfinite(rows.loc["open", "cost_usd"])
    assert rows["probability"].to_dict() == {"open": 0.5, "blocked": 0.5}
    # the open scenario's cost is what it costs alone
    alone = only_scenarios(inp, inp.scenarios.loc[["open"]].assign(probability=1.0))
    only_open = fixed_plan_costs(alone, SolverSettings(), PLAN).set_index("scenario")
    assert rows.loc["open", "cost_usd"] == pytest.approx(only_open.loc["open", "cost_usd"])
