"""The repair shop: what a failure hits, the pipeline, the crew, misdiagnosis, shared components
and repair outcomes.

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
from planner.sim.failures import SharedStream
from planner.sim.fleet import Backlog, NodeState, PoolState
from planner.sim.repair import NO_FAULT_FOUND, PART_REPLACED, Crew, RepairShop
from planner.sim.scheduler import JobPlacement, Scheduler
from planner.sim.setup import CategoryParams, PoolSetup, SharedParams
from planner.sim.shocks import ShockBook
from planner.sim.spares import Inventories
from tests.conftest import model_of
from tests.sim.scenarios import MINIMAL

GPU = CategoryParams(name="gpu", rate_per_hour=0.0, hard_fraction=1.0, part="gpu_board",
                     repair_hours=Lognormal(dist="lognormal", median=3.0, sigma=0.0),
                     weibull_shape=None)
SWITCH = CategoryParams(name="switch", rate_per_hour=0.0, hard_fraction=0.0, part=None,
                        repair_hours=Lognormal(dist="lognormal", median=1.0, sigma=0.0),
                        weibull_shape=None)
LEAF = SharedParams(name="leaf_switch", nodes_per_unit=4, rate_per_hour=1e-12, hard_fraction=1.0,
                    part="gpu_board", repair_hours=Lognormal(dist="lognormal", median=5.0,
                                                             sigma=0.0))


def _shop(nodes: int, stock: int, jobs: tuple[Job, ...] = (), categories=(GPU, SWITCH),
          lemons: int = 0, **repair) -> tuple[
        SimContext, PoolState, Scheduler, Inventories, RepairShop]:
    """A shop for one pool of healthy nodes, one GPU-board stock (lead time 10 days), fixed
    repair times: diagnosis 1 h, automated repair 1 h (always holds), validation 2 h."""
    env = simpy.Environment()
    ctx = SimContext(env, Draws(np.random.default_rng(1)), Draws(np.random.default_rng(2)),
                     ShockBook(()), 10_000.0, FailureLog())
    lemon = np.zeros(nodes, dtype=bool)
    lemon[:lemons] = True
    pool = PoolState("p", "H800", nodes, lemon, Backlog())
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
                      categories=tuple(categories), shared=(LEAF,))
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


def test_a_shared_switch_takes_its_nodes_down_once_and_brings_them_back_together():
    ctx, pool, scheduler, inventories, shop = _shop(
        8, stock=1, jobs=(Job(name="a", pool="p", nodes=6),))
    stream = SharedStream(ctx.env, pool, LEAF, np.random.default_rng(0), shop.on_shared_failure)
    ctx.env.run(until=1.0)
    shop.on_shared_failure(pool, stream, 1)  # unit 1: nodes 4..7
    assert [pool.state[n] for n in range(4, 8)] == [NodeState.DOWN_SHARED] * 4
    assert all(NodeState.IDLE <= pool.state[n] <= NodeState.STANDBY for n in range(4))
    (row,) = ctx.log.records()  # one row, one part, one interruption for the whole unit
    assert row.category == "leaf_switch" and row.node == 4 and row.kind == HARD
    assert scheduler.jobs[0].interruptions == {"leaf_switch": 1}
    assert pool.failures == 0 and pool.shared_failures == 1
    ctx.env.run(until=1.0 + 1.0 + 5.0 + 2.0 + 0.5)  # diagnosis, hands-on, validation
    assert [pool.state[n] for n in range(4, 8)] != [NodeState.DOWN_SHARED] * 4
    assert pool.count[NodeState.DOWN_SHARED] == 0 and pool.units_down == 0
    assert inventories.get("H800", "gpu_board").consumed == 1  # one part for four nodes
    assert ctx.log.records()[0].downtime_hours == pytest.approx(1.0 + 5.0 + 2.0)


def test_a_node_repaired_while_its_switch_is_down_waits_for_the_switch():
    ctx, pool, _, _, shop = _shop(8, stock=5)
    stream = SharedStream(ctx.env, pool, LEAF, np.random.default_rng(0), shop.on_shared_failure)
    shop.on_failure(pool, 5, SWITCH)  # node 5 fails on its own: 1 h diagnosis + 1 h auto repair
    shop.on_shared_failure(pool, stream, 1)  # then its switch: 1 + 5 + 2 h
    ctx.env.run(until=3.0)
    assert pool.state[5] == NodeState.DOWN_SHARED  # repaired, but its switch is still down
    ctx.env.run(until=9.0)
    assert all(pool.state[n] == NodeState.IDLE for n in range(4, 8))


def test_a_silent_failed_fix_returns_the_node_at_once_and_a_redo_does_not():
    for silent, back_after in ((True, 1.0 + 3.0 + 2.0), (False, None)):
        flaky = replace(GPU, fix_fail_probability=0.999, silent_failed_fix=silent)
        ctx, pool, _, _, shop = _shop(4, stock=5, categories=(flaky, SWITCH))
        shop.on_failure(pool, 2, flaky)
        ctx.env.run(until=50.0)
        (row,) = ctx.log.records()
        if back_after is None:  # redone again and again: still in the shop
            assert pool.state[2] == NodeState.IN_REPAIR
        else:
            assert pool.state[2] == NodeState.IDLE
            assert row.outcome == PART_REPLACED + "+unfixed"
            assert row.downtime_hours == pytest.approx(back_after)


def test_a_repair_that_holds_cures_a_lemon_with_the_category_probability():
    cured = replace(GPU, lemon_cure_probability=1.0)
    ctx, pool, _, _, shop = _shop(4, stock=5, categories=(cured, SWITCH), lemons=4)
    shop.on_failure(pool, 1, cured)
    shop.on_failure(pool, 2, SWITCH)  # automated repair only: no hands-on, no cure
    ctx.env.run(until=50.0)
    assert not pool.lemon[1] and pool.lemon[2]
    assert ctx.log.records()[0].outcome == PART_REPLACED + "+cured"


def test_misdiagnosis_drains_a_healthy_node_and_the_faulty_one_fails_again():
    ctx, pool, _, _, shop = _shop(16, stock=0, misdiagnosis_probability=1.0,
                                  misdiagnosis_refail_hours=5.0)
    shop.on_failure(pool, 3, SWITCH)
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


def test_shared_failures_with_misdiagnosis_never_put_a_node_in_two_jobs():
    data = dict(MINIMAL, horizon_days=200,
                catalog={"shared_components": {"leaf_switch": {
                    "failure_rate_per_1000_unit_days": 300, "hard_fraction": 0.0}}})
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


def test_a_switch_waiting_for_its_part_keeps_its_nodes_down_shared_and_returns_them_all():
    ctx, pool, _, inventories, shop = _shop(8, stock=0)  # the part comes in 10 days
    stream = SharedStream(ctx.env, pool, LEAF, np.random.default_rng(0), shop.on_shared_failure)
    shop.on_shared_failure(pool, stream, 0)  # nodes 0..3
    ctx.env.run(until=5 * 24.0)
    assert [pool.state[n] for n in range(4)] == [NodeState.DOWN_SHARED] * 4
    assert pool.count[NodeState.WAITING_PARTS] == 0 and pool.backlog.count == 0
    ctx.env.run(until=10 * 24 + 20.0)  # part, hands-on 5 h, validation 2 h
    assert all(pool.state[n] == NodeState.IDLE for n in range(8))
    assert ctx.log.records()[0].part_wait_hours == pytest.approx(10 * 24)  # ordered at diagnosis
