"""The scheduler and the job state machine: gang allocation, priority, standbys, preemption.

The first tests build a Scheduler on a bare pool (no ClusterModel, no failures) and move nodes
by hand; the rest are regressions found in review, run through the whole model."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from planner.scenario.schema import Job
from planner.sim.fleet import Backlog, NodeState, PoolState
from planner.sim.jobs import JobPhase
from planner.sim.scheduler import PREEMPTION, JobPlacement, Scheduler
from tests.conftest import model_of
from tests.sim.scenarios import MINIMAL

HORIZON_HOURS = 1000.0


def _scheduler(nodes: int, *placed: tuple[Job, float]) -> tuple[simpy.Environment, PoolState,
                                                                  Scheduler]:
    """A pool of healthy nodes and a started scheduler for jobs submitted at given hours."""
    env = simpy.Environment()
    pool = PoolState("p", "H800", nodes, np.zeros(nodes, dtype=bool), Backlog())
    pool.install(nodes, 0.0)
    scheduler = Scheduler(env, HORIZON_HOURS, [pool],
                          [JobPlacement(job, pool, 8, hours, 1.0) for job, hours in placed])
    scheduler.start()
    return env, pool, scheduler


def _busy_node(pool: PoolState, job_index: int) -> int:
    return next(n for n in range(pool.capacity)
                if pool.state[n] == NodeState.BUSY and pool.job[n] == job_index)


def test_jobs_take_whole_gangs_by_priority_and_standbys_after():
    low = Job(name="low", pool="p", nodes=4, priority=0)
    high = Job(name="high", pool="p", nodes=5, priority=1, warm_standby_nodes=2)
    env, pool, scheduler = _scheduler(10, (low, 0.0), (high, 0.0))
    env.run(until=1.0)
    first, second = scheduler.jobs
    assert len(second.assigned) == 5 and len(second.standby) == 2  # high went first
    assert len(first.assigned) == 0 and first.parked  # 3 idle nodes < 4: holds nothing
    assert pool.count[NodeState.BUSY] == 5 and pool.count[NodeState.STANDBY] == 2
    assert scheduler.has_waiting_job(pool)


def test_a_node_taken_from_a_job_interrupts_it_and_a_standby_replaces_it_at_once():
    job = Job(name="a", pool="p", nodes=4, warm_standby_nodes=1, restart_hours=0.5)
    env, pool, scheduler = _scheduler(6, (job, 0.0))
    env.run(until=1.0)
    runner = scheduler.jobs[0]
    assert runner.phase == JobPhase.RUNNING
    node = _busy_node(pool, 0)
    assert scheduler.take_node(pool, node, "gpu") == "a"
    pool.set_state(node, NodeState.IN_REPAIR, env.now)
    env.run(until=1.4)
    assert runner.interruptions == {"gpu": 1}
    assert runner.phase == JobPhase.RESTARTING  # the standby swapped in: no waiting
    assert len(runner.assigned) == 4 and node not in runner.assigned
    assert runner.waiting_hours == 0.0
    assert len(runner.standby) == 1  # refilled from the last idle node
    env.run(until=1.6)
    assert runner.phase == JobPhase.RUNNING  # the 0.5 h restart is over
    assert runner.restart_hours == pytest.approx(0.1 + 0.5)  # first start: host selection


def test_a_parked_job_wakes_when_enough_nodes_come_back():
    job = Job(name="a", pool="p", nodes=4, restart_hours=0.0, host_selection_hours=0.0)
    env, pool, scheduler = _scheduler(4, (job, 0.0))
    env.run(until=1.0)
    node = _busy_node(pool, 0)
    scheduler.take_node(pool, node, "nic")
    pool.set_state(node, NodeState.IN_REPAIR, env.now)
    env.run(until=5.0)
    runner = scheduler.jobs[0]
    assert runner.parked and not runner.assigned  # a gang of 3 is no gang: all given back
    assert pool.count[NodeState.IDLE] == 3
    pool.set_state(node, NodeState.IDLE, env.now)
    scheduler.nodes_freed(pool)
    env.run(until=6.0)
    assert not runner.parked and len(runner.assigned) == 4
    assert runner.waiting_hours == pytest.approx(4.0)


def test_a_high_priority_job_preempts_the_lowest_priority_job_first():
    env, pool, scheduler = _scheduler(
        6, (Job(name="lowest", pool="p", nodes=3, priority=0), 0.0),
        (Job(name="middle", pool="p", nodes=3, priority=1), 0.0),
        (Job(name="urgent", pool="p", nodes=3, priority=2), 10.0))
    env.run(until=20.0)
    lowest, middle, urgent = scheduler.jobs
    assert len(urgent.assigned) == 3 and urgent.interruptions == {}
    assert lowest.interruptions == {PREEMPTION: 1}
    assert lowest.parked and not lowest.assigned
    assert middle.interruptions == {} and len(middle.assigned) == 3
    assert pool.count[NodeState.IDLE] == 0


def test_a_job_that_may_not_preempt_waits_instead():
    env, pool, scheduler = _scheduler(
        4, (Job(name="low", pool="p", nodes=4, priority=0), 0.0),
        (Job(name="high", pool="p", nodes=2, priority=1, preempt_lower_priority=False), 10.0))
    env.run(until=20.0)
    low, high = scheduler.jobs
    assert low.interruptions == {} and len(low.assigned) == 4
    assert high.parked and high.phase == JobPhase.WAITING


# --- regressions, through the whole model ----------------------------------------------------


def test_two_equal_jobs_do_not_deadlock_when_one_fits():
    data = {
        "name": "dead", "start_date": "2027-01-01", "horizon_days": 365, "seed": 5,
        "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 10,
                               "retirement": {"failures": 1, "window_days": 1000}}],
                    "spares": MINIMAL["cluster"]["spares"]},
        "jobs": [{"name": "a", "pool": "p", "nodes": 6}, {"name": "b", "pool": "p", "nodes": 4}],
    }
    for replication in range(4):
        model = model_of(data, replication)
        pool, stuck = model.pools[0], []

        def watch(model=model, pool=pool, stuck=stuck):
            while True:
                if all(j.phase == JobPhase.WAITING for j in model.jobs) and any(
                        pool.healthy >= j.nodes_needed for j in model.jobs):
                    stuck.append(model.env.now)
                yield model.env.timeout(1.0)

        model.env.process(watch())
        model.run()
        assert len(stuck) < 3, (replication, stuck[:3])


def test_standby_is_not_refilled_while_another_job_waits(monkeypatch):
    data = {**MINIMAL, "horizon_days": 120,
            "jobs": [{"name": "a", "pool": "p", "nodes": 30, "priority": 1,
                      "preempt_lower_priority": False},
                     {"name": "b", "pool": "p", "nodes": 1, "warm_standby_nodes": 2}]}
    violations, filled = [], []
    original = Scheduler._fill_standby

    def checked(self, job):
        before = len(job.standby)
        waiting = self.has_waiting_job(job.pool, other_than=job)
        result = original(self, job)
        if len(job.standby) > before:
            filled.append(self.env.now)
            if waiting:
                violations.append(self.env.now)
        return result

    monkeypatch.setattr(Scheduler, "_fill_standby", checked)
    model_of(data).run()
    assert filled and violations == []


def test_a_job_interrupted_while_restarting_restarts_again_and_stale_timeouts_do_nothing(
        monkeypatch):
    data = dict(MINIMAL, horizon_days=60, catalog={"skus": {"H800": {"failure_rate_multiplier": 60}}},
                jobs=[{"name": "a", "pool": "p", "nodes": 16, "restart_hours": 4.0,
                       "checkpoint_interval_hours": 1.0, "checkpoint_write_hours": 0.05}])
    model = model_of(data)
    job = model.jobs[0]
    phases_at_interruption = []
    handler = job._interrupted

    def recording(event):
        phases_at_interruption.append(job.phase)
        handler(event)

    monkeypatch.setattr(job, "_interrupted", recording)
    model.run()
    assert phases_at_interruption.count(JobPhase.RESTARTING) > 10  # restarts were cut short ...
    assert phases_at_interruption.count(JobPhase.RUNNING) > 10
    # ... and their abandoned timeouts added no restart time: wall time still adds up
    wall = job.wall_hours(model.setup.horizon_hours)
    parts = (job.progress_hours + job.lost_work_hours + job.restart_hours + job.waiting_hours
             + job.write_total_hours)
    assert parts == pytest.approx(wall, rel=1e-9)


def test_a_delivery_installs_before_jobs_start_and_simultaneous_starts_go_by_priority():
    data = {
        "name": "tie", "start_date": "2027-01-01", "horizon_days": 30, "seed": 1,
        "catalog": {"skus": {"H800": {"failure_rate_multiplier": 0}}},
        "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 4,
                               "deliveries": [{"date": "2027-01-11", "nodes": 12}]}],
                    "spares": MINIMAL["cluster"]["spares"]},
        "jobs": [{"name": "low", "pool": "p", "nodes": 8, "priority": 1,
                  "start_date": "2027-01-11"},
                 {"name": "high", "pool": "p", "nodes": 12, "priority": 5,
                  "start_date": "2027-01-11", "preempt_lower_priority": True}],
    }
    model = model_of(data)
    result = model.run()
    low, high = model.jobs
    assert high.waiting_hours == 0.0  # the 12 delivered nodes were there when it started
    assert result.metrics["interruptions.by_category.preemption"] == 0
    assert low.progress_hours == 0.0 and low.waiting_hours == pytest.approx(20 * 24)
