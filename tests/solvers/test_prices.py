"""Prices of the limits: HiGHS ranging against finite differences on the LP with the plan's
integers fixed (both directions), the shadow-price table's units, and re-optimized prices
against solving the moved problem from scratch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvers.highs import HighsModel
from solvers.model import MONEY, build_model
from solvers.optimize import optimize
from solvers.problem import RiskSettings, SolverSettings
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=0.0, threads=1)
FAMILIES = ("demand_cover", "power_cap", "budget_period", "rack_space", "rental_cap",
            "cvar_excess")


def _priced_lp(inp):
    """The model solved as a MIP, then its integers fixed and the LP solved: (model, HiGHS)."""
    m = build_model(inp)
    hm = HighsModel(m, EXACT)
    assert hm.solve().status == "optimal"
    hm.fix_integers()
    hm.relax_integrality()
    assert hm.solve().status == "optimal"
    return m, hm


def _instances():
    yield instance(periods=3, demand_pflops=110.0, budget_usd=1.6e6)
    base = instance(periods=4, demand_pflops=120.0, risk=RiskSettings(alpha=0.6, weight=0.5))
    yield replace(base, periods=base.periods.assign(power_cap_mw=0.2, rental_cap_gpus=60.0))


@pytest.mark.parametrize("inp", list(_instances()), ids=["budget", "power-risk"])
def test_ranging_matches_finite_differences_both_ways(inp):
    m, hm = _priced_lp(inp)
    base = hm.solve().objective
    rows = [row for family in FAMILIES if hasattr(m, family)
            for row in getattr(m, family).values()]
    checked = {+1: 0, -1: 0}
    for row, rng in hm.ranging(rows).items():
        if not rng.binding or rng.degenerate:
            continue
        for direction, end in ((+1, rng.high), (-1, rng.low)):
            room = abs(end - rng.rhs)
            if not room < float("inf"):
                room = max(abs(rng.rhs), 1.0)
            step = 0.25 * min(room, max(abs(rng.rhs), 1.0))
            if step <= 1e-7 * max(abs(rng.rhs), 1.0):
                continue
            hm.set_rhs(row, rng.rhs + direction * step)
            moved = hm.solve()
            hm.set_rhs(row, rng.rhs)
            assert moved.status == "optimal"
            slope = (moved.objective - base) / (direction * step)
            assert slope == pytest.approx(rng.dual, rel=1e-5, abs=1e-7), (row.name, direction)
            checked[direction] += 1
    assert checked[+1] >= 3 and checked[-1] >= 3, checked


def test_beyond_its_interval_a_price_no_longer_holds():
    """Past the end of the validity interval the slope changes (the basis changed)."""
    m, hm = _priced_lp(instance(periods=3, demand_pflops=110.0, budget_usd=1.6e6))
    base = hm.solve().objective
    rows = list(m.demand_cover.values())
    found = 0
    for row, rng in hm.ranging(rows).items():
        if not rng.binding or rng.degenerate or not rng.high < float("inf"):
            continue
        width = rng.high - rng.rhs
        hm.set_rhs(row, rng.high + 2.0 * width)
        beyond = hm.solve()
        hm.set_rhs(row, rng.rhs)
        if beyond.status != "optimal":
            continue
        average = (beyond.objective - base) / (3.0 * width)
        assert average != pytest.approx(rng.dual, rel=1e-6)
        found += 1
    assert found >= 1


@pytest.mark.parametrize(("family", "limit"), [("budget_period", "budget_usd"),
                                               ("power_cap", "power_cap_mw")])
def test_shadow_price_table_is_in_usd_per_unit_of_the_limit(family, limit):
    """Fractional orders (so budget and power rows have real duals): move one scenario's
    limit inside its interval and the objective in USD moves by price x the move."""
    base = instance(periods=3, demand_pflops=110.0, budget_usd=6e5, integer_orders=False,
                    integer_recourse=False)
    inp = replace(base, periods=base.periods.assign(power_cap_mw=0.11))
    table = optimize(inp, EXACT).shadow_prices
    assert {"valid_from", "valid_to", "degenerate", "binding"} <= set(table.columns)
    m, hm = _priced_lp(inp)
    before = hm.solve().objective / MONEY
    per_limit = MONEY if family == "budget_period" else 1.0  # row units per unit of the limit
    rows = table[(table["family"] == family) & table["binding"] & ~table["degenerate"]]
    assert len(rows), f"the instance must have a binding {family} row"
    for r in rows.itertuples(index=False):
        assert r.limit == limit
        row = getattr(m, family)[r.index_1, r.scenario]
        step = 0.25 * min(r.valid_to - r.limit_value, r.limit_value - r.valid_from,
                          0.05 * r.limit_value)
        hm.set_rhs(row, (r.limit_value + step) * per_limit)
        after = hm.solve().objective / MONEY
        hm.set_rhs(row, r.limit_value * per_limit)
        assert (after - before) / step == pytest.approx(r.shadow_price, rel=1e-5)
        assert r.valid_from <= r.limit_value <= r.valid_to


def test_reoptimized_price_of_a_shared_budget_matches_a_fresh_solve():
    inp = instance(periods=3, demand_pflops=110.0, budget_usd=1.2e6)
    opt = optimize(inp, EXACT, reoptimize_prices=True, price_step=0.05)
    table = opt.limit_prices
    budget = table[table["family"] == "budget_period"]
    assert len(budget), "the instance must have a tight quarterly budget"
    r = budget.iloc[0]
    step = r["step"]
    for sign, column in ((+1, "change_per_unit_up"), (-1, "change_per_unit_down")):
        budgets = [b + sign * step if t == r["index_1"] else b
                   for t, b in inp.periods["budget_usd"].items()]
        moved = optimize(replace(inp, periods=inp.periods.assign(budget_usd=budgets)), EXACT,
                         analyses="none").result.objective
        expected = (moved - r["objective_usd"]) / (sign * step)
        assert r[column] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_limit_prices_leave_the_plan_as_it_was():
    inp = instance(periods=3, demand_pflops=110.0, budget_usd=1.2e6)
    solved_plan = optimize(inp, EXACT, analyses="none").result
    opt = optimize(inp, EXACT, reoptimize_prices=True)
    assert opt.result.buy.equals(solved_plan.buy)
    assert opt.result.objective == pytest.approx(solved_plan.objective, rel=1e-9)
    assert len(opt.limit_prices)


def test_a_degenerate_price_differs_each_way():
    """The first quarter's budget is shared by both scenarios (first-stage orders) and tight in
    both: flagged degenerate, and one more dollar is worth something else than one less."""
    base = instance(periods=3, demand_pflops=110.0, budget_usd=6e5, integer_orders=False,
                    integer_recourse=False)
    inp = replace(base, periods=base.periods.assign(power_cap_mw=0.11))
    table = optimize(inp, EXACT).shadow_prices
    row = table[(table["family"] == "budget_period") & (table["index_1"] == "P0")
                & (table["scenario"] == "open")].iloc[0]
    assert row["binding"] and row["degenerate"]
    m, hm = _priced_lp(inp)
    before = hm.solve().objective
    con = m.budget_period["P0", "open"]
    slopes = []
    for sign in (+1, -1):
        hm.set_rhs(con, (row["limit_value"] + sign * 1000.0) * MONEY)
        slopes.append((hm.solve().objective - before) / MONEY / (sign * 1000.0))
        hm.set_rhs(con, row["limit_value"] * MONEY)
    assert slopes[0] != pytest.approx(slopes[1], rel=1e-3)
