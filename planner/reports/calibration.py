"""report.html of `planner calibrate`: the fits, and plots to judge them by eye.

Rates with their exact intervals; per-node fault counts against the fitted lemon mixture and
against one common Poisson rate; for the categories with the most faults, the repair times'
survival (the log's Kaplan-Meier beside each fitted family) and a Q-Q plot of the chosen fit.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from planner.calibration.estimate import per_node_counts
from planner.calibration.record import Calibration, FittedCategory
from planner.reports.html import _CSS, _figure, _table, text
from planner.reports.plots import LINE, png

CATEGORIES_PLOTTED = 6  # the categories with the most faults get survival and Q-Q plots
FAMILY_COLORS = {"lognormal": "#D62728", "weibull": "#2CA02C", "gamma": "#9467BD"}


def _frozen(dist: str, params: dict):
    if dist == "lognormal":
        return stats.lognorm(params["sigma"], scale=params["median"])
    if dist == "weibull":
        return stats.weibull_min(params["shape"], scale=params["scale"])
    return stats.gamma(params["shape"], scale=params["mean"] / params["shape"])


def _new_figure(width: float, height: float, rows: int = 1, cols: int = 1):
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=False)


def rates_figure(cal: Calibration) -> bytes:
    cats = list(cal.categories)[::-1]
    fig, axes = _new_figure(10, 0.6 + 0.28 * len(cats))
    ax = axes[0][0]
    y = np.arange(len(cats))
    est = np.array([c.rate.estimate for c in cats])
    ax.errorbar(est, y, xerr=[est - [c.rate.low for c in cats], [c.rate.high for c in cats] - est],
                fmt="o", color=LINE, capsize=3)
    ax.set_yticks(y, [c.log_class for c in cats])
    ax.set_xlabel("failures per 1000 node-days of up-time (95 % exact interval)")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def counts_figure(cal: Calibration) -> bytes:
    """Nodes by number of faults: the log's, the fitted mixture's, one common rate's."""
    n, e = per_node_counts(cal.log)
    lemon = cal.lemon
    top = int(n.max()) if len(n) else 0
    k = np.arange(top + 1)
    lam = lemon.base_rate_per_1000_node_days / 1000.0
    share, mult = lemon.fraction.estimate, lemon.rate_multiplier.estimate
    mixture = sum(((1 - share) * stats.poisson.pmf(k, lam * ei)
                   + share * stats.poisson.pmf(k, lam * mult * ei)) for ei in e)
    common = sum(stats.poisson.pmf(k, n.sum() / e.sum() * ei) for ei in e)
    observed = np.bincount(n.astype(int), minlength=top + 1)
    fig, axes = _new_figure(10, 3.6)
    ax = axes[0][0]
    ax.bar(k, observed, color="#9ECAE1", label="log")
    ax.plot(k, mixture, "o-", color=LINE, label="fitted mixture (lemons)")
    ax.plot(k, common, "s--", color="#D62728", label="one common rate")
    ax.set_xlabel("faults per node in the window")
    ax.set_ylabel("nodes")
    ax.set_yscale("symlog", linthresh=1)
    ax.legend()
    return png(fig)


def _km(c: FittedCategory, cal: Calibration) -> tuple[np.ndarray, np.ndarray]:
    faults = [f for f in cal.log.faults if f.category == c.log_class]
    hours = np.array([max(f.downtime_hours, 1.0 / 60.0) for f in faults])
    censored = np.array([f.censored for f in faults])
    sf = stats.ecdf(stats.CensoredData(uncensored=hours[~censored], right=hours[censored])).sf
    return sf.quantiles, sf.probabilities


