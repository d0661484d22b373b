"""Sample quarterly paths of sanction events (docs/sanctions.md).

Each event kind of a scenario's `sanctions:` section is a Poisson process with a rate per
quarter: in every quarter it strikes with probability 1 - exp(-rate), independently of the other
kinds and quarters. Within a quarter, lifts act first (on the blocks in force when the quarter
begins), then new events, which take effect in the quarter they strike and last
`duration_quarters` (a block without a duration lasts until a lift; a cap or premium without
one, to the horizon). A path records per quarter and vendor: node block (0/1), parts block
(0/1), the volume factor of domestic deliveries and the price multiple of recourse orders.
Sampling is vectorized over paths: a loop over quarters and event kinds, never over paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.catalog.policy_events import (
    hazard_estimate,
    load_policy_events,
    median_price_factor,
)
from planner.scenario.schema import SanctionEvent, Sanctions

SANCTIONS_STREAM = 0x5A4C  # spawn key of the paths' random stream (apart from the simulator's)
FEATURE_KINDS = ("nodes", "parts", "volume", "price")
KIND_OF_EVENT = {"vendor_node_block": "nodes", "parts_rma_block": "parts",
                 "domestic_output_cap": "volume", "price_premium": "price"}
NEUTRAL = {"nodes": 0.0, "parts": 0.0, "volume": 1.0, "price": 1.0}  # no event in force


@dataclass(frozen=True)
class ResolvedEvent:
    """An event kind with every number decided: rate per quarter, duration, factor, and where
    the rate and factor come from."""

    event: SanctionEvent
    rate_per_quarter: float
    rate_source: str
    ci95: tuple[float, float] | None  # the library estimate's interval (None: scenario-given)
    factor: float | None  # volume factor or price multiple
    factor_source: str

    @property
    def probability_per_quarter(self) -> float:
        return -math.expm1(-self.rate_per_quarter)


@dataclass(frozen=True)
class SanctionPaths:
    """N sampled paths: values[i, t, f] for the features (kind, vendor)."""

    features: tuple[tuple[str, str], ...]
    values: np.ndarray  # [paths, quarters, features]
    quarters: tuple[str, ...]
    events: tuple[ResolvedEvent, ...]


def resolve_events(sanctions: Sanctions, source: str = "scenario") -> tuple[ResolvedEvent, ...]:
    """Each event with its rate (the scenario's, else the library's estimate) and factor."""
    library = None
    out = []
    for i, e in enumerate(sanctions.events):
        where = f"{source}: sanctions.events[{i}]"
        if e.hazard_per_quarter is None or (e.type == "price_premium" and e.price_factor is None):
            library = library or load_policy_events()
        if e.hazard_per_quarter is not None:
            rate, rate_source, ci = e.hazard_per_quarter, f"{where}.hazard_per_quarter", None
        else:
            h = hazard_estimate(library, e.type, e.vendors)
            rate, rate_source, ci = h.rate_per_quarter, h.source, h.ci95
        factor, factor_source = None, ""
        if e.type == "domestic_output_cap":
            factor, factor_source = e.volume_factor, f"{where}.volume_factor"
        elif e.type == "price_premium":
            if e.price_factor is not None:
                factor, factor_source = e.price_factor, f"{where}.price_factor"
            else:
                found = median_price_factor(library)
                if found is None:
                    raise ValueError(f"sanctions.events[{i}].price_factor: the policy-event "
                                     "library reports no premium; give one")
                factor, factor_source = found
        out.append(ResolvedEvent(e, rate, rate_source, ci, factor, factor_source))
    return tuple(out)


def kinds_of(r: ResolvedEvent) -> tuple[str, ...]:
    """The features an event kind sets: a node block with_parts (the default) cuts parts too."""
    if r.event.type not in KIND_OF_EVENT:
        return ()
    if r.event.type == "vendor_node_block" and r.event.with_parts is not False:
        return ("nodes", "parts")
    return (KIND_OF_EVENT[r.event.type],)


def features_of(events: tuple[ResolvedEvent, ...]) -> tuple[tuple[str, str], ...]:
    """(kind, vendor) pairs the events can change, in a fixed order."""
    pairs = {(kind, v) for r in events for kind in kinds_of(r) for v in r.event.vendors}
    return tuple(sorted(pairs, key=lambda kv: (FEATURE_KINDS.index(kv[0]), kv[1])))


def sample_paths(events: tuple[ResolvedEvent, ...], quarters: list[str], paths: int,
                 seed: int, stream: tuple[int, ...] = ()) -> SanctionPaths:
    """`paths` sampled paths over `quarters` (module docstring); `stream` names an independent
    sample of the same law (the out-of-sample evaluation's fresh paths)."""
    rng = np.random.default_rng(np.random.SeedSequence(
        seed, spawn_key=(SANCTIONS_STREAM, *stream)))
    features = features_of(events)
    column = {f: i for i, f in enumerate(features)}
    values = np.empty((paths, len(quarters), len(features)))
    # quarters left of each event kind's effect per vendor (inf: until lifted; 0: not in force)
    left = {(i, v): np.zeros(paths) for i, r in enumerate(events) for v in r.event.vendors
            if r.event.type in KIND_OF_EVENT}
    lifts = [(i, r) for i, r in enumerate(events) if r.event.type == "block_lifted"]
    strikes = [(i, r) for i, r in enumerate(events) if r.event.type in KIND_OF_EVENT]
    for t in range(len(quarters)):
        for _i, r in lifts:  # draws in a fixed order: one uniform vector per kind and quarter
            hit = rng.random(paths) < r.probability_per_quarter
            for (j, v), remaining in left.items():
                if events[j].event.type in ("vendor_node_block", "parts_rma_block") \
                        and v in r.event.vendors:
                    remaining[hit] = 0.0
        for i, r in strikes:
            hit = rng.random(paths) < r.probability_per_quarter
            duration = r.event.duration_quarters
            for v in r.event.vendors:
                left[i, v][hit] = math.inf if duration is None else float(duration)
        for (kind, vendor), f in column.items():
            in_force = [(events[i], remaining > 0) for (i, v), remaining in left.items()
                        if v == vendor and kind in kinds_of(events[i])]
            if kind in ("nodes", "parts"):
                values[:, t, f] = np.any([on for _, on in in_force], axis=0)
            elif kind == "volume":  # cuts in force multiply
                values[:, t, f] = np.prod([np.where(on, r.factor, 1.0) for r, on in in_force],
                                          axis=0)
            else:  # the largest premium in force
                values[:, t, f] = np.max([np.where(on, r.factor, 1.0) for r, on in in_force],
                                         axis=0)
        for remaining in left.values():
            np.subtract(remaining, 1.0, out=remaining, where=remaining > 0)
    return SanctionPaths(features=features, values=values, quarters=tuple(quarters),
                         events=events)
