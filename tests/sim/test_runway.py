"""Runway under a parts block (planner/sim/runway.py): the days from a block of a pool's parts
until its node availability falls below 90 %, 80 % and 50 %, against the exponential decay of a
fleet without spares, monotone in the stockpile on common random numbers, censored where the
threshold is not crossed, and only for pools a block can reach."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.metrics import RUNWAY_THRESHOLDS, runway_key
from planner.runway import runway_table
from planner.scenario.loader import load_scenario
from planner.sim.model import simulate
from planner.sim.runway import block_span, crossings
from planner.sim.setup import build_setup
from planner.sim.shocks import DELIVERIES, NODES, ORDERS, ShockWindow
from tests.conftest import load
from tests.sim.scenarios import START, parts_block_decay

# sqrt(pi / 2): the asymptotic standard error of a sample median over that of the mean (normal)
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)
Z = 4.0  # standard errors allowed: a fixed-seed test that fails by chance about once in 16,000


def _metrics(data: dict, replications: int, sets: tuple[str, ...] = ()) -> pd.DataFrame:
    loaded = load(data, sets)
    setup = build_setup(loaded.scenario, loaded.catalog)
    return pd.DataFrame([simulate(setup, i).metrics for i in range(replications)])


def _runway(metrics: pd.DataFrame, pool: str = "p") -> pd.DataFrame:
    return runway_table(metrics).set_index("threshold").loc[list(RUNWAY_THRESHOLDS)].assign(
        pool=pool)


def test_median_runway_without_spares_matches_the_exponential_decay():
    """No spares and no part during the block: each node's lifetime is Exp(r), availability
    decays like exp(-r t), and the time to fall below theta is about -ln(theta) / r. The
    simulated crossing is the (floor(N (1 - theta)) + 1)-th of N exponential lifetimes, whose
    mean exceeds -ln(theta) / r by less than `discreteness` and whose standard deviation is
    about sqrt((1 - theta) / (theta N)) / r; the daily sample finds it up to one step later.
    The median over R replications has a standard error of sqrt(pi / 2) sd / sqrt(R)."""
    nodes, rate, replications, step = 2000, 0.002, 60, 1.0
    metrics = _metrics(parts_block_decay(nodes, rate, horizon_days=400), replications)
    table = _runway(metrics)
    for theta in RUNWAY_THRESHOLDS:
        row = table.loc[theta]
        expected = -math.log(theta) / rate
        failures = math.floor(nodes * (1 - theta)) + 1
        exact_mean = sum(1.0 / (nodes - i) for i in range(failures)) / rate
        discreteness = exact_mean - expected
        sd = math.sqrt((1 - theta) / (theta * nodes)) / rate
        tolerance = Z * MEDIAN_SE_FACTOR * sd / math.sqrt(replications)
        assert row["n"] == replications and row["censored"] == 0
        assert not row["p50_censored"]
        assert expected - tolerance <= row["p50"] <= expected + discreteness + step + tolerance, (
            theta, row["p50"], expected, tolerance)
        assert tolerance < 0.05 * expected  # the check is tight enough to mean something


@pytest.mark.parametrize("stocks", [(0, 1, 2, 3), (0, 50, 100, 200, 400)])
def test_more_spares_never_shorten_the_runway_on_common_random_numbers(stocks):
    """The same replications (same seed) with more boards on the shelf when the block comes:
    in each replication, every threshold is crossed no sooner; so are the percentiles."""
    replications = 30
    shock = {"name": "block", "vendor": "Nvidia", "date": "2027-01-11"}
    runs = {s: _metrics(parts_block_decay(200, 0.005, horizon_days=600, stock=s, shock=shock),
                        replications) for s in stocks}
    columns = [f"runway.days.{runway_key('p', t)}" for t in RUNWAY_THRESHOLDS]
    for less, more in zip(stocks, stocks[1:], strict=False):
        assert (runs[more][columns].to_numpy() >= runs[less][columns].to_numpy()).all(), (
            less, more)
        low, high = _runway(runs[less]), _runway(runs[more])
        for q in ("p10", "p50", "p90"):
            assert (high[q] >= low[q]).all(), (less, more, q)
    first, last = _runway(runs[stocks[0]]), _runway(runs[stocks[-1]])
    assert (last["p50"] > first["p50"]).all()  # the stock matters: a test that can fail


def test_example_runway_percentiles_grow_with_the_board_stockpile():
    """scenarios/h800-runway.yaml on common random numbers at 0, 0.5 and 1 spare board per
    node (the study's first levels): the runway's P10, P50 and P90 never shrink."""
    previous = None
    for stock in (0, 640, 1280):
        loaded = load_scenario("scenarios/h800-runway.yaml", (
            f"cluster.spares.items[0].initial_stock={stock}", "horizon_days=2500"))
        setup = build_setup(loaded.scenario, loaded.catalog)
        table = _runway(pd.DataFrame([simulate(setup, i).metrics for i in range(8)]), "h800")
        if previous is not None:
            for q in ("p10", "p50", "p90"):
                assert (table[q] >= previous[q]).all(), (stock, q)
                # censored before: still censored (the same replications, the same watch)
                was = previous[f"{q}_censored"].astype(bool)
                assert (table[f"{q}_censored"].astype(bool) | ~was).all()
            assert (table["p50"] > previous["p50"] + 365).all()  # 640 boards: > a year
        previous = table


def test_a_threshold_not_crossed_within_the_horizon_is_censored_at_the_days_watched():
    """A block at day 10 of a 100-day run: 90 % is crossed about 53 days in; 80 % (about 112
    days) and 50 % (about 347) are not: their runway holds the 90 days watched, censored, and
    their percentiles are `> 90 days`."""
    shock = {"name": "block", "vendor": "Nvidia", "date": "2027-01-11"}
    metrics = _metrics(parts_block_decay(2000, 0.002, horizon_days=100, shock=shock), 10)
    k90, k80, k50 = (runway_key("p", t) for t in RUNWAY_THRESHOLDS)
    assert (metrics[f"runway.censored.{k90}"] == 0).all()
    assert (metrics[f"runway.days.{k90}"] < 90).all()
    for key in (k80, k50):
        assert (metrics[f"runway.censored.{key}"] == 1).all()
        assert np.allclose(metrics[f"runway.days.{key}"], 90.0)
    table = _runway(metrics)
    assert list(table["censored_share"]) == [0.0, 1.0, 1.0]
    for theta in RUNWAY_THRESHOLDS[1:]:
        for q in ("p10", "p50", "p90"):
            assert table.loc[theta, f"{q}_censored"] and table.loc[theta, q] == 90.0


def test_a_block_that_ends_stops_the_watch_and_a_random_date_sets_its_own_start():
    """A 30-day block at a random date: no threshold is crossed while it lasts (the first
    needs about 53 days), so each replication is censored at 30 days, whatever its start."""
    shock = {"name": "block", "vendor": "Nvidia", "window_start_date": "2027-01-05",
             "window_end_date": "2027-03-01", "duration_days": 30}
    metrics = _metrics(parts_block_decay(2000, 0.002, horizon_days=200, shock=shock), 6)
    for theta in RUNWAY_THRESHOLDS:
        key = runway_key("p", theta)
        assert (metrics[f"runway.censored.{key}"] == 1).all()
        assert np.allclose(metrics[f"runway.days.{key}"], 30.0)


@pytest.mark.parametrize(("shock", "exposed"), [
    ({"vendor": "Nvidia"}, True),
    ({"vendor": "Nvidia", "parts": ["gpu_board"]}, True),
    ({"vendor": "Nvidia", "parts": ["nic"]}, False),  # nic never fails here
    ({"vendor": "Huawei"}, False),  # not the H800's vendor
    ({"vendor": "Nvidia", "block_orders": False, "block_deliveries": False,
      "block_rma": False}, False),  # node deliveries only: no parts block
    ({"vendor": "Nvidia", "block_orders": False, "block_rma": False}, True),
])
def test_only_pools_whose_parts_a_shock_blocks_have_a_runway(shock, exposed):
    data = parts_block_decay(100, 0.002, horizon_days=30,
                  shock={"name": "s", "date": START, **shock})
    metrics = _metrics(data, 1)
    names = [c for c in metrics.columns if c.startswith("runway.")]
    assert bool(names) == exposed
    if exposed:
        assert len(names) == 2 * len(RUNWAY_THRESHOLDS)


def test_a_block_outside_the_run_leaves_the_runway_undefined():
    """A shock that does not happen, or starts after the horizon: NaN, not a runway."""
    for shock in ({"name": "s", "vendor": "Nvidia", "date": START, "probability": 0.0},
                  {"name": "s", "vendor": "Nvidia", "date": "2027-06-01"}):
        metrics = _metrics(parts_block_decay(100, 0.002, horizon_days=30, shock=shock), 2)
        runway = metrics[[c for c in metrics.columns if c.startswith("runway.")]]
        assert runway.shape[1] == 2 * len(RUNWAY_THRESHOLDS) and runway.isna().all().all()


def _window(start: float, end: float, vendor: str = "Nvidia", parts=None,
            blocks=(ORDERS, DELIVERIES)) -> ShockWindow:
    return ShockWindow("w", vendor, parts, start, end, frozenset(blocks), 1.0, 1.0)


def test_block_span_joins_overlapping_blocks_and_starts_a_past_block_at_zero():
    supplied = (("gpu_board", "Nvidia"),)
    windows = [_window(500.0, 900.0), _window(800.0, 1200.0), _window(1300.0, math.inf)]
    assert block_span(windows, supplied, 5000.0) == (500.0, 1200.0)
    assert block_span([_window(-100.0, 50.0)], supplied, 5000.0) == (0.0, 50.0)
    assert block_span([_window(-100.0, -50.0)], supplied, 5000.0) is None
    assert block_span([_window(6000.0, math.inf)], supplied, 5000.0) is None
    assert block_span([_window(0.0, 10.0, blocks=(NODES,))], supplied, 5000.0) is None
    assert block_span([_window(0.0, 10.0, parts=frozenset({"nic"}))], supplied, 5000.0) is None


def test_crossing_is_the_first_sample_below_the_threshold_while_the_block_lasts():
    days = np.arange(0.0, 10.0)
    availability = np.array([1.0, 0.95, 0.85, 0.92, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    # the block starts at day 1.5: the sample at day 2 (0.85) is the first below 0.9
    assert crossings(days, availability, 1.5, 9.0, (0.9,), run_ends=True) == [(0.5, False)]
    # a dip before the block does not count; below 0.5 first at day 6
    assert crossings(days, availability, 0.0, 9.0, (0.5,), run_ends=True) == [(6.0, False)]
    # the block ends at day 6 (exclusive): 0.5 is never crossed while it lasts
    assert crossings(days, availability, 0.0, 6.0, (0.5,), run_ends=False) == [(6.0, True)]
    # the run ends at day 6 with the block on: its last sample counts
    assert crossings(days[:7], availability[:7], 0.0, 6.0, (0.5,), run_ends=True) == [
        (6.0, False)]
    # no node installed (NaN) is never below
    nan = np.full(3, np.nan)
    assert crossings(days[:3], nan, 0.0, 2.0, (0.9,), run_ends=True) == [(2.0, True)]
