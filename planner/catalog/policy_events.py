"""The policy-event library: dated, sourced events that moved the market for accelerators sold
into China (`data/policy_events.yaml`), and the hazard rates its history implies.

Each event has one type (EVENT_TYPES). The default hazard of a type is the number of its events
in the library's window over the window's length: a Poisson rate per quarter, with the exact
(Garwood) 95 % interval, because five events in four years say little more than "a few a year".
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from planner.scenario.schema import SanctionEventType, Strict
from planner.units import DAYS_PER_YEAR

EventType = SanctionEventType
EVENT_TYPES: tuple[str, ...] = SanctionEventType.__args__
EVENT_TYPE_TITLES = {
    "vendor_node_block": "vendor node block (new accelerators cannot be bought)",
    "parts_rma_block": "parts and RMA block (installed nodes cannot be repaired)",
    "domestic_output_cap": "HBM or foundry restriction capping domestic output",
    "price_premium": "price premium (grey market, tariff, revenue share)",
    "block_lifted": "a block lifted or relaxed",
}
QUARTERS_PER_YEAR = 4
DAYS_PER_QUARTER = DAYS_PER_YEAR / QUARTERS_PER_YEAR
CONFIDENCE = 0.95


class Window(Strict):
    """The period the library covers: its hazards are counts over this length."""

    from_: dt.date = Field(alias="from", description="First day covered.")
    to: dt.date = Field(description="Last day checked.")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.to <= self.from_:
            raise ValueError("window: `to` must be after `from`")
        return self


class Source(Strict):
    """A public, verifiable citation."""

    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: dt.date
    url: str = Field(pattern=r"^https?://\S+$")


class Touches(Strict):
    """What an event hit."""

    vendors: list[str] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)
    parts: list[str] = Field(default_factory=list)
    rma: bool = False
    price_premium_pct: float | None = Field(None, gt=0, le=10_000)


class PolicyEvent(Strict):
    """One dated policy event and its source."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    date: dt.date = Field(description="Date announced.")
    effective: dt.date | None = Field(None, description="Date it took effect.")
    type: EventType
    jurisdiction: Literal["US", "CN", "market"]
    summary: str = Field(min_length=1)
    touches: Touches
    source: Source


class PolicyLibrary(Strict):
    """The library file."""

    window: Window
    events: list[PolicyEvent] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyLibrary:
        ids = [e.id for e in self.events]
        if len(set(ids)) != len(ids):
            raise ValueError("event ids must be unique")
        outside = [e.id for e in self.events
                   if not self.window.from_ <= e.date <= self.window.to]
        if outside:
            raise ValueError(f"events outside the window: {', '.join(outside)}")
        return self

    @property
    def quarters(self) -> float:
        """Length of the window in quarters (the exposure of every hazard estimate)."""
        return ((self.window.to - self.window.from_).days + 1) / DAYS_PER_QUARTER


@dataclass(frozen=True)
class HazardEstimate:
    """A Poisson rate of one event type per quarter, from `events` in `quarters` of history."""

    event_type: str
    events: int
    quarters: float
    rate_per_quarter: float
    ci95: tuple[float, float]
    source: str

    @property
    def probability_per_quarter(self) -> float:
        """P(at least one event in a quarter) = 1 - exp(-rate)."""
        return -math.expm1(-self.rate_per_quarter)


def library_path() -> Path:
    """The shipped library file."""
    return Path(str(resources.files("planner.catalog") / "data" / "policy_events.yaml"))


@lru_cache(maxsize=4)
def load_policy_events(path: Path | None = None) -> PolicyLibrary:
    """The validated library (the shipped one by default); a bad file raises ValueError with
    one line naming the file and the field."""
    file = Path(path) if path is not None else library_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{file}: cannot read the policy-event library: {exc}") from None
    try:
        return PolicyLibrary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"{file}: {where}: {first['msg']}") from None


def poisson_interval(events: int, exposure: float,
                     confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson rate from `events` over `exposure`:
    [G^-1(n, a/2), G^-1(n + 1, 1 - a/2)] / exposure, G the regularized lower gamma function
    (the chi-square quantiles halved)."""
    from scipy.special import gammaincinv

    tail = (1.0 - confidence) / 2.0
    low = float(gammaincinv(events, tail)) if events > 0 else 0.0
    high = float(gammaincinv(events + 1, 1.0 - tail))
    return low / exposure, high / exposure


def hazard_estimate(library: PolicyLibrary, event_type: str,
                    vendors: list[str] | None = None) -> HazardEstimate:
    """The rate per quarter of `event_type` over the library's window, with the exact 95 %
    interval: every event of the type, or those touching one of `vendors` (any case)."""
    quarters = library.quarters
    wanted = {v.lower() for v in vendors} if vendors else None
    n = sum(1 for e in library.events if e.type == event_type and (
        wanted is None or wanted & {v.lower() for v in e.touches.vendors}))
    touching = f" touching {'/'.join(vendors)}" if vendors else ""
    return HazardEstimate(
        event_type=event_type, events=n, quarters=quarters, rate_per_quarter=n / quarters,
        ci95=poisson_interval(n, quarters),
        source=(f"policy-event library: {n} {event_type} events{touching} in {quarters:.1f} "
                f"quarters ({library.window.from_} to {library.window.to})"))


def hazard_estimates(library: PolicyLibrary) -> dict[str, HazardEstimate]:
    """Per event type, every vendor: its rate per quarter with the exact 95 % interval."""
    return {t: hazard_estimate(library, t) for t in EVENT_TYPES}


def median_price_factor(library: PolicyLibrary) -> tuple[float, str] | None:
    """(1 + the median reported premium, its source) over the library's price_premium events
    that give a premium; None when none does."""
    premiums = [e.touches.price_premium_pct for e in library.events
                if e.type == "price_premium" and e.touches.price_premium_pct is not None]
    if not premiums:
        return None
    median = statistics.median(premiums)
    return 1.0 + median / 100.0, (f"policy-event library: median of {len(premiums)} reported "
                                  f"premiums, {median:g} %")
