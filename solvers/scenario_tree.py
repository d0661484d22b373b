"""Scenario-tree construction from sampled paths: forward tree construction (Heitsch and
Roemisch, "Scenario tree modeling for multistage stochastic programs", Math. Program. 118,
2009, section 3), with fast forward selection (Heitsch and Roemisch, Comput. Optim. Appl. 24,
2003) as the reduction at each stage.

Paths are arrays xi[i, t, f] with probabilities p_i. Stage by stage, the paths of each node of
stage t-1 are split into children: the children's representatives are chosen greedily to
minimize sum_i p_i min_{j selected} d_t(i, j), where d_t(i, j) = sum_{tau <= t} |xi_i,tau -
xi_j,tau|_1 and i, j must share their stage-(t-1) node. Stage t (of T) keeps
K_t = min(m_t, max(K_{t-1}, ceil(K n_t / N), ceil(K^(t/T)))) nodes, n_t being the number of
distinct histories up to t among the N distinct paths and m_t the distinct (node, value) pairs:
every stage keeps at least the share K/N of its histories, so the tree is exact when K >= N, and
at least a geometric share of the leaves, so that the first quarters, on which the first-stage
decisions hinge, still branch when K is much smaller than N. A node's value at t is
its representative's; the distance reported is sum_i p_i sum_t |xi_i,t - node value|_1, the
transport cost of moving every path onto the tree (an upper bound on the Kantorovich distance
between the two laws).

numpy only: the library knows nothing of what the paths mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScenarioTree:
    """A reduced tree: leaf paths (node values along each leaf), their probabilities, the leaf
    of every input path, and how far the tree is from the sample."""

    values: np.ndarray  # [K, T, F]: the node values along each leaf's path
    probabilities: np.ndarray  # [K]
    leaf_of: np.ndarray  # [N]: the leaf each input path was moved onto
    nodes_per_stage: tuple[int, ...]
    distance: float  # sum_i p_i sum_t |xi_i,t - tree value|_1
    distance_single: float  # the same for the best single path (a one-leaf tree)
    distinct_paths: int  # distinct input paths

    @property
    def relative_distance(self) -> float:
        """distance / distance_single (0 exact, 1 no better than one path)."""
        return self.distance / self.distance_single if self.distance_single > 0 else 0.0


def _distinct(values: np.ndarray, probabilities: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct paths, their summed probabilities, the distinct index of each input path)."""
    flat = values.reshape(len(values), -1)
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    prob = np.bincount(inverse, weights=probabilities, minlength=len(unique))
    return unique.reshape((len(unique), *values.shape[1:])), prob, inverse


def _groups(keys: np.ndarray) -> np.ndarray:
    """Group id of each row of `keys` (equal rows, equal ids; ids in first-seen order)."""
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # renumber by first appearance (deterministic)
    return order[inverse.reshape(-1)]


def _select(cost: np.ndarray, prob: np.ndarray, cluster: np.ndarray, wanted: int) -> np.ndarray:
    """Fast forward selection restricted to clusters: indices of `wanted` representatives
    among the rows (at least one per cluster), chosen greedily to minimize
    sum_i prob_i min_{j selected, cluster j = cluster i} cost[i, j]."""
    clusters = np.unique(cluster)
    members = {int(c): np.flatnonzero(cluster == c) for c in clusters}
    best = np.full(len(prob), np.inf)  # each row's distance to its nearest representative
    selected: list[int] = []
    gains: dict[int, tuple[float, int]] = {}  # cluster -> (best gain, its candidate)
    for rows in members.values():  # first one per cluster: its probability-weighted median
        sub = cost[np.ix_(rows, rows)]
        j = int(rows[np.argmin(prob[rows] @ sub)])
        selected.append(j)
        best[rows] = cost[rows, j]

    def refresh(c: int) -> None:
        rows = members[c]
        sub = cost[np.ix_(rows, rows)]
        gain = prob[rows] @ np.maximum(best[rows][:, None] - sub, 0.0)
        gain[np.isin(rows, selected)] = -1.0
        k = int(np.argmax(gain))
        gains[c] = (float(gain[k]), int(rows[k]))
    for c in members:
        refresh(c)
    while len(selected) < wanted:
        c = max(gains, key=lambda key: (gains[key][0], -key))
        gain, j = gains[c]
        if gain <= 0.0:
            break
        selected.append(j)
        rows = members[c]
        best[rows] = np.minimum(best[rows], cost[rows, j])
        refresh(c)
    return np.array(sorted(selected))


