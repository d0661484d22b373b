"""The simulator's newer semantics against exact counts and closed forms: the jobs_done stop rule,
job windows, borrowing costs, failure clocks by node state, planned maintenance, shared
components, repair outcomes per category, and the scenario checks that guard them.

Every scenario here has zero failure rates except the one under test and instant repairs
(conftest.BASE), so a count is exact or a Poisson count with a known mean (checked within four
standard deviations, at a fixed seed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.errors import InputError
from planner.sim.failure_log import HARD, FailureRecord
from planner.sim.fleet import NodeState
from planner.sim.jobs import JobPhase
from planner.sim.maintenance import MAINTENANCE_DONE, PLANNED
from planner.sim.model import ClusterModel
from planner.sim.repair import CURED_SUFFIX, PART_REPLACED
from planner.sim.scheduler import PREEMPTION
from planner.sim.setup import CategoryParams, build_setup
from tests.conftest import load, make_scenario, model_of, only_categories

HOURS_PER_DAY = 24.0
GPUS_PER_NODE = 8  # H800
NODE_DAYS = 1000.0  # catalog rates are per 1000 node-days (shared components: unit-days)


def _job(name: str = "train", nodes: int = 10, **fields) -> dict:
    """A job with no checkpoint-write or host-selection cost unless asked: its times are exact."""
    base = {"name": name, "pool": "p", "nodes": nodes, "checkpoint_interval_hours": 2.0,
            "checkpoint_write_hours": 0.0, "restart_hours": 0.5, "host_selection_hours": 0.0}
    base.update(fields)
    return base


def _scenario(nodes: int = 10, rates: dict[str, float] | None = None, **changes) -> dict:
    """BASE with one pool of `nodes` H800 nodes and only the failure rates `rates`."""
    data = make_scenario(catalog=only_categories(rates or {}), **changes)
    data["cluster"]["pools"][0]["nodes"] = nodes
    return data


def _records(events: list[list]) -> list[FailureRecord]:
    return [FailureRecord(*row) for row in events]


def _category(model: ClusterModel, name: str) -> CategoryParams:
    return next(c for c in model.setup.pools[0].categories if c.name == name)


def _within_4_sigma(observed: float, expected: float) -> bool:
    return abs(observed - expected) < 4 * math.sqrt(expected)


def _time_adds_up(job, now: float) -> None:
    total = (job.progress_hours + job.lost_work_hours + job.restart_hours + job.waiting_hours
             + job.write_total_hours)
    assert total == pytest.approx(job.wall_hours(now), abs=1e-6), job.name


# --- 1. simulation.stop: jobs_done ----------------------------------------------------------------


def test_jobs_done_stops_when_the_only_targeted_job_finishes():
    work_days, offset_days = 5.5, 10
    data = _scenario(
        horizon_days=100, simulation={"replications": 1, "stop": "jobs_done"},
        jobs=[_job(start_date="2027-01-11",
                   work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * work_days),
              _job("background", nodes=5)])  # no target: does not hold the run
    data["cluster"]["pools"][0]["nodes"] = 15
    result = model_of(data).run()
    m = result.metrics
    assert m["time_to_train_days.train"] == pytest.approx(work_days)
    assert m["simulated_days"] == pytest.approx(offset_days + work_days)
    assert m["simulated_days"] < 100
    days = result.timeseries["day"]
    assert days[-1] == pytest.approx(offset_days + work_days)
    assert all(b > a for a, b in zip(days, days[1:], strict=False))  # no sample twice
    # the untargeted job's integrals end there too
    assert m["ettr.background"] == pytest.approx(1.0)
    assert result.timeseries["background.progress_gpu_hours"][-1] == pytest.approx(
        (offset_days + work_days) * HOURS_PER_DAY * 5 * GPUS_PER_NODE)


def test_jobs_done_waits_for_the_last_targeted_job():
    data = _scenario(
        nodes=20, horizon_days=100, simulation={"replications": 1, "stop": "jobs_done"},
        jobs=[_job("short", work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * 3),
              _job("long", work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * 7)])
    m = model_of(data).run().metrics
    assert m["time_to_train_days.short"] == pytest.approx(3)
    assert m["simulated_days"] == pytest.approx(7)


def test_stop_horizon_runs_every_replication_to_the_horizon():
    data = _scenario(horizon_days=100, simulation={"replications": 1, "stop": "horizon"},
                     jobs=[_job(work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * 5)])
    result = model_of(data).run()
    assert result.metrics["time_to_train_days.train"] == pytest.approx(5)
    assert result.metrics["simulated_days"] == 100
    assert result.timeseries["day"][-1] == pytest.approx(100)


def test_jobs_done_with_an_unreachable_target_runs_to_the_horizon():
    data = _scenario(horizon_days=40, simulation={"replications": 1, "stop": "jobs_done"},
                     jobs=[_job(work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * 50)])
    result = model_of(data).run()
    assert result.metrics["simulated_days"] == 40
    assert result.metrics["job_completed.train"] == 0.0
    assert math.isnan(result.metrics["time_to_train_days.train"])
    assert result.timeseries["day"][-1] == pytest.approx(40)


# --- 2. job windows (end_date) --------------------------------------------------------------------


def test_a_window_releases_the_nodes_to_a_waiting_lower_priority_job():
    window_hours, horizon_hours, host = 20 * HOURS_PER_DAY, 100 * HOURS_PER_DAY, 0.1
    data = _scenario(horizon_days=100, jobs=[
        _job("window", priority=1, end_date="2027-01-21", host_selection_hours=host),
        _job("after", priority=0, host_selection_hours=host)])
    model = model_of(data)
    model.env.run(until=window_hours - 1)
    window, after = model.jobs
    assert len(window.assigned) == 10 and after.parked and not after.assigned
    model.env.run(until=window_hours + 1)
    assert window.phase == JobPhase.DONE and not window.assigned and not window.standby
    assert len(after.assigned) == 10 and not after.parked
    m = model.run().metrics
    assert window.ended_at == window_hours
    assert window.progress_hours == pytest.approx(window_hours - host)  # first host selection
    assert m["ettr.window"] == pytest.approx((window_hours - host) / window_hours)  # wall ends
    assert after.waiting_hours == pytest.approx(window_hours)
    assert after.progress_hours == pytest.approx(horizon_hours - window_hours - host)
    assert "job_completed.window" not in m  # no target: nothing to complete
    for job in model.jobs:
        _time_adds_up(job, model.env.now)


def test_a_window_that_closes_before_the_target_leaves_the_job_not_completed():
    data = _scenario(horizon_days=100, jobs=[_job(
        end_date="2027-01-21", work_target_gpu_hours=10 * GPUS_PER_NODE * HOURS_PER_DAY * 30)])
    model = model_of(data)
    m = model.run().metrics
    (job,) = model.jobs
    assert m["job_completed.train"] == 0.0 and math.isnan(m["time_to_train_days.train"])
    assert job.finished_at is None and job.ended_at == 20 * HOURS_PER_DAY
    assert m["ettr.train"] == pytest.approx(1.0)  # no failure, no host selection, no writes
    assert m["simulated_days"] == 100  # stop: horizon


@pytest.mark.parametrize("seed", range(6))
def test_time_adds_up_for_windowed_jobs_with_failures_maintenance_and_preemption(seed):
    catalog = only_categories({"gpu": 100.0, "nic": 50.0}, hard={"gpu": 0.5})
    catalog["shared_components"]["leaf_switch"] = {"failure_rate_per_1000_unit_days": 100.0}
    jobs = [_job("window", priority=1, end_date="2027-01-21", warm_standby_nodes=seed % 3,
                 checkpoint_interval_hours=3.0, checkpoint_write_hours=0.2,
                 host_selection_hours=0.1),
            _job("target", priority=0, nodes=8, checkpoint_write_hours=0.2,
                 work_target_gpu_hours=8 * GPUS_PER_NODE * HOURS_PER_DAY * 20),
            _job("late", priority=0, nodes=6, start_date="2027-01-05", end_date="2027-02-10",
                 work_target_gpu_hours=1e9)]
    data = make_scenario(horizon_days=60, seed=seed, catalog=catalog, jobs=jobs,
                         simulation={"replications": 1,
                                     "stop": "jobs_done" if seed % 2 else "horizon"})
    data["cluster"]["pools"][0].update(nodes=24, maintenance=[
        {"name": "fw", "per_day": 0.5, "batch_nodes": 3, "duration_hours": 4}])
    data["cluster"]["repair"].update(diagnosis_hours=2, auto_repair_success_probability=0.5,
                                     hands_on_hours=3)
    model = model_of(data)
    m = model.run().metrics
    for job in model.jobs:
        _time_adds_up(job, model.env.now)
    assert model.jobs[0].ended_at == 20 * HOURS_PER_DAY
    assert model.jobs[2].ended_at == 40 * HOURS_PER_DAY
    assert m["job_completed.late"] == 0.0
    # jobs_done: the last targeted job ends when its window closes on day 40
    assert m["simulated_days"] == (40 if seed % 2 else 60)


# --- 3. borrowing from lower-priority jobs --------------------------------------------------------

RESTART, HOST = 0.5, 0.1


def _borrow_model(borrowed: int, **high_fields) -> tuple[ClusterModel, list[int]]:
    """A 10-node pool: `high` (priority 1) on 6 nodes, `low` on 4; at hour 5 `borrowed` nodes
    of `high` fail (transient, diagnosed in 10 h), so it restarts with nodes of `low`."""
    data = _scenario(horizon_days=10, jobs=[
        _job("high", nodes=6, priority=1, restart_hours=RESTART, host_selection_hours=HOST,
             **high_fields),
        _job("low", nodes=4, priority=0, restart_hours=RESTART, host_selection_hours=HOST)])
    data["cluster"]["repair"]["diagnosis_hours"] = 10
    model = model_of(data)
    model.env.run(until=5.0)
    high, low = model.jobs
    assert high.phase == low.phase == JobPhase.RUNNING
    assert high.restart_hours == pytest.approx(HOST)  # the first start: host selection only
    failed = sorted(high.assigned)[:borrowed]
    gpu = _category(model, "gpu")
    for node in failed:
        model.shop.on_failure(model.pools[0], node, gpu)
    model.env.run(until=8.0)  # the restart is over, the failed nodes are still in repair
    return model, failed


@pytest.mark.parametrize("borrowed", [1, 3])
def test_a_restart_that_borrows_pays_per_batch_and_per_node(borrowed):
    per_node, per_batch = 0.3, 0.7
    model, _ = _borrow_model(borrowed, borrow_hours_per_node=per_node,
                             borrow_hours_per_batch=per_batch)
    high, low = model.jobs
    assert high.interruptions == {"gpu": 1}  # one interruption however many nodes failed
    assert low.interruptions == {PREEMPTION: 1}
    assert high.phase == JobPhase.RUNNING and len(high.assigned) == 6
    assert high.restart_hours == pytest.approx(
        HOST + RESTART + HOST + per_batch + borrowed * per_node)
    assert low.parked and not low.assigned  # a gang of 4 - borrowed is no gang
    model.env.run(until=30.0)  # repairs done at hour 15: low restarts without borrowing
    assert low.waiting_hours == pytest.approx(10.0)
    assert low.restart_hours == pytest.approx(HOST + RESTART + HOST)


def test_borrowing_costs_default_to_a_quarter_hour_per_batch():
    model, _ = _borrow_model(2)
    assert model.jobs[0].restart_hours == pytest.approx(HOST + RESTART + HOST + 0.25)


@pytest.mark.parametrize(("cap", "borrows"), [(0, False), (2, False), (3, True), (None, True)])
def test_max_borrowed_nodes_caps_a_restart(cap, borrows):
    model, _ = _borrow_model(3, max_borrowed_nodes=cap, borrow_hours_per_batch=0.7)
    high, low = model.jobs
    if borrows:
        assert low.interruptions == {PREEMPTION: 1} and high.phase == JobPhase.RUNNING
        return
    assert high.phase == JobPhase.WAITING and high.parked and not high.assigned
    assert not low.interruptions and len(low.assigned) == 4
    model.env.run(until=30.0)  # the failed nodes are back at hour 15
    assert high.waiting_hours == pytest.approx(10.0)
    assert high.restart_hours == pytest.approx(HOST + RESTART + HOST)  # no borrowing cost
    assert not low.interruptions


def test_deprecated_preemption_hours_costs_what_borrow_hours_per_batch_does():
    old, _ = _borrow_model(2, preemption_hours=1.5)
    new, _ = _borrow_model(2, borrow_hours_per_batch=1.5)
    assert old.jobs[0].restart_hours == new.jobs[0].restart_hours == pytest.approx(
        HOST + RESTART + HOST + 1.5)


def test_giving_both_preemption_hours_and_borrow_hours_per_batch_is_a_one_line_error():
    data = _scenario(jobs=[_job(preemption_hours=1.0, borrow_hours_per_batch=1.0)])
    with pytest.raises(InputError) as caught:
        load(data)
    text = str(caught.value)
    assert len(text.splitlines()) == 1
    assert "jobs[0]" in text and "preemption_hours" in text and "borrow_hours_per_batch" in text


# --- 4. failure clocks by node state --------------------------------------------------------------


@pytest.mark.parametrize(("clock", "factor", "job_nodes", "share"), [
    ("always", None, 0, 1.0),
    ("busy", None, 50, 1.0),
    ("busy", None, 25, 0.5),
    ("idle_reduced", 0.25, 0, 0.25),
    ("idle_reduced", 0.25, 25, 0.625),
    ("idle_reduced", 0.25, 50, 1.0),
])
def test_node_failures_accrue_by_node_state(clock, factor, job_nodes, share):
    nodes, days, expected = 50, 100, 300.0
    rate = expected / (share * nodes * days) * NODE_DAYS  # per 1000 node-days
    data = _scenario(nodes=nodes, rates={"gpu": rate}, horizon_days=days,
                     jobs=[_job(nodes=job_nodes)] if job_nodes else [])
    data["cluster"]["pools"][0]["failure_clock"] = clock
    if factor is not None:
        data["cluster"]["pools"][0]["idle_failure_rate_factor"] = factor
    model = model_of(data)
    m = model.run().metrics
    assert _within_4_sigma(m["node_failures.p"], expected), (m["node_failures.p"], expected)
    if job_nodes:  # instant repairs: the job always holds its nodes but at single instants
        assert model.jobs[0].waiting_hours == pytest.approx(0.0, abs=1e-9)


def test_busy_clock_with_no_job_has_no_node_failure():
    catalog = only_categories({"gpu": 200.0, "hbm": 200.0})
    catalog["categories"]["hbm"]["lifetime_weibull_shape"] = 1.5  # a Weibull clock as well
    data = make_scenario(horizon_days=1000, catalog=catalog)
    data["cluster"]["pools"][0]["failure_clock"] = "busy"
    result = model_of(data).run()
    assert result.metrics["node_failures.p"] == 0 and result.events == []
    data["cluster"]["pools"][0]["failure_clock"] = "always"  # the same rates do fail
    assert model_of(data).run().metrics["node_failures.p"] > 1000


# --- 5. planned maintenance -----------------------------------------------------------------------


def test_calendar_maintenance_interrupts_the_job_once_per_batch_and_counts_apart():
    host = 0.1
    data = _scenario(horizon_days=95, jobs=[_job(host_selection_hours=host)])
    data["cluster"]["pools"][0]["maintenance"] = [
        {"name": "fw", "every_days": 10, "batch_nodes": 2, "duration_hours": 5}]
    model = model_of(data)
    result = model.run()
    m = result.metrics
    (plan,) = model.maintenance
    assert plan.batches == 9  # days 10, 20, ..., 90
    assert m["planned_interruptions"] == 9 and m["job_planned_interruptions.train"] == 9
    assert m["interruptions.total"] == 0 and m["job_interruptions.train"] == 0
    assert m["node_failures.p"] == 0
    assert math.isnan(m["job_mttf_hours.train"])  # planned interruptions are not failures
    planned = [r for r in _records(result.events) if r.kind == PLANNED]
    assert len(planned) == len(result.events) == 9
    assert [r.time_hours for r in planned] == [d * 10 * HOURS_PER_DAY for d in range(1, 10)]
    assert [r.node for r in planned] == [0, 2, 4, 6, 8, 0, 2, 4, 6]  # rolling order
    assert all(r.outcome == MAINTENANCE_DONE and r.downtime_hours == 5.0 and r.job == "train"
               for r in planned)
    (job,) = model.jobs
    assert job.waiting_hours == pytest.approx(9 * 5.0)  # the gang waits out each batch
    assert job.restart_hours == pytest.approx(host + 9 * (0.5 + host))
    assert model.pools[0].count[NodeState.MAINTENANCE] == 0
    assert m["node_availability.p"] == pytest.approx(1 - 9 * 2 * 5.0 / (10 * 95 * HOURS_PER_DAY))


def test_calendar_maintenance_from_a_first_date():
    data = _scenario(horizon_days=95)
    data["cluster"]["pools"][0]["maintenance"] = [
        {"name": "fw", "every_days": 10, "first_date": "2027-01-03", "batch_nodes": 2,
         "duration_hours": 5}]
    result = model_of(data).run()
    times = [r.time_hours for r in _records(result.events) if r.kind == PLANNED]
    assert times == [(2 + 10 * k) * HOURS_PER_DAY for k in range(10)]  # days 2, 12, ..., 92


def test_poisson_maintenance_count_matches_its_rate():
    per_day, days = 2.0, 200
    data = _scenario(nodes=50, horizon_days=days)
    data["cluster"]["pools"][0]["maintenance"] = [
        {"name": "random", "per_day": per_day, "batch_nodes": 1, "duration_hours": 1}]
    model = model_of(data)
    result = model.run()
    planned = sum(1 for r in _records(result.events) if r.kind == PLANNED)
    assert planned == model.maintenance[0].batches
    assert _within_4_sigma(planned, per_day * days), planned


# --- 6. shared components -------------------------------------------------------------------------

LEAF_RATE = 375.0  # per 1000 unit-days: 0.375 a day per switch


def _leaf_scenario(topology: dict[str, int], diagnosis_hours: float = 0.0) -> dict:
    catalog = only_categories({})
    catalog["shared_components"]["leaf_switch"] = {
        "failure_rate_per_1000_unit_days": LEAF_RATE, "hard_fraction": 0.0}
    data = make_scenario(horizon_days=200, catalog=catalog, jobs=[_job(nodes=64)])
    data["cluster"]["pools"][0].update(nodes=64, topology=topology)
    data["cluster"]["repair"]["diagnosis_hours"] = diagnosis_hours
    return data


@pytest.mark.parametrize(("topology", "units"), [({}, 4), ({"leaf_switch": 8}, 8),
                                                  ({"leaf_switch": 32}, 2)])
def test_shared_failures_per_unit_take_the_job_down_once_each(topology, units):
    model = model_of(_leaf_scenario(topology))
    result = model.run()
    m = result.metrics
    (stream,) = model.shared_streams
    assert stream.units == units  # 64 nodes, 16 per switch unless the topology says otherwise
    expected = units * LEAF_RATE / NODE_DAYS * 200
    assert _within_4_sigma(m["shared_failures.p"], expected), (m["shared_failures.p"], expected)
    assert m["node_failures.p"] == 0
    rows = _records(result.events)
    assert len(rows) == m["shared_failures.p"] and all(r.category == "leaf_switch" for r in rows)
    assert {r.node % (64 // units) for r in rows} == {0}  # logged at the unit's first node
    # instant repairs: the job holds all 64 nodes at every failure, and is stopped once each
    assert m["interruptions.by_category.leaf_switch"] == m["shared_failures.p"]
    assert m["interruptions.total"] == m["shared_failures.p"]


def test_a_shared_failure_never_interrupts_the_job_more_than_once():
    model = model_of(_leaf_scenario({"leaf_switch": 8}, diagnosis_hours=5.0))
    m = model.run().metrics
    assert m["node_failures.p"] == 0 and m["shared_failures.p"] > 100
    # switches down for 5 h: the job often waits, and switches failing then stop nothing
    assert 0 < m["interruptions.by_category.leaf_switch"] < m["shared_failures.p"]


# --- 7. repair outcomes ---------------------------------------------------------------------------


def test_a_manual_repair_cures_a_lemon_and_only_then():
    data = make_scenario(horizon_days=100, catalog=only_categories({"gpu": 4.0},
                                                                   hard={"gpu": 0.5}))
    data["cluster"]["pools"][0].update(lemon_fraction=0.5, lemon_rate_multiplier=5)
    data["cluster"]["repair"]["lemon_cure_probability"] = 1.0
    model = model_of(data)
    drawn = model.pools[0].lemon.copy()
    result = model.run()
    rows = _records(result.events)
    hard_nodes = {r.node for r in rows if r.kind == HARD}
    assert all(r.outcome.startswith(PART_REPLACED) for r in rows if r.kind == HARD)
    expected = drawn.copy()
    expected[list(hard_nodes)] = False  # a part replaced: a manual repair that held
    assert (model.pools[0].lemon == expected).all()
    cured = {r.node for r in rows if r.outcome.endswith(CURED_SUFFIX)}
    assert cured == {int(n) for n in np.flatnonzero(drawn) if n in hard_nodes}
    assert len(cured) == sum(r.outcome.endswith(CURED_SUFFIX) for r in rows)  # once each
    assert cured and model.pools[0].lemon.any()  # both kinds of lemon occur at this seed


def _cure_all_then_count(repair: dict, cure_with: str) -> tuple[int, float]:
    """50 lemons (20x the rate) with gpu failures; at hour 1 every node gets a hard failure of
    `cure_with` (repaired at once); returns the gpu failures after that and the count expected
    at the normal rate."""
    nodes, days, rate = 50, 200, 30.0
    catalog = only_categories({"gpu": rate, "hbm": 1.0}, hard={"gpu": 1.0, "hbm": 1.0})
    catalog["categories"]["hbm"]["lifetime_weibull_shape"] = 1.5
    data = make_scenario(horizon_days=days, catalog=catalog)
    data["cluster"]["pools"][0].update(lemon_fraction=1.0, lemon_rate_multiplier=20)
    data["cluster"]["repair"].update(repair)
    model = model_of(data)
    pool = model.pools[0]
    model.env.run(until=1.0)
    assert pool.lemon.all() and pool.healthy == nodes
    cause = _category(model, cure_with)
    for node in range(nodes):
        model.shop.on_failure(pool, node, cause)
    model.env.run(until=1.0 + 1e-9)
    assert not pool.lemon.any()  # every node cured
    result = model.run()
    later = sum(1 for r in _records(result.events) if r.time_hours > 1.0 and r.category == "gpu")
    return later, nodes * rate / NODE_DAYS * (days - 1.0 / HOURS_PER_DAY)


def test_a_fully_cured_pool_fails_at_the_normal_rate():
    later, expected = _cure_all_then_count({"lemon_cure_probability": 1.0}, "gpu")
    assert _within_4_sigma(later, expected), (later, expected)  # 20x as many if still lemons


def test_a_lemon_cured_by_another_category_fails_at_the_normal_rate():
    later, expected = _cure_all_then_count(
        {"categories": {"hbm": {"lemon_cure_probability": 1.0}}}, "hbm")
    assert _within_4_sigma(later, expected), (later, expected)


def test_per_category_repair_outcomes_resolve_for_that_category_only():
    data = make_scenario()
    data["cluster"]["repair"].update(
        manual_fix_fail_probability=0.1, lemon_cure_probability=0.2,
        categories={"gpu": {"failed_fix": "silent", "fix_fail_probability": 0.5},
                    "nic": {"lemon_cure_probability": 0.9}})
    loaded = load(data)
    setup = build_setup(loaded.scenario, loaded.catalog)
    by_name = {c.name: c for c in setup.pools[0].categories}
    gpu, nic = by_name.pop("gpu"), by_name.pop("nic")
    assert gpu.silent_failed_fix and gpu.fix_fail_probability == 0.5
    assert gpu.lemon_cure_probability == 0.2  # not given for gpu: the policy's
    assert not nic.silent_failed_fix and nic.fix_fail_probability == 0.1
    assert nic.lemon_cure_probability == 0.9
    assert by_name and all(not c.silent_failed_fix and c.fix_fail_probability == 0.1
                           and c.lemon_cure_probability == 0.2 for c in by_name.values())


# --- 8. scenario checks ---------------------------------------------------------------------------


def _stop_without_target(d):
    d["simulation"] = {"stop": "jobs_done"}
    d["jobs"] = [_job()]


def _end_at_start(d):
    d["jobs"] = [_job(start_date="2027-02-01", end_date="2027-02-01")]


def _end_before_start(d):
    d["jobs"] = [_job(end_date="2026-12-31")]


def _factor_without_idle_reduced(d):
    d["cluster"]["pools"][0]["idle_failure_rate_factor"] = 0.5


def _idle_reduced_without_factor(d):
    d["cluster"]["pools"][0]["failure_clock"] = "idle_reduced"


def _both_timings(d):
    d["cluster"]["pools"][0]["maintenance"] = [
        {"name": "m", "every_days": 5, "per_day": 1, "duration_hours": 2}]


def _unknown_component(d):
    d["cluster"]["pools"][0]["topology"] = {"spine_switch": 4}


def _unknown_repair_category(d):
    d["cluster"]["repair"]["categories"] = {"gpux": {"failed_fix": "silent"}}


def _old_blast_fraction(d):
    d["catalog"] = {"categories": {"nic": {"blast_fraction": 0.1}}}


def _old_blast_radius(d):
    d["catalog"] = {"categories": {"nic": {"blast_radius_nodes": 4}}}


def _batch_larger_than_pool(d):
    d["cluster"]["pools"][0]["maintenance"] = [
        {"name": "m", "every_days": 5, "batch_nodes": 51, "duration_hours": 2}]


@pytest.mark.parametrize(("change", "names"), [
    (_stop_without_target, ("simulation.stop", "work_target_gpu_hours")),
    (_end_at_start, ("jobs[0].end_date", "2027-02-01")),
    (_end_before_start, ("jobs[0].end_date",)),
    (_factor_without_idle_reduced, ("cluster.pools[0]", "idle_failure_rate_factor")),
    (_idle_reduced_without_factor, ("cluster.pools[0]", "idle_failure_rate_factor")),
    (_both_timings, ("cluster.pools[0].maintenance[0]", "every_days", "per_day")),
    (_unknown_component, ("cluster.pools[0].topology.spine_switch",)),
    (_unknown_repair_category, ("cluster.repair.categories.gpux",)),
    (_old_blast_fraction, ("catalog.categories.nic", "blast_fraction", "shared_components")),
    (_old_blast_radius, ("catalog.categories.nic", "blast_radius_nodes")),
    (_batch_larger_than_pool, ("cluster.pools[0].maintenance[0].batch_nodes",)),
])
def test_invalid_new_settings_are_one_line_errors_naming_the_field(change, names):
    data = make_scenario()
    change(data)
    with pytest.raises(InputError) as caught:
        load(data)
    text = str(caught.value)
    assert len(text.splitlines()) == 1, text
    assert text.startswith("test.yaml:"), text  # the file and line
    for name in names:
        assert name in text, (name, text)
