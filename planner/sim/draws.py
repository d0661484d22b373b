"""Buffered random draws: numpy fills a block, the event loop takes plain Python floats one by one.

`sampler(dist, draws)` turns a scenario distribution into a zero-argument function with a buffer
of its own, so the event loop never dispatches on the distribution type or calls numpy for a
single number.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from planner.scenario.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Mixture,
    Uniform,
    Weibull,
)

_BLOCK = 2048


class Draws:
    """Uniform and unit-exponential draws from one generator, in blocks."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._u: list[float] = []
        self._e: list[float] = []

    def uniform(self) -> float:
        """One U(0, 1) draw."""
        if not self._u:
            self._u = self.rng.random(_BLOCK).tolist()
        return self._u.pop()

    def exponential(self) -> float:
        """One Exp(1) draw."""
        if not self._e:
            self._e = self.rng.standard_exponential(_BLOCK).tolist()
        return self._e.pop()

    def index(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return min(int(self.uniform() * n), n - 1)


class _Buffered:
    """Draws of one distribution, made by numpy `_BLOCK` at a time and handed out one by one."""

    __slots__ = ("_block", "_buffer")

    def __init__(self, block: Callable[[int], np.ndarray]):
        self._block = block
        self._buffer: list[float] = []

    def draw(self) -> float:
        if not self._buffer:
            self._buffer = self._block(_BLOCK).tolist()
        return self._buffer.pop()


def _block(dist: object, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """A function drawing `n` values of `dist` at once."""
    if isinstance(dist, Fixed):
        value = float(dist.value)
        return lambda n: np.full(n, value)
    if isinstance(dist, Exponential):
        mean = float(dist.mean)
        return lambda n: rng.standard_exponential(n) * mean
    if isinstance(dist, Lognormal):
        mu, sigma = math.log(dist.median), float(dist.sigma)
        return lambda n: np.exp(mu + sigma * rng.standard_normal(n))
    if isinstance(dist, Uniform):
        low, high = float(dist.low), float(dist.high)
        return lambda n: rng.uniform(low, high, n)
    if isinstance(dist, Gamma):
        shape, scale = float(dist.shape), float(dist.mean / dist.shape)
        return lambda n: rng.gamma(shape, scale, n)
    if isinstance(dist, Weibull):
        scale, shape = float(dist.scale), float(dist.shape)
        return lambda n: scale * rng.weibull(shape, n)
    if isinstance(dist, Empirical):
        if dist.values is not None:
            values = np.asarray(dist.values, dtype=float)
            if dist.weights is None:
                return lambda n: values[rng.integers(0, len(values), n)]
            cumulative = np.cumsum(np.asarray(dist.weights, dtype=float))
            cumulative /= cumulative[-1]
            last = len(values) - 1
            return lambda n: values[np.minimum(np.searchsorted(cumulative, rng.random(n),
                                                               side="right"), last)]
        assert dist.quantiles is not None  # the schema requires one of the two
        ps = np.array([p for p, _ in dist.quantiles])
        vs = np.array([v for _, v in dist.quantiles])
        return lambda n: np.interp(rng.random(n), ps, vs)
    if isinstance(dist, Mixture):
        parts = [_block(c.value, rng) for c in dist.components]
        weights = np.asarray(dist.weights)

        def mixed(n: int) -> np.ndarray:
            which = rng.choice(len(parts), size=n, p=weights)
            out = np.empty(n)
            for k, part in enumerate(parts):
                chosen = which == k
                if chosen.any():
                    out[chosen] = part(int(chosen.sum()))
            return out

        return mixed
    raise TypeError(f"unknown distribution {dist!r}")


def sampler(dist: object, draws: Draws) -> Callable[[], float]:
    """A function returning one draw of `dist` as a Python float."""
    if isinstance(dist, Fixed):
        value = float(dist.value)
        return lambda: value
    return _Buffered(_block(dist, draws.rng)).draw
