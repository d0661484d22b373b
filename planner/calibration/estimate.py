"""Estimators of a fault log (docs/calibration.md): failure rates with exact Poisson intervals,
a lemon mixture of per-node rates, and censored repair-time fits.

Exposure is node up-time: the fleet's node-days in the window less the time nodes spent down
(the union of their open faults), since a node in repair cannot fail again. Faults are taken as
independent events whose per-node rate is constant in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from planner.calibration.log import FaultLog
from planner.units import HOURS_PER_DAY

PER_NODE_DAYS = 1000.0  # rates per 1000 node-days, as the catalog's
CONFIDENCE = 0.95
BOOTSTRAP_REPLICATES = 200
BOOTSTRAP_SEED = 20_240_330  # fixed: the same log gives the same intervals
MIN_REPAIR_HOURS = 1.0 / 60.0  # a fault closed in under a minute is read as one minute
REPAIR_FAMILIES = ("lognormal", "weibull", "gamma")

@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % interval."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "ci95": [self.low, self.high]}

def node_up_days(log: FaultLog) -> dict[str, float]:
    """Per node named in the log: window days less the union of its faults' down time."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for f in log.faults:
        spans.setdefault(f.node, []).append((f.start_day, f.end_day))
    up = {}
    for node, intervals in spans.items():
        down, reach = 0.0, -math.inf
        for start, end in sorted(intervals):
            if end > reach:
                down += end - max(start, reach)
                reach = end
        up[node] = log.window_days - down
    return up

def up_node_days(log: FaultLog) -> float:
    """The fleet's node up-time in the window (nodes absent from the log were never down)."""
    up = node_up_days(log)
    return sum(up.values()) + (log.nodes - len(up)) * log.window_days

