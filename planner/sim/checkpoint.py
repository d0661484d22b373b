"""Checkpoint arithmetic: the optimum interval and what a failure costs, without checkpoint events.

A running job alternates `interval` hours of compute with `write` hours of checkpoint writing.
Work lost at a failure is computed from the time since the segment started, so a job costs one
event per interruption, not one per checkpoint.
"""

from __future__ import annotations

import math
from typing import NamedTuple


def young_interval_hours(write_hours: float, mtbf_hours: float) -> float:
    """Young (1974): tau = sqrt(2 * delta * M)."""
    return math.sqrt(2.0 * write_hours * mtbf_hours)


def daly_interval_hours(write_hours: float, mtbf_hours: float) -> float:
    """Daly (2006) eq. 37: sqrt(2dM)[1 + (d/2M)^0.5/3 + (d/2M)/9] - d for d < 2M, else M."""
    d, m = write_hours, mtbf_hours
    if d <= 0:
        return 0.0
    if d >= 2.0 * m:
        return m
    x = d / (2.0 * m)
    return math.sqrt(2.0 * d * m) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - d


def expected_ettr(
    interval_hours: float, write_hours: float, restart_hours: float, rate_per_hour: float
) -> float:
    """Closed-form ETTR for exponential failures hitting compute, writes and restarts alike.

    A segment of `interval + write` hours completes in expected time
    e^{rate R} (e^{rate (tau + delta)} - 1) / rate, so ETTR = tau / that. With tau -> 0 and
    delta = 0 (continuous free checkpoints) this tends to e^{-rate R}.
    """
    lam, tau, delta, r = rate_per_hour, interval_hours, write_hours, restart_hours
    if lam <= 0:
        return tau / (tau + delta) if tau + delta > 0 else 1.0
    if tau <= 0:
        return math.exp(-lam * r) if delta == 0 else 0.0
    return tau * lam * math.exp(-lam * r) / math.expm1(lam * (tau + delta))


class SegmentOutcome(NamedTuple):
    """How the hours of one uninterrupted run segment split up."""

    saved_hours: float  # compute protected by a completed checkpoint (or finished)
    unsaved_hours: float  # compute since the last checkpoint
    write_hours: float  # time spent writing checkpoints (completed or cut short)


def split_segment(elapsed_hours: float, interval_hours: float, write_hours: float) -> SegmentOutcome:
    """Split `elapsed` hours of a segment that started right after a (re)start or checkpoint."""
    if interval_hours <= 0:  # continuous, free checkpointing
        return SegmentOutcome(elapsed_hours, 0.0, 0.0)
    if math.isinf(interval_hours):  # never checkpoints: everything since the start is unsaved
        return SegmentOutcome(0.0, elapsed_hours, 0.0)
    cycle = interval_hours + write_hours
    done = math.floor(elapsed_hours / cycle)
    rest = max(elapsed_hours - done * cycle, 0.0)  # floor() of a rounded quotient can overshoot
    if rest > interval_hours:  # cut while writing: that compute is not yet protected
        return SegmentOutcome(
            done * interval_hours, interval_hours, done * write_hours + rest - interval_hours
        )
    return SegmentOutcome(done * interval_hours, rest, done * write_hours)


def wall_hours_for_work(work_hours: float, interval_hours: float, write_hours: float) -> float:
    """Wall time to compute `work` hours from a fresh segment (no checkpoint after the last bit)."""
    if interval_hours <= 0 or work_hours <= 0 or math.isinf(work_hours):
        return max(work_hours, 0.0)
    checkpoints = math.ceil(work_hours / interval_hours - 1e-12) - 1
    return work_hours + max(checkpoints, 0) * write_hours
