"""The repair shop: what a failure hits, the pipeline, the crew, misdiagnosis and blast radius.

The first tests build a RepairShop from its parts (context, scheduler, stocks; no ClusterModel)
and feed it failures by hand; the rest are regressions found in review."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import simpy

from planner.scenario.distributions import Fixed, Lognormal
from planner.scenario.schema import Job, RepairPolicy
from planner.scenario.spare_policy import ResolvedSparePolicy
from planner.sim.context import SimContext
from planner.sim.draws import Draws
from planner.sim.failure_log import HARD, MISDIAGNOSIS, TRANSIENT, FailureLog
from planner.sim.fleet import Backlog, NodeState, PoolState
from planner.sim.repair import AUTO_REPAIR, NO_FAULT_FOUND, PART_REPLACED, Crew, RepairShop
from planner.sim.scheduler import JobPlacement, Scheduler
from planner.sim.setup import CategoryParams, PoolSetup
from planner.sim.shocks import ShockBook
from planner.sim.spares import Inventories
from tests.conftest import model_of
from tests.sim.scenarios import MINIMAL

GPU = CategoryParams(name="gpu", rate_per_hour=0.0, hard_fraction=1.0, part="gpu_board",
                     blast_radius_nodes=1, blast_fraction=0.0,
                     repair_hours=Lognormal(dist="lognormal", median=3.0, sigma=0.0),
                     weibull_shape=None)
SWITCH = CategoryParams(name="switch", rate_per_hour=0.0, hard_fraction=0.0, part=None,
                        blast_radius_nodes=4, blast_fraction=1.0,
                        repair_hours=Lognormal(dist="lognormal", median=1.0, sigma=0.0),
                        weibull_shape=None)


def _shop(nodes: int, stock: int, jobs: tuple[Job, ...] = (), **repair) -> tuple[
        SimContext, PoolState, Scheduler, Inventories, RepairShop]:
    """A shop for one pool of healthy nodes, one GPU-board stock (lead time 10 days), fixed
    repair times: diagnosis 1 h, automated repair 1 h (always holds), validation 2 h."""
    env = simpy.Environment()
    ctx = SimContext(env, Draws(np.random.default_rng(1)), Draws(np.random.default_rng(2)),
                     ShockBook(()), 10_000.0, FailureLog())
    pool = PoolState("p", "H800", nodes, np.zeros(nodes, dtype=bool), Backlog())
    pool.install(nodes, 0.0)
    scheduler = Scheduler(env, ctx.horizon_hours, [pool],
                          [JobPlacement(job, pool, 8, 0.0, 1.0) for job in jobs])
    policy = ResolvedSparePolicy(initial_stock=stock, policy="base_stock", base_stock_level=stock,
                                 reorder_point=0, order_up_to=1,
                                 lead_time_days=Fixed(value=10.0), rma_return_fraction=0.0,
                                 rma_turnaround_days=Fixed(value=1.0), cannibalize=False)
    inventories = Inventories(env, ctx.spares_draws, ctx.shocks,
                              {("H800", "gpu_board"): ("Nvidia", 1000.0, policy)})
    settings = {"diagnosis_hours": 1.0, "auto_repair_hours": 1.0, "validation_hours": 2.0,
                "auto_repair_success_probability": 1.0, "manual_fix_fail_probability": 0.0,
                **repair}
    setup = PoolSetup(name="p", sku="H800", vendor="Nvidia", gpus_per_node=8,
                      initial_nodes=nodes, deliveries=(), capacity=nodes, lemon_fraction=0.0,
                      lemon_multiplier=1.0, retire_failures=None, retire_window_hours=0.0,
                      categories=(GPU, SWITCH))
    shop = RepairShop(ctx, RepairPolicy(**settings), [setup], scheduler, inventories)
    inventories.start()
    scheduler.start()
    return ctx, pool, scheduler, inventories, shop


def test_a_hard_failure_waits_for_its_part_then_a_technician_replaces_it():
    ctx, pool, _, inventories, shop = _shop(4, stock=0)
    shop.on_failure(pool, 2, GPU)
    ctx.env.run(until=5.0)
    assert pool.state[2] == NodeState.WAITING_PARTS  # diagnosed after 1 h, no part on the shelf
    ctx.env.run(until=10 * 24 + 10.0)
    assert pool.state[2] == NodeState.IDLE
    (row,) = ctx.log.records()
    assert row.kind == HARD and row.outcome == PART_REPLACED
    assert row.part_wait_hours == pytest.approx(10 * 24)  # ordered at diagnosis, came on day 10
    assert row.downtime_hours == pytest.approx(1.0 + 10 * 24 + 3.0 + 2.0)  # + hands-on, validation
    assert inventories.get("H800", "gpu_board").consumed == 1
    assert pool.failures == 1 and pool.backlog.count == 0


def test_a_blast_takes_down_every_healthy_node_of_its_group_and_interrupts_their_job():
    ctx, pool, scheduler, _, shop = _shop(8, stock=0, jobs=(Job(name="a", pool="p", nodes=6),))
    ctx.env.run(until=1.0)
    shop.on_failure(pool, 5, SWITCH)  # group of 4: nodes 4..7
    assert [pool.state[n] for n in range(4, 8)] == [NodeState.IN_REPAIR] * 4
    assert all(NodeState.IDLE <= pool.state[n] <= NodeState.STANDBY for n in range(4))
    ctx.env.run(until=4.0)  # diagnosis 1 h + automated repair 1 h
    assert [row.outcome for row in ctx.log.records()] == [AUTO_REPAIR] * 4
    assert {row.kind for row in ctx.log.records()} == {TRANSIENT}
    assert scheduler.jobs[0].interruptions == {"switch": 1}  # one event, one interruption
    assert pool.count[NodeState.IN_REPAIR] == 0


def test_misdiagnosis_drains_a_healthy_node_and_the_faulty_one_fails_again():
    ctx, pool, _, _, shop = _shop(16, stock=0, misdiagnosis_probability=1.0,
                                  misdiagnosis_refail_hours=5.0)
    shop.on_failure(pool, 3, replace(SWITCH, blast_radius_nodes=1))
    (blamed,) = ctx.log.records()
    assert blamed.kind == MISDIAGNOSIS and blamed.node != 3  # another node was drained ...
    assert pool.state[3] == NodeState.IDLE and pool.failures == 0  # ... the faulty one runs on
    ctx.env.run(until=500.0)
    blamed, refail = ctx.log.records()[:2]  # until it fails again, later, and is repaired itself
    assert refail.node == 3 and refail.kind == TRANSIENT and refail.time_hours > 0
    assert blamed.outcome == NO_FAULT_FOUND and pool.failures == 1


def test_the_crew_serves_repairs_first_come_first_served():
    crew, started = Crew(1), []
    crew.acquire(lambda: started.append("a"))
    crew.acquire(lambda: started.append("b"))
    crew.acquire(lambda: started.append("c"))
    assert started == ["a"] and crew.free == 0
    crew.release()
    assert started == ["a", "b"]
    crew.release()
    crew.release()
    assert started == ["a", "b", "c"] and crew.free == 1


# --- regressions, through the whole model ----------------------------------------------------


def test_technician_crew_never_works_on_more_repairs_than_it_has_people(monkeypatch):
    data = dict(MINIMAL, horizon_days=200, cluster=dict(MINIMAL["cluster"], repair={
        "technicians": 2, "auto_repair_success_probability": 0.0,
        "manual_fix_fail_probability": 0.3}),
        catalog={"skus": {"H800": {"failure_rate_multiplier": 20}}})
    model = model_of(data)
    crew, busy, most, queued = model.shop.crew, [0], [0], [0]
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

    monkeypatch.setattr(crew, "acquire", tracked_acquire)
    monkeypatch.setattr(crew, "release", tracked_release)
    model.run()
    assert most[0] == 2  # the crew was saturated ...
    assert queued[0] > 0  # ... repairs queued for it ...
    assert 0 <= crew.free <= 2 and busy[0] == 2 - crew.free  # ... and never over-committed


def test_blast_with_misdiagnosis_never_puts_a_node_in_two_jobs():
    data = dict(MINIMAL, horizon_days=200,
                catalog={"categories": {"network_switch_cable": {
                    "failure_rate_per_1000_node_days": 20, "blast_fraction": 1.0,
                    "hard_fraction": 0.0}}})
    data["cluster"] = dict(MINIMAL["cluster"], repair={"misdiagnosis_probability": 0.5})
    for replication in range(3):
        model = model_of(data, replication)
        model.run()
        pool = model.pools[0]
        for node in range(pool.capacity):
            owners = [j.name for j in model.jobs if node in j.assigned or node in j.standby]
            assert len(owners) <= 1, (node, owners)
            if owners:
                assert pool.state[node] in (NodeState.BUSY, NodeState.STANDBY)
