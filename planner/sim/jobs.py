"""A synchronous training job: a state machine driven by a few timeouts, no SimPy process.

Phases: waiting for nodes -> restarting -> running -> (interrupted -> waiting ...) -> done.
Time is accounted per phase so that wall time = productive + lost work + restart + waiting for
nodes + checkpoint writes, at every moment. A timeout carries the job's token at scheduling;
an interruption moves the token on, so a timeout of an abandoned phase fires as a no-op (as an
interrupted process's timeout does in SimPy).

Which nodes a job holds is the allocator's business (planner/sim/scheduler.py): the job asks it
for a full gang when it wants to (re)start and hands everything back when it is done.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Protocol

import simpy

from planner.scenario.schema import Job
from planner.sim.checkpoint import split_segment, wall_hours_for_work
from planner.sim.events import After, Urgent
from planner.sim.fleet import PoolState


class JobPhase:
    """Where a job is in its life (plain int constants, as NodeState)."""

    NOT_STARTED = 0
    WAITING = 1  # for nodes: holds none until the allocator can give it a full gang
    RESTARTING = 2  # holds its nodes; host selection, preemption and restart time
    RUNNING = 3  # computing and checkpointing
    DONE = 4  # reached its work target; holds nothing

    NAMES = ("not_started", "waiting", "restarting", "running", "done")
    HOLDING = frozenset((RESTARTING, RUNNING))  # phases in which a failure interrupts the job


class Allocator(Protocol):
    """What a job asks of the scheduler."""

    def allocate(self, job: JobRunner) -> float | None:
        """Give `job` every node it lacks at once and return the extra restart hours this
        costs (host selection, preemption), or take nothing, park the job and return None."""

    def release(self, job: JobRunner) -> None:
        """Take back every node `job` holds."""

    def withdraw(self, job: JobRunner) -> None:
        """`job` has ended early (its window closed): it waits for nothing and holds nothing."""


class JobRunner:
    """Phases and time accounting of one job."""

    def __init__(self, env: simpy.Environment, horizon_hours: float, index: int, spec: Job,
                 pool: PoolState, gpus_per_node: int, start_hours: float, interval_hours: float,
                 allocator: Allocator, end_hours: float = math.inf):
        self.env = env
        self.horizon_hours = horizon_hours
        self.allocator = allocator
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.pool = pool
        self.nodes_needed = spec.nodes
        self.gpus = spec.nodes * gpus_per_node
        self.start_hours = start_hours
        self.end_hours = end_hours  # the end of its window (inf: none)
        self.interval_hours = interval_hours
        self.write_hours = spec.checkpoint_write_hours
        self.target_hours = (
            math.inf if spec.work_target_gpu_hours is None
            else spec.work_target_gpu_hours / self.gpus
        )
        self.assigned: set[int] = set()  # nodes computing for the job (kept by the allocator)
        self.standby: set[int] = set()  # its warm standby nodes (kept by the allocator)
        self.parked = False  # waiting for nodes, holding none (set by the allocator)
        self._phase = JobPhase.NOT_STARTED
        self.phase_start = 0.0
        self.progress_hours = 0.0  # useful compute kept (checkpointed, or finished)
        self.lost_work_hours = 0.0
        self._restart_hours = 0.0
        self.waiting_hours = 0.0
        self.write_total_hours = 0.0
        self._exposed_hours = 0.0  # time restarting or running: when failures interrupt the job
        self.interruptions: Counter[str] = Counter()
        self.finished_at: float | None = None  # when the work target was reached
        self.ended_at: float | None = None  # when it ended: target reached or window closed
        self.on_end: list = []  # called with the job when it ends (the model's stop rule)
        self._wake_pending = False
        self._interrupt_pending = False
        self._first_start = True
        self._token = 0  # moves on at every interruption; stale timeouts carry an older one
        self._restart_length_hours = 0.0
        self.run_from = 0.0  # while RESTARTING: when the restart ends and the job runs

    def schedule_start(self) -> None:
        """Schedule the job's submission (the scheduler calls this once, by priority), and the
        end of its window if it has one within the horizon."""
        After(self.env, self.start_hours, self._begin)
        if self.end_hours < self.horizon_hours:
            After(self.env, self.end_hours, self._window_closed)

    # --- called by the scheduler -------------------------------------------------------------

    def interrupt(self, cause: str) -> None:
        """A failure (or preemption) on one of the job's nodes: stop the job if it is running
        or restarting."""
        if self._phase in JobPhase.HOLDING and not self._interrupt_pending:
            self._interrupt_pending = True
            self.interruptions[cause] += 1
            Urgent(self.env, self._interrupted)

    def wake(self) -> None:
        """Nodes were freed and this parked job can now restart: try once this instant ends."""
        if not self._wake_pending:
            self._wake_pending = True
            After(self.env, 0.0, self._woken)

    @property
    def phase(self) -> int:
        """Where the job is now (a restart whose end has passed reads as running)."""
        self._settle()
        return self._phase

    @property
    def active(self) -> bool:
        """Started and not done (whatever it is doing now)."""
        return JobPhase.NOT_STARTED != self._phase != JobPhase.DONE

    @property
    def restart_hours(self) -> float:
        """Hours spent restarting so far (host selection, borrowing and restart)."""
        self._settle()
        return self._restart_hours

    @property
    def exposed_hours(self) -> float:
        """Hours restarting or running so far: when failures interrupt the job."""
        self._settle()
        return self._exposed_hours

    @property
    def interrupt_pending(self) -> bool:
        """An interruption is scheduled for this instant and not handled yet."""
        return self._interrupt_pending

    # --- the phases ---------------------------------------------------------------------------

    def _set_phase(self, phase: int) -> None:
        self._phase = phase
        self.phase_start = self.env.now

    def _begin(self, _event: simpy.Event) -> None:
        self._wait_for_nodes()

    def _wait_for_nodes(self) -> None:
        self._set_phase(JobPhase.WAITING)
        self._try_fill()

    def _try_fill(self) -> None:
        """Gang scheduling: a job that cannot restart holds no nodes (no deadlocks). The restart
        that follows costs no event: the job is RESTARTING until `run_from`, and RUNNING from
        then on, read off the clock when something next happens to it (`_settle`)."""
        extra = self.allocator.allocate(self)
        if extra is None:
            return
        now = self.env.now
        self.waiting_hours += now - self.phase_start
        restart = extra + (0.0 if self._first_start else self.spec.restart_hours)
        self._first_start = False
        if restart > 0:
            self._set_phase(JobPhase.RESTARTING)
            self._restart_length_hours = restart
            self.run_from = now + restart
            self._schedule_segment_end(restart)
        else:
            self._run_segment()

    def _woken(self, _event: simpy.Event) -> None:
        self._wake_pending = False
        if self.parked:
            self._try_fill()

    def _settle(self) -> None:
        """A restart whose end has passed is over: the job has been running since `run_from`."""
        if self._phase == JobPhase.RESTARTING and self.env.now >= self.run_from:
            self._restart_hours += self._restart_length_hours
            self._exposed_hours += self._restart_length_hours
            self._phase = JobPhase.RUNNING
            self.phase_start = self.run_from

    def _run_segment(self) -> None:
        self._set_phase(JobPhase.RUNNING)
        self._schedule_segment_end(0.0)

    def _schedule_segment_end(self, delay_hours: float) -> None:
        """Schedule the end of the work (if it falls before the horizon and the window) after
        `delay_hours` of restart."""
        wall = wall_hours_for_work(self.target_hours - self.progress_hours, self.interval_hours,
                                   self.write_hours)
        if delay_hours + wall <= min(self.horizon_hours, self.end_hours) - self.env.now:
            After(self.env, delay_hours + wall, self._segment_ended, self._token)

    def _segment_ended(self, event: simpy.Event) -> None:
        if event.value != self._token:
            return  # interrupted meanwhile
        self._settle()
        self._close_segment(interrupted=False)
        self._finish()

    def _interrupted(self, _event: simpy.Event) -> None:
        self._interrupt_pending = False
        if self._phase == JobPhase.DONE:
            return  # its window closed at this instant, before the interruption was handled
        self._token += 1
        self._settle()
        if self._phase == JobPhase.RESTARTING:
            elapsed = self.env.now - self.phase_start
            self._restart_hours += elapsed
            self._exposed_hours += elapsed
        else:
            self._close_segment(interrupted=True)
        self._wait_for_nodes()

    def _close_segment(self, interrupted: bool) -> None:
        elapsed = self.env.now - self.phase_start
        self._exposed_hours += elapsed
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
        self._end()
        self.allocator.release(self)

    def _window_closed(self, _event: simpy.Event) -> None:
        """The end of the job's window: it stops where it is (work since the last checkpoint is
        kept, as at the horizon) and gives its nodes back."""
        if self._phase == JobPhase.DONE:
            return
        if self._phase != JobPhase.NOT_STARTED:
            self.close_at_horizon(self.env.now)
        self._token += 1
        self._end()
        self.allocator.withdraw(self)

    def _end(self) -> None:
        self.ended_at = self.env.now
        self._phase = JobPhase.DONE
        for callback in self.on_end:
            callback(self)

    # --- at the horizon ----------------------------------------------------------------------

    def close_at_horizon(self, now: float) -> None:
        """Account the phase open at the horizon (work in progress is kept, not lost)."""
        self._settle()
        elapsed = now - self.phase_start
        if self._phase == JobPhase.WAITING:
            self.waiting_hours += elapsed
        elif self._phase == JobPhase.RESTARTING:
            self._restart_hours += elapsed
            self._exposed_hours += elapsed
        elif self._phase == JobPhase.RUNNING:
            self._close_segment(interrupted=False)
        self.phase_start = now

    def wall_hours(self, now: float) -> float:
        """Time since the job started, up to its end or `now`."""
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.start_hours, 0.0) if now >= self.start_hours else 0.0
