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
