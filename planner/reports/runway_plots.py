"""The runway figures: how long a fleet lasts under a parts block.

A run (plot_runway.svg): per exposed pool, the share of the replications with a block that still
keep their node availability at or above each threshold, against the days since the block
began: the Kaplan-Meier survival curve of the runway, whose crossings of 90 %, 50 % and 10 %
are the runway's P10, P50 and P90 of the Runway sheet. A study (plot_runway_curve.svg): per
exposed pool, the runway's P50 per case (P10-P90 as a band) for each threshold, against the
varied parameter (e.g. the stockpile of spare parts) when one number varies, else by case.
Drawn with matplotlib and saved as planner.reports.plots saves them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from planner.metrics import RUNWAY_CENSORED, RUNWAY_DAYS, split_runway_key
from planner.reports.grid import Margins, panel_grid
from planner.reports.units import counted
from planner.runway import QUANTILES, runway_keys
from planner.stats import censored_quantile, kaplan_meier

THRESHOLD_COLORS = ("#08519C", "#D94801", "#A50F15", "#54278F", "#006D2C")
GRID = "#E5E5E5"
_PANEL_HEIGHT = 3.4
_SURVIVAL_MARGINS = Margins(left_in=1.0, right_in=0.4, top_in=0.3, bottom_in=0.5,
                            row_gap_in=0.85)
_UPRIGHT_LABELS = 6  # case names on the x axis: more than this many are turned
_LABEL_ROTATION_DEGREES = 30


def _panels(count: int) -> tuple[Figure, list[Axes]]:
    """count panels one above the other, fixed margins (planner.reports.grid): a two-line y
    label, an x label under each panel, the P10/P50/P90 marks right of it."""
    fig, grid = panel_grid(count, 1, _PANEL_HEIGHT - 0.9, _SURVIVAL_MARGINS)
    return fig, list(grid[:, 0])


def _constrained_panels(count: int) -> tuple[Figure, list[Axes]]:
    """count panels one above the other, laid out by matplotlib (case names of any length
    under the x axis)."""
    fig = Figure(figsize=(10, 0.9 + _PANEL_HEIGHT * count), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(count, 1, squeeze=False)[:, 0])


def _by_pool(keys: list[str]) -> dict[str, list[str]]:
    """Pool -> its runway keys, in order."""
    pools: dict[str, list[str]] = {}
    for key in keys:
        pools.setdefault(split_runway_key(key)[0], []).append(key)
    return pools


def _days_text(days: float, censored: bool) -> str:
    return f"{'> ' if censored else ''}{days:,.0f} d"


def survival_figure(replications: pd.DataFrame, skus: dict[str, str]) -> Figure:
    """Per exposed pool, one Kaplan-Meier curve per threshold: the share of the replications
    with a block whose availability has not yet been sampled below the threshold, against the
    days since the block began; ticks mark censored replications (the threshold not crossed
    within the days watched); the dotted levels 90 %, 50 % and 10 % cut the curves at the
    runway's P10, P50 and P90, and the P50 is written on each curve."""
    pools = _by_pool(runway_keys([str(c) for c in replications.columns]))
    fig, axes = _panels(max(len(pools), 1))
    for ax, (pool, keys) in zip(axes, pools.items(), strict=False):
        blocked = 0
        for i, key in enumerate(keys):
            color = THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)]
            days = replications[RUNWAY_DAYS.flat(key)].to_numpy(dtype=float)
            flags = replications[RUNWAY_CENSORED.flat(key)].to_numpy(dtype=float)
            keep = np.isfinite(days) & np.isfinite(flags)
            days, censored = days[keep], flags[keep] > 0
            blocked = max(blocked, int(days.size))
            if not days.size:
                continue
            events, survival = kaplan_meier(days, censored)
            x = np.concatenate([[0.0], events, [days.max()]])
            y = np.concatenate([[1.0], survival, [survival[-1] if survival.size else 1.0]])
            threshold = split_runway_key(key)[1]
            median, above = censored_quantile(days, censored, QUANTILES["p50"])
            ax.step(x, y * 100, where="post", color=color, lw=1.6,
                    label=f"availability >= {threshold:.0%}: P50 {_days_text(median, above)}")
            if censored.any():
                at = np.searchsorted(events, days[censored], side="right")
                level = np.concatenate([[1.0], survival])[at]
                ax.plot(days[censored], level * 100, "|", color=color, ms=7, mew=1.0)
            if not above:
                ax.plot([median], [100 * (1 - QUANTILES["p50"])], "o", color=color, ms=5)
        for name, q in QUANTILES.items():
            ax.axhline(100 * (1 - q), color="#888888", lw=0.7, ls=":")
            ax.annotate(name.upper(), (1.0, 100 * (1 - q)), xycoords=("axes fraction", "data"),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=7,
                        color="#555555")
        sku = f" ({skus[pool]})" if pool in skus else ""
        ax.set_title(f"Runway of pool {pool}{sku} under a parts block: "
                     f"{counted(blocked, 'replication')} with a block", fontsize=10)
        ax.set_ylabel("% of replications still\nat or above the threshold")
        ax.set_xlabel("days since the block began")
        ax.set_ylim(0, 103)
        ax.set_xlim(left=0)
        ax.grid(True, color=GRID, linewidth=0.6)
        if blocked:
            ax.legend(fontsize=8, frameon=False, loc="best")
        else:
            ax.text(0.5, 0.5, "no replication had a block of this pool's parts within the run",
                    transform=ax.transAxes, ha="center", fontsize=9)
    return fig


