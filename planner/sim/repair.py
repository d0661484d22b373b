"""The repair shop: what a failure hits, and the pipeline a failed node goes through.

Pipeline: diagnosis -> (transient) automated repair, escalated to a technician if it did not
hold; (hard) wait for a spare part, then a technician replaces it; every manual repair is
followed by validation and may not hold: it is redone, or (`failed_fix: silent`) the node goes
back unchanged. A manual repair that holds may cure a lemon. A misdiagnosis sends a healthy node
to the shop and leaves the faulty one in service, where it fails again.

A shared component (leaf switch, rack, PDU) that fails takes every node of its unit down; the
unit goes through the same pipeline once, with its own part and repair time, and its nodes come
back together (those also down for their own reasons come back when that ends too).

A repair is a small state machine: each stage is one timeout whose callback starts the next
stage. No SimPy process (generator, start and end events) is spent per failed node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import simpy

from planner.scenario.schema import RepairPolicy
from planner.sim.context import SimContext
from planner.sim.draws import sampler
from planner.sim.events import After
from planner.sim.failure_log import HARD, MISDIAGNOSIS, TRANSIENT, FailureLog
from planner.sim.fleet import NodeState, PoolState
from planner.sim.scheduler import Scheduler
from planner.sim.setup import CategoryParams, PoolSetup, SharedParams
from planner.sim.spares import Inventories, RepairTicket

if TYPE_CHECKING:
    from planner.sim.failures import SharedStream

# outcomes of a repair (events.parquet `outcome`)
AUTO_REPAIR, MANUAL_REPAIR, PART_REPLACED, NO_FAULT_FOUND = (
    "auto_repair", "manual_repair", "part_replaced", "no_fault_found")
RETIRED_SUFFIX = "+retired"
UNFIXED_SUFFIX = "+unfixed"  # a manual repair that did not hold went unnoticed (silent)
CURED_SUFFIX = "+cured"  # a manual repair cured a lemon

_BLAMED_NODE_TRIES = 32  # random draws to find a healthy node to blame for a misdiagnosis


class Crew:
    """The technicians: a repair that finds them all busy queues, first come first served."""

    def __init__(self, technicians: int):
        self.technicians = technicians
        self.free = technicians
        self.queue: deque[Callable[[], None]] = deque()

    def acquire(self, start: Callable[[], None]) -> None:
        """Call `start` once a technician is assigned (now, if one is free)."""
        if self.free > 0:
            self.free -= 1
            start()
        else:
            self.queue.append(start)

    def release(self) -> None:
        """A technician is done: hand them to the longest-waiting repair, else free them."""
        if self.queue:
            self.queue.popleft()()
        else:
            self.free += 1


class RepairShop:
    """Failure handling and the repair pipeline of every pool of a replication."""

    def __init__(self, ctx: SimContext, config: RepairPolicy, pools: Sequence[PoolSetup],
                 scheduler: Scheduler, inventories: Inventories):
        self.ctx = ctx
        self.env = ctx.env
        self.log = ctx.log
        self.scheduler = scheduler
        self.inventories = inventories
        self.crew = Crew(config.technicians)
        draws = ctx.repair_draws
        self.uniform = draws.uniform
        self.misdiagnosis_probability = config.misdiagnosis_probability
        self.misdiagnosis_refail_hours = config.misdiagnosis_refail_hours
        self.auto_repair_success_probability = config.auto_repair_success_probability
        self.diagnosis_hours = sampler(config.diagnosis_hours, draws)
        self.auto_repair_hours = sampler(config.auto_repair_hours, draws)
        self.validation_hours = sampler(config.validation_hours, draws)
        self.hands_on_hours = {
            c.name: sampler(config.hands_on_hours or c.repair_hours, draws)
            for ps in pools for c in ps.categories
        }
        # a shared component goes through the pipeline as a category of its own
        self.shared_as_category = {
            c.name: CategoryParams(c.name, c.rate_per_hour, c.hard_fraction, c.part,
                                   c.repair_hours, None, config.manual_fix_fail_probability,
                                   config.failed_fix == "silent", 0.0)
            for ps in pools for c in ps.shared}
        for name, c in self.shared_as_category.items():
            self.hands_on_hours[name] = sampler(config.hands_on_hours or c.repair_hours, draws)

    # --- what a failure hits ------------------------------------------------------------------

    def on_failure(self, pool: PoolState, node: int, cat: CategoryParams) -> None:
        """A component of `node` failed (the node is healthy): repair it, or, misdiagnosed,
        drain a healthy node instead."""
        uniform = self.uniform
        hard = uniform() < cat.hard_fraction
        misdiagnosis = self.misdiagnosis_probability
        if misdiagnosis > 0 and uniform() < misdiagnosis:
            self._misdiagnose(pool, node, cat, exclude=[node])
            return
        self._fail(pool, node, cat, hard)

    def on_shared_failure(self, pool: PoolState, stream: SharedStream, unit: int) -> None:
        """A unit of a shared component failed: every node under it goes down (a job computing
        on one is interrupted) until the unit is repaired, once."""
        comp: SharedParams = stream.component
        now = self.env.now
        stream.down[unit] = 1
        pool.units_down += 1
        pool.shared_failures += 1
        jobs: list[str] = []
        blocked, state = pool.blocked, pool.state
        down = []
        for n in stream.nodes_of(unit):
            blocked[n] += 1
            if NodeState.IDLE <= state[n] <= NodeState.STANDBY:
                job = self.scheduler.take_node(pool, n, comp.name)
                if job and job not in jobs:
                    jobs.append(job)
                pool.set_state(n, NodeState.DOWN_SHARED, now)
                down.append(n)
        cat = self.shared_as_category[comp.name]
        hard = self.uniform() < cat.hard_fraction
        first = stream.nodes_of(unit)[0]
        row = self.log.open(now, pool.name, first, comp.name, HARD if hard else TRANSIENT,
                            ";".join(jobs))
        Repair(self, pool, first, cat, hard, row, unit=(stream, unit))
        if down and self.misdiagnosis_probability > 0 \
                and self.uniform() < self.misdiagnosis_probability:
            # a node of the unit is blamed as well: it goes to the shop for nothing
            blamed = down[self.ctx.repair_draws.index(len(down))]
            pool.set_state(blamed, NodeState.IN_REPAIR, now)
            blamed_row = self.log.open(now, pool.name, blamed, comp.name, MISDIAGNOSIS, "")
            Repair(self, pool, blamed, cat, False, blamed_row, no_fault=True)

    def unit_repaired(self, pool: PoolState, stream: SharedStream, unit: int) -> None:
        """The unit is back: its nodes down only because of it are idle again, together."""
        now = self.env.now
        stream.down[unit] = 0
        pool.units_down -= 1
        blocked, state = pool.blocked, pool.state
        for n in stream.nodes_of(unit):
            blocked[n] -= 1
            if not blocked[n] and state[n] == NodeState.DOWN_SHARED:
                pool.set_state(n, NodeState.IDLE, now)
        self.scheduler.nodes_freed(pool)

    def _fail(self, pool: PoolState, node: int, cat: CategoryParams, hard: bool) -> None:
        """Take a failed healthy node out of service (interrupting its job), log the failure
        and start its repair."""
        job = self.scheduler.take_node(pool, node, cat.name)
        now = self.env.now
        pool.set_state(node, NodeState.IN_REPAIR, now)
        pool.failures += 1
        row = self.log.open(now, pool.name, node, cat.name, HARD if hard else TRANSIENT, job)
        Repair(self, pool, node, cat, hard, row)

    def _misdiagnose(self, pool: PoolState, faulty: int, cat: CategoryParams,
                     exclude: list[int]) -> None:
        """The failure stops the faulty node's job, but a healthy node (not hit by this event)
        is blamed and drained; the faulty node fails again later."""
        self.scheduler.interrupt_holder(pool, faulty, cat.name)
        wrong = self._random_healthy(pool, exclude=set(exclude))
        if wrong is not None:  # drained as if it had failed, but not counted as a failure
            job = self.scheduler.take_node(pool, wrong, MISDIAGNOSIS)
            now = self.env.now
            pool.set_state(wrong, NodeState.IN_REPAIR, now)
            row = self.log.open(now, pool.name, wrong, cat.name, MISDIAGNOSIS, job)
            Repair(self, pool, wrong, cat, False, row, no_fault=True)
        delay = self.ctx.repair_draws.exponential() * self.misdiagnosis_refail_hours
        After(self.env, delay, lambda _e: self._refail(pool, faulty, cat))

    def _refail(self, pool: PoolState, node: int, cat: CategoryParams) -> None:
        if pool.is_healthy(node):
            self._fail(pool, node, cat, self.uniform() < cat.hard_fraction)

    def _random_healthy(self, pool: PoolState, exclude: set[int]) -> int | None:
        index = self.ctx.repair_draws.index
        for _ in range(_BLAMED_NODE_TRIES):
            n = index(pool.capacity)
            if n not in exclude and pool.is_healthy(n):
                return n
        return None

    def retire(self, pool: PoolState, node: int, now: float) -> None:
        """A repaired node met the retirement rule: out of service for good; its parts may be
        cannibalized."""
        pool.set_state(node, NodeState.RETIRED, now)
        for inventory in self.inventories.of_sku(pool.sku):
            inventory.add_retired_node()


class Repair:
    """The repair of one failed node, from diagnosis until it is back in service or retired."""

    __slots__ = ("shop", "pool", "node", "cat", "hard", "row", "no_fault", "start_hours",
                 "part_wait_hours", "outcome", "ticket", "pending", "wait_start_hours", "unit")

    def __init__(self, shop: RepairShop, pool: PoolState, node: int, cat: CategoryParams,
                 hard: bool, row: list, no_fault: bool = False,
                 unit: tuple[SharedStream, int] | None = None):
        self.shop, self.pool, self.node, self.cat = shop, pool, node, cat
        self.hard, self.row, self.no_fault = hard, row, no_fault
        self.unit = unit  # (stream, unit index) when a shared component is repaired
        self.start_hours = shop.env.now
        self.part_wait_hours = 0.0
        self.outcome = ""
        # nothing happens to the node between its diagnosis and what follows unless it needs a
        # part: one timeout covers diagnosis + validation (no fault) or + automated repair
        diagnosis = shop.diagnosis_hours()
        if no_fault:
            self.outcome = NO_FAULT_FOUND
            After(shop.env, diagnosis + shop.validation_hours(), self._end)
        elif not hard:
            After(shop.env, diagnosis + shop.auto_repair_hours(), self._auto_repaired)
        else:
            After(shop.env, diagnosis, self._diagnosed)

    def _diagnosed(self, _event: simpy.Event) -> None:
        """A hard failure is diagnosed: the part is asked for."""
        shop = self.shop
        self.outcome = PART_REPLACED
        self.ticket = RepairTicket(self.pool, self.node)
        assert self.cat.part is not None  # the catalog gives every hard failure a part
        inventory = (shop.inventories.get(self.pool.sku, self.cat.part) if self.unit is None
                     else shop.inventories.get_shared(self.pool.sku, self.cat.part))
        event = inventory.request(self.ticket)
        self.pending = deque() if event is None else deque(((inventory, event),))
        self._next_part()

    def _auto_repaired(self, _event: simpy.Event) -> None:
        shop = self.shop
        if shop.uniform() < shop.auto_repair_success_probability:
            self.outcome = AUTO_REPAIR
            self._finish()
        else:
            self.outcome = MANUAL_REPAIR
            shop.crew.acquire(self._hands_on)

    # --- parts: the node takes its part, and any part it lent while it waited -----------------

    def _next_part(self) -> None:
        ticket, pending = self.ticket, self.pending
        while True:
            pending.extend(ticket.owed)
            ticket.owed.clear()
            if not pending:
                break
            inventory, event = pending.popleft()
            if not event.triggered:
                now = self.shop.env.now
                self.wait_start_hours = now
                if self.unit is None:  # a unit's nodes stay down_shared meanwhile
                    self.pool.set_state(self.node, NodeState.WAITING_PARTS, now)
                ticket.waiting_for = inventory
                if self.unit is None:  # a node, not a switch, can lend its parts meanwhile
                    for other in self.shop.inventories.of_sku(self.pool.sku):
                        if other is not inventory:
                            other.offer_donor(ticket)
                event.callbacks.append(self._part_arrived)
                return
        self.shop.crew.acquire(self._hands_on)

    def _part_arrived(self, _event: simpy.Event) -> None:
        now = self.shop.env.now
        self.ticket.waiting_for = None
        if self.unit is None:
            self.pool.set_state(self.node, NodeState.IN_REPAIR, now)
        self.part_wait_hours += now - self.wait_start_hours
        self._next_part()

    # --- manual repair: a technician, then validation, until one holds -------------------------

    def _hands_on(self) -> None:
        shop = self.shop
        After(shop.env, shop.hands_on_hours[self.cat.name](), self._hands_off)

    def _hands_off(self, _event: simpy.Event) -> None:
        shop = self.shop
        shop.crew.release()
        After(shop.env, shop.validation_hours(), self._validated)

    def _validated(self, _event: simpy.Event) -> None:
        shop, cat = self.shop, self.cat
        if shop.uniform() >= cat.fix_fail_probability:
            if cat.lemon_cure_probability > 0 and self.pool.lemon[self.node] \
                    and shop.uniform() < cat.lemon_cure_probability:
                self.pool.lemon[self.node] = False
                self.outcome += CURED_SUFFIX
            self._finish()
        elif cat.silent_failed_fix:
            self.outcome += UNFIXED_SUFFIX
            self._finish()
        else:
            shop.crew.acquire(self._hands_on)

    # --- back in service, or retired -----------------------------------------------------------

    def _end(self, _event: simpy.Event) -> None:
        self._finish()

    def _finish(self) -> None:
        shop, pool, node, row = self.shop, self.pool, self.node, self.row
        now = shop.env.now
        outcome = self.outcome
        if self.unit is not None:
            shop.unit_repaired(pool, *self.unit)
        elif not self.no_fault and pool.record_failure_and_check_retirement(
                node, self.start_hours, now):  # the repair started at the failure
            shop.retire(pool, node, now)
            outcome += RETIRED_SUFFIX
        elif pool.back_in_service(node, now):
            shop.scheduler.nodes_freed(pool)
        FailureLog.close(row, outcome, now - self.start_hours, self.part_wait_hours)
