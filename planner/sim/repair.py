"""What happens at a failure: who is hit, and the repair pipeline the failed node goes through.

Pipeline: diagnosis -> (transient) automated repair, escalated to a technician if it did not
hold; (hard) wait for a spare part, then a technician replaces it; every manual repair is
followed by validation and may not hold. A misdiagnosis sends a healthy node to the shop and
leaves the faulty one in service, where it fails again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.sim.fleet import BUSY, DOWN, HEALTHY, IDLE, RETIRED, STANDBY, WAIT_PART, PoolState
from planner.sim.spares import RepairTicket

if TYPE_CHECKING:
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
    draws = model.draws_repair
    hit = [node]
    if cat.blast_radius_nodes > 1 and draws.uniform() < cat.blast_fraction:
        first = (node // cat.blast_radius_nodes) * cat.blast_radius_nodes
        last = min(first + cat.blast_radius_nodes, pool.capacity)
        hit = [n for n in range(first, last) if pool.state[n] in HEALTHY]
    for victim in hit:
        if pool.state[victim] not in HEALTHY:  # drained meanwhile by a misdiagnosis of this event
            continue
        hard = draws.uniform() < cat.hard_fraction
        if model.misdiagnosis_probability > 0 and draws.uniform() < model.misdiagnosis_probability:
            _misdiagnose(model, pool, victim, cat, exclude=hit)
            continue
        job = take_down(model, pool, victim, cat.name)
        record = model.record_failure(pool, victim, cat.name, "hard" if hard else "transient", job)
        model.env.process(repair(model, pool, victim, cat, hard, record))


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
        model.env.process(repair(model, pool, wrong, cat, False, record, no_fault=True))
    delay = model.draws_repair.exponential() * model.misdiagnosis_refail_hours
    model.env.timeout(delay).callbacks.append(lambda _e: _refail(model, pool, faulty, cat))


def _refail(model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams) -> None:
    if pool.state[node] in HEALTHY:
        job = take_down(model, pool, node, cat.name)
        hard = model.draws_repair.uniform() < cat.hard_fraction
        record = model.record_failure(pool, node, cat.name, "hard" if hard else "transient", job)
        model.env.process(repair(model, pool, node, cat, hard, record))


def _random_healthy(model: ClusterModel, pool: PoolState, exclude: set[int]) -> int | None:
    for _ in range(32):
        n = model.draws_repair.index(pool.capacity)
        if n not in exclude and pool.state[n] in HEALTHY:
            return n
    return None


def _manual(model: ClusterModel, cat: CategoryParams):
    """Technician repairs until one holds; each is followed by validation."""
    env, draws = model.env, model.draws_repair
    hands_on, fail_probability = model.hands_on[cat.name], model.repair.manual_fix_fail_probability
    while True:
        with model.technicians.request() as request:
            yield request
            yield env.timeout(hands_on())
        yield env.timeout(model.validation())
        if draws.uniform() >= fail_probability:
            return


def _wait_for_parts(model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams):
    """Take the part; also wait for any part this node lent while it waited (cannibalization).
    Returns the hours waited."""
    ticket = RepairTicket(pool, node)
    inventory = model.inventory(pool.sku, cat.part)
    event = inventory.request(ticket)
    pending = [] if event is None else [(inventory, event)]
    waited = 0.0
    while pending:
        inventory, event = pending.pop(0)
        if not event.triggered:
            start = model.env.now
            pool.set_state(node, WAIT_PART, start)
            ticket.waiting_for = inventory
            for other in model.inventories_of(pool.sku):
                if other is not inventory:
                    other.offer_donor(ticket)
            yield event
            ticket.waiting_for = None
            pool.set_state(node, DOWN, model.env.now)
            waited += model.env.now - start
        pending.extend(ticket.owed)
        ticket.owed.clear()
    return waited


def repair(model: ClusterModel, pool: PoolState, node: int, cat: CategoryParams, hard: bool,
           record: list, no_fault: bool = False):
    """The repair pipeline of one failed node; ends by returning it to service or retiring it."""
    env, rp = model.env, model.repair
    start = env.now
    part_wait = 0.0
    yield env.timeout(model.diagnosis())
    if no_fault:
        yield env.timeout(model.validation())
        outcome = "no_fault_found"
    elif not hard:
        yield env.timeout(model.auto_repair())
        if model.draws_repair.uniform() < rp.auto_repair_success_probability:
            outcome = "auto_repair"
        else:
            yield from _manual(model, cat)
            outcome = "manual_repair"
    else:
        part_wait = yield from _wait_for_parts(model, pool, node, cat)
        yield from _manual(model, cat)
        outcome = "part_replaced"
    now = env.now
    if not no_fault and model.should_retire(pool, node, record[0], now):
        pool.set_state(node, RETIRED, now)
        for inventory in model.inventories_of(pool.sku):
            inventory.add_retired_node()
        outcome += "+retired"
    else:
        pool.set_state(node, IDLE, now)
        model.nodes_freed(pool)
    record[6] = outcome
    record[7] = now - start
    record[8] = part_wait
