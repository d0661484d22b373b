"""Out-of-sample proof of a plan chosen on a reduced sanction tree (docs/sanctions.md, "How
good is the plan?").

- Upper side: M fresh paths of the same events (an independent random stream), each as its own
  scenario, the plan's first stage fixed and the recourse re-optimized with hindsight (each path
  sees its whole future: an optimistic bound on what the plan costs). Distinct paths are solved
  once, weighted by how often they were drawn, in tasks of TASK_PATHS on local processes; a
  task builds one persistent model and changes only its bounds and right-hand sides from path
  to path (solvers/persistent.py).
- Lower side and gap (Mak, Morton and Wood, Oper. Res. Lett. 24, 1999, the multiple-replication
  procedure): G independent samples of the planner's own size, each reduced to a tree and solved
  risk-neutral; its dual bound z_g estimates the optimum from below; the plan's cost on the same
  tree, u_g, gives the gap u_g - z_g on common random numbers; the gap's mean has a t interval
  over the G replications. MMW's guarantee (the estimate is biased up) is for two-stage
  problems; here the recourse at a tree's shared nodes is fitted to the sample's conditional
  frequencies, so u_g is biased down by O(1/N) and small samples understate the gap
  (docs/sanctions.md gives the measured case).

- The implementable policy (planner/sanctions/rolling.py): on the first R of the same fresh
  paths (common random numbers), each quarter re-solves the remaining quarters on the reduced
  tree given what has happened and what was done; its mean cost is what the plan can be
  expected to cost when run, between the hindsight bound and nothing.

Every evaluation solve is risk-neutral: a batch of paths solved as one model must not couple
their recourse through a CVaR over the batch, and each path's cost is its own optimum given
the policy. Every sample has its own seed stream, so results do not depend on the number of
workers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from planner.quarters import quarter_labels
from planner.sanctions.generator import resolve_events, sample_paths
from planner.sanctions.rolling import rolling_horizon
from planner.sanctions.scenarios import sanction_tree, scenario_of
from planner.scenario.loader import LoadedScenario
from planner.stats import t_quantile
from solvers.evaluate import fixed_plan_costs
from solvers.optimize import plan_of
from solvers.problem import ProcurementInput, RiskSettings, SolverSettings
from solvers.scenario_tree import forward_tree

FRESH_STREAM = 1  # the upper bound's fresh paths: stream (1,)
REPLICATION_STREAM = 2  # the lower bound's samples: streams (2, g)
REPLICATIONS = 5
ROLLING_PATHS = 1_000  # fresh paths for the rolling-horizon policy (issue 15's default)
# fresh paths per task: one persistent model (solvers/persistent.py) built per task and solved
# once per path; its build is 0.3-0.9 ms a path at this size, and 2,000 paths make 9 tasks
TASK_PATHS = 200
CONFIDENCE = 0.95
PATH_COLUMNS = ["policy", "scenario", "weight", "feasible", "cost_usd", "shortfall_pflops_hours"]
SUMMARY_COLUMNS = ["measure", "policy", "estimate_usd", "ci_low_usd", "ci_high_usd", "n", "note"]


@dataclass(frozen=True)
class OutOfSample:
    """The evaluation's tables (written as plan_oos_*)."""

    paths: pd.DataFrame  # per policy and distinct fresh path: policy, scenario, weight,
    # feasible, cost, shortfall
    replications: pd.DataFrame  # per replication g: tree_bound_usd, plan_on_tree_usd, gap_usd
    summary: pd.DataFrame  # SUMMARY_COLUMNS


def _inputs(loaded: LoadedScenario, scenarios: list, measured: dict | None,
            **flags: bool) -> ProcurementInput:
    """The optimizer's tables for the scenario with these sanction scenarios listed, risk-neutral
    (module docstring), with `flags` set (hindsight, recourse_from_start)."""
    from planner.procurement import build_input

    proc = loaded.scenario.procurement.model_copy(update={"scenarios": scenarios})
    scenario = loaded.scenario.model_copy(update={"procurement": proc, "sanctions": None})
    inp = build_input(scenario, loaded.catalog, measured)
    return replace(inp.with_risk(RiskSettings(alpha=inp.risk.alpha)), **flags)


