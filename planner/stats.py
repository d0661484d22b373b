"""Summary statistics over replications: mean, std, P10/P50/P90 and a 95 % t confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def describe(values: Sequence[float], bounds: tuple[float, float] | None = None
             ) -> dict[str, float | int | list | None]:
    """Statistics of the finite values (NaN = the metric did not occur in that replication).
    With `bounds`, the values the quantity can take (planner.metrics.bounds_of), the t
    interval of the mean is cut to them: the mean lies within them, so the cut interval covers
    it as often, and an ETTR's interval over two replications reads 0 % to 100 %, not -78 % to
    227 %."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    n = int(finite.size)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "p10": None, "p50": None, "p90": None,
                "ci95": None}
    mean = float(finite.mean())
    std = float(finite.std(ddof=1)) if n > 1 else 0.0
    half = t_quantile(n - 1) * std / math.sqrt(n) if n > 1 else math.inf
    p10, p50, p90 = (float(v) for v in np.percentile(finite, [10, 50, 90]))
    ci = [mean - half, mean + half] if math.isfinite(half) else None
    if ci is not None and bounds is not None:
        ci = [max(ci[0], bounds[0]), min(ci[1], bounds[1])]
    return {"n": n, "mean": mean, "std": std, "p10": p10, "p50": p50, "p90": p90, "ci95": ci}


def t_quantile(dof: int, p: float = 0.975) -> float:
    """Student's t p-quantile with `dof` degrees of freedom. scipy.special is imported here,
    not with the module: it is a quarter of a second of a `planner run -r 1`, which has no
    interval to compute (and a third of scipy.stats's import time)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def relative_half_width(values: Sequence[float]) -> float:
    """95 % CI half-width over |mean| (inf when undefined)."""
    d = describe(values)
    if d["ci95"] is None or not d["mean"]:
        return math.inf
    lo, hi = d["ci95"]
    return (hi - lo) / 2.0 / abs(d["mean"])


# a share of replications reached up to floating-point round-off of the product-limit
_SHARE_TOLERANCE = 1e-9


def kaplan_meier(times: Sequence[float], censored: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """The product-limit (Kaplan-Meier) estimate of the survival function of right-censored
    times: (event times in increasing order, S just after each). A censored time t means "more
    than t"; at a tie an event comes first (the censored one is still at risk then). NaN times
    are left out."""
    t = np.asarray(times, dtype=float)
    c = np.asarray(censored, dtype=bool)
    keep = np.isfinite(t)
    t, c = t[keep], c[keep]
    events, deaths = np.unique(t[~c], return_counts=True)
    at_risk = t.size - np.searchsorted(np.sort(t), events, side="left")
    return events, np.cumprod(1.0 - deaths / at_risk)


def censored_quantile(times: Sequence[float], censored: Sequence[bool],
                      q: float) -> tuple[float, bool]:
    """The q-quantile of right-censored times by Kaplan-Meier: (the smallest event time t with
    1 - S(t) >= q, False), the inverse of the estimated distribution without interpolation, so
    with no censoring the value of the ceil(q n)-th smallest time. When 1 - S stays below q
    over every time observed: (the largest time observed, True): the quantile is above it.
    (NaN, False) without any time."""
    t = np.asarray(times, dtype=float)
    if not np.isfinite(t).any():
        return math.nan, False
    events, survival = kaplan_meier(times, censored)
    reached = np.flatnonzero(1.0 - survival >= q - _SHARE_TOLERANCE)
    if reached.size:
        return float(events[reached[0]]), False
    return float(np.nanmax(t)), True
