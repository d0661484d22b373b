"""What `planner calibrate` finds in a log, as plain data: calibration.json (docs/outputs.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.calibration.estimate import (
    Interval,
    LemonFit,
    RepairSummary,
    category_rates,
    lemon_fit,
    repair_fits,
    up_node_days,
)
from planner.calibration.log import FaultLog
from planner.calibration.mapping import Likeness, fitted_name
from planner.catalog.catalog import Catalog
from planner.errors import InputError


@dataclass(frozen=True)
class FittedCategory:
    """A log class fitted: its rate, repair times and what it inherits from its catalog peer."""

    name: str  # fit_<class>
    log_class: str
    like: str
    part: str | None
    hard_fraction: float
    faults: int
    rate: Interval  # per 1000 node-days of up-time
    repair: RepairSummary | None


@dataclass(frozen=True)
class Calibration:
    log: FaultLog
    up_node_days: float
    categories: tuple[FittedCategory, ...]
    lemon: LemonFit


def calibrate(log: FaultLog, catalog: Catalog, likeness: dict[str, Likeness]) -> Calibration:
    """Every estimate of the log (`likeness`: each log class's catalog peer)."""
    named: dict[str, str] = {}
    for cls in log.categories():
        other = named.setdefault(fitted_name(cls), cls)
        if other != cls:
            raise InputError(log.source, f"log classes {other!r} and {cls!r} would both be "
                             f"fitted as {fitted_name(cls)!r}: rename one in the log")
    rates = category_rates(log)
    repairs = repair_fits(log)
    counts = {c: sum(1 for f in log.faults if f.category == c) for c in rates}
    fitted = []
    for cls, rate in rates.items():
        peer = likeness[cls]
        base = catalog.categories[peer.like]
        part = peer.part if peer.part is not None else base.part
        hard = peer.hard_fraction if peer.hard_fraction is not None else base.hard_fraction.value
        fitted.append(FittedCategory(fitted_name(cls), cls, peer.like, part,
                                     hard if part is not None else 0.0, counts[cls], rate,
                                     repairs[cls]))
    return Calibration(log, up_node_days(log), tuple(fitted), lemon_fit(log))


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _repair(summary: RepairSummary | None) -> dict | None:
    if summary is None:
        return None
    chosen = summary.chosen
    return {
        "dist": chosen.dist, "params": chosen.params, "mean": chosen.mean, "p50": chosen.p50,
        "p90": chosen.p90, "aic": chosen.aic,
        "fits": [{"dist": f.dist, "params": f.params, "mean": f.mean, "p50": f.p50,
                  "p90": f.p90, "aic": f.aic} for f in summary.fits],
        "kaplan_meier": {"p50": _finite(summary.km_p50), "p90": _finite(summary.km_p90)},
        "closed": summary.observed, "censored": summary.censored,
        "mean_of_closed": summary.mean_observed,
    }


def calibration_record(cal: Calibration) -> dict:
    """calibration.json: the fleet, every fitted category, the lemon mixture, repair fits."""
    lemon = cal.lemon
    return {
        "source": cal.log.source,
        "nodes": cal.log.nodes,
        "window_days": cal.log.window_days,
        "up_node_days": cal.up_node_days,
        "faults": len(cal.log.faults),
        "open_at_end": sum(f.censored for f in cal.log.faults),
        "categories": {
            c.name: {"log_class": c.log_class, "like": c.like, "part": c.part,
                     "hard_fraction": c.hard_fraction, "faults": c.faults,
                     "rate_per_1000_node_days": c.rate.as_dict()}
            for c in cal.categories},
        "lemon": {
            "fraction": lemon.fraction.as_dict(),
            "rate_multiplier": lemon.rate_multiplier.as_dict(),
            "base_rate_per_1000_node_days": lemon.base_rate_per_1000_node_days,
            "overdispersion": {"statistic": lemon.dispersion_statistic,
                               "df": cal.log.nodes - 1, "p_value": lemon.dispersion_p_value},
        },
        "repair_hours": {c.name: _repair(c.repair) for c in cal.categories},
    }
