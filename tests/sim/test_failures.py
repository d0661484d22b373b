"""Failure streams on a bare pool with a recording handler (no ClusterModel): counts against
Poisson, thinning by node state, lemons weighted by their multiplier, Weibull renewal."""

from __future__ import annotations

import numpy as np
import simpy
from scipy import stats

from planner.scenario.distributions import Lognormal
from planner.sim.failures import PoissonStream, WeibullClocks
from planner.sim.fleet import Backlog, NodeState, PoolState
from planner.sim.setup import CategoryParams

HOURS = 10_000.0


def _category(name: str, rate_per_hour: float, shape: float | None = None) -> CategoryParams:
    return CategoryParams(name=name, rate_per_hour=rate_per_hour, hard_fraction=0.0, part=None,
                          repair_hours=Lognormal(dist="lognormal", median=1.0, sigma=0.0),
                          weibull_shape=shape)


def _pool(nodes: int, lemons: int = 0) -> PoolState:
    lemon = np.zeros(nodes, dtype=bool)
    lemon[:lemons] = True
    pool = PoolState("p", "H800", nodes, lemon, Backlog())
    pool.install(nodes, 0.0)
    return pool


def test_superposed_stream_matches_the_poisson_count_of_each_category():
    env, pool, seen = simpy.Environment(), _pool(100), []
    cats = (_category("gpu", 2e-4), _category("nic", 5e-5))
    PoissonStream(env, pool, cats, 1.0, np.random.default_rng(5),
                  lambda p, node, cat: seen.append((node, cat.name)))
    env.run(until=HOURS)
    for cat in cats:
        observed = sum(1 for _, name in seen if name == cat.name)
        expected = cat.rate_per_hour * 100 * HOURS
        assert stats.poisson.cdf(observed, expected) > 1e-3
        assert stats.poisson.sf(observed - 1, expected) > 1e-3


def test_only_healthy_nodes_fail_and_lemons_fail_in_proportion_to_their_multiplier():
    env, pool, seen = simpy.Environment(), _pool(100, lemons=10), []
    for node in range(50, 100):  # half the pool is out of service
        pool.set_state(node, NodeState.IN_REPAIR, 0.0)
    PoissonStream(env, pool, (_category("gpu", 1e-3),), 9.0, np.random.default_rng(6),
                  lambda p, node, cat: seen.append(node))
    env.run(until=HOURS)
    assert seen and max(seen) < 50
    lemon_share = sum(1 for n in seen if n < 10) / len(seen)
    assert abs(lemon_share - 10 * 9.0 / (10 * 9.0 + 40)) < 0.03  # lemons weigh 9 times more


def test_weibull_clocks_renew_at_each_failure_with_the_category_mean():
    env, pool, seen = simpy.Environment(), _pool(200), []
    clocks = WeibullClocks(env, pool, (_category("hbm", 1e-3, shape=2.0),), 1.0,
                           np.random.default_rng(7), lambda p, node, cat: seen.append(env.now))
    for node in range(pool.capacity):
        clocks.start_node(node)
    env.run(until=HOURS)
    # a renewal process with mean lifetime 1000 h: about HOURS / 1000 failures per node
    assert abs(len(seen) / 200 - HOURS / 1000.0) < 0.5