def _task(args: tuple) -> object:
    """One unit of work on a worker: ("hindsight", inp, settings, plan) -> the plan's costs per
    path, each with its own hindsight recourse (solvers.persistent: one model, paths as
    bounds and right-hand sides); ("tree", inp, settings, plan) -> (the tree's risk-neutral
    dual bound, the plan's expected cost on the tree). HiGHS on one thread (unless the
    settings name a count), serial or not, so that results do not depend on the workers."""
    from solvers.highs import one_thread_each

    kind, inp, settings, plan = args
    with one_thread_each(settings) as settings:
        return _run_task(kind, inp, settings, plan)


def _run_task(kind: str, inp: ProcurementInput, settings: SolverSettings, plan: dict) -> object:
    if kind == "hindsight":
        from solvers.persistent import hindsight_costs

        return hindsight_costs(inp, settings, plan)
    from solvers.optimize import optimize

    solved = optimize(inp, settings, analyses="none")
    bound = solved.result.bound if solved.result.bound is not None else solved.result.objective
    costs = fixed_plan_costs(inp, settings, plan)
    return float(bound), float((costs["probability"] * costs["cost_usd"]).sum())


@contextmanager
def _executor(workers: int | None, scheduler: str | None
              ) -> Iterator[Callable[[Callable, Iterable], list]]:
    """run(fn, tasks) -> [fn(task) ...] in order, on local processes (planner.parallel) or on
    Dask when `scheduler` is given (planner.studies.execute.dask_client: `local` or
    tcp://host:port, whose workers have planner installed); one pool for every call. `tasks`
    may be a generator: each task is sent as soon as it is made, so the workers solve the first
    tasks while this process makes the next."""
    from planner.parallel import default_workers, process_pool

    n = workers or default_workers()
    if scheduler is not None:
        from planner.studies.execute import dask_client

        with dask_client(scheduler, n) as client:
            calls = itertools.count()

            def on_dask(fn: Callable, tasks: Iterable) -> list:
                call = next(calls)
                futures = [client.submit(fn, task, key=f"oos-{call}-{i}", pure=False)
                           for i, task in enumerate(tasks)]
                return client.gather(futures)
            yield on_dask
        return
    if n <= 1:
        yield lambda fn, tasks: [fn(task) for task in tasks]
        return
    with process_pool(n) as pool:
        yield lambda fn, tasks: (
            [fn(task) for task in tasks] if isinstance(tasks, list) and len(tasks) == 1
            else list(pool.map(fn, tasks)))


def _t_interval(values: np.ndarray, weights: np.ndarray, n: int) -> tuple[float, float, float]:
    """(mean, low, high): the weighted mean of a sample of n draws and its t interval."""
    mean = float(weights @ values)
    if n < 2:
        return mean, float("nan"), float("nan")
    variance = float(weights @ (values - mean) ** 2) * n / (n - 1)
    half = t_quantile(n - 1, 0.5 + CONFIDENCE / 2) * math.sqrt(variance / n)
    return mean, mean - half, mean + half


HINDSIGHT = "first stage fixed, recourse with hindsight"
ROLLING = "first stage fixed, rolling horizon on the reduced tree"


def _policy_rows(per_path: pd.DataFrame, n: int, measure: str, policy: str, note: str
                 ) -> list[tuple]:
    """The summary's cost and unmet-demand rows of one policy over n fresh paths (paths that
    admit no recourse are left out and counted in the note)."""
    feasible = per_path[per_path["feasible"]]
    w = feasible["weight"].to_numpy() / feasible["weight"].sum()
    cost = _t_interval(feasible["cost_usd"].to_numpy(), w, n)
    short = _t_interval(feasible["shortfall_pflops_hours"].to_numpy(), w, n)
    infeasible = int((~per_path["feasible"]).sum())
    note = (f"{note}{len(per_path):,} distinct of {n:,} paths"
            + (f"; {infeasible} admit no recourse (left out)" if infeasible else ""))
    return [(f"{measure} expected cost", policy, *cost, n, note),
            (f"{measure} unmet demand (PFLOP/s-hours)", policy, *short, n,
             "expected PFLOP/s-hours short, not USD")]