def _x_axis(table: pd.DataFrame) -> tuple[str | None, list[float], list[str]]:
    """(the varied parameter on the x axis or None, x per case, tick labels) for the study's
    cases in order: the one numeric parameter that varies, else the case's position."""
    cases = table.drop_duplicates("case")
    params = [c for c in table.columns if c.startswith("param.")
              and pd.api.types.is_numeric_dtype(cases[c]) and cases[c].notna().all()
              and cases[c].nunique() == len(cases)]
    names = [str(c) for c in cases["case"]]
    if len(params) == 1:
        values = cases[params[0]].astype(float).tolist()
        generic = all(n.startswith("grid-") for n in names)
        labels = [f"{v:,.10g}" if generic else f"{v:,.10g}\n{n}" for v, n in
                  zip(values, names, strict=True)]
        return params[0].removeprefix("param."), values, labels
    return None, [float(i) for i in range(len(names))], names


def curve_figure(table: pd.DataFrame) -> Figure:
    """Per exposed pool of study_runway: for each threshold the runway's P50 per case (line and
    markers; an open triangle where the P50 is censored: more than the value drawn) and its
    P10-P90 as a band, against the varied parameter (or the case)."""
    pools = list(dict.fromkeys(table["pool"].astype(str)))
    fig, axes = _constrained_panels(max(len(pools), 1))
    parameter, xs, labels = _x_axis(table)
    position = dict(zip(table.drop_duplicates("case")["case"], xs, strict=True))
    for ax, pool in zip(axes, pools, strict=False):
        rows = table[table["pool"].astype(str) == pool]
        for i, (threshold, block) in enumerate(rows.groupby("threshold", sort=False)):
            color = THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)]
            x = block["case"].map(position).to_numpy(dtype=float)
            order = np.argsort(x, kind="stable")
            x = x[order]
            p10, p50, p90 = (block[q].to_numpy(dtype=float)[order] for q in QUANTILES)
            censored = block["p50_censored"].map(lambda v: v is True or v == "true"
                                                 or v is np.True_).to_numpy(dtype=bool)[order]
            ax.fill_between(x, p10, p90, color=color, alpha=0.15, linewidth=0)
            ax.plot(x, p50, "-", color=color, lw=1.5,
                    label=f"availability >= {float(threshold):.0%}: P50 (band P10-P90)")
            ax.plot(x[~censored], p50[~censored], "o", color=color, ms=5)
            ax.plot(x[censored], p50[censored], "^", color=color, ms=7, mfc="white")
        ax.set_xticks(xs, labels, fontsize=8)
        if parameter is None and len(labels) > _UPRIGHT_LABELS:
            ax.tick_params(axis="x", labelrotation=_LABEL_ROTATION_DEGREES)
        ax.set_title(f"Runway curve of pool {pool}: days from the block until availability "
                     "falls below each threshold", fontsize=10)
        ax.set_ylabel("days since the block began")
        ax.set_xlabel(parameter or "case")
        ax.set_ylim(bottom=0)
        ax.grid(True, color=GRID, linewidth=0.6)
        ax.plot([], [], "^", color="#444444", ms=7, mfc="white",
                label="censored: more than this (not crossed within the days watched)")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    return fig
