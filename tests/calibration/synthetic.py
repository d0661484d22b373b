"""Synthetic incident logs from known rates, lemons and repair times (the calibration round trip).

Each node alternates up and down: from each repair's end it fails after an exponential time of
rate base x (multiplier if a lemon) x the category's share, and is down for a repair time drawn
from the category's distribution; a repair still open at the window's end is censored there.
Exactly round(share x nodes) nodes are lemons, so the fleet's mean rate is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Truth:
    nodes: int
    days: float
    rates_per_1000_node_days: dict[str, float]  # of a normal node
    lemon_fraction: float
    lemon_multiplier: float
    repair_median_hours: dict[str, float]  # lognormal repairs
    repair_sigma: float

    @property
    def lemons(self) -> int:
        return round(self.lemon_fraction * self.nodes)

    def fleet_rate(self, category: str) -> float:
        """The fleet's mean rate per 1000 node-days of up-time (lemons included)."""
        share = self.lemons / self.nodes
        return self.rates_per_1000_node_days[category] * (1 + share * (self.lemon_multiplier - 1))


def write_log(truth: Truth, seed: int) -> str:
    """The log as CSV text (day numbers), in the documented format."""
    rng = np.random.default_rng(seed)
    names = list(truth.rates_per_1000_node_days)
    base = np.array([truth.rates_per_1000_node_days[c] for c in names]) / 1000.0
    rows = ["node_id,fault_start,fault_end,category"]
    for node in range(truth.nodes):
        rate = base * (truth.lemon_multiplier if node < truth.lemons else 1.0)
        total = rate.sum()
        t = 0.0
        while True:
            t += rng.exponential(1.0 / total)
            if t >= truth.days:
                break
            c = names[rng.choice(len(names), p=rate / total)]
            hours = truth.repair_median_hours[c] * float(np.exp(truth.repair_sigma
                                                                 * rng.standard_normal()))
            end = t + hours / 24.0
            rows.append(f"n{node},{t:.6f},{'' if end >= truth.days else f'{end:.6f}'},{c}")
            t = end
    return "\n".join(rows) + "\n"
