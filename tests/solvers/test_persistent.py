"""The persistent hindsight model (solvers/persistent.py) costs every path as solvers/model.py
does with that path alone: the same feasibility, cost and unmet demand, path by path, on
random small instances with every feature the recourse sees, and on fresh paths of the
sanctions example."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.evaluate import fixed_plan_costs
from solvers.persistent import hindsight_costs
from solvers.problem import SolverSettings
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=1e-9)


def _merged(variants: list, price_factor: float, rental_cut: bool):
    """The scenarios of several instances as one hindsight input (names suffixed by the
    variant), equally likely; vendor B dearer from the second period in the blocked
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
            & (idx.get_level_values("period") != base.period_labels[0]))
    vendor["price_factor"] = np.where(dear, price_factor, 1.0)
    cut = frozenset({(base.period_labels[-1], "blocked-0")}) if rental_cut else frozenset()
    return replace(base, scenarios=scenarios, vendor_scenarios=vendor,
                   availability=pd.concat(frames["availability"]),
                   stockpile_pieces=pd.concat(frames["stockpile_pieces"], ignore_index=True),
                   rental_blocked=cut, hindsight=True)


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
       orders=st.integers(0, 4), stock=st.integers(0, 3), adopt_y=st.booleans())
def test_every_path_costs_what_the_model_gives_it_alone(
        periods, demand, price_factor, refund, rental_cut, integer, allow_unmet, power_mw, share,
        domestic, life_years, orders, stock, adopt_y):
    common = dict(periods=periods, demand_pflops=demand, budget_usd=3e6, allow_unmet=allow_unmet,
                  refund_share=refund, integer_recourse=integer, discount_rate=0.08,
                  asset_life_hours=life_years * 8766.0, min_domestic_share=domestic,
                  vendor_share_caps={"A": share} if share is not None else {})
    variants = [instance(block_from=b, **common) for b in range(periods)]
    inp = _merged(variants, price_factor, rental_cut)
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
