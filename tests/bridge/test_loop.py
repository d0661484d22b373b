"""The closed loop: the simulator's scenario is the plan in that optimizer scenario, factors
scale what they should and average as documented, and on the example the loop converges, stays
converged and leaves simulated compute within 1 % of what the plan counts on."""

from __future__ import annotations

import pandas as pd
import pytest

from planner import pipeline
from planner.bridge import loop
from planner.quarters import quarter_start
from solvers.optimize import plan_of
from tests.conftest import ROOT

EXAMPLE = ROOT / "scenarios" / "sanctions-2027.yaml"
SMALL = ("sanctions.paths=300", "sanctions.leaves=6", "procurement.quarters=4",
         "procurement.solver.mip_rel_gap=0.001")


@pytest.fixture(scope="module")
def planned():
    loaded = pipeline.load(EXAMPLE, SMALL)
    plan = pipeline.optimize(loaded, pipeline.solver_settings(loaded), pipeline.NO_ANALYSES)
    return loaded, plan


def test_the_simulated_scenario_is_the_plan_in_that_scenario(planned):
    loaded, plan = planned
    inp, result = plan.problem, plan.optimization.result
    blocked = [s for s in inp.scenario_labels if "block" in s]
    assert blocked
    name = blocked[0]
    sim = loop.scenario_in(loaded, inp, result, name)
    assert sim.procurement is None and sim.sanctions is None
    shocks = {(s.vendor, s.date) for s in sim.supply_shocks}
    vs = inp.vendor_scenarios.reset_index()
    first_blocked = vs[(vs.scenario == name) & (vs.vendor == "Nvidia") & vs.blocked]
    assert ("Nvidia", quarter_start(first_blocked.period.min())) in shocks
    delivered = {(p.sku): sum(d.nodes for d in p.deliveries) for p in sim.cluster.pools}
    lead = {c.sku: c.lead_time_quarters for c in loaded.scenario.procurement.candidates}
    quarters = inp.period_labels
    for sku in {r.sku for r in result.orders.itertuples() if r.nodes > 0.5}:
        rows = [*result.orders[result.orders.sku == sku].itertuples(),
                *result.recourse[(result.recourse.sku == sku)
                                 & (result.recourse.scenario == name)].itertuples()]
        want = 0
        for r in rows:
            arrival = quarters.index(r.period) + lead[sku]
            if arrival < len(quarters):
                share = inp.vendor_scenarios.loc[
                    (inp.skus.loc[sku, "vendor"], quarters[arrival], name), "delivered_fraction"]
                want += round(r.nodes * share)
        assert delivered.get(sku, 0) == want, sku


def test_factors_scale_availability_and_pieces_of_their_cell_only(planned):
    _, plan = planned
    inp = plan.problem
    cell = next(iter(inp.stockpile_pieces[["sku", "period", "scenario"]].itertuples(
        index=False, name=None)))
    scaled = loop.with_factors(inp, {cell: 0.8})
    before, after = inp.availability["availability"], scaled.availability["availability"]
    assert after[cell] == pytest.approx(0.8 * before[cell])
    assert (after.drop(cell) == before.drop(cell)).all()
    p0, p1 = inp.stockpile_pieces, scaled.stockpile_pieces
    mask = (p0.sku == cell[0]) & (p0.period == cell[1]) & (p0.scenario == cell[2])
    assert list(p1[mask].intercept) == pytest.approx(list(0.8 * p0[mask].intercept))
    assert list(p1[mask].slope) == pytest.approx(list(0.8 * p0[mask].slope))
    assert p1[~mask].equals(p0[~mask])


def test_successive_averages():
    table = pd.DataFrame({"sku": ["k"], "period": ["q"], "scenario": ["s"], "factor": [0.5]})
    measured = loop.Measured(table)
    assert loop.averaged_factors({}, measured, 1)[("k", "q", "s")] == pytest.approx(0.5)
    # round 3 from f = 0.8: f (1 + (rho - 1) / 3)
    got = loop.averaged_factors({("k", "q", "s"): 0.8}, measured, 3)[("k", "q", "s")]
    assert got == pytest.approx(0.8 * (1 - 0.5 / 3))


def test_plans_within_half_a_node_are_the_same():
    a = {"x": {("k", "q"): 10.0}, "z": {}, "u": {"X": 1.0}, "pm": {"X": 1.0}}
    assert loop.same_plan(a, {**a, "x": {("k", "q"): 10.2}})
    assert not loop.same_plan(a, {**a, "x": {("k", "q"): 11.0}})
    assert not loop.same_plan(a, {**a, "pm": {"X": 0.0}})


@pytest.mark.slow
def test_the_loop_converges_on_the_example_and_stays_converged(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path))
    loaded = pipeline.load(EXAMPLE, SMALL)
    settings = pipeline.solver_settings(loaded)
    plan = pipeline.optimize_in_loop(loaded, settings, pipeline.NO_ANALYSES, rounds=6, workers=2)
    result = plan.loop
    assert result.converged and len(result.rounds) <= 6
    assert not result.rounds["plan_changed"].iloc[-1]
    assert result.rounds["plan_changed"].iloc[0]
    assert result.capacity["meets_plan"].all(), result.capacity[~result.capacity["meets_plan"]]
    # idempotent: one more round with the factors it ended on keeps the plan
    again = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES, result.applied,
                              plan_of(plan.optimization.result))
    assert loop.same_plan(plan_of(again.optimization.result), plan_of(plan.optimization.result))
