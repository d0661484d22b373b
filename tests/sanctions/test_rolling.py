"""What may come after a history (planner/sanctions/rolling.subtree): the nearest node of the
tree at the history's last quarter, its leaves with the history spliced in and conditional
probabilities, ties to the more probable node."""

from __future__ import annotations

import numpy as np
import pytest

from planner.sanctions.rolling import subtree
from solvers.scenario_tree import ScenarioTree


def _tree() -> ScenarioTree:
    # one feature, three quarters; leaves: 0 0 0 (0.5), 0 1 1 (0.2), 0 1 0 (0.1), 1 1 1 (0.2)
    values = np.array([[0, 0, 0], [0, 1, 1], [0, 1, 0], [1, 1, 1]], dtype=float)[:, :, None]
    prob = np.array([0.5, 0.2, 0.1, 0.2])
    return ScenarioTree(values=values, probabilities=prob, leaf_of=np.arange(4),
                        nodes_per_stage=(2, 3, 4), distance=0.0, distance_single=1.0,
                        distinct_paths=4)


def test_a_history_on_the_tree_gets_its_node_s_leaves_with_conditional_probabilities():
    sub = subtree(_tree(), np.array([[0.0], [1.0]]))
    assert sub.leaves == (1, 2)  # the node's leaves, by their index in the tree
    assert sub.paths[:, :, 0].tolist() == [[0, 1, 0], [0, 1, 1]]
    assert sub.probabilities == pytest.approx([1 / 3, 2 / 3])


def test_a_history_off_the_tree_goes_to_the_nearest_node_with_its_own_past():
    # (1, 0) is 1 away from (0, 0) [p 0.5], (1, 1) [p 0.2] and (0, 1) [p 0.3]: the most probable
    sub = subtree(_tree(), np.array([[1.0], [0.0]]))
    assert sub.leaves == (0,)
    assert sub.paths[:, :, 0].tolist() == [[1, 0, 0]]  # the node's future, the path's past
    assert sub.probabilities == pytest.approx([1.0])


def test_at_the_first_quarter_a_tie_goes_to_the_more_probable_node():
    sub = subtree(_tree(), np.array([[0.5]]))  # 0.5 away from both stage-0 nodes
    assert sub.leaves == (0, 1, 2)
    assert len(sub.paths) == 3 and sub.probabilities.sum() == pytest.approx(1.0)
    assert all(p[0, 0] == 0.5 for p in sub.paths)


def test_leaves_that_become_equal_once_spliced_are_merged():
    sub = subtree(_tree(), np.array([[0.0], [1.0], [0.0]]))
    assert sub.paths[:, :, 0].tolist() == [[0, 1, 0]] and sub.probabilities == pytest.approx([1.0])