def repair_figures(cal: Calibration) -> tuple[bytes, bytes] | None:
    """Survival of repair hours (log against each fit) and Q-Q of the chosen fit."""
    shown = [c for c in cal.categories if c.repair is not None][:CATEGORIES_PLOTTED]
    if not shown:
        return None
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    survival, s_axes = _new_figure(10, 2.8 * rows, rows, cols)
    qq, q_axes = _new_figure(10, 2.8 * rows, rows, cols)
    for i, c in enumerate(shown):
        assert c.repair is not None
        t, p = _km(c, cal)
        ax = s_axes[i // cols][i % cols]
        ax.step(t, p, where="post", color="black", label="log (Kaplan-Meier)")
        grid = np.geomspace(max(t.min(), 1e-2), t.max() * 3, 200)
        for fit in c.repair.fits:
            ax.plot(grid, _frozen(fit.dist, fit.params).sf(grid), color=FAMILY_COLORS[fit.dist],
                    lw=2 if fit is c.repair.chosen else 1,
                    label=f"{fit.dist} (AIC {fit.aic:,.0f})")
        ax.set_xscale("log")
        ax.set_title(c.log_class, fontsize=9)
        ax.set_xlabel("repair hours", fontsize=8)
        ax.legend(fontsize=6)
        ax = q_axes[i // cols][i % cols]
        levels = 1.0 - p[:-1] if len(p) > 1 else np.array([0.5])
        observed = t[:-1] if len(t) > 1 else t
        fitted = _frozen(c.repair.chosen.dist, c.repair.chosen.params).ppf(levels)
        ax.loglog(observed, fitted, "o", color=LINE, ms=3)
        lo, hi = min(observed.min(), fitted.min()), max(observed.max(), fitted.max())
        ax.plot([lo, hi], [lo, hi], color="gray", lw=1)
        ax.set_title(f"{c.log_class}: {c.repair.chosen.dist}", fontsize=9)
        ax.set_xlabel("log quantile (h)", fontsize=8)
        ax.set_ylabel("fitted quantile (h)", fontsize=8)
    for j in range(len(shown), rows * cols):
        s_axes[j // cols][j % cols].set_visible(False)
        q_axes[j // cols][j % cols].set_visible(False)
    return png(survival), png(qq)


def _num(x: float, fmt: str = "{:,.3g}") -> tuple[str, bool]:
    return ("-" if x is None or not math.isfinite(x) else fmt.format(x)), True


def calibration_page(cal: Calibration) -> str:
    log, lemon = cal.log, cal.lemon
    rates = _table(
        ["log class", "fitted category", "like", "part", "hard fraction", "faults",
         "per 1000 node-days", "95 % interval"],
        [[(text(c.log_class), False), (text(c.name), False), (text(c.like), False),
          (text(c.part or "-"), False), _num(c.hard_fraction, "{:.2f}"), _num(c.faults, "{:,}"),
          _num(c.rate.estimate, "{:.3f}"),
          (f"{c.rate.low:.3f} - {c.rate.high:.3f}", True)] for c in cal.categories])
    repairs = _table(
        ["log class", "closed", "open", "chosen (AIC)", "mean h", "p50 h fit", "p50 h log",
         "p90 h fit", "p90 h log", "mean of closed h"],
        [[(text(c.log_class), False), _num(c.repair.observed, "{:,}"),
          _num(c.repair.censored, "{:,}"), (text(c.repair.chosen.dist), False),
          _num(c.repair.chosen.mean), _num(c.repair.chosen.p50), _num(c.repair.km_p50),
          _num(c.repair.chosen.p90), _num(c.repair.km_p90), _num(c.repair.mean_observed)]
         for c in cal.categories if c.repair is not None])
    figures = [("Failure rates", rates_figure(cal),
                "Per log class, the rate per 1000 node-days of up-time with its exact Poisson "
                "95 % interval."),
               ("Faults per node", counts_figure(cal),
                "Nodes by number of faults in the window (log, bars), against the fitted mixture "
                "of two rates and against one common rate (each node's own up-time).")]
    repair_pngs = repair_figures(cal)
    if repair_pngs is not None:
        figures += [("Repair times: survival", repair_pngs[0],
                     "Share of repairs still open after t hours: the log (Kaplan-Meier, open "
                     "repairs censored) and each fitted family; the thick line is AIC's choice."),
                    ("Repair times: Q-Q", repair_pngs[1],
                     "The chosen fit's quantiles against the log's Kaplan-Meier quantiles; on "
                     "the diagonal the fit matches the log.")]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Calibration: {text(log.source)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Calibration: {text(log.source)}</h1>",
        f'<p class="meta">{log.nodes:,} nodes, {log.window_days:g} days, {len(log.faults):,} '
        f"faults ({sum(f.censored for f in log.faults)} still open at the end), "
        f"{cal.up_node_days:,.0f} up node-days. Lemons: {lemon.fraction.estimate:.1%} of nodes "
        f"({lemon.fraction.low:.1%} - {lemon.fraction.high:.1%}) fail "
        f"{lemon.rate_multiplier.estimate:.1f}x as often ({lemon.rate_multiplier.low:.1f} - "
        f"{lemon.rate_multiplier.high:.1f}); over-dispersion test against one common rate: "
        f"p = {lemon.dispersion_p_value:.2g}.</p>",
        "<h2>Failure rates</h2>", rates, "<h2>Repair times</h2>", repairs,
    ]
    for title, image, caption in figures:
        parts.append(f"<h2>{text(title)}</h2>" + _figure(image, title, caption))
    parts += ["<footer>Written by planner calibrate; calibration.json holds every figure, "
              "docs/calibration.md the estimators.</footer>", "</body></html>"]
    return "\n".join(parts) + "\n"