def out_of_sample(loaded: LoadedScenario, result, settings: SolverSettings, paths: int,
                  in_sample_usd: float, measured: dict | None = None,
                  workers: int | None = None, replications: int = REPLICATIONS,
                  replication_paths: int | None = None,
                  scheduler: str | None = None,
                  rolling_paths: int = ROLLING_PATHS) -> OutOfSample:
    """Evaluate the plan in `result` on `paths` fresh paths with hindsight, on the first
    `rolling_paths` of the same fresh paths with the rolling-horizon policy (0: not at all),
    and on `replications` independent trees of `replication_paths` paths each (default: the
    sanctions section's own sample size) reduced to its number of leaves (module docstring)."""
    scenario = loaded.scenario
    s, proc = scenario.sanctions, scenario.procurement
    seed = s.seed if s.seed is not None else scenario.seed
    quarters = quarter_labels(proc.start_quarter, proc.quarters)
    events = resolve_events(s, loaded.source)
    plan = plan_of(result)
    drawn = sample_paths(events, quarters, max(paths, rolling_paths), seed,
                         stream=(FRESH_STREAM,))
    fresh = replace(drawn, values=drawn.values[:paths])
    flat = fresh.values.reshape(paths, -1)
    distinct, counts = np.unique(flat, axis=0, return_counts=True)
    values = distinct.reshape((len(distinct), *fresh.values.shape[1:]))
    named = [scenario_of(v, c / paths, fresh) for v, c in zip(values, counts, strict=True)]
    tasks = []
    for start in range(0, len(named), TASK_PATHS):
        batch = named[start:start + TASK_PATHS]
        total = sum(sc.probability for sc in batch)
        batch = [sc.model_copy(update={"probability": sc.probability / total}) for sc in batch]
        tasks.append(("hindsight", _inputs(loaded, batch, measured, hindsight=True), settings,
                      plan))
    size = replication_paths or s.paths
    for g in range(replications):
        sample = sample_paths(events, quarters, size, seed, stream=(REPLICATION_STREAM, g))
        tree = forward_tree(sample.values, np.full(size, 1.0 / size), s.leaves)
        leaves = [scenario_of(v, p, sample) for v, p in zip(tree.values, tree.probabilities,
                                                             strict=True)]
        tasks.append(("tree", _inputs(loaded, leaves, measured), settings, plan))
    with _executor(workers, scheduler) as run:
        results = run(_task, tasks)
        rolling = None
        if rolling_paths > 0:
            rolling = rolling_horizon(
                replace(drawn, values=drawn.values[:rolling_paths]),
                sanction_tree(scenario, loaded.source).tree, plan, settings,
                partial(_inputs, loaded, measured=measured, recourse_from_start=True), run)
    n_fixed = len(tasks) - replications
    per_path = pd.concat(results[:n_fixed], ignore_index=True)
    weight = {sc.name: sc.probability for sc in named}
    per_path["weight"] = per_path["scenario"].map(weight)
    per_path = per_path.drop(columns=["probability"]).assign(policy=HINDSIGHT)
    rows = _policy_rows(per_path, paths, "out-of-sample", HINDSIGHT,
                        "optimistic: each path's recourse knows its future; ")
    if rolling is not None:
        rolling = rolling.assign(policy=ROLLING)
        rows += _policy_rows(rolling, rolling_paths, "rolling-horizon", ROLLING,
                             "implementable: each quarter re-solved on the tree given the past; ")
        per_path = pd.concat([per_path, rolling], ignore_index=True)
    per_path = per_path[PATH_COLUMNS]
    reps = pd.DataFrame([(g, b, u, u - b) for g, (b, u) in enumerate(results[n_fixed:])],
                        columns=["replication", "tree_bound_usd", "plan_on_tree_usd", "gap_usd"])
    ones = np.full(replications, 1.0 / max(replications, 1))
    lower = _t_interval(reps["tree_bound_usd"].to_numpy(), ones, replications)
    gap = _t_interval(reps["gap_usd"].to_numpy(), ones, replications)
    summary = pd.DataFrame([
        ("in-sample expected cost", "the plan on the tree it was chosen on", in_sample_usd,
         np.nan, np.nan, result.capacity["scenario"].nunique(), "the optimizer's own figure"),
        *rows,
        ("lower bound (risk-neutral optimum)", "independent reduced trees", *lower,
         replications, f"dual bounds of {replications} trees of {size:,} paths, "
         f"{s.leaves} leaves"),
        ("optimality gap (Mak-Morton-Wood)", "the plan on each tree minus its bound", *gap,
         replications, "common random numbers; includes the price of the plan's risk aversion"
         if proc.risk.weight > 0 or proc.risk.cvar_cap is not None else "common random numbers"),
    ], columns=SUMMARY_COLUMNS)
    return OutOfSample(per_path, reps, summary)
