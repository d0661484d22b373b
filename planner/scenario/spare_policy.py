"""The spare-part policy of one (SKU, part), resolved from a scenario's default and items.

Shared by the simulator (its shelves) and the optimizer's tables (parts already on the shelf),
so both start from the same stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.scenario.distributions import Lognormal
from planner.scenario.schema import Scenario


@dataclass(frozen=True)
class ResolvedSparePolicy:
    """A spare policy with every field filled from the scenario's default."""

    initial_stock: int
    policy: str
    base_stock_level: int
    reorder_point: int
    order_up_to: int
    lead_time_days: Any
    rma_return_fraction: float
    rma_turnaround_days: Any
    cannibalize: bool



def resolve_spare_policy(scenario: Scenario, sku: str, part: str) -> ResolvedSparePolicy:
    """The (sku, part) policy: the item's fields, else the default's."""
    spares = scenario.cluster.spares
    item = next((i for i in spares.items if i.sku == sku and i.part == part), None)

    def pick(field: str, fallback=None):
        value = getattr(item, field) if item is not None else None
        if value is None:
            value = getattr(spares.default, field)
        return fallback if value is None else value

    initial = pick("initial_stock")
    return ResolvedSparePolicy(
        initial_stock=initial,
        policy=pick("policy"),
        base_stock_level=pick("base_stock_level", initial),
        reorder_point=pick("reorder_point", 0),
        order_up_to=pick("order_up_to", max(initial, 1)),
        lead_time_days=pick("lead_time_days"),
        rma_return_fraction=pick("rma_return_fraction", 0.0),
        rma_turnaround_days=pick("rma_turnaround_days", Lognormal(dist="lognormal", median=14.0,
                                                                  sigma=0.0)),
        cannibalize=pick("cannibalize", False),
    )
