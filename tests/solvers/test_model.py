"""The procurement model against brute force, CVaR's definition and finite differences."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
import pytest

from solvers.highs import Solver
from solvers.model import build_model, cvar
from solvers.optimize import Infeasible, _fix_first_stage, optimize, pareto_front, shadow_prices
from solvers.problem import RiskSettings, SolverSettings
from solvers.results import sample_cvar
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=0.0, threads=1)


def _objective(m) -> float:
    return float(pyo.value(m.obj))


def _brute_force(inp) -> float:
    """Enumerate every integer first-stage plan (orders 0..3, stockpile 0..1, platforms) and
    solve the remaining continuous recourse LP for each; one persistent solver is reused."""
    m = build_model(inp)
    x_keys, z_keys, platforms = list(m.x), list(m.z), list(m.u)
    solver = Solver(EXACT)
    best = np.inf
    for xs in itertools.product(range(4), repeat=len(x_keys)):
        for zs in itertools.product(range(2), repeat=len(z_keys)):
            for us in itertools.product((0, 1), repeat=len(platforms)):
                if any(m.P.adopted[p] and not u for p, u in zip(platforms, us, strict=True)):
                    continue
                for primary in platforms:
                    values = {("x", k): v for k, v in zip(x_keys, xs, strict=True)}
                    values.update({("z", k): v for k, v in zip(z_keys, zs, strict=True)})
                    values.update({("u", p): v for p, v in zip(platforms, us, strict=True)})
                    values.update({("pm", p): float(p == primary) for p in platforms})
                    _fix_first_stage(m, values)
                    out = solver.solve(m)
                    if out.has_solution:
                        best = min(best, _objective(m))
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
    out = Solver(EXACT).solve(m)
    assert out.status == "optimal"
    assert _objective(m) == pytest.approx(_brute_force(inp), rel=1e-7)


@pytest.mark.slow
def test_two_period_milp_matches_brute_force():
    inp = instance(periods=2, demand_pflops=70.0, block_probability=0.5, block_from=1)
    inp = replace(inp, supply_caps=inp.supply_caps.assign(supply_cap_nodes=3.0))
    m = build_model(inp)
    assert Solver(EXACT).solve(m).status == "optimal"
    assert _objective(m) == pytest.approx(_brute_force(inp), rel=1e-7)


@pytest.mark.parametrize("measure", ["cost", "shortfall"])
def test_cvar_matches_its_sample_definition(measure):
    inp = instance(periods=4, demand_pflops=110.0, block_probability=0.3,
                   risk=RiskSettings(measure=measure, alpha=0.6, weight=0.5),
                   unmet_penalty_usd_per_pflops_hour=5.0)
    m = build_model(inp)
    assert Solver(EXACT).solve(m).status == "optimal"
    values = np.array([pyo.value(m.cost[s]) if measure == "cost"
                       else sum(m.P.hours[t] * m.U[t, s].value for t in m.T) for s in m.S])
    probs = np.array([m.P.prob[s] for s in m.S])
    assert pyo.value(cvar(m)) == pytest.approx(sample_cvar(values, probs, 0.6), rel=1e-6)


def test_sample_cvar_by_hand():
    # outcomes 0 (p=0.5), 10 (p=0.3), 100 (p=0.2); CVaR_0.6 = mean of the worst 40 %: (0.2*100+0.2*10)/0.4
    assert sample_cvar(np.array([0.0, 10.0, 100.0]), np.array([0.5, 0.3, 0.2]), 0.6) == \
        pytest.approx(55.0)


def test_shadow_price_of_budget_matches_finite_difference():
    inp = instance(periods=3, demand_pflops=120.0, budget_usd=1.6e6, block_probability=0.4)
    result = optimize(inp, EXACT, analyses=False)
    m = build_model(inp)
    Solver(EXACT).solve(m)
    prices = shadow_prices(m, EXACT)
    binding = prices[(prices["family"] == "budget_period") & prices["binding"]]
    assert len(binding), "the instance must have a binding budget row"
    row = binding.iloc[0]
    t = row["index_1"]
    # finite difference of B_t (one row per scenario) on the LP with the same first stage fixed
    step = 1000.0
    _fix_first_stage(m)
    base = Solver(EXACT).solve(m).objective
    for (period, _s), con in m.budget_period.items():
        if period == t:
            con.set_value((con.lower, con.body, con.upper + step))
    moved = Solver(EXACT).solve(m).objective
    assert (moved - base) / step == pytest.approx(row["shadow_price"], rel=1e-4, abs=1e-9)
    assert result.result.summary["expected_cost_usd"] > 0


def test_shadow_price_of_supply_includes_recourse_rows():
    inp = instance(periods=2, demand_pflops=150.0, budget_usd=1e8, block_probability=0.4)
    m = build_model(inp)
    Solver(EXACT).solve(m)
    prices = shadow_prices(m, EXACT)
    row = prices[(prices["family"] == "supply_cap") & (prices["index_1"] == "A")
                 & (prices["index_2"] == "P0")].iloc[0]
    _fix_first_stage(m)
    base = Solver(EXACT).solve(m).objective
    m.P.supply["A", "P0"] += 1.0  # Q enters supply_cap and q (Q - x) of the recourse rows
    m.del_component(m.recourse_supply_cap)
    from solvers.model import recourse_supply_cap

    recourse_supply_cap(m)
    con = m.supply_cap["A", "P0"]
    con.set_value((con.lower, con.body, con.upper + 1.0))
    moved = Solver(EXACT).solve(m).objective
    assert moved - base == pytest.approx(row["shadow_price"], rel=1e-4, abs=1e-6)
    assert row["shadow_price"] < 0


def test_recourse_cannot_anticipate_a_block():
    """Before the block, the open and blocked scenarios are one node: one recourse decision."""
    inp = instance(periods=3, demand_pflops=150.0, budget_usd=1e8, block_probability=0.5,
                   block_from=1)
    m = build_model(inp)
    assert m.node["P0", "open"] == m.node["P0", "blocked"]
    assert m.node["P1", "open"] != m.node["P1", "blocked"]
    Solver(EXACT).solve(m)
    from solvers.model import y_of

    for k in m.K:
        assert y_of(m, k, "P0", "open") is y_of(m, k, "P0", "blocked")


def test_pareto_front_trades_cost_for_risk():
    inp = instance(periods=4, demand_pflops=90.0, risk=RiskSettings(measure="cost", alpha=0.5))
    front = pareto_front(inp, EXACT, 4)
    assert len(front) >= 3
    assert (np.diff(front["expected_cost_usd"]) >= -1e-3).all()
    assert (np.diff(front["cvar_cost"]) <= 1e-3).all()
    assert front["cvar_cost"].iloc[-1] < front["cvar_cost"].iloc[0]


def test_infeasible_demand_names_period_family_and_gap():
    inp = instance(periods=3, demand_pflops=200.0, budget_usd=5e5, allow_unmet=False)
    inp = replace(inp, periods=inp.periods.assign(rental_cap_gpus=0.0))
    with pytest.raises(Infeasible, match=r"demand in P\d .*exceeds what the budget .*by [\d,]+ PFLOP/s"):
        optimize(inp, EXACT, analyses=False)


def test_infeasible_largest_job_is_explained():
    inp = instance(periods=2, demand_pflops=10.0)
    inp = replace(inp, periods=inp.periods.assign(largest_job_pflops=[500.0, 500.0]))
    with pytest.raises(Infeasible, match=r"largest job constraint \(\w+ P\d \w+\) is short by"):
        optimize(inp, EXACT, analyses=False)


def test_too_tight_cvar_cap_is_explained():
    inp = instance(periods=3, demand_pflops=90.0, risk=RiskSettings(alpha=0.5, cvar_cap=1000.0))
    with pytest.raises(Infeasible, match="CVaR cap"):
        optimize(inp, EXACT, analyses=False)


def test_diagnosis_names_an_earlier_budget_when_orders_need_lead_time():
    inp = instance(periods=3, demand_pflops=120.0, allow_unmet=False)
    inp = replace(inp, skus=inp.skus.assign(lead_periods=[1, 1, 1]),
                  periods=inp.periods.assign(budget_usd=[3e5, 3e5, 1e9], rental_cap_gpus=0.0))
    with pytest.raises(Infeasible, match=r"demand in P\d.* exceeds what the budget"):
        optimize(inp, EXACT, analyses=False)
