"""The procurement model against brute force, CVaR's definition and finite differences."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from pyomo.common.collections import ComponentMap

from solvers.highs import HighsModel
from solvers.model import MONEY, build_model, cvar
from solvers.optimize import pareto_front
from solvers.problem import RiskSettings, SolverSettings
from solvers.results import sample_cvar
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=0.0, threads=1)


def _objective(m) -> float:
    return float(pyo.value(m.obj))


def _brute_force(inp) -> float:
    """Enumerate every integer first-stage plan (orders 0..3, stockpile 0..1, platforms) and
    solve the rest (recourse, rental, fleet) for each on one HiGHS instance whose bounds move."""
    m = build_model(inp)
    x_keys, z_keys, platforms = list(m.x), list(m.z), list(m.u)
    hm = HighsModel(m, EXACT)
    best = np.inf
    for xs in itertools.product(range(4), repeat=len(x_keys)):
        for zs in itertools.product(range(2), repeat=len(z_keys)):
            for us in itertools.product((0, 1), repeat=len(platforms)):
                if any(m.P.adopted[p] and not u for p, u in zip(platforms, us, strict=True)):
                    continue
                for primary in platforms:
                    values = ComponentMap()
                    values.update((m.x[k], float(v)) for k, v in zip(x_keys, xs, strict=True))
                    values.update((m.z[k], float(v)) for k, v in zip(z_keys, zs, strict=True))
                    values.update((m.u[p], float(v)) for p, v in zip(platforms, us, strict=True)
                                  if not m.u[p].fixed)
                    values.update((m.pm[p], float(p == primary)) for p in platforms)
                    hm.restore()
                    hm.fix(values)
                    out = hm.solve()
                    if out.has_solution:
                        best = min(best, out.objective)
    return best


@pytest.mark.slow
@pytest.mark.parametrize(
    ("demand", "block_probability", "job"),
    [(75.0, 0.7, 0.0), (60.0, 0.5, 30.0)],
)
def test_milp_matches_brute_force_enumeration(demand, block_probability, job):
    inp = instance(periods=2, demand_pflops=demand, block_probability=block_probability,
                   block_from=1)
    inp = replace(inp, skus=inp.skus.assign(lead_periods=[0, 0, 0]),
                  supply_caps=inp.supply_caps.assign(supply_cap_nodes=3.0),
                  periods=inp.periods.assign(largest_job_pflops=job))
    inp = replace(inp, periods=inp.periods.iloc[:1])  # one period: x has 3 cells, exact search
    inp = replace(inp, vendor_scenarios=inp.vendor_scenarios[
        inp.vendor_scenarios.index.get_level_values("period") == "P0"],
        availability=inp.availability[inp.availability.index.get_level_values("period") == "P0"],
        supply_caps=inp.supply_caps[inp.supply_caps.index.get_level_values("period") == "P0"],
        stockpile_pieces=inp.stockpile_pieces[inp.stockpile_pieces["period"] == "P0"])
    m = build_model(inp)
    out = HighsModel(m, EXACT).solve()
    assert out.status == "optimal"
    assert _objective(m) == pytest.approx(_brute_force(inp), rel=1e-7)


@pytest.mark.slow
def test_two_period_milp_matches_brute_force():
    inp = instance(periods=2, demand_pflops=70.0, block_probability=0.5, block_from=1)
    inp = replace(inp, supply_caps=inp.supply_caps.assign(supply_cap_nodes=3.0))
    m = build_model(inp)
    assert HighsModel(m, EXACT).solve().status == "optimal"
    assert _objective(m) == pytest.approx(_brute_force(inp), rel=1e-7)


@pytest.mark.parametrize("measure", ["cost", "shortfall"])
def test_cvar_matches_its_sample_definition(measure):
    inp = instance(periods=4, demand_pflops=110.0, block_probability=0.3,
                   risk=RiskSettings(measure=measure, alpha=0.6, weight=0.5),
                   unmet_penalty_usd_per_pflops_hour=5.0)
    m = build_model(inp)
    assert HighsModel(m, EXACT).solve().status == "optimal"
    values = np.array([pyo.value(m.cost[s]) if measure == "cost"
                       else sum(m.P.hours[t] * m.U[t, s].value for t in m.T) for s in m.S])
    probs = np.array([m.P.prob[s] for s in m.S])
    assert pyo.value(cvar(m)) == pytest.approx(sample_cvar(values, probs, 0.6), rel=1e-6)


def test_sample_cvar_by_hand():
    # outcomes 0 (p=0.5), 10 (p=0.3), 100 (p=0.2); CVaR_0.6 = mean of the worst 40 %: (0.2*100+0.2*10)/0.4
    assert sample_cvar(np.array([0.0, 10.0, 100.0]), np.array([0.5, 0.3, 0.2]), 0.6) == \
        pytest.approx(55.0)


def test_recourse_cannot_anticipate_a_block():
    """Before the block, the open and blocked scenarios are one node of the tree: an order placed
    then is first stage (no recourse variable exists there); after it, each has its own."""
    inp = instance(periods=3, demand_pflops=150.0, budget_usd=1e8, block_probability=0.5,
                   block_from=1)
    m = build_model(inp)
    assert m.node["P0", "open"] == m.node["P0", "blocked"]
    assert m.node["P1", "open"] != m.node["P1", "blocked"]
    assert not [key for key in m.y if key[1] == "P0"]
    assert {n for (_k, t, n) in m.y if t == "P1"} <= {"open", "blocked"}


def test_objective_is_the_expected_cost_plus_the_risk_term_in_usd():
    inp = instance(periods=3, demand_pflops=110.0, risk=RiskSettings(alpha=0.6, weight=0.5))
    m = build_model(inp)
    out = HighsModel(m, EXACT).solve()
    expected = sum(m.P.prob[s] * pyo.value(m.cost[s]) for s in m.S)
    assert out.objective == pytest.approx(expected + 0.5 * pyo.value(cvar(m)), rel=1e-9)
    assert pyo.value(m.obj) == pytest.approx(out.objective, rel=1e-9)
    assert out.objective / MONEY > 1e5  # USD in millions inside the model


def test_pareto_front_trades_cost_for_risk():
    inp = instance(periods=4, demand_pflops=110.0, risk=RiskSettings(measure="cost", alpha=0.5))
    front = pareto_front(inp, EXACT, 4)
    assert len(front) >= 3
    assert (np.diff(front["expected_cost_usd"]) >= -1e-3).all()
    assert (np.diff(front["cvar_cost"]) <= 1e-3).all()
    assert front["cvar_cost"].iloc[-1] < front["cvar_cost"].iloc[0]


def test_a_surplus_of_one_part_cannot_offset_another_parts_shortage():
    """Two decaying parts on a1 in the blocked periods: a dear board (half the nodes die
    without it) and a cheap cable. Stocking cables beyond what fails must not lift F_cable
    above a N, or the union bound A <= F_board + F_cable - a N would let cheap cables stand in
    for missing boards."""
    from solvers.optimize import optimize

    base = instance(periods=3, demand_pflops=60.0, budget_usd=1e8, block_probability=1.0,
                    block_from=1, with_stockpile=False)
    nominal = 0.97
    blocked = [(k, t, "blocked") for k in ("a1",) for t in ("P1", "P2")]
    rows = []
    for k, t, s in blocked:
        rows += [(k, "board", t, s, 0, 0.5, 0.5), (k, "board", t, s, 1, nominal, 0.0),
                 (k, "cable", t, s, 0, 0.96, 0.97), (k, "cable", t, s, 1, nominal, 0.0)]
    pieces = pd.DataFrame(rows, columns=["sku", "part", "period", "scenario", "piece",
                                         "intercept", "slope"])
    avail = base.availability.copy()
    avail["availability"] = nominal
    parts = pd.DataFrame({"price_usd": [20_000.0, 1.0]}, index=pd.MultiIndex.from_tuples(
        [("a1", "board"), ("a1", "cable")], names=["sku", "part"]))
    inp = replace(base, stockpile_pieces=pieces, availability=avail, parts=parts,
                  scenarios=pd.DataFrame({"probability": [0.0, 1.0]},
                                         index=base.scenarios.index))
    result = optimize(inp, SolverSettings(mip_rel_gap=1e-9), analyses="none").result
    fleet = result.fleet.set_index(["sku", "period", "scenario"])
    stock = {(r.sku, r.part): r.units for r in result.stockpile.itertuples()}
    for k, t, s in blocked:
        n, available = fleet.loc[(k, t, s), ["installed_nodes", "available_nodes"]]
        assert n >= 1
        board = min(0.5 * n + 0.5 * stock[k, "board"], nominal * n)
        cable = min(0.96 * n + 0.97 * stock[k, "cable"], nominal * n)
        assert available <= board + cable - nominal * n + 1e-6, (t, available, board, cable)


def test_an_order_that_can_arrive_in_no_scenario_of_its_node_is_no_order():
    """A domestic floor cannot be met with orders that never arrive: A is domestic here and
    blocked from P2, so a2 (one quarter's lead) ordered in P1 arrives nowhere along "blocked".
    Such a recourse order is no variable; were it one, a full refund would make it free and the
    floor met by nodes that never come (the plan's cost would then fall with the refund share,
    though the plan loses no delivery)."""
    from solvers.evaluate import fixed_plan_costs

    inp = instance(periods=3, block_from=2, demand_pflops=30.0, budget_usd=3e6,
                   allow_unmet=True, min_domestic_share=0.5, hindsight=True)
    inp = replace(inp, skus=inp.skus.assign(domestic=[True, True, False]))
    m = build_model(inp)
    assert ("a2", "P1", "open") in m.Y and ("a2", "P1", "blocked") not in m.Y
    plan = {"x": {("b1", "P0"): 4.0}, "u": {"X": 1.0, "Y": 1.0}, "pm": {"X": 1.0}}
    exact = SolverSettings(mip_rel_gap=1e-9)
    costs = [fixed_plan_costs(replace(inp, refund_share=rho), exact, plan)
             .set_index("scenario").loc["blocked", "cost_usd"] for rho in (0.5, 1.0)]
    assert costs[0] == pytest.approx(costs[1], rel=1e-9)
