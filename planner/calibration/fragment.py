"""overrides.yaml: a calibration as a scenario fragment (`planner run S --overrides FILE`).

It adds the fitted categories to the scenario's catalog, makes the calibrated pool fail by them
alone with its SKU multiplier at 1 (`cluster.calibrated_pools`; other pools and the optimizer keep
the catalog), and sets the repair pipeline so that a fitted repair time is the whole downtime:
no diagnosis, validation, misdiagnosis or automated repair, a fix that always holds, and as many
technicians as nodes (the log's durations already include queueing for people). A hard failure
still takes a part: if the scenario's stock runs out, part waits come on top of the fitted time.

Rates: with lemons (the over-dispersion test significant at 5 %), the pool gets the fitted share
and multiplier, and each category's rate is its share of the faults times the mixture's fitted
rate of a normal node (per up node-day). Dividing the fleet's mean rate by 1 + share x
(multiplier - 1) instead would undercount: lemons spend more of their time in repair, so they
weigh less in the fleet's up-time than in its node count (on the StepFun trace's first half, by
5 %). Without lemons, each category's rate is its faults per up node-day.
"""

from __future__ import annotations

import numpy as np
import yaml

from planner.calibration.record import Calibration, FittedCategory
from planner.scenario.schema import ALL_POOLS

LEMON_TEST_LEVEL = 0.05


def _empirical(c: FittedCategory, calibration: Calibration) -> dict:
    """The log's repair hours as an empirical duration: its Kaplan-Meier distribution (open
    repairs censored), each closed time drawn with the chance of its Kaplan-Meier step, and the
    probability left above the last closed time on the longest time seen. A step distribution,
    not interpolated quantiles: with few repairs far apart, a straight line between them moves
    p50 and p90 (on the StepFun NIC repairs, p50 5.8 h against the log's 10.9 h)."""
    from scipy import stats

    faults = [f for f in calibration.log.faults if f.category == c.log_class]
    hours = np.array([max(f.downtime_hours, 1.0 / 60.0) for f in faults])
    censored = np.array([f.censored for f in faults])
    if (~censored).sum() == 0:
        return {"dist": "fixed", "value": round(float(hours.max()), 3)}
    km = stats.ecdf(stats.CensoredData(uncensored=hours[~censored], right=hours[censored])).sf
    cdf = 1.0 - km.probabilities
    jumps = np.diff(cdf, prepend=0.0)
    closed = jumps > 1e-12  # Kaplan-Meier also lists the censored times, with no jump
    steps: dict[float, float] = {}  # times that differ by float noise only share a step
    for t, w in zip(km.quantiles[closed], jumps[closed], strict=True):
        key = float(f"{t:.6g}")
        steps[key] = steps.get(key, 0.0) + float(w)
    tail = 1.0 - float(cdf[-1])
    if tail > 1e-12:
        key = float(f"{hours.max():.6g}")
        steps[key] = steps.get(key, 0.0) + tail
    values = list(steps)
    weights = [float(f"{w:.6g}") for w in steps.values()]
    if len(set(weights)) == 1:
        return {"dist": "empirical", "values": values}
    return {"dist": "empirical", "values": values, "weights": weights}


def _fitted(c: FittedCategory) -> dict | None:
    """The fit AIC chose, as a scenario duration; None when there is none, or when it lies
    outside what a scenario takes (a lognormal sigma above 5, say)."""
    from pydantic import TypeAdapter, ValidationError

    from planner.scenario.schema import Duration

    if c.repair is None:
        return None
    chosen = c.repair.chosen
    duration = {"dist": chosen.dist, **{k: float(f"{v:.6g}") for k, v in chosen.params.items()}}
    try:
        TypeAdapter(Duration).validate_python(duration)
    except ValidationError:
        return None
    return duration


def fragment(calibration: Calibration, pool: str, repair: str = "fitted") -> dict:
    """The scenario fragment for pool `pool`; `repair`: `fitted` (the AIC's choice; the log's
    Kaplan-Meier quantiles where too few repairs closed) or `empirical` (always those)."""
    lemon = calibration.lemon
    lemons = lemon.dispersion_p_value < LEMON_TEST_LEVEL
    share = lemon.fraction.estimate if lemons else 0.0
    multiplier = lemon.rate_multiplier.estimate if lemons else 1.0
    total_faults = sum(c.faults for c in calibration.categories)
    categories = {}
    for c in calibration.categories:
        repair_hours = (_fitted(c) if repair == "fitted" else None) or _empirical(c, calibration)
        rate = (lemon.base_rate_per_1000_node_days * c.faults / total_faults if lemons
                else c.rate.estimate)
        entry = {"label": f"{c.log_class} (fitted)",
                 "failure_rate_per_1000_node_days": float(f"{rate:.6g}"),
                 "hard_fraction": c.hard_fraction, "part": c.part, "repair_hours": repair_hours,
                 "listed_only": True}
        categories[c.name] = entry
    return {
        "catalog": {"categories": categories},
        "cluster": {
            "calibrated_pools": {pool: {
                "categories": [c.name for c in calibration.categories],
                "sku_failure_rate_multiplier": 1.0,
                "lemon_fraction": float(f"{share:.6g}"),
                "lemon_rate_multiplier": float(f"{max(multiplier, 1.0):.6g}")}},
            "repair": {"diagnosis_hours": 0, "misdiagnosis_probability": 0.0,
                       "auto_repair_hours": 0, "auto_repair_success_probability": 0.0,
                       "validation_hours": 0, "manual_fix_fail_probability": 0.0,
                       "hands_on_hours": None, "lemon_cure_probability": 0.0,
                       "technicians": max(calibration.log.nodes, 1)},
        },
    }


def fragment_text(calibration: Calibration, pool: str, repair: str = "fitted") -> str:
    """The fragment as YAML, with a header saying where it comes from and how to apply it."""
    log = calibration.log
    head = (f"# planner calibrate: {log.source}, {log.nodes} nodes, {log.window_days:g} days, "
            f"{len(log.faults)} faults.\n"
            f"# Apply with: planner run SCENARIO --overrides overrides.yaml "
            f"({'every pool' if pool == ALL_POOLS else f'pool {pool!r}'}).\n"
            "# docs/calibration.md says what each setting does.\n")
    body = yaml.safe_dump(fragment(calibration, pool, repair), sort_keys=False,
                          default_flow_style=None, width=100)
    return head + body
