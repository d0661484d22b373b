"""Spare-part stock of one (SKU, part): shelf, orders, RMA returns, backorders, cannibalization.

Inventory position = on hand + on order + in RMA - backorders. `base_stock` orders one unit per
unit the position falls below the level (each unit with its own lead time, as Palm's theorem
assumes); `s_S` orders up to S in one lot when the position is at or below s. Flows from a
blocked vendor wait until the block ends; under a permanent block they are lost.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import Any

import simpy

from planner.scenario.spare_policy import ResolvedSparePolicy
from planner.sim.draws import Draws, sampler
from planner.sim.events import After
from planner.sim.shocks import DELIVERIES, ORDERS, RMA, ShockBook
from planner.units import HOURS_PER_DAY


class RepairTicket:
    """A node waiting in the repair pipeline; may lend parts while it waits (cannibalization)."""

    __slots__ = ("pool", "node", "waiting_for", "lent", "owed")

    def __init__(self, pool: Any, node: int):
        self.pool = pool
        self.node = node
        self.waiting_for: Inventory | None = None
        self.lent: set[str] = set()
        self.owed: list[tuple[Inventory, simpy.Event]] = []  # parts lent, each a backorder


class Inventory:
    """Stock of one part type for one SKU."""

    def __init__(self, env: simpy.Environment, draws: Draws, shocks: ShockBook, sku: str,
                 part: str, vendor: str, price_usd: float, policy: ResolvedSparePolicy):
        self.env = env
        self.draws = draws
        self.shocks = shocks
        self.sku, self.part, self.vendor = sku, part, vendor
        self.price_usd = price_usd
        self.policy = policy
        self.on_hand = policy.initial_stock
        self.on_order = 0
        self.in_rma = 0
        self.backorders: deque[simpy.Event] = deque()
        self.retired_donors = 0
        self.down_donors: list[RepairTicket] = []
        self.consumed = 0  # parts taken from the shelf
        self.from_retired = 0  # parts taken from retired nodes
        self.cannibalized = 0  # parts moved from another node (retired or waiting) into a failed one
        self.ordered = 0
        self.lost_in_block = 0
        self.spend_usd = 0.0
        self.stockout_hours = 0.0
        self._stockout_since: float | None = None
        self._retry_pending = False
        self._lead_time_days = sampler(policy.lead_time_days, draws)
        self._rma_turnaround_days = sampler(policy.rma_turnaround_days, draws)

    def start(self) -> None:
        """The first instant: a stock below its target position is ordered at once."""
        self._reorder()

    # --- demand ----------------------------------------------------------------------------------

    def position(self) -> int:
        return self.on_hand + self.on_order + self.in_rma - len(self.backorders)

    def request(self, ticket: RepairTicket) -> simpy.Event | None:
        """A hard failure needs one part: None if served now, else an event fired when it is.

        One broken part, one disposition: it goes to RMA (and counts in the position) with
        `rma_return_fraction`, else it is scrapped and the position is topped up."""
        event = None
        if self.on_hand > 0:
            self.on_hand -= 1
            self.consumed += 1
        elif self.policy.cannibalize and self._cannibalize():
            self.cannibalized += 1
        else:
            event = self._backorder()
        if self.draws.uniform() < self.policy.rma_return_fraction:
            self._send_to_rma()
        else:
            self._reorder()
        return event

    def _backorder(self) -> simpy.Event:
        event = self.env.event()
        self.backorders.append(event)
        if self._stockout_since is None:
            self._stockout_since = self.env.now
        return event

    def _cannibalize(self) -> bool:
        """Take the part from a retired node, else from a node waiting for another part (which
        then waits for this one too: it gets a backorder of its own)."""
        if self.retired_donors > 0:
            self.retired_donors -= 1
            self.from_retired += 1
            return True
        while self.down_donors:
            donor = self.down_donors.pop()
            if self._can_lend(donor):
                self._lend(donor)
                return True
        return False

    def _can_lend(self, donor: RepairTicket) -> bool:
        return (donor.waiting_for is not None and donor.waiting_for is not self
                and self.part not in donor.lent)

    def _lend(self, donor: RepairTicket) -> None:
        donor.lent.add(self.part)
        donor.owed.append((self, self._backorder()))

    def offer_donor(self, ticket: RepairTicket) -> None:
        """A node waiting for another part may lend this one: at once to the longest-waiting
        node, or later to the next failure that finds the shelf empty."""
        if not self.policy.cannibalize or not self._can_lend(ticket):
            return
        if self.backorders:
            waiting = self.backorders.popleft()
            self._lend(ticket)
            self.cannibalized += 1
            waiting.succeed()
            self._close_stockout()
        else:
            self.down_donors.append(ticket)

    def add_retired_node(self) -> None:
        """A retired node's part serves the longest-waiting node, or waits to be cannibalized."""
        if not self.policy.cannibalize:
            return
        if self.backorders:
            self.cannibalized += 1
            self.from_retired += 1
            self.backorders.popleft().succeed()
            self._close_stockout()
        else:
            self.retired_donors += 1

    # --- supply ----------------------------------------------------------------------------------

    def _reorder(self) -> None:
        p = self.policy
        position = self.position()
        if p.policy == "base_stock":
            quantity, lots = p.base_stock_level - position, "units"
        else:
            quantity, lots = (p.order_up_to - position, "one") if position <= p.reorder_point else (0, "")
        if quantity <= 0:
            return
        now = self.env.now
        reopen = self.shocks.blocked_until(self.vendor, self.part, ORDERS, now)
        if reopen is not None:
            if not math.isinf(reopen) and not self._retry_pending:
                self._retry_pending = True
                After(self.env, reopen - now, self._retry)
            return
        price = self.price_usd * self.shocks.multiplier(
            self.vendor, self.part, now, "price_multiplier")
        lead_mult = self.shocks.multiplier(self.vendor, self.part, now, "lead_time_multiplier")
        sizes = [1] * quantity if lots == "units" else [quantity]
        for size in sizes:
            self.on_order += size
            self.ordered += size
            self.spend_usd += size * price
            lead_hours = self._lead_time_days() * HOURS_PER_DAY * lead_mult
            After(self.env, lead_hours, self._arrive, size)

    def _retry(self, _event: simpy.Event) -> None:
        self._retry_pending = False
        self._reorder()

    def _arrive(self, event: simpy.Event) -> None:
        size: int = event.value  # type: ignore[assignment]  # the lot size it was scheduled with
        now = self.env.now
        reopen = self.shocks.blocked_until(self.vendor, self.part, DELIVERIES, now)
        if reopen is None:
            self.on_order -= size
            self._receive(size)
        elif math.isinf(reopen):
            self.on_order -= size
            self.lost_in_block += size
            self._reorder()
        else:
            After(self.env, reopen - now, self._arrive, size)

    def _send_to_rma(self) -> None:
        self.in_rma += 1
        After(self.env, self._rma_turnaround_days() * HOURS_PER_DAY, self._rma_back)

    def _rma_back(self, _event: simpy.Event) -> None:
        now = self.env.now
        reopen = self.shocks.blocked_until(self.vendor, self.part, RMA, now)
        if reopen is None:
            self.in_rma -= 1
            self._receive(1)
        elif math.isinf(reopen):
            self.in_rma -= 1
            self.lost_in_block += 1
            self._reorder()
        else:
            After(self.env, reopen - now, self._rma_back)

    def _receive(self, size: int) -> None:
        self.on_hand += size
        while self.backorders and self.on_hand > 0:
            self.on_hand -= 1
            self.consumed += 1
            self.backorders.popleft().succeed()
        self._close_stockout()

    def _close_stockout(self) -> None:
        if not self.backorders and self._stockout_since is not None:
            self.stockout_hours += self.env.now - self._stockout_since
            self._stockout_since = None

    def finish(self, now: float) -> None:
        """Close an open stock-out at the horizon."""
        if self._stockout_since is not None:
            self.stockout_hours += now - self._stockout_since
            self._stockout_since = now


