"""The report's figures as SVG bytes (PNG on request), drawn with matplotlib.

Figures are made with matplotlib.figure.Figure on an Agg canvas and saved directly, so no pyplot
state and no interactive backend is involved (nor is the caller's backend changed). SVG keeps
its text as text (svg.fonttype none): half the drawing time of a PNG (1.46 s -> 0.82 s of CPU
for the six figures of the example run), sharp at any zoom. It is deterministic: a fixed
svg.hashsalt for the ids and no date in the metadata."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from planner.metrics import RUNWAY_DAYS
from planner.outputs.layout import ReportFiles
from planner.reports import runway_plots, series
from planner.reports.folder import OutputFolder, Plan, StudyFiles, quarter_date
from planner.reports.grid import (
    LEGEND_FONTSIZE,
    Margins,
    date_ticks,
    drawn_ticks,
    drawn_ylabel,
    integer_ticks,
    legend_below,
    legend_columns,
    number_ticks,
    panel_grid,
    text_width_in,
    title_above,
)
from planner.reports.tables import summary_metrics
from planner.reports.units import compact_value as _compact
from planner.reports.units import parameter_text as _parameter_value
from planner.reports.units import study_metric_label, study_metric_unit
from planner.runway import runway_keys

BAND = "#9ECAE1"
LINE = "#08519C"
STOCK_PANEL_HEIGHT_IN = 1.55
STOCK_MARGINS = Margins(left_in=0.65, top_in=0.6, bottom_in=0.3, row_gap_in=0.35,
                        column_gap_in=0.5)
SHOCK_COLORS = ("#D62728", "#FF7F0E", "#9467BD", "#8C564B", "#E377C2")


SERIES_MARGINS = Margins(left_in=0.9, top_in=0.3, bottom_in=0.3, row_gap_in=0.4)


def _figure(rows: int, height: float = 3.0) -> tuple[Figure, np.ndarray]:
    """rows panels over a shared date axis, each `height` inches high, fixed margins."""
    return panel_grid(rows, 1, height - 0.4, SERIES_MARGINS, sharex=True)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no software metadata, so the bytes hold no link)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


# the same ids and bytes for the same figure, whatever the process
SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "planner"}


def svg(fig: Figure) -> bytes:
    """The figure as SVG bytes: text kept as text, no date or software metadata (module
    docstring)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


SAVERS: dict[str, Callable[[Figure], bytes]] = dict(zip(ReportFiles.PLOT_SUFFIXES, (svg, png),
                                                        strict=True))
Drawn = dict[str, dict[str, bytes]]  # suffix -> plot name -> bytes


def _save(figures_by_name: dict[str, Callable[[], Figure]], suffixes: tuple[str, ...]) -> Drawn:
    """Each figure made once (with STYLE) and saved in every format of `suffixes`."""
    out: Drawn = {suffix: {} for suffix in suffixes}
    unknown = set(figures_by_name) - set(ReportFiles.PLOTS)
    if unknown:  # write_reports removes the plots not drawn: it must know every name
        raise ValueError(f"plots missing from ReportFiles.PLOTS: {sorted(unknown)}")
    with matplotlib.rc_context(STYLE):
        for name, make in figures_by_name.items():
            fig = make()
            for suffix in suffixes:
                out[suffix][name] = SAVERS[suffix](fig)
    return out


def _date_axes(axes: Sequence[Axes], ylabel: str) -> None:
    """Panels over a shared date axis, their limits set: dates below the last panel, numbers
    and `ylabel` left of each, grid lines across all (drawn_ticks)."""
    first, last = (mdates.num2date(x) for x in axes[0].get_xlim())
    x_ticks, x_labels = date_ticks(first, last)
    for i, ax in enumerate(axes):
        y_ticks, y_labels = number_ticks(*ax.get_ylim())
        drawn_ticks(ax, "y", y_ticks, y_labels)
        drawn_ticks(ax, "x", x_ticks, x_labels if i == len(axes) - 1 else None)
        drawn_ylabel(ax, ylabel, y_labels)


def _legend_right(ax: Axes, handles: list[Artist]) -> None:
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)


def _legend_below(fig: Figure, handles: list[Artist]) -> None:
    """Below a constrained-layout figure (the layout makes room), in as many columns as fit."""
    if handles:
        columns = legend_columns([h.get_label() for h in handles], fig.get_figwidth())
        fig.legend(handles=handles, loc="outside lower center", ncols=columns,
                   fontsize=LEGEND_FONTSIZE, frameon=False)


