"""Fixed-margin figures: the legend below takes as many columns as fit the figure's width, and
the figure grows to hold it without moving the panels."""

from __future__ import annotations

import pytest

from planner.reports.grid import (
    FIGURE_WIDTH_IN,
    LEGEND_COLUMNS,
    Margins,
    legend_below,
    legend_columns,
    panel_grid,
    text_width_in,
)

SHORT = ["healthy P10-P90", "healthy P50", "installed P50"]
LONG = [f"shock-{i} (in 17/20 runs): start P10-P90 2027-02-03 to 2027-11-30, median 2027-06-14"
        for i in range(4)]


def _legend_inside_figure(labels: list[str]) -> tuple[int, float, float]:
    """(legend columns, legend width, figure width) in pixels, drawn."""
    fig, grid = panel_grid(1, 1, 2.0, Margins())
    ax = grid[0, 0]
    handles = [ax.plot([0, 1], [i, i], label=label)[0] for i, label in enumerate(labels)]
    before = ax.get_position().height * fig.get_figheight()
    legend_below(fig, grid, handles)
    assert ax.get_position().height * fig.get_figheight() == pytest.approx(before)
    fig.canvas.draw()
    legend = fig.legends[0]
    box = legend.get_window_extent()
    assert box.y0 >= -1  # not below the figure
    assert box.y1 <= ax.get_window_extent().y0  # below the panel, not over its tick labels
    return legend._ncols, box.width, fig.bbox.width


def test_short_labels_take_every_column():
    columns, width, figure = _legend_inside_figure(SHORT)
    assert columns == LEGEND_COLUMNS
    assert width <= figure


def test_long_labels_take_fewer_columns_and_stay_inside_the_figure():
    assert legend_columns(LONG) < LEGEND_COLUMNS
    columns, width, figure = _legend_inside_figure(SHORT[:1] + LONG)
    assert 1 <= columns < LEGEND_COLUMNS
    assert width <= figure


def test_text_width_grows_with_the_text():
    assert text_width_in([], 8) == 0.0
    assert 0 < text_width_in(["gpu"], 8) < text_width_in(["network_switch_cable"], 8)
    assert text_width_in(["x" * 200], 7) > FIGURE_WIDTH_IN


def test_drawn_ticks_label_the_axis_without_matplotlib_ticks():
    """Grid lines and labels at the given positions; matplotlib makes no tick of its own, and
    the y label sits left of the widest drawn label, not over it."""
    import datetime as dt

    from planner.reports.grid import date_ticks, drawn_ticks, drawn_ylabel, integer_ticks

    fig, grid = panel_grid(1, 1, 2.0, Margins())
    ax = grid[0, 0]
    first, last = dt.datetime(2027, 1, 1), dt.datetime(2027, 12, 31)
    ax.plot([first, last], [0.0, 1234.0])
    ax.set_ylim(bottom=0)
    y_ticks, y_labels = integer_ticks(ax.get_ylim()[1])
    x_ticks, x_labels = date_ticks(first, last)
    drawn_ticks(ax, "y", y_ticks, y_labels)
    drawn_ticks(ax, "x", x_ticks, x_labels)
    drawn_ylabel(ax, "parts", y_labels)
    fig.canvas.draw()
    assert ax.xaxis.get_major_locator()() == [] and ax.yaxis.get_major_locator()() == []
    texts = {t.get_text(): t for t in ax.texts}
    assert y_labels[0] == "0" and "1,200" in y_labels and set(y_labels) <= set(texts)
    assert "2027" in x_labels and "Jul" in x_labels and set(x_labels) <= set(texts)
    assert all(first <= mdates_num2date(v) <= last for v in x_ticks)
    renderer = fig.canvas.get_renderer()
    widest = min(texts[t].get_window_extent(renderer).x0 for t in y_labels)
    assert ax.yaxis.label.get_window_extent(renderer).x1 < widest
    assert len(ax.collections) == 2  # one set of grid lines per axis


def test_integer_ticks_stay_within_the_range():
    from planner.reports.grid import integer_ticks

    values, labels = integer_ticks(8.4)
    assert values[0] == 0.0 and values[-1] <= 8.4 and all(v == int(v) for v in values)
    assert integer_ticks(0.0) == ([0.0], ["0"])


def mdates_num2date(value: float):
    from matplotlib.dates import num2date

    return num2date(value).replace(tzinfo=None)
