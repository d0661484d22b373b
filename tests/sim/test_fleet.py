"""Node states of a pool: counters, time integrals, the repair backlog and the retirement rule."""

from __future__ import annotations

import numpy as np
import pytest

from planner.sim.fleet import N_STATES, Backlog, NodeState, PoolState

DAY = 24.0


def test_counters_and_integrals_follow_every_state_change():
    backlog = Backlog()
    pool = PoolState("p", "H800", 4, np.zeros(4, dtype=bool), backlog)
    pool.install(3, 0.0)
    pool.set_state(0, NodeState.BUSY, 1.0)
    pool.set_state(1, NodeState.IN_REPAIR, 2.0)
    pool.set_state(2, NodeState.WAITING_PARTS, 2.0)
    pool.set_state(1, NodeState.RETIRED, 5.0)
    pool.finish(10.0)
    assert pool.count == [pool.state.count(bytes([s])) for s in range(N_STATES)]
    assert pool.count[NodeState.ABSENT] == 1 and pool.count[NodeState.RETIRED] == 1
    assert pool.healthy == 1 and pool.installed == 3
    assert pool.healthy_node_hours == pytest.approx(3 * 2.0 + 1 * 8.0)
    assert pool.installed_node_hours == pytest.approx(3 * 10.0)
    assert backlog.count == 1 and backlog.max == 2
    assert pool.counts_snapshot() == (1, 0, 1, 1, 3)


def test_take_idle_skips_nodes_that_left_the_idle_state():
    pool = PoolState("p", "H800", 3, np.zeros(3, dtype=bool), Backlog())
    pool.install(3, 0.0)
    pool.set_state(2, NodeState.BUSY, 0.0)
    assert pool.take_idle() == 1 and pool.take_idle() == 0 and pool.take_idle() is None


def test_retirement_window_counts_failure_times_not_repair_ends():
    pool = PoolState("p", "H800", 1, np.zeros(1, dtype=bool), Backlog(), retire_failures=3,
                     retire_window_hours=30 * DAY)
    should_retire = pool.record_failure_and_check_retirement
    assert not should_retire(0, 0 * DAY, 25 * DAY)
    assert not should_retire(0, 40 * DAY, 40.1 * DAY)
    assert not should_retire(0, 50 * DAY, 50.1 * DAY)  # day 0 is outside the window
    assert should_retire(0, 55 * DAY, 56 * DAY)
