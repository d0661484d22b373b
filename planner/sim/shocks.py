"""Supply shocks of one replication: which happen, when, and what they block or multiply."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.scenario.schema import Scenario
from planner.units import HOURS_PER_DAY

ORDERS, DELIVERIES, RMA, NODES = "orders", "deliveries", "rma", "nodes"


@dataclass(frozen=True)
class ShockWindow:
    """A shock that happens in this replication, from start to end (hours since start_date)."""

    name: str
    vendor: str
    parts: frozenset[str] | None
    start_hours: float
    end_hours: float  # math.inf when permanent
    blocks: frozenset[str]
    lead_time_multiplier: float
    price_multiplier: float

    def hits(self, vendor: str, part: str | None) -> bool:
        """Whether the shock concerns this vendor's `part` (None = a node delivery)."""
        if vendor != self.vendor:
            return False
        if part is None:
            return self.parts is None
        return self.parts is None or part in self.parts

    def active(self, t: float) -> bool:
        return self.start_hours <= t < self.end_hours


def sample_shocks(scenario: Scenario, rng: np.random.Generator) -> tuple[ShockWindow, ...]:
    """Draw, for each configured shock, whether and when it happens (same draws whatever happens)."""
    out = []
    for shock in scenario.supply_shocks:
        happens, position = rng.random(2)
        if happens >= shock.probability:
            continue
        if shock.date is not None:
            start = scenario.hours_since_start(shock.date)
        else:
            # the schema requires a window when a shock has no date
            assert shock.window_start_date is not None and shock.window_end_date is not None
            lo = scenario.hours_since_start(shock.window_start_date)
            hi = scenario.hours_since_start(shock.window_end_date)
            start = lo + float(position) * (hi - lo)
        end = math.inf if shock.duration_days is None else start + shock.duration_days * HOURS_PER_DAY
        blocks = {
            kind
            for kind, on in (
                (ORDERS, shock.block_orders),
                (DELIVERIES, shock.block_deliveries),
                (RMA, shock.block_rma),
                (NODES, shock.block_node_deliveries),
            )
            if on
        }
        out.append(
            ShockWindow(
                name=shock.name,
                vendor=shock.vendor,
                parts=None if shock.parts is None else frozenset(shock.parts),
                start_hours=start,
                end_hours=end,
                blocks=frozenset(blocks),
                lead_time_multiplier=shock.lead_time_multiplier,
                price_multiplier=shock.price_multiplier,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ShockBook:
    """Queries over the shocks of one replication."""

    windows: tuple[ShockWindow, ...]

    def blocked_until(self, vendor: str, part: str | None, kind: str, t: float) -> float | None:
        """None if the flow is open at t, else the time it reopens (math.inf = never)."""
        end: float | None = None
        moved = True
        probe = t
        while moved:  # chained or overlapping blocks
            moved = False
            for w in self.windows:
                if kind in w.blocks and w.hits(vendor, part) and w.active(probe):
                    end = w.end_hours if end is None else max(end, w.end_hours)
                    if w.end_hours > probe:
                        probe = w.end_hours
                        moved = not math.isinf(probe)
        return end

    def multiplier(self, vendor: str, part: str | None, t: float, attr: str) -> float:
        """Product of `attr` ('lead_time_multiplier' or 'price_multiplier') of active shocks."""
        value = 1.0
        for w in self.windows:
            if w.hits(vendor, part) and w.active(t):
                value *= getattr(w, attr)
        return value
