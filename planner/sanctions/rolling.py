"""The implementable rolling-horizon policy (docs/sanctions.md, "How good is the plan?").

The plan's first stage is fixed. In each quarter t of a fresh path, the planner knows the path's
history up to t and what it has already done. It finds the node of the reduced tree at stage t
nearest to that history (the tree's own distance: sum over quarters <= t of |xi - node|_1; ties
go to the more probable node), takes the subtree under it as what may come, with the path's
real history in place of the node's, and re-solves the remaining quarters on it
(solvers/evaluate.rolling_step): its recourse of quarter t is done, the rest is discarded. At
the last quarter the subtree is the path itself, and that solve's cost is the policy's cost on
the path.

What the policy does in quarter t depends only on the path's history up to t, so the re-solves
are one per distinct history (a trie over the M paths: 3,311 histories for 1,000 paths of the
example, not 8,000), and independent histories of one quarter are solved together as one model
of disjoint subtrees (their recourse is separable because the re-solves are risk-neutral: they
minimize the expected cost of the remaining quarters). Histories that share their first
quarters share the fixed recourse of those quarters, so the shared tree nodes of a batch agree.
Batches are fixed by the paths, not by the workers: results do not depend on the executor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.sanctions.generator import SanctionPaths
from planner.sanctions.scenarios import scenario_of
from solvers.evaluate import Recourse, only_scenarios, rolling_step
from solvers.highs import one_thread_each
from solvers.problem import ProcurementInput, SolverSettings
from solvers.scenario_tree import ScenarioTree

BATCH_SCENARIOS = 250  # scenarios per re-solve (several histories' subtrees)
PATH_COLUMNS = ["scenario", "weight", "feasible", "cost_usd", "shortfall_pflops_hours"]


@dataclass(frozen=True)
class _History:
    """One distinct history of the fresh paths up to a quarter, and the recourse done before."""

    values: np.ndarray  # [t + 1, F]
    weight: float  # share of the fresh paths with this history
    past: dict[str, Recourse]  # quarter -> recourse done (quarters before t)


def subtree(tree: ScenarioTree, history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What may come after `history` ([t + 1, F]): the node of `tree` at stage t nearest to it,
    as (paths [n, T, F] with the history in place of the node's, their conditional
    probabilities). Leaves that become equal are merged."""
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
    return unique.reshape((len(unique), *tree.values.shape[1:])), prob / prob.sum()


def step_task(args: tuple) -> list[tuple[Recourse, pd.DataFrame] | None]:
    """One batch on a worker: (inp, settings, plan, past by scenario, period, groups of scenario
    names) -> per group, (its recourse in the period, its scenarios' costs), or None when the
    group admits no recourse. A batch that is infeasible as a whole is solved group by group."""
    inp, settings, plan, past, period, groups = args
    with one_thread_each(settings) as pinned:
        solved = rolling_step(inp, pinned, plan, past, period)
    if solved is not None:
        return [(solved.recourse[names[0]], solved.costs[solved.costs["scenario"].isin(names)])
                for names in groups]
    if len(groups) == 1:
        return [None]
    out = []
    for names in groups:
        table = inp.scenarios.loc[names]
        table = table.assign(probability=table["probability"] / table["probability"].sum())
        alone = step_task((only_scenarios(inp, table), settings, plan,
                           {s: past[s] for s in names}, period, [names]))
        out.extend(alone)
    return out


def rolling_horizon(fresh: SanctionPaths, tree: ScenarioTree, plan: dict,
                    settings: SolverSettings, inputs: Callable[[list], ProcurementInput],
                    run: Callable[[Callable, list], list]) -> pd.DataFrame:
    """The policy's cost on each distinct fresh path (PATH_COLUMNS; weight = share of the
    paths). `inputs(sanction scenarios)` gives the risk-neutral optimizer tables with
    recourse_from_start; `run(fn, tasks)` maps on the executor."""
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
            return _path_table(now, done, [values[row] for row in first], counts / count, fresh)
        histories = [None if h is None or d is None else
                     _History(h.values, h.weight, {**h.past, period: d[0]})
                     for h, d in zip(now, done, strict=True)]
        history_of = inverse
    raise ValueError("no quarters")


def _solve_quarter(now: list, tree: ScenarioTree, fresh: SanctionPaths, plan: dict,
                   settings: SolverSettings, period: str, inputs: Callable, run: Callable
                   ) -> list[tuple[Recourse, pd.DataFrame] | None]:
    """Each history's recourse in `period` and its scenarios' costs (None: no recourse), the
    histories batched into models of at most BATCH_SCENARIOS scenarios."""
    batches: list[list[tuple[int, list]]] = [[]]  # (history index, its sanction scenarios)
    size = 0
    for i, h in enumerate(now):
        if h is None:
            continue
        paths, prob = subtree(tree, h.values)
        group = [scenario_of(v, p * h.weight, fresh).model_copy(update={"name": f"h{i}.{j}"})
                 for j, (v, p) in enumerate(zip(paths, prob, strict=True))]
        if size and size + len(group) > BATCH_SCENARIOS:
            batches.append([])
            size = 0
        batches[-1].append((i, group))
        size += len(group)
    tasks = []
    for batch in batches:
        if not batch:
            continue
        scenarios = [sc for _, group in batch for sc in group]
        total = sum(sc.probability for sc in scenarios)
        scenarios = [sc.model_copy(update={"probability": sc.probability / total})
                     for sc in scenarios]
        past = {sc.name: now[i].past for i, group in batch for sc in group}
        tasks.append((inputs(scenarios), settings, plan, past, period,
                      [[sc.name for sc in group] for _, group in batch]))
    results = run(step_task, tasks)
    done: list = [None] * len(now)
    for batch, result in zip([b for b in batches if b], results, strict=True):
        for (i, _), got in zip(batch, result, strict=True):
            done[i] = got
    return done


def _path_table(now: list, done: list, paths: list, weights: np.ndarray,
                fresh: SanctionPaths) -> pd.DataFrame:
    """PATH_COLUMNS for the distinct full paths (the last quarter's histories), named as the
    hindsight policy names them."""
    rows = []
    for h, got, path, weight in zip(now, done, paths, weights, strict=True):
        name = scenario_of(path, float(weight), fresh).name
        if h is None or got is None:
            rows.append((name, float(weight), False, float("inf"), float("inf")))
            continue
        costs = got[1]
        if len(costs) != 1:
            raise AssertionError("the last quarter's subtree is the path itself")
        row = costs.iloc[0]
        rows.append((name, float(weight), True, float(row["cost_usd"]),
                     float(row["shortfall_pflops_hours"])))
    return pd.DataFrame(rows, columns=PATH_COLUMNS)
