"""Statistics over replications (planner/stats.py): Kaplan-Meier and the quantiles of
right-censored times, against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.stats import censored_quantile, kaplan_meier


def test_kaplan_meier_by_hand():
    # times 1..5, 2 and 5 censored: at 1, 5 at risk -> 4/5; at 3, 3 at risk (3, 4, 5) -> x 2/3;
    # at 4, 2 at risk -> x 1/2
    events, survival = kaplan_meier([1, 2, 3, 4, 5], [False, True, False, False, True])
    assert list(events) == [1, 3, 4]
    assert survival == pytest.approx([0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2])


def test_a_censored_time_tied_with_an_event_is_still_at_risk_at_it():
    events, survival = kaplan_meier([2, 2, 3], [False, True, False])
    assert list(events) == [2, 3] and survival == pytest.approx([2 / 3, 0.0])


def test_the_median_of_censored_times_is_neither_the_dropped_nor_the_bounded_median():
    times, censored = [1, 2, 3, 4, 5], [False, True, False, False, True]
    # 1 - S: 0.2 at 1, 0.467 at 3, 0.733 at 4: the median is 4; dropping the censored times
    # (1, 3, 4) or taking their bounds as values (1..5) would both say 3
    assert censored_quantile(times, censored, 0.5) == (4.0, False)
    assert censored_quantile(times, censored, 0.2) == (1.0, False)


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.9, 1.0])
def test_without_censoring_the_quantile_is_the_ceil_q_n_th_smallest_value(q):
    values = np.random.default_rng(5).exponential(10.0, 37)
    expected = np.sort(values)[math.ceil(q * values.size) - 1]
    assert censored_quantile(values, np.zeros(values.size, bool), q) == (expected, False)


def test_a_quantile_not_reached_is_censored_at_the_longest_time_watched():
    # one event of three: 1 - S reaches 1/3 only, so the median is more than 7 (the longest)
    assert censored_quantile([1, 7, 3], [False, True, True], 0.5) == (7.0, True)
    assert censored_quantile([4, 6], [True, True], 0.1) == (6.0, True)


def test_missing_times_are_left_out():
    assert censored_quantile([np.nan, 2.0, 4.0], [False, False, False], 0.5) == (2.0, False)
    value, censored = censored_quantile([np.nan], [False], 0.5)
    assert math.isnan(value) and not censored


def test_the_interval_of_the_mean_is_cut_to_the_values_the_metric_can_take():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from planner.metrics import SIMULATION_METRICS, bounds_of
    from planner.stats import describe, relative_half_width

    ettr = [0.334 - 0.067, 0.334 + 0.067]  # two replications: t(1) = 12.7
    plain, cut = describe(ettr)["ci95"], describe(ettr, bounds_of("ettr.pretrain-8k"))["ci95"]
    assert plain[0] < 0 and plain[1] > 1
    assert cut == [0.0, 1.0]
    counts = describe([100.0, 1_000.0], bounds_of("interruptions.total"))["ci95"]
    assert counts[0] == 0.0 and counts[1] == describe([100.0, 1_000.0])["ci95"][1]
    assert bounds_of("plan.objective") is None and bounds_of("no.such.metric") is None
    # every simulation metric counts or measures something; fractions are at most 1
    for metric in SIMULATION_METRICS:
        assert metric.bounds == ((0.0, 1.0) if metric.unit == "fraction" else (0.0, math.inf))
    # adaptive stopping reads the plain interval: cutting it must not stop a run early
    assert relative_half_width(ettr) == pytest.approx((plain[1] - plain[0]) / 2 / 0.334)

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30))
    def cut_interval_holds_the_mean(values):
        d = describe(values, (0.0, 1.0))
        low, high = d["ci95"]
        assert 0.0 <= low <= d["mean"] <= high <= 1.0
        assert [low, high] == [max(0.0, describe(values)["ci95"][0]),
                               min(1.0, describe(values)["ci95"][1])]

    cut_interval_holds_the_mean()