def _plot_band(ax: Axes, dates: pd.Series, band: pd.DataFrame, label: str, color: str = LINE,
               scale: float = 1.0, short: bool = False) -> None:
    """P10-P90 filled band and P50 line; `short`: one legend entry (the line) named `label`."""
    x = dates.to_numpy()
    ax.fill_between(x, band["p10"] * scale, band["p90"] * scale, color=color, alpha=0.2,
                    linewidth=0, label="_nolegend_" if short else f"{label} P10-P90")
    ax.plot(x, band["p50"] * scale, color=color, linewidth=1.6,
            label=label if short else f"{label} P50")


def mark_shocks(ax: Axes, run: OutputFolder) -> list[Artist]:
    """One band per shock: its start dates' P10-P90 over the replications it hit, shaded, and
    the median start as a dashed line; returns the labelled artists for a legend."""
    shocks = run.shocks_within_horizon()
    total = run.replications
    marks: list[Artist] = []
    for i, (name, group) in enumerate(shocks.groupby("shock", sort=False)):
        color = SHOCK_COLORS[i % len(SHOCK_COLORS)]
        starts = group["start_day"].astype(float)
        low, mid, high = (run.start_date + pd.Timedelta(days=float(starts.quantile(q)))
                          for q in (0.1, 0.5, 0.9))
        if high > low:
            ax.axvspan(low, high, color=color, alpha=0.12, lw=0)
        label = (f"{name} (in {len(group)}/{total} runs): start "
                 + (f"P10-P90 {low:%Y-%m-%d} to {high:%Y-%m-%d}, " if high > low else "")
                 + f"median {mid:%Y-%m-%d}")
        marks.append(ax.axvline(mid, color=color, lw=1.3, ls="--", label=label))
    return marks


def capacity_figure(run: OutputFolder, capacity: pd.DataFrame) -> Figure:
    """Effective compute per pool: P10-P90 band and P50, with installed capacity (P50)."""
    pools = list(dict.fromkeys(capacity["pool"]))
    per_node = {pool.name: pool.pflops_per_node for pool in run.pools}
    fig, grid = _figure(max(len(pools), 1))
    axes = grid[:, 0]
    handles: list[Artist] = []
    for i, (ax, pool) in enumerate(zip(axes, pools, strict=False)):
        block = capacity[capacity["pool"] == pool]
        band = block.rename(columns={f"effective_compute_{q} [PFLOP/s]": q for q in series.QUANTILES})
        _plot_band(ax, block["date"], band, "healthy")
        ax.plot(block["date"].to_numpy(), block["installed_nodes_p50 [nodes]"] * per_node[pool],
                color="#636363", lw=0.9, ls="-.", label="installed P50")
        mark_shocks(ax, run)
        ax.set_title(f"Effective compute, pool {pool} ({block['sku'].iloc[0]})", fontsize=10)
        ax.set_ylim(bottom=0)
        if i == 0:
            handles = ax.get_legend_handles_labels()[0]
    _date_axes(axes[:len(pools)], "PFLOP/s (BF16 dense)")
    legend_below(fig, grid, handles)
    return fig


