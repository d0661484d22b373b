"""Invariants of one replication of a full-featured scenario."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.scenario.loader import load_scenario
from planner.sim.fleet import N_STATES, NodeState
from planner.sim.jobs import JobPhase
from planner.sim.model import ClusterModel
from planner.sim.setup import build_setup
from tests.conftest import model_of

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
    horizon = model.setup.horizon_hours
    for job in model.jobs:
        wall = job.wall_hours(horizon)
        parts = (job.progress_hours + job.lost_work_hours + job.restart_hours
                 + job.waiting_hours + job.write_total_hours)
        assert parts == pytest.approx(wall, rel=1e-9, abs=1e-6), job.name
        assert 0 <= result.metrics[f"ettr.{job.name}"] <= 1
    for pool in model.pools:
        assert sum(pool.count) == pool.capacity
        assert [pool.state.count(bytes([s])) for s in range(N_STATES)] == pool.count
        held = sum(1 for j in pool.job if j >= 0)
        assert held == pool.count[NodeState.BUSY] + pool.count[NodeState.STANDBY]
        assert 0 < result.metrics[f"node_availability.{pool.name}"] <= 1
    assert result.metrics["repair_backlog_max"] >= max(
        p.count[NodeState.IN_REPAIR] + p.count[NodeState.WAITING_PARTS] for p in model.pools)


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


def _check_between_events(model: ClusterModel) -> None:
    """What must hold whenever no event is being processed."""
    in_repair = 0
    for pool in model.pools:
        c = pool.count
        assert sum(c) == pool.capacity
        assert pool.healthy == sum(c[s] for s in NodeState.HEALTHY)
        assert pool.installed == pool.capacity - c[NodeState.ABSENT]
        in_repair += c[NodeState.IN_REPAIR] + c[NodeState.WAITING_PARTS]
        jobs = [j for j in model.jobs if j.pool is pool]
        parked = sum(j.parked for j in jobs)
        assert model.scheduler.has_waiting_job(pool) == (parked > 0)
        owners: dict[int, str] = {}
        for job in jobs:
            assert job.phase != JobPhase.WAITING or job.parked, job.name  # waiting: holds nothing
            if job.parked:
                assert job.phase == JobPhase.WAITING and not job.assigned and not job.standby
            for node in job.assigned | job.standby:
                assert owners.setdefault(node, job.name) == job.name, (node, job.name)
                assert pool.job[node] == job.index
            assert all(pool.state[n] == NodeState.BUSY for n in job.assigned)
            assert all(pool.state[n] == NodeState.STANDBY for n in job.standby)
            if job.phase in JobPhase.HOLDING and not job.interrupt_pending:
                assert len(job.assigned) == job.nodes_needed, job.name
        units = [(stream, unit) for stream in model.shared_streams if stream.pool is pool
                 for unit in range(stream.units) if stream.down[unit]]
        assert pool.units_down == len(units)
        covering = [0] * pool.capacity
        for stream, unit in units:
            for n in stream.nodes_of(unit):
                covering[n] += 1
        assert list(pool.blocked) == covering
        assert all(covering[n] for n in range(pool.capacity)
                   if pool.state[n] == NodeState.DOWN_SHARED)
    assert model.backlog.count == in_repair
    crew = model.shop.crew
    assert 0 <= crew.free <= crew.technicians
    for inventory in model.inventories:
        assert min(inventory.on_hand, inventory.on_order, inventory.in_rma) >= 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), nodes=st.integers(8, 40), big=st.integers(2, 24),
       small=st.integers(1, 8), standby=st.integers(0, 3), preempt=st.booleans(),
       technicians=st.integers(1, 3), misdiagnosis=st.sampled_from([0.0, 0.2]),
       stock=st.integers(0, 3), cannibalize=st.booleans(), delivered=st.integers(0, 16),
       shock_days=st.sampled_from([None, 20.0]), blast=st.sampled_from([0.0, 1.0]),
       clock=st.sampled_from(["always", "busy", "idle_reduced"]), silent=st.booleans(),
       maintenance=st.booleans(), window=st.booleans(), borrow_cap=st.sampled_from([None, 0, 2]),
       stop=st.sampled_from(["horizon", "jobs_done"]))
def test_every_event_leaves_the_model_consistent(seed, nodes, big, small, standby, preempt,
                                                 technicians, misdiagnosis, stock, cannibalize,
                                                 delivered, shock_days, blast, clock, silent,
                                                 maintenance, window, borrow_cap, stop):
    data = {
        "name": "random", "start_date": "2027-01-01", "horizon_days": 90, "seed": seed,
        "catalog": {"skus": {"H800": {"failure_rate_multiplier": 15}},
                    "shared_components": {"leaf_switch": {
                        "failure_rate_per_1000_unit_days": 0.152 + 30 * blast}}},
        "cluster": {
            "pools": [{"name": "p", "sku": "H800", "nodes": nodes,
                       "deliveries": [{"date": "2027-02-01", "nodes": delivered}] if delivered else [],
                       "retirement": {"failures": 2, "window_days": 30},
                       "lemon_fraction": 0.2, "lemon_rate_multiplier": 5,
                       "failure_clock": clock,
                       **({"idle_failure_rate_factor": 0.3} if clock == "idle_reduced" else {}),
                       "topology": {"leaf_switch": 4},
                       "maintenance": [{"name": "fw", "per_day": 2, "batch_nodes": 3,
                                        "duration_hours": 5}] if maintenance else []}],
            "repair": {"technicians": technicians, "misdiagnosis_probability": misdiagnosis,
                       "auto_repair_success_probability": 0.5,
                       "manual_fix_fail_probability": 0.2, "lemon_cure_probability": 0.5,
                       "failed_fix": "silent" if silent else "redo"},
            "spares": {"default": {"initial_stock": stock, "policy": "base_stock",
                                   "lead_time_days": 10, "rma_return_fraction": 0.5,
                                   "rma_turnaround_days": 15, "cannibalize": cannibalize}}},
        "jobs": [{"name": "big", "pool": "p", "nodes": min(big, nodes - standby), "priority": 2,
                  "warm_standby_nodes": standby, "preempt_lower_priority": preempt,
                  "work_target_gpu_hours": 8 * 24 * 60 * min(big, nodes - standby) * 0.5,
                  "borrow_hours_per_node": 0.1, "max_borrowed_nodes": borrow_cap},
                 {"name": "small", "pool": "p", "nodes": min(small, nodes), "priority": 1,
                  "start_date": "2027-01-05",
                  **({"end_date": "2027-02-20"} if window else {})}],
        "simulation": {"stop": stop},
        "supply_shocks": [{"name": "block", "vendor": "Nvidia", "date": "2027-01-20",
                           "duration_days": shock_days}],
    }
    model = model_of(data)
    step = model.env.step

    def checked_step():
        step()
        _check_between_events(model)

    model.env.step = checked_step
    model.run()
    horizon = model.env.now  # the horizon, or when the big job ended (stop: jobs_done)
    if stop == "jobs_done" and model.jobs[0].ended_at is not None:
        assert horizon == model.jobs[0].ended_at
    for job in model.jobs:
        parts = (job.progress_hours + job.lost_work_hours + job.restart_hours
                 + job.waiting_hours + job.write_total_hours)
        assert parts == pytest.approx(job.wall_hours(horizon), rel=1e-9, abs=1e-6), job.name
