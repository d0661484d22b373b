"""Where optimization meets simulation: the chosen order plan becomes dated node deliveries.

First-stage orders become plain deliveries: the scenario's own supply shocks decide, replication
by replication, whether they arrive. Recourse orders become contingent deliveries: a
replication gets the recourse of the sanction scenario its sampled shocks fall in (each shock's
outcome by planning quarter, as the optimizer derived the scenarios). Recourse of scenarios
listed by hand (procurement.scenarios) has no such link to the shocks and is not simulated.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from planner.procurement import derive_scenarios
from planner.quarters import quarter_labels, quarter_start
from planner.scenario.schema import Delivery, Pool, Scenario, ShockOutcome, SpareItem


def _delivery_date(scenario: Scenario, labels: list[str], lead: dict[str, int], sku: str,
                   period: str) -> dt.date | None:
    """Start of the arrival quarter of an order of `sku` placed in `period` (None: after the
    horizon)."""
    index = labels.index(period) + lead[sku]
    if index >= len(labels):
        return None
    return max(quarter_start(labels[index]), scenario.start_date)


def plan_deliveries(scenario: Scenario, orders: pd.DataFrame,
                    recourse: pd.DataFrame | None = None,
                    outcomes: dict[str, tuple] | None = None) -> Scenario:
    """The scenario with each ordered SKU's nodes delivered at the start of their arrival
    quarter (into the existing pool of that SKU, else a new pool named after the SKU): the
    first-stage `orders` always, each `recourse` row (sku, period, scenario, nodes) only when
    the replication's shocks turn out as `outcomes[scenario]` says ((shock, quarters) pairs)."""
    proc = scenario.procurement
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    lead = {c.sku: c.lead_time_quarters for c in proc.candidates}
    arrivals: dict[str, list[Delivery]] = {}
    for row in orders[orders["nodes"] > 0.5].itertuples(index=False):
        date = _delivery_date(scenario, labels, lead, row.sku, row.period)
        if date is not None:
            arrivals.setdefault(row.sku, []).append(Delivery(date=date, nodes=int(round(row.nodes))))
    if recourse is not None and outcomes is not None:
        for row in recourse[recourse["nodes"] > 0.5].itertuples(index=False):
            date = _delivery_date(scenario, labels, lead, row.sku, row.period)
            if date is None or row.scenario not in outcomes:
                continue
            when = [ShockOutcome(shock=name, from_quarter=None if key is None else key[0],
                                 until_quarter=None if key is None else key[1])
                    for name, key in outcomes[row.scenario]]
            arrivals.setdefault(row.sku, []).append(
                Delivery(date=date, nodes=int(round(row.nodes)), when=when))
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


def scenario_outcomes(scenario: Scenario) -> dict[str, tuple] | None:
    """Derived scenario name -> its shocks' outcomes; None when the scenarios are listed by
    hand or generated from sanction events (their recourse cannot be matched to the
    simulator's shocks)."""
    proc = scenario.procurement
    if proc.scenarios is not None or scenario.sanctions is not None:
        return None
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    return {d.scenario.name: d.outcomes for d in derive_scenarios(scenario, labels)}


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


def apply_plan(scenario: Scenario, orders: pd.DataFrame, stockpile: pd.DataFrame,
               recourse: pd.DataFrame | None = None) -> Scenario:
    """Deliveries (first stage and, for derived scenarios, contingent recourse) and stockpile
    of a plan, applied to the scenario to simulate."""
    outcomes = scenario_outcomes(scenario) if recourse is not None else None
    return plan_stockpile(plan_deliveries(scenario, orders, recourse, outcomes), stockpile)
