"""Buffered random draws: numpy fills a block, the event loop takes plain Python floats one by one.

`sampler(dist, draws)` turns a scenario distribution into a zero-argument function with a buffer
of its own, so the event loop never dispatches on the distribution type or calls numpy for a
single number.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from planner.scenario.distributions import Exponential, Fixed, Gamma, Lognormal, Uniform, Weibull

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


def sampler(dist: object, draws: Draws) -> Callable[[], float]:
    """A function returning one draw of `dist` as a Python float."""
    rng = draws.rng
    if isinstance(dist, Fixed):
        value = float(dist.value)
        return lambda: value
    if isinstance(dist, Exponential):
        mean = float(dist.mean)
        return _Buffered(lambda n: rng.standard_exponential(n) * mean).draw
    if isinstance(dist, Lognormal):
        mu, sigma = math.log(dist.median), float(dist.sigma)
        return _Buffered(lambda n: np.exp(mu + sigma * rng.standard_normal(n))).draw
    if isinstance(dist, Uniform):
        low, high = float(dist.low), float(dist.high)
        return _Buffered(lambda n: rng.uniform(low, high, n)).draw
    if isinstance(dist, Gamma):
        shape, scale = float(dist.shape), float(dist.mean / dist.shape)
        return _Buffered(lambda n: rng.gamma(shape, scale, n)).draw
    if isinstance(dist, Weibull):
        scale, shape = float(dist.scale), float(dist.shape)
        return _Buffered(lambda n: scale * rng.weibull(shape, n)).draw
    raise TypeError(f"unknown distribution {dist!r}")
