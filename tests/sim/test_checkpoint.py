"""Checkpoint arithmetic against Young/Daly and its own invariants."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.sim.checkpoint import (
    daly_interval_hours,
    expected_ettr,
    split_segment,
    wall_hours_for_work,
    young_interval_hours,
)


@pytest.mark.parametrize(
    ("mtbf_hours", "expected_minutes"),
    [(24.0, 117.0), (6.0, 57.0), (0.25, 9.1)],  # Daly (2006) worked examples, delta = 5 min
)
def test_daly_matches_published_examples(mtbf_hours, expected_minutes):
    tau = daly_interval_hours(5 / 60, mtbf_hours) * 60
    assert tau == pytest.approx(expected_minutes, abs=0.6)


def test_young_is_first_order_daly():
    assert young_interval_hours(0.1, 10) == pytest.approx(math.sqrt(2.0))
    assert daly_interval_hours(0.1, 10) == pytest.approx(1.4142 * (1 + 0.0707 / 3 + 0.005 / 9) - 0.1,
                                                         rel=1e-3)


def test_daly_maximises_closed_form_ettr():
    lam, delta, r = 0.1, 0.1, 0.25
    taus = [0.2 + 0.001 * i for i in range(4000)]
    best = max(taus, key=lambda t: expected_ettr(t, delta, r, lam))
    assert daly_interval_hours(delta, 1 / lam) == pytest.approx(best, rel=0.01)


@given(
    elapsed=st.floats(0, 1e4, allow_nan=False),
    interval=st.floats(0.01, 50),
    write=st.floats(0, 5),
)
def test_segment_split_adds_up(elapsed, interval, write):
    seg = split_segment(elapsed, interval, write)
    assert seg.saved_hours + seg.unsaved_hours + seg.write_hours == pytest.approx(elapsed, abs=1e-6)
    assert 0 <= seg.unsaved_hours <= interval + 1e-9
    assert seg.saved_hours >= 0 and seg.write_hours >= 0


@given(work=st.floats(0.01, 1e4), interval=st.floats(0.01, 50), write=st.floats(0, 5))
def test_wall_time_for_work_gives_back_the_work(work, interval, write):
    wall = wall_hours_for_work(work, interval, write)
    seg = split_segment(wall, interval, write)
    assert seg.saved_hours + seg.unsaved_hours == pytest.approx(work, rel=1e-9, abs=1e-6)
