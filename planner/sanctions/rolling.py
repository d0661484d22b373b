"""The implementable rolling-horizon policy (docs/sanctions.md, "How good is the plan?").

The plan's first stage is fixed. In each quarter t of a fresh path, the planner knows the path's
history up to t and what it has already done. It finds the node of the reduced tree at stage t
nearest to that history (the tree's own distance: sum over quarters <= t of |xi - node|_1; ties
go to the more probable node), takes the subtree under it as what may come, with the path's
real history in place of the node's, and re-solves the remaining quarters on it, risk-neutral
(what solvers/evaluate.rolling_step solves): its recourse of quarter t is done, the rest is
discarded. At the last quarter the subtree is the path itself, and that solve's cost is the
policy's cost on the path.

What the policy does in quarter t depends only on the path's history up to t, so the re-solves
are one per distinct history (a trie over the M paths: 3,311 histories for 1,000 paths of the
example, not 8,000). Histories that go to the same tree node re-solve the same subtree with
other data: they are solved on one persistent model (solvers/persistent.py), built once per
node and task (up to TASK_SCENARIOS histories times leaves), whose histories differ only in
bounds and right-hand sides (each history's data, the recourse it has done). Tasks are fixed
by the paths, not by the workers: results do not depend on the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.sanctions.generator import SanctionPaths
from planner.sanctions.scenarios import scenario_of
from solvers.evaluate import Recourse
from solvers.highs import one_thread_each
from solvers.model import parameters
from solvers.persistent import (
    INFEASIBLE,
    CaseOutcome,
    Shape,
    decision_nodes,
    paths_of,
    solve_cases,
)
from solvers.problem import ProcurementInput, SolverSettings
from solvers.scenario_tree import ScenarioTree

# scenarios per task (histories times their subtree's leaves): one persistent model per tree
# node and task, solved once per history; tasks of similar work keep the workers busy to the
# end of each quarter
TASK_SCENARIOS = 400  # 1,000 paths of the example: 29 s on one worker at 200, 28 s at 400
PATH_COLUMNS = ["scenario", "weight", "feasible", "cost_usd", "shortfall_pflops_hours"]


@dataclass(frozen=True)
class _History:
    """One distinct history of the fresh paths up to a quarter, and the recourse done before."""

    values: np.ndarray  # [t + 1, F]
    weight: float  # share of the fresh paths with this history
    past: dict[str, Recourse]  # quarter -> recourse done (quarters before t)


@dataclass(frozen=True)
class Subtree:
    """What may come after a history: the tree node's leaves (their indices in the tree), and
    the paths they make with the history in place of the node's past, with their conditional
    probabilities (leaves that become equal merged)."""

    leaves: tuple[int, ...]
    paths: np.ndarray  # [n, T, F]
    probabilities: np.ndarray  # [n]


def subtree(tree: ScenarioTree, history: np.ndarray) -> Subtree:
    """The node of `tree` at stage t nearest to `history` ([t + 1, F]) and what may come under
    it (Subtree)."""
    t = len(history)
    prefix = tree.values[:, :t, :]
    distance = np.abs(prefix - history[None]).sum(axis=(1, 2))
    close = np.flatnonzero(distance <= distance.min() + 1e-9)
    node_of = np.unique(prefix[close].reshape(len(close), -1), axis=0,
                        return_inverse=True)[1].reshape(-1)
    mass = np.bincount(node_of, weights=tree.probabilities[close])
    best = np.flatnonzero(mass >= mass.max() - 1e-12)
    # ties: the node of the first (most probable) leaf among them
    first_leaf = [close[node_of == b][0] for b in best]
    chosen = best[int(np.argmin(first_leaf))]
    leaves = close[node_of == chosen]
    spliced = np.concatenate([np.broadcast_to(history, (len(leaves), *history.shape)),
                              tree.values[leaves, t:, :]], axis=1)
    unique, inverse = np.unique(spliced.reshape(len(leaves), -1), axis=0, return_inverse=True)
    prob = np.bincount(inverse.reshape(-1), weights=tree.probabilities[leaves])
    return Subtree(tuple(int(leaf) for leaf in leaves),
                   unique.reshape((len(unique), *tree.values.shape[1:])), prob / prob.sum())


def step_task(args: tuple) -> list[CaseOutcome]:
    """One task on a worker: (inputs, sanction scenarios, settings, plan, the leaves'
    conditional probabilities, per history the names of its leaves' scenarios, per history the
    recourse done, period) -> per history its outcome, with the recourse chosen in the period.
    The worker builds the optimizer's tables (`inputs(scenarios)`). Histories whose leaves tell
    themselves apart differently (decision_nodes) get a model each."""
    inputs, scenarios, settings, plan, probabilities, names, pasts, period = args
    inp = inputs(scenarios)
    P = parameters(inp)
    data = paths_of(P, inp)
    cases = [[data[name] for name in leaves] for leaves in names]
    by_shape: dict[tuple, list[int]] = {}
    for i, leaves in enumerate(names):
        by_shape.setdefault(decision_nodes(P, inp, leaves), []).append(i)
    out: list = [None] * len(cases)
    with one_thread_each(settings) as pinned:
        for nodes, members in by_shape.items():
            solved = solve_cases(inp, pinned, plan, Shape(probabilities, nodes),
                                 [cases[i] for i in members], [pasts[i] for i in members],
                                 decide=period, params=P)
            for i, outcome in zip(members, solved, strict=True):
                out[i] = outcome
    return out


def rolling_horizon(fresh: SanctionPaths, tree: ScenarioTree, plan: dict,
                    settings: SolverSettings, inputs: Callable[[list], ProcurementInput],
                    run: Callable[[Callable, list], list]) -> pd.DataFrame:
    """The policy's cost on each distinct fresh path (PATH_COLUMNS; weight = share of the
    paths). `inputs(sanction scenarios)` gives the risk-neutral optimizer tables with
    recourse_from_start, on the workers (it must pickle); `run(fn, tasks)` maps on the executor
    (tasks: a generator)."""
    values = fresh.values
    count, quarters = len(values), list(fresh.quarters)
    histories: list[_History | None] = []
    history_of = np.zeros(count, dtype=np.int64)  # each path's history at the previous quarter
    for t, period in enumerate(quarters):
        _, first, inverse, counts = np.unique(values[:, :t + 1, :].reshape(count, -1), axis=0,
                                              return_index=True, return_inverse=True,
                                              return_counts=True)
        inverse = inverse.reshape(-1)
        now: list[_History | None] = []
        for i, row in enumerate(first):
            if t == 0:
                past: dict[str, Recourse] | None = {}
            else:
                parent = histories[history_of[row]]
                past = None if parent is None else parent.past
            now.append(None if past is None else
                       _History(values[row, :t + 1, :], counts[i] / count, past))
        done = _solve_quarter(now, tree, fresh, plan, settings, period, inputs, run)
        if t == len(quarters) - 1:
            return _path_table(done, [values[row] for row in first], counts / count, fresh)
        histories = [None if h is None or not o.feasible else
                     _History(h.values, h.weight, {**h.past, period: o.chosen})
                     for h, o in zip(now, done, strict=True)]
        history_of = inverse
    raise ValueError("no quarters")


def _solve_quarter(now: list, tree: ScenarioTree, fresh: SanctionPaths, plan: dict,
                   settings: SolverSettings, period: str, inputs: Callable, run: Callable
                   ) -> list[CaseOutcome]:
    """Each history's outcome in `period` (INFEASIBLE where no history is left), the
    histories that go to the same tree node solved together, up to TASK_SCENARIOS scenarios
    (histories times leaves) to a model."""
    # by tree node (its leaves): the leaves alone fix the conditional probabilities and which
    # spliced leaves merge, as both depend on the leaves' futures only
    groups: dict[tuple, list[tuple[int, Subtree]]] = {}
    for i, h in enumerate(now):
        if h is not None:
            sub = subtree(tree, h.values)
            groups.setdefault(sub.leaves, []).append((i, sub))
    members: list[list[int]] = []  # per task, its histories (filled as the tasks are made)

    def tasks() -> Iterator[tuple]:
        for items in groups.values():
            per_task = max(1, TASK_SCENARIOS // len(items[0][1].paths))
            for start in range(0, len(items), per_task):
                chunk = items[start:start + per_task]
                scenarios, names = [], []
                for i, sub in chunk:
                    leaves = [f"h{i}.{j}" for j in range(len(sub.paths))]
                    scenarios += [scenario_of(v, p / len(chunk), fresh).model_copy(
                        update={"name": name})
                        for v, p, name in zip(sub.paths, sub.probabilities, leaves, strict=True)]
                    names.append(leaves)
                members.append([i for i, _ in chunk])
                yield (inputs, scenarios, settings, plan,
                       tuple(float(p) for p in chunk[0][1].probabilities), names,
                       [now[i].past for i, _ in chunk], period)

    results = run(step_task, tasks())  # the executor sends each task as soon as it is made
    done: list[CaseOutcome] = [INFEASIBLE] * len(now)
    for chunk, outcomes in zip(members, results, strict=True):
        for i, outcome in zip(chunk, outcomes, strict=True):
            done[i] = outcome
    return done


def _path_table(done: list[CaseOutcome], paths: list, weights: np.ndarray,
                fresh: SanctionPaths) -> pd.DataFrame:
    """PATH_COLUMNS for the distinct full paths (the last quarter's histories, each its own
    subtree), named as the hindsight policy names them."""
    rows = []
    for outcome, path, weight in zip(done, paths, weights, strict=True):
        name = scenario_of(path, float(weight), fresh).name
        rows.append((name, float(weight), outcome.feasible, outcome.cost_usd,
                     outcome.shortfall_pflops_hours))
    return pd.DataFrame(rows, columns=PATH_COLUMNS)
