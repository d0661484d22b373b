"""The plan as the simulator gets it: every first-stage order a plain delivery, every recourse
order of a derived scenario a delivery contingent on that scenario's shock outcomes."""

from __future__ import annotations

from planner import pipeline
from planner.bridge import scenario_outcomes
from tests.conftest import ROOT

EXAMPLE = ROOT / "scenarios" / "procurement-2027.yaml"


def _plan(*sets: str):
    loaded = pipeline.load(EXAMPLE, sets)
    plan = pipeline.optimize(loaded, pipeline.solver_settings(loaded), pipeline.NO_ANALYSES)
    return loaded, plan, pipeline.with_plan(loaded, plan)


def _deliveries(scenario):
    return [(p.sku, d) for p in scenario.cluster.pools for d in p.deliveries]


def test_every_order_of_the_plan_is_simulated_in_its_scenario():
    loaded, plan, applied = _plan()
    result = plan.optimization.result
    plain = [(sku, d) for sku, d in _deliveries(applied.scenario) if not d.when]
    contingent = [(sku, d) for sku, d in _deliveries(applied.scenario) if d.when]
    assert sorted((sku, d.nodes) for sku, d in plain) == sorted(
        (r.sku, r.nodes) for r in result.buy.itertuples(index=False))
    outcomes = scenario_outcomes(loaded.scenario)
    recourse = result.recourse[result.recourse["nodes"] > 0.5]
    assert len(recourse) and len(contingent) == len(recourse)
    for r in recourse.itertuples(index=False):
        wanted = [{"shock": name, "from_quarter": None if key is None else key[0],
                   "until_quarter": None if key is None else key[1]}
                  for name, key in outcomes[r.scenario]]
        match = [d for sku, d in contingent if sku == r.sku and d.nodes == round(r.nodes)
                 and [o.model_dump() for o in d.when] == wanted]
        assert len(match) == 1, r
    assert pipeline.plan_notes(loaded.scenario, plan) == []


def test_recourse_of_hand_listed_scenarios_is_not_simulated_and_says_so():
    scenarios = ("procurement.scenarios=[{name: calm, probability: 0.6}, {name: cut, "
                 "probability: 0.4, blocks: [{vendor: Nvidia, from_quarter: 2027Q3}]}]")
    loaded, plan, applied = _plan(scenarios)
    assert (plan.optimization.result.recourse["nodes"] > 0.5).any()
    assert not [d for _, d in _deliveries(applied.scenario) if d.when]
    notes = pipeline.plan_notes(loaded.scenario, plan)
    assert len(notes) == 1 and "simulates the first-stage orders only" in notes[0]
