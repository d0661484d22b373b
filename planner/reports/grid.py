"""Figures laid out with fixed margins in inches.

matplotlib's constrained layout measures every tick label of every panel before drawing, which
doubles the cost of a figure of small multiples (1.3 s of 1.8 s for the nine spare-part panels
of the example run). Panels whose labels are known in advance (numbers on the y axis, dates or
quarters on the x axis, a title above, a legend below) get margins sized for them here instead;
category names are measured once (text_width_in) for the margin that holds them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator
from matplotlib.transforms import offset_copy

FIGURE_WIDTH_IN = 10.0
LEGEND_FONTSIZE = 7
LEGEND_ROW_IN = 0.19  # one row of a fontsize-7 legend
LEGEND_COLUMNS = 3  # at most
# matplotlib's legend geometry at LEGEND_FONTSIZE (its defaults, in font sizes: handle 2.0,
# handle-text pad 0.8, column spacing 2.0, border pad 0.4 each side)
_POINTS_PER_INCH = 72.0
LEGEND_ENTRY_EXTRA_IN = (2.0 + 0.8) * LEGEND_FONTSIZE / _POINTS_PER_INCH
LEGEND_COLUMN_GAP_IN = 2.0 * LEGEND_FONTSIZE / _POINTS_PER_INCH
LEGEND_BORDER_IN = 0.8 * LEGEND_FONTSIZE / _POINTS_PER_INCH


@dataclass(frozen=True)
class Margins:
    """Space around and between the panels, in inches."""

    left_in: float = 0.75  # y tick labels (up to 6 characters) and the y label
    right_in: float = 0.2
    top_in: float = 0.35  # one title line
    bottom_in: float = 0.35  # x tick labels
    row_gap_in: float = 0.45  # a panel title and, unless shared, x tick labels
    column_gap_in: float = 0.75  # the y tick labels of the next column


def text_widths_in(texts: list[str], fontsize: float, dpi: float = 100.0) -> list[float]:
    """The width of each of `texts` at `fontsize` in the default font, in inches."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, dpi)
    prop = FontProperties(size=fontsize)
    return [renderer.get_text_width_height_descent(t, prop, ismath=False)[0] / dpi
            for t in texts]


def text_width_in(texts: list[str], fontsize: float, dpi: float = 100.0) -> float:
    """The width of the widest of `texts` (0 for none): what a margin must hold for them."""
    return max(text_widths_in(texts, fontsize, dpi), default=0.0)


def legend_rows(entries: int, columns: int = LEGEND_COLUMNS) -> int:
    return -(-entries // columns) if entries else 0


def legend_columns(labels: list[str], width_in: float = FIGURE_WIDTH_IN,
                   most: int = LEGEND_COLUMNS) -> int:
    """The most columns, up to `most`, in which a legend of `labels` fits `width_in` (entries
    fill the columns in turn, as matplotlib places them); 1 when none does."""
    widths = np.array(text_widths_in(labels, LEGEND_FONTSIZE)) + LEGEND_ENTRY_EXTRA_IN
    for columns in range(min(most, len(labels)), 1, -1):
        chunks = [chunk for chunk in np.array_split(widths, columns) if len(chunk)]
        total = (sum(float(chunk.max()) for chunk in chunks)
                 + (len(chunks) - 1) * LEGEND_COLUMN_GAP_IN + LEGEND_BORDER_IN)
        if total <= width_in:
            return columns
    return 1


def panel_grid(rows: int, columns: int, panel_height_in: float, margins: Margins = Margins(),
               **subplots: object) -> tuple[Figure, np.ndarray]:
    """A figure FIGURE_WIDTH_IN wide of rows x columns panels, each panel_height_in high, with
    `margins`; the axes as a 2-d array. `subplots` go to Figure.subplots (sharex, sharey)."""
    height_in = (margins.top_in + margins.bottom_in + rows * panel_height_in
                 + (rows - 1) * margins.row_gap_in)
    plot_width_in = FIGURE_WIDTH_IN - margins.left_in - margins.right_in
    panel_width_in = (plot_width_in - (columns - 1) * margins.column_gap_in) / columns
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height_in))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False, gridspec_kw={
        "left": margins.left_in / FIGURE_WIDTH_IN,
        "right": 1 - margins.right_in / FIGURE_WIDTH_IN,
        "top": 1 - margins.top_in / height_in,
        "bottom": margins.bottom_in / height_in,
        "hspace": margins.row_gap_in / panel_height_in,
        "wspace": margins.column_gap_in / panel_width_in,
    }, **subplots)
    return fig, axes


