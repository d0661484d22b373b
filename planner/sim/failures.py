"""Failure streams: one superposed Poisson stream per pool, Weibull clocks only where asked.

Exponential categories: every installed node carries a Poisson clock of rate
weight x sum(category rates), weight = lemon multiplier or 1. Their superposition over the
pool's full capacity is one Poisson stream of rate Lambda_max; a candidate event picks a node
in proportion to its weight and is kept only if that node is healthy (thinning). Since the clocks
are memoryless this is exact, and costs one event per candidate, not one process per node.

Weibull categories keep one clock per (node, category) as a plain scheduled timeout (the
event queue is the heap); a clock restarts at each failure of that category.

Two more thinnings, only when a scenario asks for them: a healthy node that does not compute keeps
`idle_rate_factor` of its rate (failure clocks by node state), and a lemon cured by a repair keeps
1 / lemon multiplier of the lemon rate it was drawn with. Both are exact for exponential clocks.

Shared components (leaf switches, racks, PDUs) fail per unit: one Poisson stream per component of
a pool over its units, thinned to units that are up and have a node installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy

from planner.sim.draws import Draws
from planner.sim.events import After
from planner.sim.fleet import NodeState, PoolState
from planner.sim.setup import CategoryParams, SharedParams

# what a failure stream calls when a component of a healthy node fails
FailureHandler = Callable[[PoolState, int, CategoryParams], None]

_BLOCK = 2048  # candidates drawn at once with numpy


class PoissonStream:
    """The superposed exponential failures of one pool: one timeout per candidate event.

    Candidate gaps, nodes (lemons weighted by their multiplier) and categories are drawn by
    numpy in blocks; the event loop only pops them and checks the node is healthy."""

    def __init__(self, env: simpy.Environment, pool: PoolState,
                 categories: tuple[CategoryParams, ...], lemon_multiplier: float,
                 rng: np.random.Generator, on_failure: FailureHandler,
                 idle_rate_factor: float = 1.0, accept: Draws | None = None):
        self.categories = [c for c in categories if c.weibull_shape is None and c.rate_per_hour > 0]
        rates = np.array([c.rate_per_hour for c in self.categories], dtype=float)
        self.rate_per_node = float(rates.sum())
        self.lemons = np.flatnonzero(pool.lemon)
        self.normals = np.flatnonzero(~pool.lemon)
        lemon_weight = len(self.lemons) * lemon_multiplier
        total_weight = lemon_weight + len(self.normals)
        if self.rate_per_node <= 0 or total_weight <= 0:
            return
        self.pool, self.rng, self.env, self.on_failure = pool, rng, env, on_failure
        self.lemon_share = lemon_weight / total_weight
        self.mean_gap_hours = 1.0 / (self.rate_per_node * total_weight)
        self.cumulative_rate = np.cumsum(rates)
        self._candidates: list[tuple[float, int, int]] = []
        # a repair of any category (Weibull ones too) may cure a lemon
        curable = len(self.lemons) > 0 and lemon_multiplier > 1 and any(
            c.lemon_cure_probability > 0 for c in categories)
        self._on_candidate = self._candidate
        if idle_rate_factor < 1.0 or curable:
            assert accept is not None  # the model passes its acceptance draws with these
            self.idle_rate_factor, self.accept = idle_rate_factor, accept.uniform
            self.drawn_lemon = pool.lemon.copy()  # lemons as drawn; pool.lemon changes on cures
            self.cured_keep = 1.0 / lemon_multiplier
            self._on_candidate = self._candidate_thinned
        self._schedule_next()

    def _draw_block(self) -> None:
        rng, n = self.rng, _BLOCK
        gaps = rng.standard_exponential(n) * self.mean_gap_hours
        nodes = self.normals[(rng.random(n) * len(self.normals)).astype(np.int64)] \
            if len(self.normals) else np.zeros(n, dtype=np.int64)
        if len(self.lemons):
            lemon_nodes = self.lemons[(rng.random(n) * len(self.lemons)).astype(np.int64)]
            nodes = np.where(rng.random(n) < self.lemon_share, lemon_nodes, nodes)
        picks = rng.random(n) * self.rate_per_node
        cats = np.minimum(np.searchsorted(self.cumulative_rate, picks, side="right"),
                          len(self.categories) - 1)
        block = list(zip(gaps.tolist(), nodes.tolist(), cats.tolist(), strict=True))
        block.reverse()  # consumed from the end
        self._candidates = block

    def _schedule_next(self) -> None:
        if not self._candidates:
            self._draw_block()
        gap, node, cat = self._candidates.pop()
        After(self.env, gap, self._on_candidate, (node, cat))

    def _candidate(self, event) -> None:
        node, cat = event.value
        if NodeState.IDLE <= self.pool.state[node] <= NodeState.STANDBY:  # thinning: healthy only
            self.on_failure(self.pool, node, self.categories[cat])
        self._schedule_next()

    def _candidate_thinned(self, event) -> None:
        """As _candidate, keeping a healthy node's event with probability idle_rate_factor
        when it does not compute, and 1 / lemon multiplier when it is a cured lemon."""
        node, cat = event.value
        state = self.pool.state[node]
        if NodeState.IDLE <= state <= NodeState.STANDBY:
            keep = 1.0 if state == NodeState.BUSY else self.idle_rate_factor
            if self.drawn_lemon[node] and not self.pool.lemon[node]:
                keep *= self.cured_keep
            if keep >= 1.0 or self.accept() < keep:
                self.on_failure(self.pool, node, self.categories[cat])
        self._schedule_next()


class WeibullClocks:
    """Per-(node, category) Weibull clocks of one pool for the non-exponential categories."""

    def __init__(self, env: simpy.Environment, pool: PoolState,
                 categories: tuple[CategoryParams, ...], lemon_multiplier: float,
                 rng: np.random.Generator, on_failure: FailureHandler,
                 idle_rate_factor: float = 1.0, accept: Draws | None = None):
        self.env, self.pool, self.rng, self.on_failure = env, pool, rng, on_failure
        self.categories = [c for c in categories if c.weibull_shape is not None and c.rate_per_hour > 0]
        self.lemon_multiplier = lemon_multiplier
        self.idle_rate_factor = idle_rate_factor
        self.accept = accept

    def start_node(self, node: int) -> None:
        """Start the clocks of a node that has just been installed."""
        for cat in self.categories:
            self._schedule(node, cat)

    def _schedule(self, node: int, cat: CategoryParams) -> None:
        # mean lifetime 1/rate; Weibull scale = mean / Gamma(1 + 1/k); lemons age faster
        shape = cat.weibull_shape
        assert shape is not None  # only Weibull categories have clocks
        mean = 1.0 / cat.rate_per_hour
        if self.pool.lemon[node]:
            mean /= self.lemon_multiplier
        scale = mean / math.gamma(1.0 + 1.0 / shape)
        delay = float(scale * self.rng.weibull(shape))
        After(self.env, delay, lambda _e: self._fire(node, cat))

    def _fire(self, node: int, cat: CategoryParams) -> None:
        state = self.pool.state[node]
        if state in (NodeState.ABSENT, NodeState.RETIRED):
            return
        if state in NodeState.HEALTHY and (
                state == NodeState.BUSY or self.idle_rate_factor >= 1.0
                or (self.accept is not None and self.accept.uniform() < self.idle_rate_factor)):
            self.on_failure(self.pool, node, cat)
        self._schedule(node, cat)  # renewal: the component is new after this event


# what a shared-component stream calls when a unit fails: (pool, stream, unit)
SharedHandler = Callable[[PoolState, "SharedStream", int], None]


class SharedStream:
    """Failures of one shared component of a pool: its units are consecutive blocks of
    `nodes_per_unit` nodes; one Poisson stream of rate units x unit rate picks a unit at random
    and keeps the event if that unit is up and has a node installed (thinning, exact)."""

    def __init__(self, env: simpy.Environment, pool: PoolState, component: SharedParams,
                 rng: np.random.Generator, on_failure: SharedHandler):
        self.env, self.pool, self.component, self.rng = env, pool, component, rng
        self.on_failure = on_failure
        self.nodes_per_unit = component.nodes_per_unit
        self.units = -(-pool.capacity // component.nodes_per_unit)
        self.down = bytearray(self.units)
        self.mean_gap_hours = 1.0 / (component.rate_per_hour * self.units)
        self._candidates: list[tuple[float, int]] = []
        self._schedule_next()

    def nodes_of(self, unit: int) -> range:
        first = unit * self.nodes_per_unit
        return range(first, min(first + self.nodes_per_unit, self.pool.capacity))

    def _schedule_next(self) -> None:
        if not self._candidates:
            gaps = self.rng.standard_exponential(_BLOCK) * self.mean_gap_hours
            units = self.rng.integers(0, self.units, _BLOCK)
            self._candidates = list(zip(gaps.tolist(), units.tolist(), strict=True))[::-1]
        gap, unit = self._candidates.pop()
        After(self.env, gap, self._candidate, unit)

    def _candidate(self, event) -> None:
        unit: int = event.value  # type: ignore[assignment]
        state = self.pool.state
        if not self.down[unit] and any(
                NodeState.ABSENT != state[n] != NodeState.RETIRED for n in self.nodes_of(unit)):
            self.on_failure(self.pool, self, unit)
        self._schedule_next()
