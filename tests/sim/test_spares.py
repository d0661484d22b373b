"""Spare-part stocks: orders, backorders, RMA, blocks and cannibalization.

The first tests build an Inventory from the clock, a draw stream and the shocks alone (no
ClusterModel); the rest are regressions found in review."""

from __future__ import annotations

import math

import numpy as np
import simpy

from planner.scenario.distributions import Fixed
from planner.scenario.spare_policy import ResolvedSparePolicy
from planner.sim.draws import Draws
from planner.sim.failure_log import HARD, FailureRecord
from planner.sim.shocks import DELIVERIES, ORDERS, ShockBook, ShockWindow
from planner.sim.spares import Inventory, RepairTicket
from tests.conftest import model_of
from tests.sim.scenarios import MINIMAL, hard_gpu_and_nic_failures

LEAD_DAYS = 10.0


def _stock(stock: int, *, policy: str = "base_stock", level: int | None = None,
           rma: float = 0.0, shocks: tuple[ShockWindow, ...] = ()) -> tuple[simpy.Environment,
                                                                             Inventory]:
    env = simpy.Environment()
    inventory = Inventory(
        env, Draws(np.random.default_rng(3)), ShockBook(shocks), "H800", "gpu_board", "Nvidia",
        1000.0, ResolvedSparePolicy(
            initial_stock=stock, policy=policy,
            base_stock_level=stock if level is None else level, reorder_point=1, order_up_to=5,
            lead_time_days=Fixed(value=LEAD_DAYS), rma_return_fraction=rma,
            rma_turnaround_days=Fixed(value=3.0), cannibalize=False))
    inventory.start()
    return env, inventory


def _ticket() -> RepairTicket:
    return RepairTicket(pool=None, node=0)


def test_base_stock_replaces_each_part_taken_and_serves_backorders_first_come():
    env, inv = _stock(1)
    assert inv.request(_ticket()) is None and inv.on_hand == 0  # served from the shelf
    late = inv.request(_ticket())  # shelf empty: a backorder
    assert late is not None and not late.triggered
    assert inv.position() == 1 and inv.on_order == 2  # one order per part taken
    env.run(until=LEAD_DAYS * 24 + 1)
    assert late.triggered and inv.on_hand == 1  # the first arrival served the backorder
    assert inv.stockout_hours == LEAD_DAYS * 24
    assert inv.spend_usd == 2 * 1000.0 and inv.consumed == 2


def test_s_s_orders_up_to_s_in_one_lot_at_the_reorder_point():
    env, inv = _stock(5, policy="s_S")
    for _ in range(3):
        inv.request(_ticket())
    assert inv.on_order == 0  # position 2 > s = 1
    inv.request(_ticket())
    assert inv.on_order == 4 and inv.ordered == 4  # position 1 <= s: order up to S = 5


def test_a_stock_below_its_target_orders_at_the_start():
    _, inv = _stock(0, level=3)
    assert inv.on_order == 3 and inv.position() == 3


def test_rma_returns_the_part_instead_of_ordering_one():
    env, inv = _stock(1, rma=1.0)
    inv.request(_ticket())
    assert inv.in_rma == 1 and inv.on_order == 0
    env.run(until=3 * 24 + 1)
    assert inv.on_hand == 1 and inv.in_rma == 0


def test_orders_wait_for_a_temporary_block_and_are_lost_under_a_permanent_one():
    block = ShockWindow(name="b", vendor="Nvidia", parts=None, start_hours=0.0,
                        end_hours=100.0, blocks=frozenset({ORDERS}), lead_time_multiplier=1.0,
                        price_multiplier=1.0)
    env, inv = _stock(0, level=1, shocks=(block,))
    assert inv.on_order == 0  # blocked: retried when it ends
    env.run(until=101.0)
    assert inv.on_order == 1
    forever = ShockWindow(name="f", vendor="Nvidia", parts=None, start_hours=0.0,
                          end_hours=math.inf, blocks=frozenset({DELIVERIES}),
                          lead_time_multiplier=1.0, price_multiplier=1.0)
    env, inv = _stock(0, level=1, shocks=(forever,))
    env.run(until=LEAD_DAYS * 24 + 1)
    assert inv.lost_in_block >= 1 and inv.on_hand == 0


# --- regressions, through the whole model ----------------------------------------------------


def test_cannibalizing_with_rma_creates_no_parts_from_nothing():
    data = hard_gpu_and_nic_failures(3, {"initial_stock": 2, "rma_return_fraction": 1.0,
                                         "rma_turnaround_days": 20})
    model = model_of(data)
    model.run()
    for part in ("gpu_board", "nic"):
        inventory = model.inventories.get("H800", part)
        assert inventory.cannibalized > 0
        assert inventory.position() <= 2, (part, inventory.position())


def test_parts_lent_between_waiting_nodes_are_not_counted_as_consumption():
    data = hard_gpu_and_nic_failures(4, {"initial_stock": 0, "base_stock_level": 2},
                                     repair={"technicians": 1})
    model = model_of(data)
    result = model.run()
    part_of = {c.name: c.part for c in model.setup.pools[0].categories}
    for part in ("gpu_board", "nic"):
        inventory = model.inventories.get("H800", part)
        hard_failures = sum(1 for e in map(FailureRecord._make, result.events)
                            if e.kind == HARD and part_of.get(e.category) == part)
        consumed = result.metrics[f"parts_consumed.H800/{part}"]
        assert result.metrics[f"parts_cannibalized.H800/{part}"] > 0
        # every hard failure asks for one part; a lend only moves a part between nodes
        assert consumed <= hard_failures, (part, consumed, hard_failures)
        assert consumed == inventory.consumed + inventory.from_retired


def test_stock_below_target_at_the_start_is_ordered_at_once_in_the_model():
    data = dict(MINIMAL, cluster=dict(MINIMAL["cluster"], spares={"default": {
        "initial_stock": 0, "base_stock_level": 10, "policy": "base_stock",
        "lead_time_days": 14}}))
    inventory = model_of(data).inventories.get("H800", "psu")
    assert inventory.on_order == 10 and inventory.position() == 10
