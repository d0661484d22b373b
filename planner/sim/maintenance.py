"""Planned maintenance of a pool: batches of nodes drained for a while (rolling upgrades,
firmware), on a calendar or at random.

Each batch is the next `batch_nodes` healthy nodes after the previous batch in node order, so a
rolling upgrade walks the whole pool (`order: random`: after a random node instead). A job
computing on a drained node is interrupted, and the interruption counts as planned, apart from
failures. Drained nodes come back together when the batch ends (a node whose shared component
is down then waits for it).
"""

from __future__ import annotations

import numpy as np
import simpy

from planner.sim.context import SimContext
from planner.sim.draws import Draws, sampler
from planner.sim.events import After
from planner.sim.failure_log import FailureLog
from planner.sim.fleet import NodeState, PoolState
from planner.sim.scheduler import Scheduler
from planner.sim.setup import MaintenanceParams

PLANNED = "planned"  # events.parquet `kind` of a maintenance batch, and its interruption cause
MAINTENANCE_DONE = "maintenance"  # outcome of a maintenance row


class MaintenancePlan:
    """The batches of one maintenance entry of one pool."""

    def __init__(self, ctx: SimContext, pool: PoolState, params: MaintenanceParams,
                 scheduler: Scheduler, rng: np.random.Generator):
        self.ctx, self.env, self.pool, self.params = ctx, ctx.env, pool, params
        self.scheduler = scheduler
        self.draws = Draws(rng)
        self.duration_hours = sampler(params.duration_hours, self.draws)
        self.cursor = 0  # the next node in rolling order
        self.batches = 0
        first = (params.first_hours if params.every_hours is not None
                 else self._poisson_gap_hours())
        if first < ctx.horizon_hours:
            After(self.env, max(first, 0.0), self._batch)

    def _poisson_gap_hours(self) -> float:
        assert self.params.per_hour is not None  # a calendar has every_hours instead
        return self.draws.exponential() / self.params.per_hour

    def _next_batch(self) -> list[int]:
        """The next batch_nodes healthy nodes in rolling order (fewer when the pool lacks them)."""
        pool, state = self.pool, self.pool.state
        if self.params.random_order:
            self.cursor = self.draws.index(pool.capacity)
        batch: list[int] = []
        for _ in range(pool.capacity):
            node = self.cursor
            self.cursor = (self.cursor + 1) % pool.capacity
            if NodeState.IDLE <= state[node] <= NodeState.STANDBY:
                batch.append(node)
                if len(batch) == self.params.batch_nodes:
                    break
        return batch

    def _batch(self, _event: simpy.Event) -> None:
        now = self.env.now
        batch = self._next_batch()
        if batch:
            self.batches += 1
            jobs: list[str] = []
            for node in batch:
                job = self.scheduler.take_node(self.pool, node, PLANNED)
                if job and job not in jobs:
                    jobs.append(job)
                self.pool.set_state(node, NodeState.MAINTENANCE, now)
            hours = self.duration_hours()
            row = self.ctx.log.open(now, self.pool.name, batch[0], self.params.name, PLANNED,
                                    ";".join(jobs))
            FailureLog.close(row, MAINTENANCE_DONE, hours, 0.0)
            After(self.env, hours, self._batch_done, batch)
        gap = (self.params.every_hours if self.params.every_hours is not None
               else self._poisson_gap_hours())
        After(self.env, gap, self._batch)

    def _batch_done(self, event: simpy.Event) -> None:
        now, pool = self.env.now, self.pool
        for node in event.value:  # type: ignore[union-attr]  # the batch it was scheduled with
            if pool.state[node] == NodeState.MAINTENANCE:
                pool.back_in_service(node, now)
        self.scheduler.nodes_freed(pool)
