"""Infeasibility is explained by the family that binds: one infeasible instance per family, each
feasible again once that one limit is lifted (so the named cause is the real one)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from solvers.optimize import Infeasible, optimize
from solvers.problem import RiskSettings, SolverSettings
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=0.0, threads=1)
INF = math.inf


def _must_meet(inp, **periods):
    """Demand must be met, no rental, no budget limit unless given."""
    table = inp.periods.assign(rental_cap_gpus=0.0, budget_usd=INF)
    return replace(inp, allow_unmet=False, periods=table.assign(**periods))


def _caps(inp, a: float, b: float):
    return inp.supply_caps.assign(supply_cap_nodes=[
        a if v == "A" else b for v, _t in inp.supply_caps.index])


def _open_only(inp):
    """One scenario, no block: the blocked scenario's own shortfalls stay out of the way."""
    keep = lambda frame: frame[frame.index.get_level_values("scenario") == "open"]  # noqa: E731
    import pandas as pd

    return replace(inp, scenarios=pd.DataFrame({"probability": [1.0]},
                                               index=pd.Index(["open"], name="scenario")),
                   vendor_scenarios=keep(inp.vendor_scenarios), availability=keep(inp.availability),
                   stockpile_pieces=inp.stockpile_pieces[inp.stockpile_pieces["scenario"] == "open"])


BASE = instance(periods=3, demand_pflops=60.0)
ROOMY = replace(_open_only(BASE), supply_caps=_caps(BASE, 100.0, 100.0))  # no supply limit

# family -> (infeasible instance, the same with that limit lifted, pattern the message must match)
CASES = {
    "domestic_share": (
        replace(_must_meet(BASE), min_domestic_share=1.0, supply_caps=_caps(BASE, 6.0, 0.0)),
        replace(_must_meet(BASE), min_domestic_share=0.0, supply_caps=_caps(BASE, 6.0, 0.0)),
        r"^the minimum domestic share in scenario '\w+' is short by [\d,.]+ PFLOP/s$"),
    "vendor_share": (
        replace(_must_meet(_open_only(BASE)), vendor_share_caps={"A": 0.0},
                supply_caps=_caps(BASE, 6.0, 0.0)),
        replace(_must_meet(_open_only(BASE)), supply_caps=_caps(BASE, 6.0, 0.0)),
        r"^the vendor share cap of A is short by [\d,.]+ PFLOP/s$"),
    "budget": (
        _must_meet(ROOMY, demand_pflops=100.0, budget_usd=3e5),
        _must_meet(ROOMY, demand_pflops=100.0),
        r"^the budget in P\d is short by \$[\d,]+$"),
    "budget_total": (
        replace(_must_meet(ROOMY, demand_pflops=100.0), total_budget_usd=1e5),
        _must_meet(ROOMY, demand_pflops=100.0),
        r"^the total budget is short by \$[\d,]+$"),
    "power": (
        _must_meet(ROOMY, demand_pflops=100.0, power_cap_mw=0.06),
        _must_meet(ROOMY, demand_pflops=100.0),
        r"^the power cap in P\d is short by [\d.]+ MW$"),
    "space": (
        _must_meet(ROOMY, demand_pflops=100.0, racks=2.0),
        _must_meet(ROOMY, demand_pflops=100.0),
        r"^the rack space in P\d is short by [\d.]+ racks$"),
    "supply": (
        replace(_must_meet(ROOMY, demand_pflops=100.0), supply_caps=_caps(BASE, 1.0, 100.0)),
        _must_meet(ROOMY, demand_pflops=100.0),
        r"^the vendor's supply cap of A in P0 is short by [\d.]+ nodes$"),
    "largest_job": (
        replace(BASE, periods=BASE.periods.assign(largest_job_pflops=500.0)),
        replace(BASE, periods=BASE.periods.assign(largest_job_pflops=0.0)),
        r"^the largest job on X in P\d in scenario '\w+' is short by [\d,.]+ PFLOP/s$"),
    "cvar": (
        replace(BASE, risk=RiskSettings(alpha=0.5, cvar_cap=1000.0)),
        replace(BASE, risk=RiskSettings(alpha=0.5)),
        r"^the CVaR cap is \$[\d,]+ below the least CVaR any plan reaches: raise "
        r"procurement.risk.cvar_cap$"),
    "demand": (  # b1 takes a quarter to arrive and a1 is not orderable: nothing can cover P0
        replace(_must_meet(_open_only(BASE), demand_pflops=100.0),
                skus=BASE.skus.assign(orderable=[False, True, True])),
        replace(_open_only(BASE), skus=BASE.skus.assign(orderable=[False, True, True]),
                periods=BASE.periods.assign(demand_pflops=100.0, rental_cap_gpus=0.0)),
        r"^the demand in P0 exceeds what can be supplied by [\d.]+ PFLOP/s \(unmet demand is "
        r"not allowed\)$"),
}


@pytest.mark.parametrize("family", list(CASES))
def test_each_family_names_itself(family):
    infeasible, lifted, pattern = CASES[family]
    with pytest.raises(Infeasible, match=pattern):
        optimize(infeasible, EXACT, analyses="none")
    assert optimize(lifted, EXACT, analyses="none").result.status == "optimal"


def test_the_loophole_is_closed_orders_before_the_split_count_in_the_share():
    """100 % domestic share, no domestic supply: buying a foreign node in the first quarter
    (when no scenario is known yet) is a first-stage order and breaks the share."""
    infeasible = CASES["domestic_share"][0]
    with pytest.raises(Infeasible, match="minimum domestic share"):
        optimize(infeasible, EXACT, analyses="none")
    # with unmet demand allowed, the plan buys nothing foreign at all
    allowed = replace(infeasible, allow_unmet=True)
    result = optimize(allowed, EXACT, analyses="none").result
    assert result.buy.empty or set(result.buy["vendor"]) <= {"B"}
    assert result.recourse.empty or (result.recourse["sku"] == "b1").all()


def test_unmet_demand_is_never_blamed_when_it_is_allowed():
    inp = replace(BASE, allow_unmet=True, risk=RiskSettings(alpha=0.5, cvar_cap=1000.0))
    with pytest.raises(Infeasible) as caught:
        optimize(inp, EXACT, analyses="none")
    assert "demand" not in str(caught.value)
    assert "CVaR cap" in str(caught.value)


def test_a_tiny_budget_with_a_job_too_large_names_the_job():
    """The audit's case: the largest job cannot fit, and the budget is small too. Lifting the
    budget would not be enough to buy the job's compute in time; the job is named."""
    inp = replace(BASE, periods=BASE.periods.assign(largest_job_pflops=500.0, budget_usd=1e6))
    with pytest.raises(Infeasible, match="largest job"):
        optimize(inp, EXACT, analyses="none")