def _extend_histories(history: np.ndarray, distance: np.ndarray, step: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The histories one stage longer: each path's new history id (first-seen order), the
    distances d_t between the new histories (their parents' d_{t-1} plus |step difference|,
    added feature by feature as over paths), and a path of each new history."""
    extended = _groups(np.column_stack([history, step]))
    first = np.unique(extended, return_index=True)[1]
    parent = history[first]
    grown = distance[parent[:, None], parent[None, :]]
    values = step[first]
    for f in range(values.shape[1]):  # one feature at a time: h x h, not h x h x F
        grown += np.abs(values[:, None, f] - values[None, :, f])
    return extended, grown, first


def forward_tree(values: np.ndarray, probabilities: np.ndarray, leaves: int) -> ScenarioTree:
    """The tree of at most `leaves` leaves built from the paths `values[i, t, f]` with
    `probabilities` (module docstring)."""
    values = np.asarray(values, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    if values.ndim != 3 or len(values) != len(probabilities) or len(values) == 0:
        raise ValueError("values must be [paths, stages, features] with one probability each")
    if leaves < 1:
        raise ValueError("a tree has at least one leaf")
    xi, p, inverse = _distinct(values, probabilities)
    n, stages, _ = xi.shape
    # d_t between distinct histories up to the stage done, not between paths: paths with the
    # same history have the same distances, so the sums are the ones over n x n pairs, in the
    # same order (the same tree to the last bit), over far fewer pairs in the early stages
    history_distance = np.zeros((1, 1))
    history = np.zeros(n, dtype=np.int64)  # each distinct path's history id (first-seen order)
    node = np.zeros(n, dtype=np.int64)  # each distinct path's node at the last stage done
    node_values = np.zeros_like(xi)  # the value of each path's node at each stage
    nodes_per_stage = []
    for t in range(stages):
        step = xi[:, t, :]
        history, history_distance, first = _extend_histories(history, history_distance, step)
        pairs = _groups(np.column_stack([node, step]))
        m_t = int(pairs.max()) + 1
        k_t = min(m_t, max(int(node.max()) + 1, math.ceil(leaves * len(first) / n),
                           math.ceil(leaves ** ((t + 1) / stages) - 1e-9)))
        if k_t == m_t:
            child, value = pairs, step
        else:  # one candidate per history (a history belongs to one node)
            chosen = _select(history_distance, np.bincount(history, weights=p), node[first], k_t)
            reps = first[chosen]
            same_node = node[:, None] == node[reps][None, :]
            to_reps = history_distance[history[:, None], history[reps][None, :]]
            nearest = np.where(same_node, to_reps, np.inf).argmin(axis=1)
            value = step[reps][nearest]
            # children of one node with equal values are one node
            child = _groups(np.column_stack([node, value]))
        node = child
        node_values[:, t, :] = value
        nodes_per_stage.append(int(node.max()) + 1)
    leaf_count = nodes_per_stage[-1]
    first_of_leaf = np.unique(node, return_index=True)[1]
    leaf_values = node_values[first_of_leaf]
    leaf_prob = np.bincount(node, weights=p, minlength=leaf_count)
    moved = np.abs(xi - node_values).sum(axis=(1, 2))
    # the last stage's histories are the distinct paths, in their order
    single = history_distance @ p  # cost of moving every path onto path j
    return ScenarioTree(values=leaf_values, probabilities=leaf_prob, leaf_of=node[inverse],
                        nodes_per_stage=tuple(nodes_per_stage), distance=float(p @ moved),
                        distance_single=float(single.min()), distinct_paths=n)
