"""Buffered random draws: numpy fills a block, the event loop takes plain Python floats one by one."""

from __future__ import annotations

import numpy as np

_BLOCK = 2048


class Draws:
    """Uniform and unit-exponential draws from one generator, refilled in blocks."""

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
