"""Regression tests for defects found in review (each reproduced before its fix)."""

from __future__ import annotations

import math

import pytest

from planner.sim.checkpoint import split_segment
from planner.sim.jobs import RESTARTING, RUNNING, WAITING
from planner.sim.model import ClusterModel, build_setup, simulate
from tests.conftest import load

MINIMAL = {
    "name": "minimal", "start_date": "2027-01-01", "horizon_days": 60, "seed": 1,
    "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 32}],
                "spares": {"default": {"initial_stock": 8, "policy": "base_stock",
                                       "lead_time_days": 14}}},
    "jobs": [{"name": "a", "pool": "p", "nodes": 24, "priority": 1},
             {"name": "b", "pool": "p", "nodes": 4}],
}


def _model(data: dict, replication: int = 0, sets: tuple[str, ...] = ()) -> ClusterModel:
    loaded = load(data, sets)
    return ClusterModel(build_setup(loaded.scenario, loaded.catalog), replication)


def test_scenario_without_repair_section_runs_on_documented_defaults():
    result = _model(MINIMAL).run()
    assert 0 < result.metrics["ettr.a"] <= 1


def test_blast_with_misdiagnosis_never_puts_a_node_in_two_jobs():
    data = dict(MINIMAL, horizon_days=200,
                catalog={"categories": {"network_switch_cable": {
                    "failure_rate_per_1000_node_days": 20, "blast_fraction": 1.0,
                    "hard_fraction": 0.0}}})
    data["cluster"] = dict(MINIMAL["cluster"], repair={"misdiagnosis_probability": 0.5})
    for replication in range(3):
        model = _model(data, replication)
        model.run()
        pool = model.pools[0]
        for node in range(pool.capacity):
            owners = [j.name for j in model.jobs if node in j.assigned or node in j.standby]
            assert len(owners) <= 1, (node, owners)
            if owners:
                assert pool.state[node] in (2, 3)


def _hard_gpu_and_nic_failures(seed: int, spares: dict, repair: dict | None = None) -> dict:
    """200 nodes whose GPU and NIC failures all need a part, with cannibalization."""
    cluster = {"pools": [{"name": "p", "sku": "H800", "nodes": 200}],
               "spares": {"default": {**spares, "policy": "base_stock", "lead_time_days": 30,
                                      "cannibalize": True}}}
    if repair is not None:
        cluster["repair"] = repair
    return {
        "name": "sp", "start_date": "2027-01-01", "horizon_days": 365, "seed": seed,
        "catalog": {"categories": {
            "gpu": {"failure_rate_per_1000_node_days": 20, "hard_fraction": 1.0},
            "nic": {"failure_rate_per_1000_node_days": 20, "hard_fraction": 1.0}}},
        "cluster": cluster,
    }


def test_cannibalizing_with_rma_creates_no_parts_from_nothing():
    data = _hard_gpu_and_nic_failures(3, {"initial_stock": 2, "rma_return_fraction": 1.0,
                                          "rma_turnaround_days": 20})
    model = _model(data)
    model.run()
    for part in ("gpu_board", "nic"):
        inventory = model.inventory("H800", part)
        assert inventory.cannibalized > 0
        assert inventory.position() <= 2, (part, inventory.position())


def test_two_equal_jobs_do_not_deadlock_when_one_fits():
    data = {
        "name": "dead", "start_date": "2027-01-01", "horizon_days": 365, "seed": 5,
        "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 10,
                               "retirement": {"failures": 1, "window_days": 1000}}],
                    "spares": {"default": {"initial_stock": 8, "policy": "base_stock",
                                           "lead_time_days": 14}}},
        "jobs": [{"name": "a", "pool": "p", "nodes": 6}, {"name": "b", "pool": "p", "nodes": 4}],
    }
    for replication in range(4):
        model = _model(data, replication)
        pool, stuck = model.pools[0], []

        def watch(model=model, pool=pool, stuck=stuck):
            while True:
                healthy = pool.count[1] + pool.count[2] + pool.count[3]
                if all(j.phase == WAITING for j in model.jobs) and any(
                        healthy >= j.nodes_needed for j in model.jobs):
                    stuck.append(model.env.now)
                yield model.env.timeout(1.0)

        model.env.process(watch())
        model.run()
        assert len(stuck) < 3, (replication, stuck[:3])


def test_zero_failure_rate_gives_full_ettr_not_nan():
    data = dict(MINIMAL, catalog={"skus": {"H800": {"failure_rate_multiplier": 0}}})
    result = _model(data).run()
    assert result.metrics["ettr.a"] == pytest.approx(1 - 0.1 / (60 * 24))  # initial host selection
    assert math.isfinite(result.metrics["goodput_gpu_hours"])
    assert split_segment(10.0, math.inf, 0.1).unsaved_hours == 10.0


def test_stock_below_target_at_the_start_is_ordered_at_once():
    data = dict(MINIMAL, cluster=dict(MINIMAL["cluster"], spares={"default": {
        "initial_stock": 0, "base_stock_level": 10, "policy": "base_stock",
        "lead_time_days": 14}}))
    model = _model(data)
    inventory = model.inventory("H800", "psu")
    assert inventory.on_order == 10 and inventory.position() == 10


