"""Runway under a parts block: per pool whose spare parts a supply shock blocks, the days from
the block's start until the pool's node availability falls below each threshold of
planner.metrics.RUNWAY_THRESHOLDS (docs/simulator.md, "Runway under a parts block").

Read off the timeseries a replication already samples (numpy over its arrays, no SimPy process):
availability at a sample = healthy / installed nodes of the pool. The crossing is the first
sample at or after the block's start, while the block lasts, whose availability is below the
threshold; its runway is that sample's day minus the block's start day, so the runway is known
to one `timeseries_step_days`. A threshold not crossed while the block lasts within the run is
censored: the runway is at least the days watched (block start to the block's end or the end of
the run), and that lower bound is what `runway.days` holds, with `runway.censored` = 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from planner.catalog.catalog import Catalog
from planner.metrics import RUNWAY_CENSORED, RUNWAY_DAYS, RUNWAY_THRESHOLDS, runway_key
from planner.sim.setup import PoolSetup, SimSetup
from planner.sim.shocks import DELIVERIES, ORDERS, RMA, ShockWindow
from planner.units import HOURS_PER_DAY

# the flows of spare parts a shock can block (node deliveries are not a parts block)
PARTS_FLOWS = frozenset((ORDERS, DELIVERIES, RMA))

# (part, vendor who supplies it for the pool's SKU)
SuppliedParts = tuple[tuple[str, str], ...]


def supplied_parts(pool: PoolSetup, catalog: Catalog) -> SuppliedParts:
    """The spare parts the pool's nodes can need (a failure category or shared component that
    fails on it and needs a part in some failures), each with its supplier."""
    parts = {c.part for c in pool.categories
             if c.part is not None and c.rate_per_hour > 0 and c.hard_fraction > 0}
    parts |= {c.part for c in pool.shared if c.part is not None and c.hard_fraction > 0}
    return tuple((part, catalog.part_supplier(pool.sku, part)) for part in sorted(parts))


def blocks_parts(vendor: str, parts: Iterable[str] | None, blocks: Iterable[str],
                 supplied: SuppliedParts) -> bool:
    """Whether a shock of `vendor` (on `parts` only, or every part when None) that blocks the
    flows `blocks` cuts off one of the `supplied` parts: a parts block of the pool."""
    if not PARTS_FLOWS & set(blocks):
        return False
    listed = None if parts is None else set(parts)
    return any(supplier == vendor and (listed is None or part in listed)
               for part, supplier in supplied)


def exposed_pools(setup: SimSetup) -> dict[str, SuppliedParts]:
    """Pool name -> its supplied parts, for the pools some supply shock of the scenario can
    block the parts of (whether or not it happens in a given replication)."""
    out = {}
    for pool in setup.pools:
        supplied = supplied_parts(pool, setup.catalog)
        for shock in setup.scenario.supply_shocks:
            flows = [flow for flow, on in ((ORDERS, shock.block_orders),
                                           (DELIVERIES, shock.block_deliveries),
                                           (RMA, shock.block_rma)) if on]
            if blocks_parts(shock.vendor, shock.parts, flows, supplied):
                out[pool.name] = supplied
                break
    return out


def block_span(windows: Sequence[ShockWindow], supplied: SuppliedParts,
               end_hours: float) -> tuple[float, float] | None:
    """(start, end) in hours of the first block of the pool's parts that is on within the run
    [0, end_hours): the earliest start of a shock window blocking them (0 for a block that began
    before the run), until that window and those overlapping it or starting as it ends are all
    over (math.inf: never). None when no such block is on within the run."""
    spans = sorted((max(w.start_hours, 0.0), w.end_hours) for w in windows
                   if w.end_hours > 0 and blocks_parts(w.vendor, w.parts, w.blocks, supplied))
    if not spans or spans[0][0] >= end_hours:
        return None
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        if next_start > end:
            break
        end = max(end, next_end)
    return start, end


def crossings(days: np.ndarray, availability: np.ndarray, start_day: float, end_day: float,
              thresholds: Sequence[float], run_ends: bool) -> list[tuple[float, bool]]:
    """Per threshold (runway days, censored): from `start_day` to the first sample watched
    whose availability is below the threshold; not crossed: (end_day - start_day, True). The
    samples watched are those in [start_day, end_day) while the block lasts, [start_day,
    end_day] when `run_ends` (the run ends at end_day with the block still on: its last sample
    is there)."""
    watched = (days >= start_day) & ((days <= end_day) if run_ends else (days < end_day))
    out = []
    for threshold in thresholds:
        below = watched & (availability < threshold)  # NaN (no node installed) is never below
        if below.any():
            out.append((float(days[int(np.argmax(below))] - start_day), False))
        else:
            out.append((float(end_day - start_day), True))
    return out


def runway_metrics(setup: SimSetup, windows: Sequence[ShockWindow],
                   series: Mapping[str, list], end_hours: float) -> dict[str, float]:
    """`runway.days` and `runway.censored` per exposed pool and threshold (NaN both when no
    block of the pool's parts is on within the run, which ended at `end_hours`)."""
    metrics: dict[str, float] = {}
    days = np.asarray(series["day"], dtype=float)
    for pool, supplied in exposed_pools(setup).items():
        span = block_span(windows, supplied, end_hours)
        if span is None:
            results = [(math.nan, math.nan)] * len(RUNWAY_THRESHOLDS)
        else:
            healthy = np.asarray(series[f"{pool}.healthy_nodes"], dtype=float)
            installed = np.asarray(series[f"{pool}.installed_nodes"], dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                availability = np.where(installed > 0, healthy / installed, np.nan)
            start, end = span
            results = [(runway, float(censored)) for runway, censored in crossings(
                days, availability, start / HOURS_PER_DAY, min(end, end_hours) / HOURS_PER_DAY,
                RUNWAY_THRESHOLDS, run_ends=end >= end_hours)]
        for threshold, (runway, censored) in zip(RUNWAY_THRESHOLDS, results, strict=True):
            key = runway_key(pool, threshold)
            metrics[RUNWAY_DAYS.flat(key)] = runway
            metrics[RUNWAY_CENSORED.flat(key)] = censored
    return metrics