def simulated_demand_figure(run: OutputFolder, plan: Plan) -> Figure:
    """The plan's fleet as simulated against the demand it was bought for: healthy nodes x the
    optimizer's effective PFLOP/s per node (BF16 dense x utilization), summed over the pools,
    P10-P90 across replications and P50; the demand per quarter (dashed) and the optimizer's
    own compute (probability-weighted P50 over its scenarios, step); red where the simulated
    P50 falls short of demand. Rented compute is the optimizer's, not simulated. Axis from
    zero."""
    ts = run.timeseries
    per_node = plan.pflops_per_node()
    total = sum(ts[f"{pool.name}.healthy_nodes"].astype(float) * per_node[pool.sku]
                for pool in run.pools if pool.sku in per_node)
    band = series.band(ts, total)
    dates = run.dates(band["day"])
    cap = plan.capacity
    quarters = plan.quarters
    starts = [quarter_date(q) for q in quarters]
    edges = [*starts, starts[-1] + pd.DateOffset(months=3)]
    by_quarter = [cap[cap["period"].astype(str) == q] for q in quarters]
    demand = np.array([float(b["demand_pflops"].iloc[0]) for b in by_quarter])
    planned = np.array([series.weighted_quantile(b["own_pflops"], b["probability"], 0.5)
                        for b in by_quarter])
    fig, grid = _figure(1, 3.6)
    ax = grid[0, 0]
    _plot_band(ax, dates, band, "simulated own compute")
    ax.step(edges, [*planned, planned[-1]], where="post", color="#636363", lw=1.0, ls="-.",
            label="planned own compute P50 (optimizer)")
    ax.step(edges, [*demand, demand[-1]], where="post", color="#333333", lw=1.2, ls="--",
            label="demand")
    quarter_of = np.searchsorted(np.array(starts, dtype="datetime64[ns]"),
                                 dates.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    inside = quarter_of >= 0
    daily_demand = np.where(inside, demand[np.clip(quarter_of, 0, len(demand) - 1)], np.nan)
    p50 = band["p50"].to_numpy()
    short = inside & (p50 < daily_demand)
    ax.fill_between(dates.to_numpy(), p50, daily_demand, where=short, color=UNMET, alpha=0.45,
                    linewidth=0,
                    label="demand above simulated P50" if short.any() else "_nolegend_")
    mark_shocks(ax, run)
    ax.set_title("Simulated compute of the plan's fleet against demand", fontsize=10)
    ax.set_ylim(bottom=0)
    _date_axes([ax], "PFLOP/s (BF16 dense x utilization)")
    legend_below(fig, grid, ax.get_legend_handles_labels()[0])
    return fig


def availability_figure(run: OutputFolder) -> Figure:
    """Healthy / installed nodes per pool over time, with shock dates."""
    fig, grid = _figure(1, 3.4)
    ax = grid[0, 0]
    colors = ("#08519C", "#006D2C", "#A63603", "#54278F")
    for i, pool in enumerate(run.pools):
        band = series.availability(run.timeseries, pool.name)
        _plot_band(ax, run.dates(band["day"]), band, pool.name, colors[i % len(colors)], 100.0)
    mark_shocks(ax, run)
    ax.set_title("Node availability (healthy / installed nodes)", fontsize=10)
    _date_axes([ax], "%")
    legend_below(fig, grid, ax.get_legend_handles_labels()[0])
    return fig


def _moving(columns: list[str], timeseries: pd.DataFrame) -> list[str]:
    """The stock columns whose level ever changes (all of them when none does)."""
    moving = [c for c in columns if timeseries[c].nunique() > 1]
    return moving or columns


def stock_figure(run: OutputFolder) -> Figure:
    """Spare stock on hand as small multiples: one panel per SKU and part whose stock moves,
    each on its own scale (P50 line, P10-P90 band), with the shock bands. Fixed margins
    (planner.reports.grid): the tick labels are small whole numbers and dates."""
    ts = run.timeseries
    columns = _moving(series.stock_columns(ts), ts)
    per_row = min(3, max(len(columns), 1))
    rows = -(-max(len(columns), 1) // per_row)
    fig, grid = panel_grid(rows, per_row, STOCK_PANEL_HEIGHT_IN, STOCK_MARGINS, sharex=True)
    axes = grid.ravel()
    shock_marks: list[Artist] = []
    dates = run.dates(ts["day"].drop_duplicates())
    x_ticks, x_labels = date_ticks(dates.min(), dates.max())
    bottom = {max(range(c, len(columns), per_row)) for c in range(min(per_row, len(columns)))}
    for i, (ax, column) in enumerate(zip(axes, columns, strict=False)):
        band = series.band(ts, ts[column])
        _plot_band(ax, run.dates(band["day"]), band, "stock", short=True)
        marks = mark_shocks(ax, run)
        shock_marks = shock_marks or marks
        ax.set_title(column.removeprefix("stock."), fontsize=9)
        ax.set_ylim(bottom=0)
        y_ticks, y_labels = integer_ticks(ax.get_ylim()[1])
        drawn_ticks(ax, "y", y_ticks, y_labels)
        drawn_ticks(ax, "x", x_ticks, x_labels if i in bottom else None)
        if i % per_row == 0:
            drawn_ylabel(ax, "parts", y_labels)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    legend_below(fig, grid, shock_marks)
    title_above(fig, "Spare parts on hand per SKU and part: P50 line, P10-P90 band")
    return fig


def _value(stats: dict, name: str, default: float = 0.0) -> float:
    value = stats.get(name)
    return float(value) if value is not None else default


BAR_HEIGHT_IN = 0.28  # one bar of a category chart
BAR_LABEL_FONTSIZE = 8


def _stat_bars(title: str, unit: str, stats: dict[str, dict]) -> Figure:
    """Horizontal bars of the mean per key, whiskers P10-P90, largest on top."""
    items = sorted(stats.items(), key=lambda kv: _value(kv[1], "mean"))
    names = [k for k, _ in items]
    margins = Margins(left_in=text_width_in(names, BAR_LABEL_FONTSIZE) + 0.25, right_in=0.5,
                      top_in=0.35, bottom_in=0.6)
    fig, grid = panel_grid(1, 1, BAR_HEIGHT_IN * max(len(items), 1) + 0.1, margins)
    ax = grid[0, 0]
    mean = np.array([_value(s, "mean") for _, s in items])
    low = np.array([_value(s, "p10", _value(s, "mean")) for _, s in items])
    high = np.array([_value(s, "p90", _value(s, "mean")) for _, s in items])
    err = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
    ax.barh(names, mean, xerr=err, color=BAND, edgecolor=LINE, ecolor="#444444", capsize=2)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{unit} per run: mean, whiskers P10-P90")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.tick_params(axis="y", labelsize=BAR_LABEL_FONTSIZE)
    ax.grid(True, axis="x", color="#E5E5E5", linewidth=0.6)
    return fig


def interruptions_figure(run: OutputFolder) -> Figure:
    """Job interruptions by category (summary.json interruptions.by_category)."""
    stats = {key: s for metric, key, s in summary_metrics(run.summary)
             if metric == "interruptions.by_category" and key is not None}
    return _stat_bars("Job interruptions by category", "interruptions", stats)


def lost_hours_figure(run: OutputFolder) -> Figure:
    """Lost GPU-hours by cause (summary.json lost_gpu_hours)."""
    stats = {key: s for metric, key, s in summary_metrics(run.summary)
             if metric == "lost_gpu_hours" and key is not None}
    return _stat_bars("Lost GPU-hours by cause", "GPU-hours", stats)


VENDOR_COLORS = ("#08519C", "#D94801", "#238B45", "#6A51A3", "#8C6D31", "#CB181D")


def orders_figure(plan: Plan) -> Figure:
    """First-stage orders: nodes ordered per quarter, stacked by vendor, with each quarter's
    capital expenditure written above its bar."""
    quarters = plan.quarters
    orders = plan.orders
    by_vendor = (orders.pivot_table(index="period", columns="vendor", values="nodes", aggfunc="sum")
                 .reindex(quarters).fillna(0.0))
    capex = orders.groupby("period")["capex_usd"].sum().reindex(quarters).fillna(0.0)
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    x = np.arange(len(quarters))
    bottom = np.zeros(len(quarters))
    ordered = [v for v in by_vendor.columns if by_vendor[v].sum() > 0]
    for i, vendor in enumerate(by_vendor.columns):
        values = by_vendor[vendor].to_numpy(dtype=float)
        if vendor not in ordered:
            continue
        ax.bar(x, values, bottom=bottom, color=VENDOR_COLORS[i % len(VENDOR_COLORS)],
               label=f"{vendor} ({values.sum():,.0f} nodes)", width=0.65)
        bottom += values
    for xi, total, usd in zip(x, bottom, capex.to_numpy(dtype=float), strict=True):
        if total > 0:
            ax.annotate(f"{total:,.0f}\n${usd / 1e6:,.1f}M", (xi, total), ha="center",
                        va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, quarters)
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.2)
    ax.set_ylabel("nodes ordered")
    ax.set_title("First-stage orders by vendor and quarter (order quarter; label: nodes, capex)",
                 fontsize=10)
    ax.grid(True, axis="y", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    if ordered:
        ax.legend(fontsize=8, frameon=False, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no first-stage order", transform=ax.transAxes, ha="center")
    return fig


def pareto_figure(plan: Plan) -> Figure:
    """Expected cost against CVaR along the Pareto front, and the chosen plan."""
    front, measure = plan.pareto, plan.risk_measure
    opt = plan.optimization
    column = f"cvar_{measure}"
    cost = measure == "cost"
    scale = 1e6 if cost else 1e3
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(front[column] / scale, front["expected_cost_usd"] / 1e6, "o-", color=LINE,
            label="Pareto front: min expected cost s.t. CVaR <= cap")
    for r in front.itertuples(index=False):
        ax.annotate(str(r.point), (getattr(r, column) / scale, r.expected_cost_usd / 1e6),
                    fontsize=7, xytext=(4, 4), textcoords="offset points")
    chosen_x = opt.get("cvar_cost_usd" if cost else "cvar_shortfall_pflops_hours")
    if chosen_x is not None and opt.get("expected_cost_usd") is not None:
        ax.plot([chosen_x / scale], [opt["expected_cost_usd"] / 1e6], "D", color="#D62728",
                markersize=8, label="chosen plan")
    alpha = opt.get("cvar_alpha")
    level = f" {alpha:.0%}" if isinstance(alpha, int | float) else ""
    ax.set_xlabel(f"CVaR{level} of cost ($M)" if cost
                  else f"CVaR{level} of unmet demand (thousand PFLOP/s-hours)")
    ax.set_ylabel("expected cost ($M)")
    ax.set_title("Cost-risk Pareto front", fontsize=10)
    ax.grid(True, color="#E5E5E5", linewidth=0.6)
    ax.legend(fontsize=8, frameon=False)
    return fig


def out_of_sample_figure(plan: Plan) -> Figure:
    """The plan's cost and unmet demand over the fresh sanction paths (weighted histograms),
    one per policy evaluated (hindsight filled, rolling horizon outlined), with the in-sample
    expected cost and each policy's mean."""
    paths = plan.oos_paths[plan.oos_paths["feasible"].astype(bool)]
    if "policy" not in paths.columns:  # folders written before the rolling policy existed
        paths = paths.assign(policy="first stage fixed, recourse with hindsight")
    summary = plan.oos_summary.set_index("measure")
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    cost_ax, short_ax = fig.subplots(1, 2)
    styles = {"hindsight": {"histtype": "stepfilled", "color": BAND, "alpha": 0.9},
              "rolling": {"histtype": "step", "color": LINE, "linewidth": 1.4}}
    costs = paths["cost_usd"] / 1e6
    shorts = paths["shortfall_pflops_hours"] / 1e6
    cost_bins = np.histogram_bin_edges(costs, bins=30)
    short_bins = np.histogram_bin_edges(shorts, bins=30)
    for policy, group in paths.groupby("policy", sort=False):
        key = "rolling" if "rolling" in str(policy) else "hindsight"
        label = "rolling horizon" if key == "rolling" else "hindsight"
        weights = group["weight"].to_numpy(dtype=float)
        cost_ax.hist(group["cost_usd"] / 1e6, bins=cost_bins, weights=weights,
                     label=f"{label} ({len(group):,} distinct paths)", **styles[key])
        short_ax.hist(group["shortfall_pflops_hours"] / 1e6, bins=short_bins, weights=weights,
                      label=label, **styles[key])
    for measure, style, label in (("in-sample expected cost", "--", "in-sample mean"),
                                  ("out-of-sample expected cost", ":", "hindsight mean"),
                                  ("rolling-horizon expected cost", "-", "rolling mean")):
        if measure in summary.index:
            cost_ax.axvline(summary.loc[measure, "estimate_usd"] / 1e6, color="#333333",
                            linestyle=style, linewidth=1.0, label=label)
    cost_ax.set_xlabel("cost of the plan on a path ($M, discounted)")
    cost_ax.set_ylabel("share of paths")
    cost_ax.legend(fontsize=7, frameon=False)
    short_ax.set_xlabel("unmet demand on a path (million PFLOP/s-hours)")
    short_ax.legend(fontsize=7, frameon=False)
    for ax in (cost_ax, short_ax):
        ax.grid(True, color="#E5E5E5", linewidth=0.6)
        ax.set_ylim(bottom=0)
    fig.suptitle("The plan on fresh sanction paths, first stage fixed", fontsize=10)
    return fig


NAMED_SCENARIOS_MAX = 8  # beyond this many sanction scenarios, a probability-weighted fan
UNMET = "#D62728"


def plan_capacity_figure(plan: Plan) -> Figure:
    """Planned compute against demand per quarter, unmet demand shaded, the axis from zero. Up
    to NAMED_SCENARIOS_MAX scenarios: one small panel each, named with its probability (own
    compute, rented on top, unmet in red). More: one panel with the probability-weighted fan of
    own plus rented compute (P10-P90, P50) and the expected unmet demand in red below the
    demand line."""
    cap = plan.capacity.copy()
    cap["supply"] = cap["own_pflops"] + cap["rented_pflops"]
    quarters = list(dict.fromkeys(cap["period"].astype(str)))
    x = np.arange(len(quarters))
    scenarios = list(dict.fromkeys(cap["scenario"]))
    if len(scenarios) <= NAMED_SCENARIOS_MAX:
        columns = 1 if len(scenarios) == 1 else 2
        rows = -(-len(scenarios) // columns)
        fig = Figure(figsize=(10, 0.9 + 2.6 * rows), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
        for ax, name in zip(axes, scenarios, strict=False):
            block = cap[cap["scenario"] == name]
            own, rented = block["own_pflops"].to_numpy(), block["rented_pflops"].to_numpy()
            demand, unmet = block["demand_pflops"].to_numpy(), block["unmet_pflops"].to_numpy()
            ax.fill_between(x, 0, own, color=BAND, step="mid", label="own compute")
            ax.fill_between(x, own, own + rented, color="#C6DBEF", step="mid", label="rented")
            ax.fill_between(x, own + rented, own + rented + unmet, color=UNMET, alpha=0.55,
                            step="mid", label="unmet demand")
            ax.step(x, demand, where="mid", color="#333333", lw=1.2, ls="--", label="demand")
            ax.set_title(f"{name} (p = {block['probability'].iloc[0]:.0%})", fontsize=9)
            ax.grid(True, color="#E5E5E5", linewidth=0.6)
            ax.set_ylim(bottom=0)
        for ax in axes[len(scenarios):]:
            ax.set_visible(False)
        for ax in axes[-columns:]:
            ax.set_xticks(x, quarters, fontsize=8)
        for ax in axes[::columns]:
            ax.set_ylabel("PFLOP/s")
        _legend_below(fig, axes[0].get_legend_handles_labels()[0])
        fig.suptitle("Planned compute against demand, per sanction scenario (BF16 dense x "
                     "utilization)", fontsize=10)
        return fig
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    by_quarter = [cap[cap["period"].astype(str) == q] for q in quarters]
    fan = {qv: np.array([series.weighted_quantile(b["supply"], b["probability"], qv)
                         for b in by_quarter]) for qv in (0.1, 0.5, 0.9)}
    demand = np.array([float(b["demand_pflops"].iloc[0]) for b in by_quarter])
    expected_unmet = np.array([float((b["unmet_pflops"] * b["probability"]).sum()
                                     / b["probability"].sum()) for b in by_quarter])
    ax.fill_between(x, fan[0.1], fan[0.9], color=BAND, alpha=0.9, linewidth=0, zorder=3,
                    label=f"own + rented P10-P90 ({len(scenarios)} scenarios, by probability)")
    ax.plot(x, fan[0.5], "o-", color=LINE, label="own + rented P50", zorder=4)
    ax.fill_between(x, demand - expected_unmet, demand, color=UNMET, alpha=0.45, linewidth=0,
                    label="expected unmet demand", zorder=2)
    ax.plot(x, demand, "--", color="#333333", label="demand")
    ax.set_xticks(x, quarters)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("PFLOP/s (BF16 dense x utilization)")
    ax.set_title("Planned compute against demand across the sanction scenarios", fontsize=10)
    ax.grid(True, color="#E5E5E5", linewidth=0.6)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return fig


def tornado_figure(sensitivity: pd.DataFrame,
                   label_of: Callable[[str], str] = str) -> Figure:
    """The study's tornado: per varied parameter (largest swing on top) a horizontal bar from
    the metric's lowest to its highest main effect, split at the mean of the case means (dashed
    mark; the same for every parameter of a full grid); the parameter values at both ends
    written beside the bar."""
    rows = sensitivity[(sensitivity["section"] == "tornado") & sensitivity["swing"].notna()]
    metric = str(rows["metric"].iloc[0])
    unit = study_metric_unit(metric)
    fig = Figure(figsize=(10, 1.6 + 0.55 * len(rows)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    low_all, high_all = float(rows["metric_min"].min()), float(rows["metric_max"].max())
    span = high_all - low_all

    def label(v: float) -> str:
        return _compact(v, unit, span)

    records = rows.to_dict("records")
    centres = [float(r["metric_mean"]) if np.isfinite(r["metric_mean"])
               else (float(r["metric_min"]) + float(r["metric_max"])) / 2 for r in records]
    mean_label = (f"mean of the case means: {label(centres[0])}"
                  if np.allclose(centres, centres[0], rtol=1e-12, atol=0)
                  else "mean of the case means (of the cases setting the parameter)")
    for yi, r, centre in zip(y, records, centres, strict=True):
        low, high = float(r["metric_min"]), float(r["metric_max"])
        mid = min(max(centre, low), high)
        first = yi == y[0]
        ax.barh(yi, mid - low, left=low, height=0.6, color="#FDAE6B", edgecolor="#A63603",
                label="below the mean" if first else "_nolegend_")
        ax.barh(yi, high - mid, left=mid, height=0.6, color="#9ECAE1", edgecolor=LINE,
                label="above the mean" if first else "_nolegend_")
        ax.plot([centre, centre], [yi - 0.45, yi + 0.45], color="#444444", lw=1.0, ls="--",
                label=mean_label if first else "_nolegend_")
        ax.annotate(f"{_parameter_value(r['value_at_min'])}: {label(low)}", (low, yi), ha="right",
                    va="center", fontsize=7, xytext=(-4, 0), textcoords="offset points")
        ax.annotate(f"{_parameter_value(r['value_at_max'])}: {label(high)}", (high, yi),
                    ha="left", va="center", fontsize=7, xytext=(4, 0), textcoords="offset points")
    ax.set_yticks(y, [f"{label_of(str(r['parameter']))}\nswing {label(float(r['swing']))}"
                      for r in records], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    pad = 0.4 * span if span > 0 else max(abs(centres[0]) * 0.05, 1.0)
    ax.set_xlim(low_all - pad, high_all + pad)
    ax.xaxis.set_major_locator(MaxNLocator(7))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: label(v)))
    ax.set_xlabel(f"{study_metric_label(metric)} ({unit or 'value'}): mean of the case means "
                  "at the parameter's "
                  "value; beside each bar: the value and that mean")
    ax.set_title("Tornado: main effect of each varied parameter on "
                 f"{study_metric_label(metric)}", fontsize=10)
    ax.grid(True, axis="x", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def has_runway(run: OutputFolder) -> bool:
    """A run with a runway to draw: a pool exposed to a parts block, and a replication in
    which the block began within the run."""
    metrics = run.replication_metrics
    if metrics is None:
        return False
    keys = runway_keys([str(c) for c in metrics.columns])
    return any(metrics[RUNWAY_DAYS.flat(key)].notna().any() for key in keys)


def figures(run: OutputFolder, capacity: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    """Plot name -> figure maker, in page order (each saved as plot_<name>.svg): the
    simulation's figures for a run, the planned capacity for an optimize-only folder, then
    the orders and the Pareto front (when traced) whenever the optimizer ran."""
    makers: dict[str, Callable[[], Figure]] = {}
    plan = run.plan
    if run.simulated and plan is not None and any(
            pool.sku in plan.pflops_per_node() for pool in run.pools):
        makers["simulated_demand"] = lambda: simulated_demand_figure(run, plan)
    if run.simulated:
        makers.update({
            "capacity": lambda: capacity_figure(run, capacity),
            "availability": lambda: availability_figure(run),
            "stock": lambda: stock_figure(run),
            "interruptions": lambda: interruptions_figure(run),
            "lost_gpu_hours": lambda: lost_hours_figure(run),
        })
        if has_runway(run):
            skus = {pool.name: pool.sku for pool in run.pools}
            makers["runway"] = lambda: runway_plots.survival_figure(run.replication_metrics, skus)
    if plan is not None:
        makers["plan_capacity"] = lambda: plan_capacity_figure(plan)
        makers["orders"] = lambda: orders_figure(plan)
        if plan.pareto is not None and plan.risk_measure is not None and len(plan.pareto):
            makers["pareto"] = lambda: pareto_figure(plan)
        if plan.oos_paths is not None and plan.oos_summary is not None and len(plan.oos_paths):
            makers["out_of_sample"] = lambda: out_of_sample_figure(plan)
    return makers


# Titles sit at the top of their axes: matplotlib would otherwise measure every axis's tick
# labels at draw time to lift a title above ticks drawn on top, which no figure here has
# (0.5 s of the 0.7 s drawing of the nine spare-part panels).
STYLE = {"axes.titley": 1.0}


def render(run: OutputFolder, capacity: pd.DataFrame,
           suffixes: tuple[str, ...] = (ReportFiles.PLOT_SUFFIX,)) -> Drawn:
    """Per format of `suffixes` (ReportFiles.PLOT_SUFFIXES), plot name -> its bytes."""
    return _save(figures(run, capacity), suffixes)


def interaction_pair(study: StudyFiles, sensitivity: pd.DataFrame) -> tuple[str, str] | None:
    """The two varied parameters with the largest swings, when the cases cross them (a grid:
    at least two values each, at most INTERACTION_MAX_VALUES, and a case at every pair)."""
    rows = sensitivity[(sensitivity["section"] == "tornado") & sensitivity["swing"].notna()]
    rows = rows.sort_values("swing", ascending=False, kind="stable")
    if len(rows) < 2:
        return None
    first, second = (f"param.{p}" for p in rows["parameter"].iloc[:2])
    cases = study.cases
    if first not in cases or second not in cases:
        return None
    values = [cases[c].astype(str).nunique() for c in (first, second)]
    if min(values) < 2 or max(values) > INTERACTION_MAX_VALUES:
        return None
    pairs = cases[[first, second]].astype(str).drop_duplicates()
    return (first, second) if len(pairs) == values[0] * values[1] else None


INTERACTION_MAX_VALUES = 12


def interaction_figure(study: StudyFiles, pair: tuple[str, str], metric: str,
                       label_of: Callable[[str], str] = str) -> Figure:
    """A two-way heatmap: the metric's mean over the cases at each pair of values of the two
    most important parameters (an interaction the main effects average away shows here)."""
    first, second = pair
    cases = study.cases[study.cases["metric"] == metric]
    table = cases.groupby([first, second], sort=True)["mean"].mean().unstack(second)
    unit = study_metric_unit(metric)
    values = table.to_numpy(dtype=float)
    span = float(np.nanmax(values) - np.nanmin(values)) if np.isfinite(values).any() else 0.0
    fig = Figure(figsize=(10, 1.6 + 0.45 * len(table)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            dark = span > 0 and (v - np.nanmin(values)) / span > 0.6
            ax.text(j, i, _compact(v, unit, span), ha="center", va="center", fontsize=8,
                    color="white" if dark else "#222222")
    ax.set_xticks(range(len(table.columns)), [_parameter_value(v) for v in table.columns],
                  fontsize=8)
    ax.set_yticks(range(len(table.index)), [_parameter_value(v) for v in table.index],
                  fontsize=8)
    ax.set_xlabel(label_of(second))
    ax.set_ylabel(label_of(first))
    ax.set_title(f"Interaction: {study_metric_label(metric)} ({unit or 'value'}), mean over "
                 "the cases at each pair",
                 fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8,
                 format=FuncFormatter(lambda v, _: _compact(v, unit, span)))
    return fig


def render_study(study: StudyFiles, sensitivity: pd.DataFrame,
                 suffixes: tuple[str, ...] = (ReportFiles.PLOT_SUFFIX,)) -> Drawn:
    """A study folder's plots, per format of `suffixes`: the tornado, when it has a row; the
    interaction heatmap of its two most important parameters, when the cases cross them; the
    runway curve, when the cases report a runway (study_runway). Parameters are labelled as
    the reader names them (parameter_labeler)."""
    from planner.reports.study_labels import parameter_labeler  # the schema: studies only

    label_of = parameter_labeler(study)
    rows = sensitivity[(sensitivity["section"] == "tornado") & sensitivity["swing"].notna()]
    makers: dict[str, Callable[[], Figure]] = {}
    if len(rows):
        makers["tornado"] = lambda: tornado_figure(sensitivity, label_of)
        pair = interaction_pair(study, sensitivity)
        metric = str(rows["metric"].iloc[0])
        means = study.cases.loc[study.cases["metric"] == metric, "mean"].to_numpy(dtype=float)
        if pair is not None and np.isfinite(means).any():  # a metric no case reports: no map
            makers["interaction"] = lambda: interaction_figure(study, pair, metric, label_of)
    if study.runway is not None and len(study.runway):
        makers["runway_curve"] = lambda: runway_plots.curve_figure(study.runway)
    return _save(makers, suffixes)
