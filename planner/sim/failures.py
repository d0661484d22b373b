"""Failure streams: one superposed Poisson stream per pool, Weibull clocks only where asked.

Exponential categories: every installed node carries a Poisson clock of rate
weight x sum(category rates), weight = lemon multiplier or 1. Their superposition over the
pool's full capacity is one Poisson stream of rate Lambda_max; a candidate event picks a node
in proportion to its weight and is kept only if that node is healthy (thinning). Since the clocks
are memoryless this is exact, and costs one event per candidate, not one process per node.

Weibull categories keep one clock per (node, category) as a plain scheduled timeout (the
event queue is the heap); a clock restarts at each failure of that category.
"""

from __future__ import annotations

import bisect
import math
from itertools import accumulate
from typing import TYPE_CHECKING

import numpy as np

from planner.sim.draws import Draws
from planner.sim.fleet import ABSENT, HEALTHY, RETIRED, PoolState
from planner.sim.repair import CategoryParams, on_failure

if TYPE_CHECKING:
    from planner.sim.model import ClusterModel


def poisson_stream(model: ClusterModel, pool: PoolState, categories: list[CategoryParams],
                   lemon_multiplier: float, draws: Draws):
    """SimPy process: the superposed exponential failures of one pool."""
    categories = [c for c in categories if c.weibull_shape is None and c.rate_per_hour > 0]
    rate_per_node = sum(c.rate_per_hour for c in categories)
    lemons = np.flatnonzero(pool.lemon).tolist()
    normals = np.flatnonzero(~pool.lemon).tolist()
    lemon_weight = len(lemons) * lemon_multiplier
    total_weight = lemon_weight + len(normals)
    if rate_per_node <= 0 or total_weight <= 0:
        return
    lemon_share = lemon_weight / total_weight
    mean_gap = 1.0 / (rate_per_node * total_weight)
    cumulative = list(accumulate(c.rate_per_hour for c in categories))
    env, state = model.env, pool.state
    while True:
        yield env.timeout(draws.exponential() * mean_gap)
        if lemons and draws.uniform() < lemon_share:
            node = lemons[draws.index(len(lemons))]
        else:
            node = normals[draws.index(len(normals))]
        if state[node] not in HEALTHY:
            continue
        pick = draws.uniform() * rate_per_node
        cat = categories[min(bisect.bisect_right(cumulative, pick), len(categories) - 1)]
        on_failure(model, pool, node, cat)


class WeibullClocks:
    """Per-(node, category) Weibull clocks of one pool for the non-exponential categories."""

    def __init__(self, model: ClusterModel, pool: PoolState, categories: list[CategoryParams],
                 lemon_multiplier: float, rng: np.random.Generator):
        self.model, self.pool, self.rng = model, pool, rng
        self.categories = [c for c in categories if c.weibull_shape is not None and c.rate_per_hour > 0]
        self.lemon_multiplier = lemon_multiplier

    def start_node(self, node: int) -> None:
        """Start the clocks of a node that has just been installed."""
        for cat in self.categories:
            self._schedule(node, cat)

    def _schedule(self, node: int, cat: CategoryParams) -> None:
        # mean lifetime 1/rate; Weibull scale = mean / Gamma(1 + 1/k); lemons age faster
        mean = 1.0 / cat.rate_per_hour
        if self.pool.lemon[node]:
            mean /= self.lemon_multiplier
        scale = mean / math.gamma(1.0 + 1.0 / cat.weibull_shape)
        delay = float(scale * self.rng.weibull(cat.weibull_shape))
        self.model.env.timeout(delay).callbacks.append(lambda _e: self._fire(node, cat))

    def _fire(self, node: int, cat: CategoryParams) -> None:
        state = self.pool.state[node]
        if state in (ABSENT, RETIRED):
            return
        if state in HEALTHY:
            on_failure(self.model, self.pool, node, cat)
        self._schedule(node, cat)  # renewal: the component is new after this event
