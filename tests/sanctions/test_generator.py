"""The sanction-path generator: sampled frequencies reproduce the hazards (closed forms, within
the binomial interval), lifts and durations act as documented, seeds make it reproducible."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from planner.catalog.policy_events import hazard_estimate, load_policy_events
from planner.sanctions.generator import resolve_events, sample_paths
from planner.scenario.schema import Sanctions

QUARTERS = [f"2027Q{q}" for q in range(1, 5)] + [f"2028Q{q}" for q in range(1, 5)]
PATHS = 20_000
# each quarter's frequency is checked at family-wise level 1e-3 (Bonferroni over the quarters)
ALPHA = 1e-3


def _paths(events: list[dict], paths: int = PATHS, seed: int = 11):
    resolved = resolve_events(Sanctions(events=events, paths=paths))
    return sample_paths(resolved, QUARTERS, paths, seed)


def _within_binomial(hits: int, n: int, p: float, tests: int) -> bool:
    return stats.binomtest(hits, n, p).pvalue > ALPHA / tests


def test_a_one_quarter_block_strikes_each_quarter_at_its_hazard():
    rate = 0.3
    sampled = _paths([{"type": "vendor_node_block", "vendors": ["Nvidia"],
                       "hazard_per_quarter": rate, "duration_quarters": 1}])
    nodes = sampled.values[:, :, sampled.features.index(("nodes", "Nvidia"))]
    parts = sampled.values[:, :, sampled.features.index(("parts", "Nvidia"))]
    assert np.array_equal(nodes, parts)  # a node block cuts parts too by default
    p = 1 - math.exp(-rate)
    for t in range(len(QUARTERS)):
        assert _within_binomial(int(nodes[:, t].sum()), PATHS, p, len(QUARTERS)), t


def test_a_permanent_block_in_force_by_quarter_t_is_one_minus_survival():
    rate = 0.2
    sampled = _paths([{"type": "vendor_node_block", "vendors": ["Nvidia"],
                       "hazard_per_quarter": rate, "with_parts": False}])
    assert ("parts", "Nvidia") not in sampled.features
    nodes = sampled.values[:, :, 0]
    assert np.all(np.diff(nodes, axis=1) >= 0)  # never lifted: once blocked, blocked
    for t in range(len(QUARTERS)):
        p = 1 - math.exp(-rate * (t + 1))
        assert _within_binomial(int(nodes[:, t].sum()), PATHS, p, len(QUARTERS)), t


def test_lifts_follow_the_two_state_recursion():
    """b_t = strike or (b_{t-1} and no lift): P_t = s + (1 - s)(1 - l) P_{t-1}."""
    strike, lift = 0.4, 0.3
    sampled = _paths([{"type": "vendor_node_block", "vendors": ["Nvidia"],
                       "hazard_per_quarter": strike},
                      {"type": "block_lifted", "vendors": ["Nvidia"], "hazard_per_quarter": lift}])
    nodes = sampled.values[:, :, sampled.features.index(("nodes", "Nvidia"))]
    s, ell = 1 - math.exp(-strike), 1 - math.exp(-lift)
    p = 0.0
    for t in range(len(QUARTERS)):
        p = s + (1 - s) * (1 - ell) * p
        assert _within_binomial(int(nodes[:, t].sum()), PATHS, p, len(QUARTERS)), t
    assert np.any(np.diff(nodes, axis=1) < 0)  # some blocks were lifted


def test_caps_and_premiums_last_their_duration_and_take_their_factor():
    sampled = _paths([{"type": "domestic_output_cap", "vendors": ["Huawei"],
                       "hazard_per_quarter": 0.25, "volume_factor": 0.6, "duration_quarters": 2},
                      {"type": "price_premium", "vendors": ["Nvidia"],
                       "hazard_per_quarter": 0.1, "price_factor": 1.5, "duration_quarters": 3}],
                     paths=4000)
    volume = sampled.values[:, :, sampled.features.index(("volume", "Huawei"))]
    price = sampled.values[:, :, sampled.features.index(("price", "Nvidia"))]
    assert set(np.unique(volume)) <= {0.6, 1.0} and set(np.unique(price)) <= {1.0, 1.5}
    # in force at t iff a strike in t-d+1..t: P = 1 - exp(-rate min(d, t+1))
    for series, rate, d in ((volume < 1, 0.25, 2), (price > 1, 0.1, 3)):
        for t in range(len(QUARTERS)):
            p = 1 - math.exp(-rate * min(d, t + 1))
            assert _within_binomial(int(series[:, t].sum()), 4000, p, 2 * len(QUARTERS)), t


def test_the_same_seed_gives_the_same_paths_and_another_seed_others():
    events = [{"type": "vendor_node_block", "vendors": ["Nvidia"], "hazard_per_quarter": 0.3}]
    a, b = _paths(events, 500, seed=3), _paths(events, 500, seed=3)
    c = _paths(events, 500, seed=4)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)


def test_defaults_come_from_the_library_with_their_interval():
    resolved = resolve_events(Sanctions(events=[
        {"type": "vendor_node_block", "vendors": ["Nvidia"]},
        {"type": "price_premium", "vendors": ["Nvidia"]}]))
    want = hazard_estimate(load_policy_events(), "vendor_node_block", ["Nvidia"])
    assert resolved[0].rate_per_quarter == pytest.approx(want.rate_per_quarter)
    assert resolved[0].ci95 == want.ci95 and "policy-event library" in resolved[0].rate_source
    assert resolved[1].factor > 1 and "median" in resolved[1].factor_source
