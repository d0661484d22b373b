"""The simulator against closed forms: Poisson counts, ETTR, Daly's optimum, Palm's theorem."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from planner.sim.checkpoint import daly_interval_hours, expected_ettr
from planner.sim.failure_log import HARD, STILL_IN_REPAIR, FailureRecord
from planner.sim.model import simulate
from planner.sim.setup import build_setup
from tests.conftest import load, make_scenario, only_categories

NODE_DAYS = 1000.0  # rates in the catalog are per 1000 node-days


def _job(**fields):
    base = {"name": "train", "pool": "p", "nodes": 50, "checkpoint_interval_hours": 2.0,
            "checkpoint_write_hours": 0.2, "restart_hours": 0.5, "host_selection_hours": 0.0,
            "borrow_hours_per_batch": 0.0}
    base.update(fields)
    return base


def _per_1000_node_days(job_rate_per_hour: float, nodes: int) -> float:
    return job_rate_per_hour / nodes * 24 * NODE_DAYS


def _run(data, replications):
    loaded = load(data)
    setup = build_setup(loaded.scenario, loaded.catalog)
    return [simulate(setup, i) for i in range(replications)]


def test_interruptions_match_poisson_expectation_of_summed_rates():
    nodes, horizon_days, reps = 50, 400, 4
    rates = {"gpu": 20.0, "nic": 5.0, "software_bug": 10.0}  # per 1000 node-days
    data = make_scenario(
        horizon_days=horizon_days,
        catalog=only_categories(rates),
        jobs=[_job(nodes=nodes)],
    )
    results = _run(data, reps)
    for category, rate in rates.items():
        expected = rate / NODE_DAYS * nodes * horizon_days * reps
        observed = sum(r.metrics[f"interruptions.by_category.{category}"] for r in results)
        p_low = stats.poisson.cdf(observed, expected)
        p_high = stats.poisson.sf(observed - 1, expected)
        assert min(p_low, p_high) > 0.0005, (category, observed, expected)
    total = sum(r.metrics["interruptions.total"] for r in results)
    expected_total = sum(rates.values()) / NODE_DAYS * nodes * horizon_days * reps
    assert abs(total - expected_total) < 4 * math.sqrt(expected_total)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("interval", "write", "restart"),
    [(2.0, 0.2, 0.5), ("auto", 0.0, 1.0)],  # the second: no lost work, ETTR = exp(-rate R)
)
def test_ettr_matches_closed_form_with_instant_repairs(interval, write, restart):
    nodes, rate_per_hour, horizon_days, reps = 50, 0.1, 1000, 4
    data = make_scenario(
        horizon_days=horizon_days,
        catalog=only_categories({"software_bug": _per_1000_node_days(rate_per_hour, nodes)}),
        jobs=[_job(nodes=nodes, checkpoint_interval_hours=interval, checkpoint_write_hours=write,
                   restart_hours=restart)],
    )
    ettr = np.array([r.metrics["ettr.train"] for r in _run(data, reps)])
    tau = 0.0 if interval == "auto" else interval
    expected = expected_ettr(tau, write, restart, rate_per_hour)
    if interval == "auto":
        assert expected == pytest.approx(math.exp(-rate_per_hour * restart))
    se = ettr.std(ddof=1) / math.sqrt(reps)
    assert abs(ettr.mean() - expected) < max(4 * se, 0.002), (ettr.mean(), expected)


@pytest.mark.slow
def test_swept_best_checkpoint_interval_is_within_10_percent_of_daly():
    nodes, rate_per_hour, write = 20, 0.1, 0.1
    data = make_scenario(
        horizon_days=3000,
        catalog=only_categories({"software_bug": _per_1000_node_days(rate_per_hour, nodes)}),
        jobs=[_job(nodes=nodes, checkpoint_write_hours=write, restart_hours=0.1)],
    )
    taus = np.linspace(0.7, 2.3, 9)
    ettr = []
    for tau in taus:  # common random numbers: the same failure times for every interval
        loaded = load(data, (f"jobs[0].checkpoint_interval_hours={tau}",))
        setup = build_setup(loaded.scenario, loaded.catalog)
        ettr.append(np.mean([simulate(setup, i).metrics["ettr.train"] for i in range(2)]))
    # ETTR(tau) is skewed (steep below the optimum, flat above): a parabola in log(tau) fits it
    a, b, _ = np.polyfit(np.log(taus), ettr, 2)
    best = math.exp(-b / (2 * a))
    daly = daly_interval_hours(write, 1 / rate_per_hour)
    assert a < 0, "the swept ETTR curve must be concave"
    assert abs(best - daly) / daly < 0.10, (best, daly, list(zip(taus, ettr, strict=True)))


def test_share_of_failures_waiting_for_a_part_matches_palm():
    nodes, horizon_days, reps = 1000, 3000, 3
    demand_per_day, lead_days, base_stock = 1.0, 5.0, 7
    data = make_scenario(
        horizon_days=horizon_days,
        catalog=only_categories({"gpu": demand_per_day / nodes * NODE_DAYS}, hard={"gpu": 1.0}),
    )
    data["cluster"]["pools"][0]["nodes"] = nodes
    data["cluster"]["spares"] = {
        "default": {"initial_stock": 1000, "policy": "base_stock", "lead_time_days": 1},
        "items": [{"sku": "H800", "part": "gpu_board", "initial_stock": base_stock,
                   "base_stock_level": base_stock,
                   "lead_time_days": {"dist": "exponential", "mean": lead_days}}],
    }
    waited = demanded = 0
    for r in _run(data, reps):
        for event in map(FailureRecord._make, r.events):
            if event.kind == HARD and event.outcome != STILL_IN_REPAIR:
                demanded += 1
                waited += event.part_wait_hours > 0
    expected = stats.poisson.sf(base_stock - 1, demand_per_day * lead_days)  # P(N >= S)
    share = waited / demanded
    assert demanded > 0.9 * demand_per_day * horizon_days * reps
    assert abs(share - expected) < 0.02, (share, expected)
