"""A synchronous training job: a state machine driven by a few timeouts, no SimPy process.

Phases: waiting for nodes -> restarting -> running -> (interrupted -> waiting ...) -> done.
Time is accounted per phase so that wall time = productive + lost work + restart + waiting for
nodes + checkpoint writes, at every moment. A timeout carries the job's token at scheduling;
an interruption moves the token on, so a timeout of an abandoned phase fires as a no-op (as an
interrupted process's timeout does in SimPy).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import simpy

from planner.sim.checkpoint import split_segment, wall_hours_for_work
from planner.sim.events import After, Urgent
from planner.sim.fleet import BUSY, IDLE, STANDBY

if TYPE_CHECKING:
    from planner.scenario.schema import Job
    from planner.sim.fleet import PoolState
    from planner.sim.model import ClusterModel

NOT_STARTED, WAITING, RESTARTING, RUNNING, DONE = range(5)
PREEMPTION = "preemption"


class JobRunner:
    """State and process of one job."""

    def __init__(self, model: ClusterModel, index: int, spec: Job, pool: PoolState,
                 gpus_per_node: int, start_hours: float, interval_hours: float):
        self.model = model
        self.env: simpy.Environment = model.env
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.pool = pool
        self.nodes_needed = spec.nodes
        self.gpus = spec.nodes * gpus_per_node
        self.start_hours = start_hours
        self.interval_hours = interval_hours
        self.write_hours = spec.checkpoint_write_hours
        self.target_hours = (
            math.inf if spec.work_target_gpu_hours is None
            else spec.work_target_gpu_hours / self.gpus
        )
        self.assigned: set[int] = set()
        self.standby: set[int] = set()
        self.phase = NOT_STARTED
        self.phase_start = 0.0
        self.progress_hours = 0.0  # useful compute kept (checkpointed, or finished)
        self.lost_work_hours = 0.0
        self.restart_hours = 0.0
        self.waiting_hours = 0.0
        self.write_total_hours = 0.0
        self.exposed_hours = 0.0  # time restarting or running: when failures interrupt the job
        self.interruptions: Counter[str] = Counter()
        self.finished_at: float | None = None
        self.parked = False  # waiting for nodes, holding none, until nodes_freed wakes it
        self._wake_pending = False
        self._interrupt_pending = False
        self._first_start = True
        self._token = 0  # moves on at every interruption; stale timeouts carry an older one
        self._restart_length_hours = 0.0
        self.lower_priority: list[JobRunner] = []  # jobs it may preempt, lowest priority first

    def schedule_start(self) -> None:
        """Schedule the job's submission (the model calls this once, by priority)."""
        After(self.env, self.start_hours, self._begin)

    # --- called by the failure handler and other jobs -----------------------------------------

    def interrupt(self, cause: str) -> None:
        """A failure on one of the job's nodes: stop the job if it is running or restarting."""
        if self.phase in (RUNNING, RESTARTING) and not self._interrupt_pending:
            self._interrupt_pending = True
            self.interruptions[cause] += 1
            Urgent(self.env, self._interrupted)

    def wake(self) -> None:
        """Nodes were freed and this parked job can now restart: try once this instant ends."""
        if not self._wake_pending:
            self._wake_pending = True
            After(self.env, 0.0, self._woken)

    def lose_node(self, node: int) -> None:
        """`node` left the job (failed, blamed, or preempted); the caller sets its new state."""
        self.pool.job[node] = -1
        self.assigned.discard(node)
        self.standby.discard(node)

    def standby_deficit(self) -> int:
        if self.phase in (NOT_STARTED, DONE):
            return 0
        return self.spec.warm_standby_nodes - len(self.standby)

    def add_standby(self, node: int) -> None:
        self.pool.set_state(node, STANDBY, self.env.now)
        self.pool.job[node] = self.index
        self.standby.add(node)

    # --- the process -------------------------------------------------------------------------

    def _assign(self, node: int) -> None:
        self.pool.set_state(node, BUSY, self.env.now)
        self.pool.job[node] = self.index
        self.assigned.add(node)

    def can_restart(self) -> bool:
        """Whether standby, idle and (if allowed) preemptible nodes cover what the job lacks."""
        need = self.nodes_needed - len(self.assigned)
        have = len(self.standby) + self.pool.count[IDLE]
        if have >= need:
            return True
        if not self.spec.preempt_lower_priority or not self.lower_priority:
            return False
        return have + sum(len(v.assigned) + len(v.standby) for v in self.lower_priority) >= need

    def _fill(self) -> float | None:
        """Gang allocation: take every missing node at once (standby, then idle, then from
        lower-priority jobs) and return the extra restart hours, or None and take nothing."""
        if not self.can_restart():
            return None
        extra = 0.0
        need = self.nodes_needed - len(self.assigned)
        while need > 0 and self.standby:
            self._assign(self.standby.pop())
            need -= 1
        while need > 0:
            node = self.pool.take_idle()
            if node is None:
                break
            self._assign(node)
            extra = self.spec.host_selection_hours
            need -= 1
        if need > 0:
            # lower-priority jobs holding nodes, lowest priority first
            for victim in [j for j in self.lower_priority if j.assigned or j.standby]:
                while need > 0 and (victim.standby or victim.assigned):
                    # a victim's standby nodes go first; set.pop() on ints is deterministic
                    from_standby = bool(victim.standby)
                    node = (victim.standby if from_standby else victim.assigned).pop()
                    victim.lose_node(node)
                    if not from_standby:
                        victim.interrupt(PREEMPTION)
                    self._assign(node)
                    need -= 1
            extra = self.spec.host_selection_hours + self.spec.preemption_hours
        return extra

    def _release_all(self) -> None:
        """Give every held node (assigned and standby) back to the pool."""
        if not (self.assigned or self.standby):
            return
        now = self.env.now
        for node in sorted(self.assigned | self.standby):
            self.lose_node(node)
            self.pool.set_state(node, IDLE, now)
        self.model.nodes_freed(self.pool)

    def _refill_standby(self) -> None:
        if self.spec.warm_standby_nodes == 0 or self.model.pool_has_waiting_job(
                self.pool, other_than=self):
            return
        while self.standby_deficit() > 0:
            node = self.pool.take_idle()
            if node is None:
                return
            self.add_standby(node)

    def _set_phase(self, phase: int) -> None:
        self.phase = phase
        self.phase_start = self.env.now

    def _begin(self, _event: simpy.Event) -> None:
        self._wait_for_nodes()

    def _wait_for_nodes(self) -> None:
        self._set_phase(WAITING)
        self._try_fill()

    def _try_fill(self) -> None:
        """Gang scheduling: a job that cannot restart holds no nodes (no deadlocks)."""
        extra = self._fill()
        if extra is None:
            self._park(True)
            self._release_all()
            return
        self._park(False)
        self.waiting_hours += self.env.now - self.phase_start
        self._refill_standby()
        restart = extra + (0.0 if self._first_start else self.spec.restart_hours)
        self._first_start = False
        if restart > 0:
            self._set_phase(RESTARTING)
            self._restart_length_hours = restart
            After(self.env, restart, self._restarted, self._token)
        else:
            self._run_segment()

    def _park(self, parked: bool) -> None:
        if parked != self.parked:
            self.parked = parked
            self.pool.parked_jobs += 1 if parked else -1

    def _woken(self, _event: simpy.Event) -> None:
        self._wake_pending = False
        if self.parked:
            self._try_fill()

    def _restarted(self, event: simpy.Event) -> None:
        if event.value != self._token:
            return  # interrupted meanwhile
        self.restart_hours += self._restart_length_hours
        self.exposed_hours += self._restart_length_hours
        self._run_segment()

    def _run_segment(self) -> None:
        self._set_phase(RUNNING)
        wall = wall_hours_for_work(self.target_hours - self.progress_hours, self.interval_hours,
                                   self.write_hours)
        if wall <= self.model.horizon_hours - self.env.now:  # else it runs past the horizon
            After(self.env, wall, self._segment_ended, self._token)

    def _segment_ended(self, event: simpy.Event) -> None:
        if event.value != self._token:
            return  # interrupted meanwhile
        self._close_segment(interrupted=False)
        self._finish()

    def _interrupted(self, _event: simpy.Event) -> None:
        self._interrupt_pending = False
        self._token += 1
        if self.phase == RESTARTING:
            elapsed = self.env.now - self.phase_start
            self.restart_hours += elapsed
            self.exposed_hours += elapsed
        else:
            self._close_segment(interrupted=True)
        self._wait_for_nodes()

    def _close_segment(self, interrupted: bool) -> None:
        elapsed = self.env.now - self.phase_start
        self.exposed_hours += elapsed
        seg = split_segment(elapsed, self.interval_hours, self.write_hours)
        if interrupted:
            self.progress_hours += seg.saved_hours
            self.lost_work_hours += seg.unsaved_hours
        else:
            self.progress_hours = min(self.progress_hours + seg.saved_hours + seg.unsaved_hours,
                                      self.target_hours)
        self.write_total_hours += seg.write_hours

    def _finish(self) -> None:
        self.finished_at = self.env.now
        self.phase = DONE
        self._release_all()

    # --- at the horizon ----------------------------------------------------------------------

    def close_at_horizon(self, now: float) -> None:
        """Account the phase open at the horizon (work in progress is kept, not lost)."""
        elapsed = now - self.phase_start
        if self.phase == WAITING:
            self.waiting_hours += elapsed
        elif self.phase == RESTARTING:
            self.restart_hours += elapsed
            self.exposed_hours += elapsed
        elif self.phase == RUNNING:
            self._close_segment(interrupted=False)
        self.phase_start = now

    def wall_hours(self, now: float) -> float:
        """Time since the job started, up to its end or `now`."""
        end = self.finished_at if self.finished_at is not None else now
        return max(end - self.start_hours, 0.0) if now >= self.start_hours else 0.0
