"""What happens at a failure: who is hit, and the repair pipeline the failed node goes through.

Pipeline: diagnosis -> (transient) automated repair, escalated to a technician if it did not
hold; (hard) wait for a spare part, then a technician replaces it; every manual repair is
followed by validation and may not hold. A misdiagnosis sends a healthy node to the shop and
leaves the faulty one in service, where it fails again.

A repair is a small state machine: each stage is one timeout whose callback starts the next
stage. No SimPy process (generator, start and end events) is spent per failed node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.sim.events import After
from planner.sim.fleet import BUSY, DOWN, IDLE, RETIRED, STANDBY, WAIT_PART, PoolState
from planner.sim.spares import RepairTicket

if TYPE_CHECKING:
    import simpy

    from planner.sim.model import ClusterModel

MISDIAGNOSIS = "misdiagnosis"


@dataclass(frozen=True)
class CategoryParams:
    """A failure category as the simulator uses it (rates already per node-hour)."""

    name: str
    rate_per_hour: float
    hard_fraction: float
    part: str | None
    blast_radius_nodes: int
    blast_fraction: float
    repair_hours: object  # a distribution
    weibull_shape: float | None


# event record columns (one row per node failure)
EVENT_COLUMNS = (
    "time_hours", "pool", "node", "category", "kind", "job", "outcome", "downtime_hours",
    "part_wait_hours",
)
OUTCOME, DOWNTIME, PART_WAIT = 6, 7, 8  # record columns filled when the repair ends


class Crew:
    """The technicians: a repair that finds them all busy queues, first come first served."""

    def __init__(self, technicians: int):
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


def take_down(model: ClusterModel, pool: PoolState, node: int, cause: str) -> str:
    """Remove a healthy node from service; interrupt its job. Returns the job's name or ''."""
    state = pool.state[node]
    job_name = ""
    if state in (BUSY, STANDBY):
        job = model.jobs[pool.job[node]]
        job_name = job.name
        job.lose_node(node)
        if state == BUSY:
            job.interrupt(cause)
    pool.set_state(node, DOWN, model.env.now)
    return job_name