def poisson_interval(count: int, exposure: float) -> Interval:
    """Rate per PER_NODE_DAYS with the exact (Garwood) interval: chi-square quantiles."""
    scale = PER_NODE_DAYS / exposure
    alpha = 1.0 - CONFIDENCE
    low = stats.chi2.ppf(alpha / 2, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return Interval(count * scale, float(low) * scale, float(high) * scale)

def category_rates(log: FaultLog) -> dict[str, Interval]:
    """Failures per 1000 node-days of up-time, per log category."""
    exposure = up_node_days(log)
    counts: dict[str, int] = {}
    for f in log.faults:
        counts[f.category] = counts.get(f.category, 0) + 1
    return {c: poisson_interval(counts[c], exposure) for c in log.categories()}

# --- lemons: a two-rate mixture of per-node counts --------------------------------------------------

@dataclass(frozen=True)
class LemonFit:
    """Share of lemon nodes and their rate multiplier (95 % bootstrap intervals over nodes), and
    the over-dispersion test of the per-node counts against one common Poisson rate."""

    fraction: Interval
    rate_multiplier: Interval
    base_rate_per_1000_node_days: float
    dispersion_statistic: float  # sum of (n - e r)^2 / (e r), chi-square with N - 1 df
    dispersion_p_value: float

def per_node_counts(log: FaultLog) -> tuple[np.ndarray, np.ndarray]:
    """(faults, up-days) per node of the fleet, nodes absent from the log included."""
    up = node_up_days(log)
    counts: dict[str, int] = {}
    for f in log.faults:
        counts[f.node] = counts.get(f.node, 0) + 1
    named = sorted(up)
    n = np.array([counts[node] for node in named] + [0] * (log.nodes - len(named)), dtype=float)
    e = np.array([up[node] for node in named] + [log.window_days] * (log.nodes - len(named)))
    return n, np.maximum(e, 1e-9)

def _mixture_em(n: np.ndarray, e: np.ndarray, iterations: int = 500) -> tuple[float, float, float]:
    """Maximum-likelihood (share, multiplier, base rate per day) of a two-component Poisson
    mixture with exposures, by EM from a start that puts the top nodes in the lemon part."""
    total = n.sum() / e.sum()
    if total <= 0:
        return 0.0, 1.0, 0.0
    share = 0.05
    lam = total
    mult = max(np.quantile(n / e, 0.95) / total, 2.0) if np.any(n) else 1.0
    for _ in range(iterations):
        log_lemon = np.log(share) + n * np.log(lam * mult) - lam * mult * e
        log_normal = np.log1p(-share) + n * np.log(lam) - lam * e
        w = 1.0 / (1.0 + np.exp(np.clip(log_normal - log_lemon, -700, 700)))
        new_share = float(np.clip(w.mean(), 1e-6, 1 - 1e-6))
        # rates: lam = sum(n) / (sum((1-w) e) + mult sum(w e)); mult from the lemon part
        lemon_n, lemon_e = float((w * n).sum()), float((w * e).sum())
        normal_n, normal_e = float(((1 - w) * n).sum()), float(((1 - w) * e).sum())
        new_lam = max(normal_n / normal_e, 1e-12) if normal_e > 0 else lam
        new_mult = max((lemon_n / lemon_e) / new_lam, 1.0) if lemon_e > 0 else 1.0
        done = abs(new_share - share) < 1e-9 and abs(new_mult - mult) < 1e-7 * new_mult
        share, lam, mult = new_share, new_lam, new_mult
        if done:
            break
    return share, mult, lam

def lemon_fit(log: FaultLog) -> LemonFit:
    """Fit the mixture, bootstrap it over nodes, and test over-dispersion."""
    n, e = per_node_counts(log)
    share, mult, lam = _mixture_em(n, e)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    shares, mults = [], []
    for _ in range(BOOTSTRAP_REPLICATES):
        pick = rng.integers(0, len(n), len(n))
        s, m, _ = _mixture_em(n[pick], e[pick], iterations=200)
        shares.append(s)
        mults.append(m)
    alpha = (1 - CONFIDENCE) / 2
    rate = n.sum() / e.sum()
    expected = np.maximum(e * rate, 1e-12)
    statistic = float(((n - expected) ** 2 / expected).sum())
    p_value = float(stats.chi2.sf(statistic, len(n) - 1))
    return LemonFit(
        Interval(share, *(float(q) for q in np.quantile(shares, [alpha, 1 - alpha]))),
        Interval(mult, *(float(q) for q in np.quantile(mults, [alpha, 1 - alpha]))),
        lam * PER_NODE_DAYS, statistic, p_value)

# --- repair times: censored fits ----------------------------------------------------------------

@dataclass(frozen=True)
class RepairFit:
    """One family fitted to one category's repair hours (right-censored at the window's end)."""

    dist: str
    params: dict[str, float]  # as the scenario's duration of that family takes them
    log_likelihood: float
    aic: float
    mean: float
    p50: float
    p90: float

@dataclass(frozen=True)
class RepairSummary:
    """Every family's fit, the one AIC chooses, and the Kaplan-Meier p50 and p90 of the log."""

    fits: tuple[RepairFit, ...]
    chosen: RepairFit
    observed: int
    censored: int
    km_p50: float
    km_p90: float
    mean_observed: float  # mean of the closed repairs (a lower bound when some are censored)

def _frozen(dist: str, data: stats.CensoredData):
    if dist == "lognormal":
        shape, _, scale = stats.lognorm.fit(data, floc=0)
        return stats.lognorm(shape, scale=scale), {"median": float(scale), "sigma": float(shape)}
    if dist == "weibull":
        shape, _, scale = stats.weibull_min.fit(data, floc=0)
        return stats.weibull_min(shape, scale=scale), {"shape": float(shape), "scale": float(scale)}
    shape, _, scale = stats.gamma.fit(data, floc=0)
    return stats.gamma(shape, scale=scale), {"mean": float(shape * scale), "shape": float(shape)}

TIE_TOLERANCE = 1e-9  # a Kaplan-Meier product that equals a level up to rounding

def km_quantile(sf_q: np.ndarray, sf_p: np.ndarray, level: float) -> float:
    """The time at which the Kaplan-Meier CDF reaches `level` (NaN if it never does): the
    smallest such time, or, where the CDF equals `level` exactly until the next closed repair,
    the midpoint of the two (the convention of R's survival package; 36 of 40 repairs closed by
    349 h and the next at 527 h give a p90 of 438 h, not whichever side rounding favours)."""
    cdf = 1.0 - np.asarray(sf_p, dtype=float)
    reached = np.flatnonzero(cdf >= level - TIE_TOLERANCE)
    if not len(reached):
        return math.nan
    i = int(reached[0])
    if abs(cdf[i] - level) <= TIE_TOLERANCE:
        later = np.flatnonzero(cdf[i + 1:] > cdf[i] + TIE_TOLERANCE)  # the next closed repair
        if len(later):
            return float(sf_q[i] + sf_q[i + 1 + later[0]]) / 2.0
    return float(sf_q[i])

def km_quantile_interval(sf, level: float) -> tuple[float, float]:
    """The 95 % interval of the Kaplan-Meier `level` quantile of `sf` (scipy's survival
    function of a censored sample): the times at which the pointwise log-log interval of the
    CDF first reaches `level` (Brookmeyer and Crowley's construction; R's survfit quantile
    intervals). The high end is infinite when the interval's low CDF never reaches `level`."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined at the last time: 0 width
        band = sf.confidence_interval(CONFIDENCE, method="log-log")
    times = np.asarray(sf.quantiles, dtype=float)
    cdf_high = 1.0 - np.nan_to_num(np.asarray(band.low.probabilities, dtype=float),
                                   nan=0.0)
    cdf_low = 1.0 - np.nan_to_num(np.asarray(band.high.probabilities, dtype=float), nan=0.0)
    first_high = np.flatnonzero(cdf_high >= level - TIE_TOLERANCE)
    first_low = np.flatnonzero(cdf_low >= level - TIE_TOLERANCE)
    return (float(times[first_high[0]]) if len(first_high) else math.nan,
            float(times[first_low[0]]) if len(first_low) else math.inf)

def repair_fit(hours: list[float], censored: list[bool]) -> RepairSummary | None:
    """Fit each family to the repair hours; None with fewer than two distinct closed repairs
    or when no family fits (the fragment then uses the log's own times)."""
    x = np.maximum(np.asarray(hours, dtype=float), MIN_REPAIR_HOURS)
    c = np.asarray(censored, dtype=bool)
    if (~c).sum() < 2:
        return None
    data = stats.CensoredData(uncensored=x[~c], right=x[c])
    fits = []
    if len(np.unique(x[~c])) >= 2:  # one repeated value has no spread to fit
        for dist in REPAIR_FAMILIES:
            try:
                frozen, params = _frozen(dist, data)
            except (stats.FitError, ValueError, FloatingPointError):
                continue  # this family does not fit these times: the others may
            loglik = float(frozen.logpdf(x[~c]).sum() + frozen.logsf(x[c]).sum())
            if not math.isfinite(loglik):
                continue
            fits.append(RepairFit(dist, params, loglik, 2 * 2 - 2 * loglik,
                                  float(frozen.mean()), float(frozen.ppf(0.5)),
                                  float(frozen.ppf(0.9))))
    if not fits:
        return None
    km = stats.ecdf(data).sf
    return RepairSummary(tuple(fits), min(fits, key=lambda f: f.aic), int((~c).sum()),
                         int(c.sum()), km_quantile(km.quantiles, km.probabilities, 0.5),
                         km_quantile(km.quantiles, km.probabilities, 0.9),
                         float(x[~c].mean()))

def repair_fits(log: FaultLog) -> dict[str, RepairSummary | None]:
    """Per log category, its repair-time fits (None when it has too few closed repairs)."""
    out: dict[str, RepairSummary | None] = {}
    for category in log.categories():
        faults = [f for f in log.faults if f.category == category]
        out[category] = repair_fit([f.downtime_hours for f in faults],
                                   [f.censored for f in faults])
    return out

HOURS = HOURS_PER_DAY  # re-exported for writers that convert
