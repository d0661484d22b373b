"""The repair shop: what a failure hits, and the pipeline a failed node goes through.

Pipeline: diagnosis -> (transient) automated repair, escalated to a technician if it did not
hold; (hard) wait for a spare part, then a technician replaces it; every manual repair is
followed by validation and may not hold. A misdiagnosis sends a healthy node to the shop and
leaves the faulty one in service, where it fails again.

A repair is a small state machine: each stage is one timeout whose callback starts the next
stage. No SimPy process (generator, start and end events) is spent per failed node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import simpy

from planner.scenario.schema import RepairPolicy
from planner.sim.context import SimContext
from planner.sim.draws import sampler
from planner.sim.events import After
from planner.sim.failure_log import HARD, MISDIAGNOSIS, TRANSIENT, FailureLog
from planner.sim.fleet import NodeState, PoolState
from planner.sim.scheduler import Scheduler
from planner.sim.setup import CategoryParams, PoolSetup
from planner.sim.spares import Inventories, RepairTicket

# outcomes of a repair (events.parquet `outcome`)
AUTO_REPAIR, MANUAL_REPAIR, PART_REPLACED, NO_FAULT_FOUND = (
    "auto_repair", "manual_repair", "part_replaced", "no_fault_found")
RETIRED_SUFFIX = "+retired"

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
        self.manual_fix_fail_probability = config.manual_fix_fail_probability
        self.diagnosis_hours = sampler(config.diagnosis_hours, draws)
        self.auto_repair_hours = sampler(config.auto_repair_hours, draws)
        self.validation_hours = sampler(config.validation_hours, draws)
        self.hands_on_hours = {
            c.name: sampler(config.hands_on_hours or c.repair_hours, draws)
            for ps in pools for c in ps.categories
        }

    # --- what a failure hits ------------------------------------------------------------------

    def on_failure(self, pool: PoolState, node: int, cat: CategoryParams) -> None:
        """A component of `node` failed (the node is healthy). Start repairs of every node it
        hits (its blast radius)."""
        uniform = self.uniform
        state = pool.state
        if cat.blast_radius_nodes > 1 and uniform() < cat.blast_fraction:
            first = (node // cat.blast_radius_nodes) * cat.blast_radius_nodes
            last = min(first + cat.blast_radius_nodes, pool.capacity)
            hit = [n for n in range(first, last)
                   if NodeState.IDLE <= state[n] <= NodeState.STANDBY]
        else:
            hit = [node]
        misdiagnosis = self.misdiagnosis_probability
        for victim in hit:
            if not NodeState.IDLE <= state[victim] <= NodeState.STANDBY:
                continue  # drained meanwhile by a misdiagnosis
            hard = uniform() < cat.hard_fraction
            if misdiagnosis > 0 and uniform() < misdiagnosis:
                self._misdiagnose(pool, victim, cat, exclude=hit)
                continue
            self._fail(pool, victim, cat, hard)

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
                 "part_wait_hours", "outcome", "ticket", "pending", "wait_start_hours")

    def __init__(self, shop: RepairShop, pool: PoolState, node: int, cat: CategoryParams,
                 hard: bool, row: list, no_fault: bool = False):
        self.shop, self.pool, self.node, self.cat = shop, pool, node, cat
        self.hard, self.row, self.no_fault = hard, row, no_fault
        self.start_hours = shop.env.now
        self.part_wait_hours = 0.0
        self.outcome = ""
        After(shop.env, shop.diagnosis_hours(), self._diagnosed)

    def _diagnosed(self, _event: simpy.Event) -> None:
        shop = self.shop
        if self.no_fault:
            self.outcome = NO_FAULT_FOUND
            After(shop.env, shop.validation_hours(), self._end)
        elif not self.hard:
            After(shop.env, shop.auto_repair_hours(), self._auto_repaired)
        else:
            self.outcome = PART_REPLACED
            self.ticket = RepairTicket(self.pool, self.node)
            assert self.cat.part is not None  # the catalog gives every hard failure a part
            inventory = shop.inventories.get(self.pool.sku, self.cat.part)
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
                self.pool.set_state(self.node, NodeState.WAITING_PARTS, now)
                ticket.waiting_for = inventory
                for other in self.shop.inventories.of_sku(self.pool.sku):
                    if other is not inventory:
                        other.offer_donor(ticket)
                event.callbacks.append(self._part_arrived)
                return
        self.shop.crew.acquire(self._hands_on)

    def _part_arrived(self, _event: simpy.Event) -> None:
        now = self.shop.env.now
        self.ticket.waiting_for = None
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
        shop = self.shop
        if shop.uniform() >= shop.manual_fix_fail_probability:
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
        if not self.no_fault and pool.record_failure_and_check_retirement(
                node, self.start_hours, now):  # the repair started at the failure
            shop.retire(pool, node, now)
            outcome += RETIRED_SUFFIX
        else:
            pool.set_state(node, NodeState.IDLE, now)
            shop.scheduler.nodes_freed(pool)
        FailureLog.close(row, outcome, now - self.start_hours, self.part_wait_hours)