def on_failure(model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams) -> None:
    """A component of `node` failed (the node is healthy). Start repairs of every node it hits."""
    uniform = model.draws_repair.uniform
    state = pool.state
    if cat.blast_radius_nodes > 1 and uniform() < cat.blast_fraction:
        first = (node // cat.blast_radius_nodes) * cat.blast_radius_nodes
        last = min(first + cat.blast_radius_nodes, pool.capacity)
        hit = [n for n in range(first, last) if IDLE <= state[n] <= STANDBY]
    else:
        hit = [node]
    misdiagnosis = model.misdiagnosis_probability
    for victim in hit:
        if not IDLE <= state[victim] <= STANDBY:  # drained meanwhile by a misdiagnosis
            continue
        hard = uniform() < cat.hard_fraction
        if misdiagnosis > 0 and uniform() < misdiagnosis:
            _misdiagnose(model, pool, victim, cat, exclude=hit)
            continue
        job = take_down(model, pool, victim, cat.name)
        record = model.record_failure(pool, victim, cat.name, "hard" if hard else "transient", job)
        Repair(model, pool, victim, cat, hard, record)


def _misdiagnose(model: ClusterModel, pool: PoolState, faulty: int, cat: CategoryParams,
                 exclude: list[int]) -> None:
    """The failure stops the faulty node's job, but a healthy node (not hit by this event) is
    blamed and drained."""
    if pool.state[faulty] == BUSY:
        model.jobs[pool.job[faulty]].interrupt(cat.name)
    wrong = _random_healthy(model, pool, exclude=set(exclude))
    if wrong is not None:
        job = take_down(model, pool, wrong, MISDIAGNOSIS)
        record = model.record_failure(pool, wrong, cat.name, MISDIAGNOSIS, job)
        Repair(model, pool, wrong, cat, False, record, no_fault=True)
    delay = model.draws_repair.exponential() * model.misdiagnosis_refail_hours
    After(model.env, delay, lambda _e: _refail(model, pool, faulty, cat))


def _refail(model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams) -> None:
    if IDLE <= pool.state[node] <= STANDBY:
        job = take_down(model, pool, node, cat.name)
        hard = model.draws_repair.uniform() < cat.hard_fraction
        record = model.record_failure(pool, node, cat.name, "hard" if hard else "transient", job)
        Repair(model, pool, node, cat, hard, record)


def _random_healthy(model: ClusterModel, pool: PoolState, exclude: set[int]) -> int | None:
    for _ in range(32):
        n = model.draws_repair.index(pool.capacity)
        if n not in exclude and IDLE <= pool.state[n] <= STANDBY:
            return n
    return None


class Repair:
    """The repair of one failed node, from diagnosis until it is back in service or retired."""

    __slots__ = ("model", "pool", "node", "cat", "hard", "record", "no_fault", "start_hours",
                 "part_wait_hours", "outcome", "ticket", "pending", "wait_start_hours")

    def __init__(self, model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams,
                 hard: bool, record: list, no_fault: bool = False):
        self.model, self.pool, self.node, self.cat = model, pool, node, cat
        self.hard, self.record, self.no_fault = hard, record, no_fault
        self.start_hours = model.env.now
        self.part_wait_hours = 0.0
        self.outcome = ""
        After(model.env, model.diagnosis(), self._diagnosed)

    def _diagnosed(self, _event: simpy.Event) -> None:
        model = self.model
        if self.no_fault:
            self.outcome = "no_fault_found"
            After(model.env, model.validation(), self._end)
        elif not self.hard:
            After(model.env, model.auto_repair(), self._auto_repaired)
        else:
            self.outcome = "part_replaced"
            self.ticket = RepairTicket(self.pool, self.node)
            assert self.cat.part is not None  # the catalog gives every hard failure a part
            inventory = model.inventory(self.pool.sku, self.cat.part)
            event = inventory.request(self.ticket)
            self.pending = deque() if event is None else deque(((inventory, event),))
            self._next_part()

    def _auto_repaired(self, _event: simpy.Event) -> None:
        model = self.model
        if model.draws_repair.uniform() < model.repair.auto_repair_success_probability:
            self.outcome = "auto_repair"
            self._finish()
        else:
            self.outcome = "manual_repair"
            model.crew.acquire(self._hands_on)

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
                now = self.model.env.now
                self.wait_start_hours = now
                self.pool.set_state(self.node, WAIT_PART, now)
                ticket.waiting_for = inventory
                for other in self.model.inventories_of(self.pool.sku):
                    if other is not inventory:
                        other.offer_donor(ticket)
                event.callbacks.append(self._part_arrived)
                return
        self.model.crew.acquire(self._hands_on)

    def _part_arrived(self, _event: simpy.Event) -> None:
        now = self.model.env.now
        self.ticket.waiting_for = None
        self.pool.set_state(self.node, DOWN, now)
        self.part_wait_hours += now - self.wait_start_hours
        self._next_part()

    # --- manual repair: a technician, then validation, until one holds -------------------------

    def _hands_on(self) -> None:
        model = self.model
        After(model.env, model.hands_on[self.cat.name](), self._hands_off)

    def _hands_off(self, _event: simpy.Event) -> None:
        model = self.model
        model.crew.release()
        After(model.env, model.validation(), self._validated)

    def _validated(self, _event: simpy.Event) -> None:
        model = self.model
        if model.draws_repair.uniform() >= model.repair.manual_fix_fail_probability:
            self._finish()
        else:
            model.crew.acquire(self._hands_on)

    # --- back in service, or retired -----------------------------------------------------------

    def _end(self, _event: simpy.Event) -> None:
        self._finish()

    def _finish(self) -> None:
        model, pool, node, record = self.model, self.pool, self.node, self.record
        now = model.env.now
        outcome = self.outcome
        if not self.no_fault and pool.record_failure_and_check_retirement(node, record[0], now):
            pool.set_state(node, RETIRED, now)
            for inventory in model.inventories_of(pool.sku):
                inventory.add_retired_node()
            outcome += "+retired"
        else:
            pool.set_state(node, IDLE, now)
            model.nodes_freed(pool)
        record[OUTCOME] = outcome
        record[DOWNTIME] = now - self.start_hours
        record[PART_WAIT] = self.part_wait_hours
