"""The persistent recourse model (solvers/persistent.py) costs every case as solvers/model.py
does with that case alone: a path with hindsight (the same feasibility, cost and unmet demand,
path by path) and a rolling-horizon step on a tree with the past fixed (the same feasibility,
expected cost and unmet demand, and a chosen recourse that is optimal there), on random small
instances with every feature the recourse sees, and on fresh paths of the sanctions example."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.evaluate import Recourse, fixed_plan_costs, only_scenarios, rolling_step
from solvers.model import parameters
from solvers.persistent import Shape, decision_nodes, hindsight_costs, paths_of, solve_cases
from solvers.problem import SolverSettings
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=1e-9)


def _merged(variants: list, price_factor: float, rental_cut: bool, dear_from: int = 1):
    """The scenarios of several instances as one hindsight input (names suffixed by the
    variant), equally likely; vendor B dearer from period `dear_from` in the blocked
    scenarios; overseas rental cut off in the last period of the first blocked one."""
    base = variants[0]
    frames = {"scenarios": [], "vendor_scenarios": [], "availability": [],
              "stockpile_pieces": []}
    for i, inp in enumerate(variants):
        rename = {s: f"{s}-{i}" for s in inp.scenario_labels}
        frames["scenarios"].append(inp.scenarios.rename(index=rename))
        frames["vendor_scenarios"].append(inp.vendor_scenarios.rename(index=rename,
                                                                       level="scenario"))
        frames["availability"].append(inp.availability.rename(index=rename, level="scenario"))
        frames["stockpile_pieces"].append(inp.stockpile_pieces.assign(
            scenario=inp.stockpile_pieces["scenario"].map(rename)))
    scenarios = pd.concat(frames["scenarios"])
    scenarios["probability"] = 1.0 / len(scenarios)
    vendor = pd.concat(frames["vendor_scenarios"])
    idx = vendor.index
    dear = ((idx.get_level_values("vendor") == "B")
            & idx.get_level_values("scenario").str.startswith("blocked")
            & idx.get_level_values("period").isin(base.period_labels[dear_from:]))
    vendor["price_factor"] = np.where(dear, price_factor, 1.0)
    cut = frozenset({(base.period_labels[-1], "blocked-0")}) if rental_cut else frozenset()
    return replace(base, scenarios=scenarios, vendor_scenarios=vendor,
                   availability=pd.concat(frames["availability"]),
                   stockpile_pieces=pd.concat(frames["stockpile_pieces"], ignore_index=True),
                   rental_blocked=cut, hindsight=True)


def _domestic_a(inp):
    """Vendor A (the one blocked) domestic, B foreign."""
    return replace(inp, skus=inp.skus.assign(domestic=inp.skus["vendor"] == "A"))


def _assert_same(inp, plan) -> None:
    reference = fixed_plan_costs(inp, EXACT, plan).set_index("scenario")
    persistent = hindsight_costs(inp, EXACT, plan).set_index("scenario")
    assert list(persistent.index) == inp.scenario_labels
    assert persistent["feasible"].to_dict() == reference.loc[persistent.index, "feasible"].to_dict()
    assert persistent["probability"].to_dict() == pytest.approx(reference["probability"].to_dict())
    feasible = reference["feasible"]
    for column in ("cost_usd", "shortfall_pflops_hours"):
        ours, theirs = persistent.loc[feasible, column], reference.loc[feasible, column]
        assert ours.to_numpy() == pytest.approx(theirs.to_numpy(), rel=1e-7, abs=1e-3), column
    assert persistent.loc[~feasible, "cost_usd"].map(math.isinf).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(periods=st.integers(3, 4), demand=st.sampled_from([30.0, 60.0, 90.0]),
       price_factor=st.sampled_from([1.0, 1.3]), refund=st.sampled_from([0.0, 0.5]),
       rental_cut=st.booleans(), integer=st.booleans(), allow_unmet=st.booleans(),
       power_mw=st.sampled_from([math.inf, 0.12]), share=st.sampled_from([None, 0.6]),
       domestic=st.sampled_from([0.0, 0.3]), life_years=st.sampled_from([math.inf, 4.0]),
       orders=st.integers(0, 4), stock=st.integers(0, 3), adopt_y=st.booleans(),
       a_domestic=st.booleans())
def test_every_path_costs_what_the_model_gives_it_alone(
        periods, demand, price_factor, refund, rental_cut, integer, allow_unmet, power_mw, share,
        domestic, life_years, orders, stock, adopt_y, a_domestic):
    """`a_domestic`: the blocked vendor is the domestic one, so that a share rule could be met
    with orders that never arrive (neither model allows them)."""
    common = dict(periods=periods, demand_pflops=demand, budget_usd=3e6, allow_unmet=allow_unmet,
                  refund_share=refund, integer_recourse=integer, discount_rate=0.08,
                  asset_life_hours=life_years * 8766.0, min_domestic_share=domestic,
                  vendor_share_caps={"A": share} if share is not None else {})
    variants = [instance(block_from=b, **common) for b in range(periods)]
    inp = _merged(variants, price_factor, rental_cut)
    inp = _domestic_a(inp) if a_domestic else inp
    if math.isfinite(power_mw):
        inp = replace(inp, periods=inp.periods.assign(power_cap_mw=power_mw))
    plan = {"x": {("a1", "P0"): float(orders), ("b1", "P1"): float(orders // 2)},
            "z": {("a1", "board"): float(stock)},
            "u": {"X": 1.0, "Y": 1.0 if adopt_y else 0.0}, "pm": {"X": 1.0}}
    _assert_same(inp, plan)


def test_the_sanctions_example_paths_cost_the_same_both_ways():
    """Fresh paths of scenarios/sanctions-2027.yaml (generator, HBM caps, price premiums,
    measured-style stockpile pieces) under a hand-written plan."""
    from planner.api import load_scenario
    from planner.quarters import quarter_labels
    from planner.sanctions import evaluate
    from planner.sanctions.generator import resolve_events, sample_paths
    from planner.sanctions.scenarios import scenario_of

    loaded = load_scenario("scenarios/sanctions-2027.yaml")
    s, proc = loaded.scenario.sanctions, loaded.scenario.procurement
    quarters = quarter_labels(proc.start_quarter, proc.quarters)
    drawn = sample_paths(resolve_events(s, loaded.source), quarters, 60, 5, stream=(9,))
    values, counts = np.unique(drawn.values.reshape(60, -1), axis=0, return_counts=True)
    named = [scenario_of(v.reshape(drawn.values.shape[1:]), c / 60, drawn)
             for v, c in zip(values, counts, strict=True)]
    inp = evaluate._inputs(loaded, named, None, hindsight=True)
    plan = {"x": {("H800", "2027Q1"): 120.0, ("Ascend-910C", "2027Q1"): 150.0,
                  ("Ascend-910C", "2027Q3"): 150.0},
            "z": {("H800", "gpu_board"): 300.0},
            "u": {"CUDA": 1.0, "CANN": 1.0}, "pm": {"CUDA": 1.0}}
    _assert_same(inp, plan)


def test_only_a_hindsight_input_is_taken():
    with pytest.raises(ValueError, match="hindsight"):
        hindsight_costs(instance(), EXACT, {})


def _step_case(inp, plan: dict, past: dict, period: str):
    """The rolling step of `period` on every scenario of `inp` as one persistent case."""
    P = parameters(inp)
    data = paths_of(P, inp)
    case = [data[s] for s in inp.scenario_labels]
    shape = Shape(tuple(float(p) for p in inp.scenarios["probability"]),
                  decision_nodes(P, inp, inp.scenario_labels))
    return solve_cases(inp, EXACT, plan, shape, [case], [past], decide=period)[0]


def _expected(step) -> tuple[float, float]:
    costs = step.costs
    return (float((costs["probability"] * costs["cost_usd"]).sum()),
            float((costs["probability"] * costs["shortfall_pflops_hours"]).sum()))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(periods=st.integers(3, 4), decide=st.integers(0, 2),
       demand=st.sampled_from([30.0, 60.0, 90.0]), price_factor=st.sampled_from([1.0, 1.3]),
       refund=st.sampled_from([0.0, 0.5]), rental_cut=st.booleans(), integer=st.booleans(),
       allow_unmet=st.booleans(), power_mw=st.sampled_from([math.inf, 0.12]),
       share=st.sampled_from([None, 0.6]), domestic=st.sampled_from([0.0, 0.3]),
       life_years=st.sampled_from([math.inf, 4.0]), orders=st.integers(0, 4),
       stock=st.integers(0, 3), done_a=st.integers(0, 3), done_b=st.integers(0, 2),
       rented=st.sampled_from([0.0, 5.0]), a2_usd=st.sampled_from([200_000.0, 90_000.0]),
       growth=st.sampled_from([0.0, 0.7]), alone=st.booleans(), a_domestic=st.booleans())
def test_a_rolling_step_costs_what_the_model_gives_it_and_chooses_an_optimal_recourse(
        periods, decide, demand, price_factor, refund, rental_cut, integer, allow_unmet,
        power_mw, share, domestic, life_years, orders, stock, done_a, done_b, rented, a2_usd,
        growth, alone, a_domestic):
    """The leaves share the history up to the decided period (blocks and price multiples
    start after it), part later (each block date its own branch); the past orders of both
    vendors and rents; an order placed at the decided period may arrive in some leaves and not
    in others (a2, one quarter's lead: cheap enough, and demand growing fast enough, to be
    ordered ahead of a block). `alone`: one leaf, A blocked from the decided period on, so that
    an order already done may not arrive (the last quarter of every rolling path).
    `a_domestic`: the blocked vendor is the domestic one (share rules and orders that never
    arrive)."""
    decide = min(decide, periods - 2) if not alone else max(1, min(decide + 1, periods - 1))
    common = dict(periods=periods, demand_pflops=demand, budget_usd=3e6, allow_unmet=allow_unmet,
                  refund_share=refund, integer_recourse=integer, discount_rate=0.08,
                  asset_life_hours=life_years * 8766.0, min_domestic_share=domestic,
                  vendor_share_caps={"A": share} if share is not None else {})
    if alone:
        one = instance(block_from=decide, **common)
        inp = replace(only_scenarios(one, one.scenarios.loc[["blocked"]].assign(probability=1.0)),
                      recourse_from_start=True)
    else:
        variants = [instance(block_from=b, **common) for b in range(decide + 1, periods)]
        inp = replace(_merged(variants, price_factor, rental_cut, dear_from=decide + 1),
                      hindsight=False, recourse_from_start=True)
    inp = _domestic_a(inp) if a_domestic else inp
    inp = replace(inp, skus=inp.skus.assign(price_usd=inp.skus["price_usd"].where(
        inp.skus.index != "a2", a2_usd)), periods=inp.periods.assign(
        demand_pflops=[demand * (1 + growth * i) for i in range(periods)]))
    if math.isfinite(power_mw):
        inp = replace(inp, periods=inp.periods.assign(power_cap_mw=power_mw))
    plan = {"x": {("a1", "P0"): float(orders), ("b1", "P1"): float(orders // 2)},
            "z": {("a1", "board"): float(stock)}, "u": {"X": 1.0, "Y": 1.0}, "pm": {"X": 1.0}}
    labels = inp.period_labels
    past = {labels[i]: Recourse(tuple((k, float(n)) for k, n in (("a2", done_a), ("b1", done_b))
                                      if n > 0), rented) for i in range(decide)}
    period = labels[decide]
    reference = rolling_step(inp, EXACT, plan, dict.fromkeys(inp.scenario_labels, past), period)
    ours = _step_case(inp, plan, past, period)
    assert ours.feasible == (reference is not None)
    if reference is None:
        return
    cost, shortfall = _expected(reference)
    assert ours.cost_usd == pytest.approx(cost, rel=1e-7, abs=1e-3)
    assert ours.shortfall_pflops_hours == pytest.approx(shortfall, rel=1e-6, abs=1e-3)
    # what the persistent model chose in the period is an optimal recourse there
    chosen = {**past, period: ours.chosen}
    again = rolling_step(inp, EXACT, plan, dict.fromkeys(inp.scenario_labels, chosen), period)
    assert again is not None
    assert _expected(again)[0] == pytest.approx(cost, rel=1e-7, abs=1e-3)


def test_cases_solved_one_after_another_in_one_model_cost_what_the_model_gives_each():
    """The rolling policy solves many histories on one model, changing bounds between them:
    histories with other data (open, blocked) and other pasts give, in either order, what
    solvers/evaluate.rolling_step gives each alone (no bound of one history left behind for the
    next)."""
    inp = replace(instance(periods=4, block_from=1, demand_pflops=60.0, budget_usd=3e6,
                           refund_share=0.5, discount_rate=0.08), recourse_from_start=True)
    plan = {"x": {("a1", "P0"): 2.0}, "z": {("a1", "board"): 2.0},
            "u": {"X": 1.0, "Y": 1.0}, "pm": {"X": 1.0}}
    data = paths_of(parameters(inp), inp)
    names = ["open", "blocked", "open", "blocked"]
    pasts = [{"P0": Recourse((("a2", 3.0),), 5.0), "P1": Recourse((("b1", 2.0),), 0.0)},
             {"P0": Recourse((("a2", 3.0),), 0.0), "P1": Recourse((), 5.0)},
             {"P0": Recourse((), 0.0), "P1": Recourse((("a1", 1.0),), 0.0)},
             {"P0": Recourse((("b1", 1.0),), 5.0), "P1": Recourse((("b1", 3.0),), 5.0)}]
    reference = []
    for name, past in zip(names, pasts, strict=True):
        one = only_scenarios(inp, inp.scenarios.loc[[name]].assign(probability=1.0))
        step = rolling_step(one, EXACT, plan, {name: past}, "P2")
        reference.append(None if step is None else _expected(step))
    assert sum(r is not None for r in reference) >= 3
    shape = Shape.single(len(inp.period_labels))
    for order in ([0, 1, 2, 3], [3, 2, 1, 0]):
        together = solve_cases(inp, EXACT, plan, shape, [[data[names[i]]] for i in order],
                               [pasts[i] for i in order], decide="P2")
        for i, outcome in zip(order, together, strict=True):
            assert outcome.feasible == (reference[i] is not None)
            if outcome.feasible:
                assert outcome.cost_usd == pytest.approx(reference[i][0], rel=1e-7)
                assert outcome.shortfall_pflops_hours == pytest.approx(
                    reference[i][1], rel=1e-6, abs=1e-3)
