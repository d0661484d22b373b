"""Monotonicity of the optimum on small instances, within the MIP gap: tightening any cap never
lowers the optimal objective, a larger budget never raises it, and a larger risk weight never
raises CVaR. Once a tightened problem is infeasible, every tighter one is too."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvers.optimize import Infeasible, optimize
from solvers.problem import RiskSettings, SolverSettings
from tests.solvers.instances import instance

GAP = 1e-6
SETTINGS = SolverSettings(mip_rel_gap=GAP, threads=1)
BASE = instance(periods=3, demand_pflops=110.0, budget_usd=3e6, block_probability=0.4)


def _objective(inp) -> float | None:
    try:
        return optimize(inp, SETTINGS, analyses="none").result.objective
    except Infeasible:
        return None


def _periods(**columns):
    return lambda value: replace(BASE, periods=BASE.periods.assign(**{k: value for k in columns}))


# cap -> (the instance with that cap at a value, values from loose to tight)
CAPS = {
    "budget per quarter": (_periods(budget_usd=1), [3e6, 1.5e6, 1e6, 6e5, 3e5]),
    "power": (_periods(power_cap_mw=1), [0.5, 0.2, 0.16, 0.13, 0.1]),
    "racks": (_periods(racks=1), [10.0, 4.0, 3.0, 2.5, 2.0]),
    "rental": (_periods(rental_cap_gpus=1), [100.0, 40.0, 20.0, 5.0, 0.0]),
    "supply": (lambda v: replace(BASE, supply_caps=BASE.supply_caps.assign(supply_cap_nodes=v)),
               [20.0, 6.0, 4.0, 2.0, 1.0]),
    "total budget": (lambda v: replace(BASE, total_budget_usd=v), [1e7, 3e6, 2e6, 1e6, 3e5]),
    "vendor share of A": (lambda v: replace(BASE, vendor_share_caps={"A": v}),
                          [1.0, 0.8, 0.6, 0.3, 0.0]),
    "domestic share": (lambda v: replace(BASE, min_domestic_share=v), [0.0, 0.2, 0.5, 0.8, 1.0]),
}


@pytest.mark.parametrize("cap", list(CAPS))
def test_tightening_a_cap_never_lowers_the_optimum(cap):
    make, values = CAPS[cap]
    objectives = [_objective(make(v)) for v in values]
    assert objectives[0] is not None
    feasible = [o for o in objectives if o is not None]
    assert objectives[: len(feasible)] == feasible, "infeasible, then feasible again"
    for looser, tighter in zip(feasible, feasible[1:], strict=False):
        assert tighter >= looser - GAP * abs(looser) - 1e-6, (cap, objectives)
    assert feasible[-1] > feasible[0], f"{cap}: the sweep must bind somewhere"


def test_a_larger_budget_never_raises_the_optimum():
    objectives = [_objective(_periods(budget_usd=1)(b)) for b in (4e5, 8e5, 1.6e6, 3.2e6)]
    assert all(o is not None for o in objectives)
    for smaller, larger in zip(objectives, objectives[1:], strict=False):
        assert larger <= smaller + GAP * abs(smaller) + 1e-6
    assert objectives[-1] < objectives[0]


def test_cvar_never_rises_with_the_risk_weight():
    cvars = []
    for weight in (0.0, 0.1, 0.5, 2.0, 10.0, 100.0):
        inp = replace(BASE, risk=RiskSettings(measure="cost", alpha=0.5, weight=weight))
        cvars.append(optimize(inp, SETTINGS, analyses="none").result.summary["cvar_cost_usd"])
    for lower, higher in zip(cvars, cvars[1:], strict=False):
        assert higher <= lower * (1 + GAP) + 1e-6, cvars
    assert cvars[-1] < cvars[0]
