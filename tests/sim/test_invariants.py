"""Invariants of one replication of a full-featured scenario."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.scenario.loader import load_scenario
from planner.sim.fleet import STATE_NAMES
from planner.sim.model import ClusterModel, build_setup

SCENARIO = "scenarios/h800-10k.yaml"


def _model(seed: int, *sets: str) -> ClusterModel:
    loaded = load_scenario(SCENARIO, ("horizon_days=120", *sets), seed=seed)
    return ClusterModel(build_setup(loaded.scenario, loaded.catalog), 0)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), standby=st.integers(0, 8), misdiagnosis=st.floats(0, 0.3))
def test_job_time_adds_up_and_node_counts_are_conserved(seed, standby, misdiagnosis):
    model = _model(seed, "jobs[0].nodes=1000", f"jobs[0].warm_standby_nodes={standby}",
                   f"cluster.repair.misdiagnosis_probability={misdiagnosis}")
    result = model.run()
    horizon = model.horizon_hours
    for job in model.jobs:
        wall = job.wall_hours(horizon)
        parts = (job.progress_hours + job.lost_work_hours + job.restart_hours
                 + job.waiting_hours + job.write_total_hours)
        assert parts == pytest.approx(wall, rel=1e-9, abs=1e-6), job.name
        assert 0 <= result.metrics[f"ettr.{job.name}"] <= 1
    for pool in model.pools:
        assert sum(pool.count) == pool.capacity
        assert [pool.state.count(bytes([s])) for s in range(len(STATE_NAMES))] == pool.count
        busy = sum(1 for j in pool.job if j >= 0)
        assert busy == pool.count[2] + pool.count[3]  # busy + standby nodes belong to a job
        assert 0 < result.metrics[f"node_availability.{pool.name}"] <= 1
    assert result.metrics["repair_backlog_max"] >= max(
        p.count[4] + p.count[5] for p in model.pools)


def test_permanent_block_strands_nodes_waiting_for_parts():
    blocked = _model(1, "supply_shocks[0].window_start_date=2027-01-02",
                     "supply_shocks[0].window_end_date=2027-01-03").run()
    free = _model(1, "supply_shocks=[]").run()
    key = "stockout_days.H800/gpu_board"
    assert blocked.metrics[key] > free.metrics[key]
    assert blocked.metrics["node_availability.h800"] < free.metrics["node_availability.h800"]
    waiting = blocked.timeseries["h800.waiting_parts_nodes"]
    assert waiting[-1] > waiting[0]


def test_node_delivery_waits_for_a_temporary_block():
    sets = ("cluster.pools[0].deliveries=[{date: 2027-02-01, nodes: 100}]",
            "supply_shocks[0].window_start_date=2027-01-15",
            "supply_shocks[0].window_end_date=2027-01-15",
            "supply_shocks[0].duration_days=40")
    model = _model(2, *sets)
    result = model.run()
    days = result.timeseries["day"]
    installed = result.timeseries["h800.installed_nodes"]
    arrival = next(d for d, n in zip(days, installed, strict=True) if n > 1280)
    assert arrival == pytest.approx(14 + 40, abs=1.01)  # block 2027-01-15 + 40 days


def test_lemons_get_retired():
    result = _model(3, "cluster.pools[0].lemon_fraction=0.05",
                    "cluster.pools[0].lemon_rate_multiplier=40",
                    "cluster.pools[0].retirement={failures: 2, window_days: 60}").run()
    assert result.metrics["nodes_retired.h800"] > 0
    assert math.isfinite(result.metrics["goodput_gpu_hours"])
