"""Where optimization meets simulation: the chosen order plan becomes dated node deliveries.

Only first-stage orders are known before the sanction outcome, so only they are simulated; the
scenario's own supply shocks then decide, replication by replication, which deliveries arrive.
"""

from __future__ import annotations

import pandas as pd

from planner.quarters import quarter_labels, quarter_start
from planner.scenario.schema import Delivery, Pool, Scenario, SpareItem


def plan_deliveries(scenario: Scenario, orders: pd.DataFrame) -> Scenario:
    """The scenario with each ordered SKU's nodes delivered at the start of their arrival
    quarter: into the existing pool of that SKU, else into a new pool named after the SKU."""
    proc = scenario.procurement
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    lead = {c.sku: c.lead_time_quarters for c in proc.candidates}
    arrivals: dict[str, list[Delivery]] = {}
    for row in orders[orders["nodes"] > 0.5].itertuples(index=False):
        index = labels.index(row.period) + lead[row.sku]
        if index >= len(labels):
            continue
        date = max(quarter_start(labels[index]), scenario.start_date)
        arrivals.setdefault(row.sku, []).append(Delivery(date=date, nodes=int(round(row.nodes))))
    pools = list(scenario.cluster.pools)
    for sku, deliveries in arrivals.items():
        index = next((i for i, p in enumerate(pools) if p.sku == sku), None)
        if index is None:
            name = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in sku.lower())
            pools.append(Pool(name=name, sku=sku, nodes=0,
                              deliveries=sorted(deliveries, key=lambda d: d.date)))
        else:
            merged = sorted([*pools[index].deliveries, *deliveries], key=lambda d: d.date)
            pools[index] = pools[index].model_copy(update={"deliveries": merged})
    cluster = scenario.cluster.model_copy(update={"pools": pools})
    return scenario.model_copy(update={"cluster": cluster})


def plan_stockpile(scenario: Scenario, stockpile: pd.DataFrame) -> Scenario:
    """The scenario with stockpiled parts added to the initial shelf of their (SKU, part); the
    reorder target stays what it was, so the stockpile is a one-off purchase."""
    spares = scenario.cluster.spares
    items = list(spares.items)
    for row in stockpile[stockpile["units"] > 0.5].itertuples(index=False):
        units = int(round(row.units))
        index = next((i for i, it in enumerate(items) if it.sku == row.sku and it.part == row.part),
                     None)
        current = items[index] if index is not None else SpareItem(sku=row.sku, part=row.part)
        initial = current.initial_stock if current.initial_stock is not None \
            else spares.default.initial_stock
        level = current.base_stock_level if current.base_stock_level is not None else (
            spares.default.base_stock_level if spares.default.base_stock_level is not None
            else initial)
        updated = current.model_copy(update={"initial_stock": initial + units,
                                             "base_stock_level": level})
        if index is None:
            items.append(updated)
        else:
            items[index] = updated
    new_spares = spares.model_copy(update={"items": items})
    cluster = scenario.cluster.model_copy(update={"spares": new_spares})
    return scenario.model_copy(update={"cluster": cluster})


def apply_plan(scenario: Scenario, orders: pd.DataFrame, stockpile: pd.DataFrame) -> Scenario:
    """Deliveries and stockpile of a plan, applied to the scenario to simulate."""
    return plan_stockpile(plan_deliveries(scenario, orders), stockpile)
