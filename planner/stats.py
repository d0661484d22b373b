"""Summary statistics over replications: mean, std, P10/P50/P90 and a 95 % t confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps


def describe(values: Sequence[float]) -> dict[str, float | int | list | None]:
    """Statistics of the finite values (NaN = the metric did not occur in that replication)."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    n = int(finite.size)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "p10": None, "p50": None, "p90": None,
                "ci95": None}
    mean = float(finite.mean())
    std = float(finite.std(ddof=1)) if n > 1 else 0.0
    half = float(sps.t.ppf(0.975, n - 1)) * std / math.sqrt(n) if n > 1 else math.inf
    p10, p50, p90 = (float(v) for v in np.percentile(finite, [10, 50, 90]))
    ci = [mean - half, mean + half] if math.isfinite(half) else None
    return {"n": n, "mean": mean, "std": std, "p10": p10, "p50": p50, "p90": p90, "ci95": ci}


def relative_half_width(values: Sequence[float]) -> float:
    """95 % CI half-width over |mean| (inf when undefined)."""
    d = describe(values)
    if d["ci95"] is None or not d["mean"]:
        return math.inf
    lo, hi = d["ci95"]
    return (hi - lo) / 2.0 / abs(d["mean"])
