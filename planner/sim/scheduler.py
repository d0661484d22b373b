"""Which job holds which node: priority, gang fill, warm standbys, preemption, nodes freed.

Jobs of a pool are served highest priority first (ties: scenario order). A job restarts only
with every node it needs at once (standbys first, then idle nodes, then, if allowed, nodes of
lower-priority jobs, lowest priority first); a job that cannot restart holds nothing, so jobs
never deadlock. Idle nodes go to waiting jobs before warm standbys are refilled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import simpy

from planner.scenario.schema import Job
from planner.sim.fleet import NodeState, PoolState
from planner.sim.jobs import JobRunner

PREEMPTION = "preemption"  # interruption cause of a job whose nodes a higher-priority job took


@dataclass(frozen=True)
class JobPlacement:
    """A job of the scenario and where it runs."""

    spec: Job
    pool: PoolState
    gpus_per_node: int
    start_hours: float
    interval_hours: float  # checkpoint interval (Daly's optimum already resolved)
    end_hours: float = math.inf  # the end of the job's window


@dataclass
class _PoolJobs:
    """The jobs of one pool, as the scheduler serves them."""

    by_priority: list[JobRunner] = field(default_factory=list)  # highest first
    with_standby: list[JobRunner] = field(default_factory=list)  # those keeping warm standbys
    parked: int = 0  # jobs waiting for nodes while holding none


class Scheduler:
    """Allocates the nodes of every pool to the jobs of a replication."""

    def __init__(self, env: simpy.Environment, horizon_hours: float, pools: Sequence[PoolState],
                 placements: Sequence[JobPlacement]):
        self.env = env
        self.jobs = [JobRunner(env, horizon_hours, index, p.spec, p.pool, p.gpus_per_node,
                               p.start_hours, p.interval_hours, allocator=self,
                               end_hours=p.end_hours)
                     for index, p in enumerate(placements)]
        self._pools = {pool.name: _PoolJobs() for pool in pools}
        by_priority = sorted(self.jobs, key=lambda j: (-j.spec.priority, j.index))
        for job in by_priority:
            entry = self._pools[job.pool.name]
            entry.by_priority.append(job)
            if job.spec.warm_standby_nodes > 0:
                entry.with_standby.append(job)
        # per job: the jobs it may preempt, lowest priority first (the order nodes are taken in)
        self._lower: list[list[JobRunner]] = [
            [j for j in self._pools[job.pool.name].by_priority
             if j.spec.priority < job.spec.priority][::-1]
            for job in self.jobs]

    def start(self) -> None:
        """Schedule every job's submission; jobs submitted at one instant take nodes by
        priority."""
        for job in sorted(self.jobs, key=lambda j: (-j.spec.priority, j.index)):
            job.schedule_start()

    # --- nodes leaving and joining service ---------------------------------------------------

    def take_node(self, pool: PoolState, node: int, cause: str) -> str:
        """A healthy node leaves service (failed or blamed): it leaves its job, which is
        interrupted if the node was computing. Returns the job's name, or '' if none. The
        caller then sets the node's new state."""
        state = pool.state[node]
        if state != NodeState.BUSY and state != NodeState.STANDBY:
            return ""
        job = self.jobs[pool.job[node]]
        pool.job[node] = -1  # _detach, inlined
        if state == NodeState.BUSY:
            job.assigned.discard(node)
            job.interrupt(cause)
        else:
            job.standby.discard(node)
        return job.name

    def interrupt_holder(self, pool: PoolState, node: int, cause: str) -> None:
        """A failure stops the job computing on `node` (which stays in service)."""
        if pool.state[node] == NodeState.BUSY:
            self.jobs[pool.job[node]].interrupt(cause)

    def nodes_freed(self, pool: PoolState) -> None:
        """Idle nodes appeared in `pool`: wake waiting jobs by priority, else fill standbys."""
        entry = self._pools[pool.name]
        if entry.parked:
            for job in entry.by_priority:
                if job.parked and self.can_restart(job):
                    job.wake()
            return  # idle nodes are kept for waiting jobs, not given to standbys
        for job in entry.with_standby:
            if not self._fill_standby(job):
                return

    def has_waiting_job(self, pool: PoolState, other_than: JobRunner | None = None) -> bool:
        """Whether a job of `pool` (other than `other_than`) waits for nodes."""
        own = 1 if other_than is not None and other_than.parked else 0
        return self._pools[pool.name].parked - own > 0

    # --- the allocator a job calls (planner.sim.jobs.Allocator) -------------------------------

    def allocate(self, job: JobRunner) -> float | None:
        """Gang allocation: every missing node at once, then the job's standbys topped up;
        returns the extra restart hours. A job that cannot get them all is parked and gives
        back what it holds; returns None."""
        extra = self._gang_fill(job)
        if extra is None:
            self._park(job, True)
            self.release(job)
            return None
        self._park(job, False)
        if job.spec.warm_standby_nodes > 0 and not self.has_waiting_job(job.pool, other_than=job):
            self._fill_standby(job)
        return extra

    def withdraw(self, job: JobRunner) -> None:
        """`job` ended early: no longer waiting, and every node it holds goes back."""
        self._park(job, False)
        self.release(job)

    def release(self, job: JobRunner) -> None:
        """Give every node `job` holds (assigned and standby) back to the pool."""
        if not (job.assigned or job.standby):
            return
        pool, now = job.pool, self.env.now
        for node in sorted(job.assigned | job.standby):
            self._detach(job, node)
            pool.set_state(node, NodeState.IDLE, now)
        self.nodes_freed(pool)

    # --- allocation --------------------------------------------------------------------------

    def can_restart(self, job: JobRunner) -> bool:
        """Whether standby, idle and (if allowed) borrowable nodes cover what the job lacks."""
        need = job.nodes_needed - len(job.assigned)
        have = len(job.standby) + job.pool.count[NodeState.IDLE]
        if have >= need:
            return True
        lower = self._lower[job.index]
        if not job.spec.preempt_lower_priority or not lower:
            return False
        cap = job.spec.max_borrowed_nodes
        if cap is not None and need - have > cap:
            return False
        return have + sum(len(v.assigned) + len(v.standby) for v in lower) >= need

    def _gang_fill(self, job: JobRunner) -> float | None:
        """Take every missing node at once (standby, then idle, then from lower-priority jobs)
        and return the extra restart hours, or None and take nothing."""
        if not self.can_restart(job):
            return None
        extra = 0.0
        pool, assigned, standby, index = job.pool, job.assigned, job.standby, job.index
        set_state, holder, now, busy = pool.set_state, pool.job, self.env.now, NodeState.BUSY
        need = job.nodes_needed - len(assigned)
        while need > 0 and standby:  # _assign, inlined: the hot path of every restart
            node = standby.pop()
            set_state(node, busy, now)
            holder[node] = index
            assigned.add(node)
            need -= 1
        while need > 0:
            node = pool.take_idle()
            if node is None:
                break
            set_state(node, busy, now)
            holder[node] = index
            assigned.add(node)
            extra = job.spec.host_selection_hours
            need -= 1
        if need > 0:
            # lower-priority jobs holding nodes, lowest priority first; each node borrowed
            # costs borrow_hours_per_node, the batch borrow_hours_per_batch once
            borrowed = need
            for victim in [j for j in self._lower[job.index] if j.assigned or j.standby]:
                while need > 0 and (victim.standby or victim.assigned):
                    # a victim's standby nodes go first; set.pop() on ints is deterministic
                    from_standby = bool(victim.standby)
                    node = (victim.standby if from_standby else victim.assigned).pop()
                    self._detach(victim, node)
                    if not from_standby:
                        victim.interrupt(PREEMPTION)
                    self._assign(job, node)
                    need -= 1
            spec = job.spec
            extra = (spec.host_selection_hours + spec.batch_borrow_hours
                     + spec.borrow_hours_per_node * borrowed)
        return extra

    @staticmethod
    def _standby_deficit(job: JobRunner) -> int:
        if not job.active:
            return 0
        return job.spec.warm_standby_nodes - len(job.standby)

    def _fill_standby(self, job: JobRunner) -> bool:
        """Give `job` idle nodes until its standby is full; False when idle nodes ran out."""
        pool = job.pool
        while self._standby_deficit(job) > 0:
            node = pool.take_idle()
            if node is None:
                return False
            pool.set_state(node, NodeState.STANDBY, self.env.now)
            pool.job[node] = job.index
            job.standby.add(node)
        return True

    def _assign(self, job: JobRunner, node: int) -> None:
        job.pool.set_state(node, NodeState.BUSY, self.env.now)
        job.pool.job[node] = job.index
        job.assigned.add(node)

    @staticmethod
    def _detach(job: JobRunner, node: int) -> None:
        """`node` leaves `job` (failed, blamed, preempted or released); the caller sets its
        new state."""
        job.pool.job[node] = -1
        job.assigned.discard(node)
        job.standby.discard(node)

    def _park(self, job: JobRunner, parked: bool) -> None:
        if parked != job.parked:
            job.parked = parked
            self._pools[job.pool.name].parked += 1 if parked else -1
