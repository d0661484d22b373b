"""What a replication returns: its metrics (named in planner.metrics), a timeseries sampled
every `timeseries_step_days`, the failure log and the shocks that happened."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import simpy

from planner.metrics import (
    ETTR,
    GOODPUT_GPU_HOURS,
    INTERRUPTIONS_BY_CATEGORY,
    INTERRUPTIONS_TOTAL,
    JOB_COMPLETED,
    JOB_INTERRUPTIONS,
    JOB_MTTF_HOURS,
    JOB_PLANNED_INTERRUPTIONS,
    LOSS_CAUSES,
    LOST_GPU_HOURS,
    NODE_AVAILABILITY,
    NODE_FAILURES,
    NODES_RETIRED,
    PARTS_CANNIBALIZED,
    PARTS_CONSUMED,
    PARTS_SPEND_USD,
    PLANNED_INTERRUPTIONS,
    REPAIR_BACKLOG_MAX,
    SHARED_FAILURES,
    STOCKOUT_DAYS,
    TIME_TO_TRAIN_DAYS,
)
from planner.sim.failure_log import MISDIAGNOSIS
from planner.sim.fleet import Backlog, NodeState, PoolState
from planner.sim.jobs import JobRunner
from planner.sim.maintenance import PLANNED
from planner.sim.scheduler import PREEMPTION
from planner.sim.spares import Inventories
from planner.units import HOURS_PER_DAY


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication produced: flat metrics, a daily timeseries and the failure log."""

    replication: int
    metrics: dict[str, float]
    timeseries: dict[str, list]
    events: list[list]  # rows of planner.sim.failure_log.EVENT_COLUMNS
    sim_events: int
    shocks: tuple[tuple[str, str, float, float], ...] = ()  # (name, vendor, start h, end h)


class Timeseries:
    """Node states per pool, stock per part and job progress, every `step_hours` and at the
    horizon (one SimPy process: a timeout per sample)."""

    def __init__(self, env: simpy.Environment, pools: Sequence[PoolState],
                 inventories: Inventories, jobs: Sequence[JobRunner], step_hours: float,
                 extra_states: bool = False):
        """`extra_states`: also sample nodes down with a shared component and in maintenance
        (scenarios that model them)."""
        self.env, self.pools, self.inventories, self.jobs = env, pools, inventories, jobs
        self.extra_states = extra_states
        self.series: dict[str, list] = {}
        env.process(self._sample(step_hours))

    def _sample(self, step_hours: float) -> Generator[simpy.Event, None, None]:
        while True:
            self.snapshot()
            yield self.env.timeout(step_hours)

    def snapshot(self) -> None:
        ts, now = self.series, self.env.now
        ts.setdefault("day", []).append(now / HOURS_PER_DAY)
        for pool in self.pools:
            healthy, repair, waiting, retired, installed = pool.counts_snapshot()
            for key, value in (("healthy_nodes", healthy), ("in_repair_nodes", repair),
                               ("waiting_parts_nodes", waiting), ("retired_nodes", retired),
                               ("installed_nodes", installed)):
                ts.setdefault(f"{pool.name}.{key}", []).append(value)
            if self.extra_states:
                down, drained = pool.planned_and_shared_snapshot()
                ts.setdefault(f"{pool.name}.down_shared_nodes", []).append(down)
                ts.setdefault(f"{pool.name}.maintenance_nodes", []).append(drained)
        for inv in self.inventories:
            ts.setdefault(f"stock.{inv.sku}/{inv.part}", []).append(inv.on_hand)
        for job in self.jobs:
            ts.setdefault(f"{job.name}.progress_gpu_hours", []).append(job.progress_hours * job.gpus)

    def close(self, horizon_hours: float) -> None:
        """A last sample at the horizon, unless the last step fell on it."""
        days = self.series["day"]
        if not days or days[-1] * HOURS_PER_DAY < horizon_hours:
            self.snapshot()


def collect_metrics(horizon_hours: float, jobs: Sequence[JobRunner], pools: Sequence[PoolState],
                    inventories: Inventories, backlog: Backlog,
                    category_names: Sequence[str]) -> dict[str, float]:
    """Every metric of the replication by its flat name (docs/outputs.md, "Metrics")."""
    m: dict[str, float] = {}
    lost = dict.fromkeys(LOSS_CAUSES, 0.0)
    by_cause = dict.fromkeys((*category_names, PREEMPTION, MISDIAGNOSIS), 0)
    goodput = 0.0
    planned_total = 0
    for job in jobs:
        wall = job.wall_hours(horizon_hours)
        m[ETTR.flat(job.name)] = job.progress_hours / wall if wall > 0 else math.nan
        goodput += job.progress_hours * job.gpus
        if job.spec.work_target_gpu_hours is not None:
            finished_at = job.finished_at
            m[TIME_TO_TRAIN_DAYS.flat(job.name)] = (
                (finished_at - job.start_hours) / HOURS_PER_DAY
                if finished_at is not None else math.nan)
            m[JOB_COMPLETED.flat(job.name)] = 1.0 if finished_at is not None else 0.0
        planned = job.interruptions.get(PLANNED, 0)
        n = sum(job.interruptions.values()) - planned
        m[JOB_MTTF_HOURS.flat(job.name)] = job.exposed_hours / n if n else math.nan
        m[JOB_INTERRUPTIONS.flat(job.name)] = float(n)
        m[JOB_PLANNED_INTERRUPTIONS.flat(job.name)] = float(planned)
        planned_total += planned
        for cause, k in job.interruptions.items():
            if cause != PLANNED:
                by_cause[cause] = by_cause.get(cause, 0) + k
        lost["lost_work"] += job.lost_work_hours * job.gpus
        lost["restart"] += job.restart_hours * job.gpus
        lost["waiting_for_nodes"] += job.waiting_hours * job.gpus
        lost["checkpoint_writes"] += job.write_total_hours * job.gpus
    m[GOODPUT_GPU_HOURS.flat()] = goodput
    m[INTERRUPTIONS_TOTAL.flat()] = float(sum(by_cause.values()))
    for cause, k in by_cause.items():
        m[INTERRUPTIONS_BY_CATEGORY.flat(cause)] = float(k)
    m[PLANNED_INTERRUPTIONS.flat()] = float(planned_total)
    for key, value in lost.items():
        m[LOST_GPU_HOURS.flat(key)] = value
    for pool in pools:
        m[NODE_AVAILABILITY.flat(pool.name)] = (
            pool.healthy_node_hours / pool.installed_node_hours
            if pool.installed_node_hours > 0 else math.nan)
        m[NODES_RETIRED.flat(pool.name)] = float(pool.count[NodeState.RETIRED])
        m[NODE_FAILURES.flat(pool.name)] = float(pool.failures)
        m[SHARED_FAILURES.flat(pool.name)] = float(pool.shared_failures)
    spend = 0.0
    for inv in inventories:
        part = f"{inv.sku}/{inv.part}"
        m[STOCKOUT_DAYS.flat(part)] = inv.stockout_hours / HOURS_PER_DAY
        m[PARTS_CONSUMED.flat(part)] = float(inv.consumed + inv.from_retired)
        m[PARTS_CANNIBALIZED.flat(part)] = float(inv.cannibalized)
        spend += inv.spend_usd
    m[PARTS_SPEND_USD.flat()] = spend
    m[REPAIR_BACKLOG_MAX.flat()] = float(backlog.max)
    return m
