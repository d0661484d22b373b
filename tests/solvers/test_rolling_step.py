"""One step of the rolling-horizon policy: the recourse done before the step's period stays as
it was, the period's recourse is one decision per tree node, an order the past could not have
placed is refused, and deliveries beyond the power cap are switched off (still paying for
their electricity) instead of making the step infeasible."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvers.evaluate import Recourse, rolling_step
from solvers.problem import SolverSettings
from tests.solvers.instances import instance

PLAN = {"u": {"X": 1.0}, "pm": {"X": 1.0}}  # no first-stage orders, platform X only
SETTINGS = SolverSettings(mip_rel_gap=1e-9)


def _rolling(**kw):
    return replace(instance(periods=3, block_from=1, **kw), recourse_from_start=True)


def test_the_past_is_kept_and_the_period_is_decided_once_per_node():
    inp = _rolling()
    done = {"P0": Recourse((("a1", 2.0),), 5.0)}
    step = rolling_step(inp, SETTINGS, PLAN, {"open": done, "blocked": done}, "P1")
    assert step is not None
    # the scenarios part at P1 (A blocked from P1 in one): each its own recourse; both pay for
    # the same first quarter
    assert step.recourse["blocked"].nodes("a1") == 0.0  # A is blocked there
    assert set(step.costs["scenario"]) == {"open", "blocked"}
    again = rolling_step(inp, SETTINGS, PLAN, {"open": done, "blocked": done}, "P0")
    assert again.recourse["open"] == done["P0"] == again.recourse["blocked"]  # fixed is fixed
    # nothing done yet: the scenarios share P0's node, so one order for both
    first = rolling_step(inp, SETTINGS, PLAN, {}, "P0")
    assert first.recourse["open"] == first.recourse["blocked"]
    assert sum(q for _, q in first.recourse["open"].orders) > 0  # the plan ordered nothing


def test_an_order_the_past_could_not_place_is_refused():
    inp = _rolling()
    blocked_order = {"P0": Recourse((), 0.0), "P1": Recourse((("a1", 1.0),), 0.0)}
    with pytest.raises(ValueError, match="cannot be ordered"):
        rolling_step(inp, SETTINGS, PLAN, {"blocked": blocked_order,
                                           "open": blocked_order}, "P2")


def test_a_delivery_beyond_the_power_cap_is_switched_off_and_still_paid_for():
    # 4 existing a1 nodes draw 10 kW x 1.3 PUE each = 52 kW; the past ordered 4 more a1 in P0
    # (lead 0): 104 kW against a cap of 80 kW from P0 on
    capped = _rolling(electricity_usd_per_kwh=0.1)
    periods = capped.periods.assign(power_cap_mw=0.080)
    capped = replace(capped, periods=periods)
    uncapped = _rolling(electricity_usd_per_kwh=0.1)
    done = {"P0": Recourse((("a1", 4.0),), 0.0)}
    past = {"open": done, "blocked": done}
    step = rolling_step(capped, SETTINGS, PLAN, past, "P1")
    assert step is not None  # without switching off, P0 alone breaks the cap
    free = rolling_step(uncapped, SETTINGS, PLAN, past, "P1")
    open_capped = step.costs.set_index("scenario").loc["open"]
    open_free = free.costs.set_index("scenario").loc["open"]
    # switched-off nodes pay electricity and serve nothing: never cheaper than no cap
    assert open_capped["cost_usd"] >= open_free["cost_usd"] - 1e-6
    # and the plain model (no rolling) has no such variable: the same past is infeasible there
    plain = replace(capped, recourse_from_start=False, hindsight=True)
    from solvers.evaluate import fixed_plan_costs

    plan = {**PLAN, "x": {("a1", "P0"): 4.0}}
    rows = fixed_plan_costs(plain, SETTINGS, plan)
    assert not rows["feasible"].any()