def legend_below(fig: Figure, axes: np.ndarray, handles: list) -> None:
    """The legend centred at the foot of a panel_grid figure, in as many columns (up to
    LEGEND_COLUMNS) as fit its width: the figure grows by the legend's rows, the panels keep
    their size."""
    if not handles:
        return
    columns = legend_columns([h.get_label() for h in handles], fig.get_figwidth())
    grid = axes.ravel()[0].get_gridspec()
    old_in = fig.get_figheight()
    legend_in = LEGEND_ROW_IN * legend_rows(len(handles), columns) + 0.05
    new_in = old_in + legend_in
    top_in, bottom_in = (1 - grid.top) * old_in, grid.bottom * old_in
    fig.set_figheight(new_in)
    grid.update(top=1 - top_in / new_in, bottom=(bottom_in + legend_in) / new_in)
    for ax in fig.axes:  # GridSpec.update leaves the panels of Figure.subplots in place
        spec = ax.get_subplotspec()
        if spec is not None and spec.get_gridspec() is grid:
            ax.set_position(spec.get_position(fig))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=columns,
               fontsize=LEGEND_FONTSIZE, frameon=False)


def title_above(fig: Figure, text: str, fontsize: float = 10) -> None:
    """A figure title in the top margin of a panel_grid figure (call after legend_below)."""
    fig.suptitle(text, fontsize=fontsize, y=1 - 0.08 / fig.get_figheight(), va="top")


# Tick labels and grid lines drawn as plain artists (drawn_ticks): matplotlib's Tick is five
# artists (two marks, two labels, a grid line), made and laid out one by one at every draw;
# the nine spare-part panels of the example run spent 0.15-0.19 s of their 0.3 s on them.
GRID_COLOR = "#E5E5E5"
GRID_WIDTH_PT = 0.6
TICK_FONTSIZE = 10.0  # matplotlib's default tick label size ("medium")
TICK_LABEL_OFFSET_PT = 4.0  # between the axis line and its labels


def drawn_ticks(ax: Axes, axis: str, positions: Sequence[float],
                labels: Sequence[str] | None) -> None:
    """Grid lines across `ax` at `positions` of its `axis` ("x" or "y", in data units; one
    LineCollection) and, unless `labels` is None, a label beside the axis line at each (one
    Text each), in place of matplotlib's ticks on that axis (set to none). Positions outside
    the axis's limits are dropped when the figure is drawn (clipped)."""
    across_x = axis == "x"
    along = ax.xaxis if across_x else ax.yaxis
    along.set_major_locator(NullLocator())
    along.set_minor_locator(NullLocator())
    transform = ax.get_xaxis_transform() if across_x else ax.get_yaxis_transform()
    draw_lines = ax.vlines if across_x else ax.hlines
    draw_lines(positions, 0, 1, transform=transform, colors=GRID_COLOR,
               linewidths=GRID_WIDTH_PT, zorder=0.5)
    away = {"y" if across_x else "x": -TICK_LABEL_OFFSET_PT}  # from the axis line, outwards
    place = offset_copy(transform, fig=ax.figure, units="points", **away)
    for at, text in zip(positions, labels or (), strict=False):
        ax.text(*((at, 0) if across_x else (0, at)), text, transform=place,
                ha="center" if across_x else "right", va="top" if across_x else "center_baseline",
                fontsize=TICK_FONTSIZE, clip_on=False)


def date_ticks(first: object, last: object) -> tuple[list[float], list[str]]:
    """Positions (matplotlib date numbers) and concise labels ("2027", "Apr", "Jul") of the
    date ticks matplotlib's AutoDateLocator would choose between two dates."""
    locator = AutoDateLocator()
    values = [float(v) for v in locator.tick_values(first, last)]
    labels = ConciseDateFormatter(locator).format_ticks(values)
    lo, hi = date2num(first), date2num(last)
    kept = [(v, t) for v, t in zip(values, labels, strict=True) if lo <= v <= hi]
    return [v for v, _ in kept], [t for _, t in kept]


def integer_ticks(top: float, most: int = 4) -> tuple[list[float], list[str]]:
    """Whole-number ticks from 0 to `top` (at most `most` intervals), labelled with
    thousands separators."""
    values = [float(v) for v in MaxNLocator(nbins=most, integer=True).tick_values(0.0, top)
              if 0.0 <= v <= top]
    return values, [f"{v:,.0f}" for v in values]


def drawn_ylabel(ax: Axes, text: str, tick_labels: Sequence[str]) -> None:
    """The y axis label of a panel whose ticks are drawn_ticks: matplotlib places it beside
    its own tick labels, which that panel has none of; it goes beside the widest drawn one."""
    width_pt = text_width_in(list(tick_labels), TICK_FONTSIZE) * _POINTS_PER_INCH
    ax.set_ylabel(text)
    ax.yaxis.set_label_coords(0.0, 0.5, transform=offset_copy(
        ax.transAxes, fig=ax.figure, x=-(width_pt + 2 * TICK_LABEL_OFFSET_PT), units="points"))


def number_ticks(low: float, high: float, most: int = 5) -> tuple[list[float], list[str]]:
    """Round-number ticks between `low` and `high` (at most `most` intervals), labelled with
    thousands separators and the decimals their step needs."""
    values = [float(v) for v in MaxNLocator(nbins=most).tick_values(low, high)
              if low - 1e-9 * abs(high - low) <= v <= high + 1e-9 * abs(high - low)]
    step = values[1] - values[0] if len(values) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return values, [f"{v:,.{decimals}f}" for v in values]
