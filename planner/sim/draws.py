"""Buffered random draws: numpy fills a block, the event loop takes plain Python floats one by one.

`sampler(dist, draws)` turns a scenario distribution into a zero-argument function, so the event
loop never dispatches on the distribution type or calls numpy for a single number.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from planner.scenario.distributions import Exponential, Fixed, Gamma, Lognormal, Uniform, Weibull

_BLOCK = 2048


class Draws:
    """Uniform, unit-exponential and standard-normal draws from one generator, in blocks."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._u: list[float] = []
        self._e: list[float] = []
        self._n: list[float] = []

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

    def normal(self) -> float:
        """One N(0, 1) draw."""
        if not self._n:
            self._n = self.rng.standard_normal(_BLOCK).tolist()
        return self._n.pop()

    def index(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return min(int(self.uniform() * n), n - 1)


def sampler(dist: object, draws: Draws) -> Callable[[], float]:
    """A function returning one draw of `dist` as a Python float."""
    if isinstance(dist, Fixed):
        value = float(dist.value)
        return lambda: value
    if isinstance(dist, Exponential):
        mean = float(dist.mean)
        return lambda: draws.exponential() * mean
    if isinstance(dist, Lognormal):
        mu, sigma = math.log(dist.median), float(dist.sigma)
        return lambda: math.exp(mu + sigma * draws.normal())
    if isinstance(dist, Uniform):
        low, width = float(dist.low), float(dist.high - dist.low)
        return lambda: low + width * draws.uniform()
    if isinstance(dist, Gamma):
        shape, scale = float(dist.shape), float(dist.mean / dist.shape)
        return lambda: float(draws.rng.gamma(shape, scale))
    if isinstance(dist, Weibull):
        scale, shape = float(dist.scale), float(dist.shape)
        return lambda: scale * (draws.exponential() ** (1.0 / shape))
    raise TypeError(f"unknown distribution {dist!r}")