class Inventories:
    """Every (SKU, part) stock of a replication."""

    def __init__(self, env: simpy.Environment, draws: Draws, shocks: ShockBook,
                 stocks: dict[tuple[str, str], tuple[str, float, ResolvedSparePolicy]],
                 shared_stocks: dict[tuple[str, str], tuple[str, float, ResolvedSparePolicy]]
                 | None = None):
        """`stocks`: (SKU, part) -> (vendor, price in USD, policy), in the order to build them;
        `shared_stocks` the same for parts of shared components (switches, PDUs), which no node
        lends or takes by cannibalization."""
        self._by_key = {
            key: Inventory(env, draws, shocks, key[0], key[1], vendor, price_usd, policy)
            for key, (vendor, price_usd, policy) in stocks.items()
        }
        self._by_sku: dict[str, list[Inventory]] = {}
        for (sku, _), inventory in self._by_key.items():
            self._by_sku.setdefault(sku, []).append(inventory)
        self._shared = {
            key: Inventory(env, draws, shocks, key[0], key[1], vendor, price_usd, policy)
            for key, (vendor, price_usd, policy) in (shared_stocks or {}).items()
        }
        self._by_key.update(self._shared)  # every stock, for orders, outputs and the horizon

    def get(self, sku: str, part: str) -> Inventory:
        return self._by_key[(sku, part)]

    def get_shared(self, sku: str, part: str) -> Inventory:
        """The stock of a shared component's part: its own, or the nodes' stock of that part."""
        return self._shared.get((sku, part)) or self._by_key[(sku, part)]

    def start(self) -> None:
        """Place the first orders of every stock, in build order."""
        for inventory in self._by_key.values():
            inventory.start()

    def of_sku(self, sku: str) -> list[Inventory]:
        """The stocks of every part of `sku`'s nodes, in build order."""
        return self._by_sku.get(sku, [])

    def __iter__(self) -> Iterator[Inventory]:
        return iter(self._by_key.values())

    def finish(self, now: float) -> None:
        for inventory in self._by_key.values():
            inventory.finish(now)
