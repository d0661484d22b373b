"""The economics of the model checked by hand: discounting of every cash flow, salvage from a
depreciation schedule, dead nodes drawing no power, availability across parts, and the buy
sheet adding up to the first-stage orders."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pyomo.environ as pyo
import pytest

from solvers.highs import HighsModel
from solvers.model import HOURS_PER_YEAR, MONEY, build_model
from solvers.optimize import optimize
from solvers.problem import SolverSettings
from tests.solvers.instances import instance

EXACT = SolverSettings(mip_rel_gap=0.0, threads=1)
QUARTER_HOURS = 2190.0  # the instances' periods


def _one_scenario(inp):
    """Only the open scenario: no block."""
    keep = lambda frame: frame[frame.index.get_level_values("scenario") == "open"]  # noqa: E731
    return replace(inp, scenarios=pd.DataFrame({"probability": [1.0]},
                                               index=pd.Index(["open"], name="scenario")),
                   vendor_scenarios=keep(inp.vendor_scenarios), availability=keep(inp.availability),
                   stockpile_pieces=inp.stockpile_pieces.iloc[0:0])


def _hand_instance(rate: float, life_hours: float = math.inf):
    """Only a1 can be bought (10 PFLOP/s a node, $300,000, no lead time), nothing installed,
    demand 0 then 15 PFLOP/s (two nodes at availability 0.97), no electricity cost, demand must
    be met: the plan buys two a1 in P1, the quarter demand starts."""
    base = _one_scenario(instance(periods=3, with_stockpile=False))
    return replace(base, skus=base.skus.assign(orderable=[True, False, False],
                                               existing_nodes=0.0),
                   periods=base.periods.assign(demand_pflops=[0.0, 15.0, 15.0],
                                               rental_cap_gpus=0.0, budget_usd=math.inf),
                   parts=base.parts.iloc[0:0], electricity_usd_per_kwh=0.0, allow_unmet=False,
                   discount_rate=rate, asset_life_hours=life_hours)


@pytest.mark.parametrize("rate", [0.0, 0.08, 0.25])
def test_discounted_cost_by_hand(rate):
    result = optimize(_hand_instance(rate), EXACT, analyses="none").result
    assert result.buy[["sku", "order_quarter", "nodes"]].values.tolist() == [["a1", "P1", 2]]
    d_p1 = (1 + rate) ** -(QUARTER_HOURS / HOURS_PER_YEAR)  # P1 starts one quarter in
    assert result.objective == pytest.approx(2 * 300_000.0 * d_p1, rel=1e-9)
    assert result.summary["discount_rate"] == rate
    cash = result.cash
    assert cash["cash_out_usd"].sum() == pytest.approx(600_000.0)
    assert cash["cash_out_discounted_usd"].sum() == pytest.approx(600_000.0 * d_p1, rel=1e-9)


@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_salvage_is_the_book_value_left_discounted_from_the_horizon(rate):
    life = 4 * HOURS_PER_YEAR
    result = optimize(_hand_instance(rate, life), EXACT, analyses="none").result
    d_p1 = (1 + rate) ** -(QUARTER_HOURS / HOURS_PER_YEAR)
    d_end = (1 + rate) ** -(3 * QUARTER_HOURS / HOURS_PER_YEAR)
    book_left = 1.0 - 2 * QUARTER_HOURS / life  # delivered in P1: two quarters in service
    salvage = 2 * 300_000.0 * book_left * d_end
    assert result.costs["salvage_usd"].iloc[0] == pytest.approx(-salvage, rel=1e-9)
    assert result.objective == pytest.approx(2 * 300_000.0 * d_p1 - salvage, rel=1e-9)
    assert salvage <= 2 * 300_000.0 * book_left  # never above the price net of depreciation


def test_dead_nodes_draw_no_power():
    """In the blocked scenario without a stockpile, nodes whose parts fail die: the power cost
    is that of live nodes only, N - D, and D is what the block killed."""
    base = instance(periods=3, demand_pflops=30.0)
    pieces = base.stockpile_pieces.copy()
    first = pieces["piece"] == 0  # without a part on the shelf 60 % of the nodes survive
    pieces.loc[first, "intercept"] = 0.6 * pieces.loc[first, "intercept"]
    inp = replace(base, stockpile_pieces=pieces, parts=base.parts.iloc[0:0])
    m = build_model(inp)
    assert HighsModel(m, EXACT).solve().status == "optimal"
    dead = {key: m.D[key].value for key in m.D}
    assert any(v > 1e-6 for v in dead.values())
    for s in m.S:
        live = sum((m.N[k, t, s].value - (m.D[k, t, s].value if (k, t, s) in m.B else 0.0))
                   * m.P.power[k] * inp.pue * m.P.hours[t] * inp.electricity_usd_per_kwh
                   for k in m.K for t in m.T)
        assert pyo.value(m.cost_power[s]) / MONEY == pytest.approx(live, rel=1e-9)
    for (k, t, s), d in dead.items():
        alive_share = m.P.pieces[k, "board", t, s, 0][0] / m.P.avail[k, t, s]
        assert d <= (1 - alive_share) * m.N[k, t, s].value + 1e-6


def test_availability_across_parts_is_the_union_bound():
    """Two decaying parts with no stockpile: available nodes a N (1 - sum_j (1 - f_j / a)),
    never above the product a N prod_j (f_j / a)."""
    base = instance(periods=3, demand_pflops=200.0)
    first = base.stockpile_pieces[base.stockpile_pieces["piece"] == 0]
    board = first.assign(intercept=0.8 * first["intercept"], slope=0.0)  # 80 % survive it
    psu = first.assign(part="psu", intercept=0.7 * first["intercept"], slope=0.0)  # 70 %
    inp = replace(base, stockpile_pieces=pd.concat([board, psu], ignore_index=True),
                  parts=base.parts.iloc[0:0])
    m = build_model(inp)
    assert HighsModel(m, EXACT).solve().status == "optimal"
    checked = 0
    for (k, t, s) in m.B:
        a = m.P.avail[k, t, s]
        nodes = m.N[k, t, s].value
        union = a * nodes * (1 - (1 - 0.8) - (1 - 0.7))
        assert m.A[k, t, s].value == pytest.approx(union, rel=1e-6, abs=1e-6)
        assert m.A[k, t, s].value <= a * nodes * 0.8 * 0.7 + 1e-9  # below the product
        checked += nodes > 0
    assert checked


def test_buy_sheet_adds_up_to_the_first_stage_orders():
    result = optimize(instance(periods=4, demand_pflops=120.0), EXACT, analyses="none").result
    buy = result.buy.groupby(["sku", "order_quarter"])["nodes"].sum()
    orders = result.orders[result.orders["nodes"] > 0].set_index(["sku", "period"])["nodes"]
    assert buy.sum() == orders.sum() > 0
    assert dict(buy) == {key: round(v) for key, v in orders.items()}
    assert (result.buy["cost_usd"] == result.buy["nodes"] * result.buy["unit_price_usd"]).all()


def test_contingent_orders_are_per_condition_never_summed():
    result = optimize(instance(periods=4, demand_pflops=120.0), EXACT, analyses="none").result
    contingent = result.contingent
    recourse = result.recourse
    assert len(contingent) and len(recourse)
    per_node = recourse.groupby(["sku", "period", "tree_node"])["nodes"].first()
    for r in contingent.itertuples(index=False):
        assert r.nodes == round(per_node[r.sku, r.quarter, r.tree_node])
        members = r.scenarios.split(", ")
        assert r.probability == pytest.approx(float(result.costs.set_index("scenario").loc[
            members, "probability"].sum()))
    assert contingent.columns[0] == "if"
    assert all(text for text in contingent["if"])
