"""Forward tree construction: exact when K >= N, a tree (nested nodes) whose leaf probabilities
are the mass moved onto them, at most K leaves, and a distance that is the transport cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.scenario_tree import forward_tree


def _random_paths(seed: int, n: int = 300, stages: int = 6, features: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, stages, features)) < 0.2).cumsum(axis=1).clip(0, 1).astype(float)


def test_the_tree_is_exact_when_k_is_at_least_the_distinct_paths():
    values = _random_paths(1)
    p = np.full(len(values), 1 / len(values))
    distinct, counts = np.unique(values.reshape(len(values), -1), axis=0, return_counts=True)
    tree = forward_tree(values, p, leaves=len(values))
    assert tree.distance == 0.0 and len(tree.probabilities) == len(distinct)
    got = {tuple(v.reshape(-1)): q for v, q in zip(tree.values, tree.probabilities, strict=True)}
    want = {tuple(v): c / len(values) for v, c in zip(distinct, counts, strict=True)}
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k]) for k in want)
    assert np.array_equal(tree.values[tree.leaf_of], values)  # every path is its own leaf


def _check_tree(values, p, leaves):
    tree = forward_tree(values, p, leaves)
    k = len(tree.probabilities)
    assert 1 <= k <= max(leaves, 1)
    assert tree.probabilities.sum() == pytest.approx(p.sum())
    assert np.allclose(np.bincount(tree.leaf_of, weights=p, minlength=k), tree.probabilities)
    # nested: the number of distinct leaf prefixes up to t is the stage's node count
    for t, count in enumerate(tree.nodes_per_stage):
        prefixes = np.unique(tree.values[:, : t + 1].reshape(k, -1), axis=0)
        assert len(prefixes) == count
    assert list(tree.nodes_per_stage) == sorted(tree.nodes_per_stage)
    moved = np.abs(values - tree.values[tree.leaf_of]).sum(axis=(1, 2))
    assert tree.distance == pytest.approx(float(p @ moved))
    return tree


@pytest.mark.parametrize("leaves", [1, 2, 5, 20, 80])
def test_a_reduced_tree_is_a_tree_of_at_most_k_leaves(leaves):
    values = _random_paths(2)
    tree = _check_tree(values, np.full(len(values), 1 / len(values)), leaves)
    if leaves == 1:
        assert tree.nodes_per_stage == (1,) * values.shape[1]
    assert tree.distance <= tree.distance_single + 1e-12 or leaves == 1


def test_more_leaves_move_less_mass():
    values = _random_paths(3, n=500)
    p = np.full(len(values), 1 / len(values))
    distances = [forward_tree(values, p, k).distance for k in (1, 10, 50, 200)]
    assert distances == sorted(distances, reverse=True) and distances[-1] < distances[0] / 2


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 3), st.integers(1, 60),
       st.integers(0, 10_000))
def test_any_sample_gives_a_consistent_tree(n, stages, features, leaves, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, size=(n, stages, features)).astype(float)
    p = rng.random(n) + 0.01
    p /= p.sum()
    _check_tree(values, p, leaves)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 60), stages=st.integers(1, 5),
       features=st.integers(1, 3), levels=st.sampled_from([2, 3, 7, 0]))
def test_history_distances_are_the_path_distances_to_the_last_bit(seed, n, stages, features,
                                                                   levels):
    """The tree keeps d_t between distinct histories: against the plain sums over every pair
    of paths, feature by feature, each path pair must read the very same float (so the tree is
    the one the n x n sums give, ties included)."""
    from solvers.scenario_tree import _extend_histories

    rng = np.random.default_rng(seed)
    xi = (rng.integers(0, levels, size=(n, stages, features)) * 0.1 if levels
          else rng.normal(size=(n, stages, features)))
    history = np.zeros(n, dtype=np.int64)
    between = np.zeros((1, 1))
    plain = np.zeros((n, n))
    for t in range(stages):
        step = xi[:, t, :]
        for f in range(features):
            plain += np.abs(step[:, None, f] - step[None, :, f])
        history, between, first = _extend_histories(history, between, step)
        assert np.array_equal(between[history[:, None], history[None, :]], plain)
        assert np.array_equal(history[first], np.arange(len(first)))  # one path per history
        assert len(first) == len(np.unique(xi[:, : t + 1].reshape(n, -1), axis=0))