def test_retirement_window_counts_failure_times_not_repair_ends():
    model = _model(dict(MINIMAL, cluster=dict(MINIMAL["cluster"], pools=[
        {"name": "p", "sku": "H800", "nodes": 32,
         "retirement": {"failures": 3, "window_days": 30}}])))
    pool, day = model.pools[0], 24.0
    should_retire = pool.record_failure_and_check_retirement
    assert not should_retire(0, 0 * day, 25 * day)
    assert not should_retire(0, 40 * day, 40.1 * day)
    assert not should_retire(0, 50 * day, 50.1 * day)  # day 0 is outside the window
    assert should_retire(0, 55 * day, 56 * day)


def test_standby_is_not_refilled_while_another_job_waits():
    loaded = load({**MINIMAL, "horizon_days": 120,
                   "jobs": [{"name": "a", "pool": "p", "nodes": 30, "priority": 1,
                             "preempt_lower_priority": False},
                            {"name": "b", "pool": "p", "nodes": 1, "warm_standby_nodes": 2}]})
    setup = build_setup(loaded.scenario, loaded.catalog)
    from planner.sim import jobs as jobs_module

    violations = []
    original = jobs_module.JobRunner.add_standby

    def checked(self, node):
        if self.model.pool_has_waiting_job(self.pool, other_than=self):
            violations.append(self.env.now)
        return original(self, node)

    jobs_module.JobRunner.add_standby = checked
    try:
        simulate(setup, 0)
    finally:
        jobs_module.JobRunner.add_standby = original
    assert violations == []


def test_technician_crew_never_works_on_more_repairs_than_it_has_people():
    data = dict(MINIMAL, horizon_days=200, cluster=dict(MINIMAL["cluster"], repair={
        "technicians": 2, "auto_repair_success_probability": 0.0,
        "manual_fix_fail_probability": 0.3}),
        catalog={"skus": {"H800": {"failure_rate_multiplier": 20}}})
    model = _model(data)
    crew, busy, most, queued = model.crew, [0], [0], [0]
    acquire, release = crew.acquire, crew.release

    def tracked_acquire(start):
        def started():
            busy[0] += 1
            most[0] = max(most[0], busy[0])
            start()
        if crew.free == 0:
            queued[0] += 1
        acquire(started)

    def tracked_release():
        busy[0] -= 1
        release()

    crew.acquire, crew.release = tracked_acquire, tracked_release
    model.run()
    assert most[0] == 2  # the crew was saturated ...
    assert queued[0] > 0  # ... repairs queued for it ...
    assert 0 <= crew.free <= 2 and busy[0] == 2 - crew.free  # ... and never over-committed


def test_a_job_interrupted_while_restarting_restarts_again_and_stale_timeouts_do_nothing():
    data = dict(MINIMAL, horizon_days=60, catalog={"skus": {"H800": {"failure_rate_multiplier": 60}}},
                jobs=[{"name": "a", "pool": "p", "nodes": 16, "restart_hours": 4.0,
                       "checkpoint_interval_hours": 1.0, "checkpoint_write_hours": 0.05}])
    model = _model(data)
    job = model.jobs[0]
    phases_at_interruption = []
    handler = job._interrupted

    def recording(event):
        phases_at_interruption.append(job.phase)
        handler(event)

    job._interrupted = recording
    model.run()
    assert phases_at_interruption.count(RESTARTING) > 10  # restarts were cut short ...
    assert phases_at_interruption.count(RUNNING) > 10
    # ... and their abandoned timeouts added no restart time: wall time still adds up
    wall = job.wall_hours(model.horizon_hours)
    parts = (job.progress_hours + job.lost_work_hours + job.restart_hours + job.waiting_hours
             + job.write_total_hours)
    assert parts == pytest.approx(wall, rel=1e-9)


def test_parts_lent_between_waiting_nodes_are_not_counted_as_consumption():
    data = _hard_gpu_and_nic_failures(4, {"initial_stock": 0, "base_stock_level": 2},
                                      repair={"technicians": 1})
    model = _model(data)
    result = model.run()
    part_of = {c.name: c.part for c in model.pool_setups[0].categories}
    for part in ("gpu_board", "nic"):
        inventory = model.inventory("H800", part)
        hard_failures = sum(1 for e in result.events
                            if e[4] == "hard" and part_of[e[3]] == part)
        consumed = result.metrics[f"parts_consumed.H800/{part}"]
        assert result.metrics[f"parts_cannibalized.H800/{part}"] > 0
        # every hard failure asks for one part; a lend only moves a part between nodes
        assert consumed <= hard_failures, (part, consumed, hard_failures)
        assert consumed == inventory.consumed + inventory.from_retired


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
    model = _model(data)
    result = model.run()
    high, low = model.jobs[1], model.jobs[0]
    assert high.waiting_hours == 0.0  # the 12 delivered nodes were there when it started
    assert result.metrics["interruptions.by_category.preemption"] == 0
    assert low.progress_hours == 0.0 and low.waiting_hours == pytest.approx(20 * 24)
