"""Out-of-sample proof of a plan chosen on a reduced sanction tree (docs/sanctions.md, "How
good is the plan?").

- Upper side: M fresh paths of the same events (an independent random stream), each as its own
  scenario, the plan's first stage fixed and the recourse re-optimized with hindsight (each path
  sees its whole future: an optimistic bound on what the plan costs). Distinct paths are solved
  once, weighted by how often they were drawn, in batches on local processes.
- Lower side and gap (Mak, Morton and Wood, Oper. Res. Lett. 24, 1999, the multiple-replication
  procedure): G independent samples of the planner's own size, each reduced to a tree and solved
  risk-neutral; its dual bound z_g estimates the optimum from below; the plan's cost on the same
  tree, u_g, gives the gap u_g - z_g on common random numbers; the gap's mean has a t interval
  over the G replications. MMW's guarantee (the estimate is biased up) is for two-stage
  problems; here the recourse at a tree's shared nodes is fitted to the sample's conditional
  frequencies, so u_g is biased down by O(1/N) and small samples understate the gap
  (docs/sanctions.md gives the measured case).

Every sample has its own seed stream, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planner.quarters import quarter_labels
from planner.sanctions.generator import resolve_events, sample_paths
from planner.sanctions.scenarios import scenario_of
from planner.scenario.loader import LoadedScenario
from solvers.evaluate import fixed_plan_costs
from solvers.optimize import plan_of
from solvers.problem import ProcurementInput, RiskSettings, SolverSettings
from solvers.scenario_tree import forward_tree

FRESH_STREAM = 1  # the upper bound's fresh paths: stream (1,)
REPLICATION_STREAM = 2  # the lower bound's samples: streams (2, g)
REPLICATIONS = 5
BATCH_SCENARIOS = 250  # fresh paths per solve (distinct paths, each its own scenario)
CONFIDENCE = 0.95
SUMMARY_COLUMNS = ["measure", "policy", "estimate_usd", "ci_low_usd", "ci_high_usd", "n", "note"]


@dataclass(frozen=True)
class OutOfSample:
    """The evaluation's tables (written as plan_oos_*)."""

    paths: pd.DataFrame  # per distinct fresh path: scenario, weight, feasible, cost, shortfall
    replications: pd.DataFrame  # per replication g: tree_bound_usd, plan_on_tree_usd, gap_usd
    summary: pd.DataFrame  # SUMMARY_COLUMNS


def _inputs(loaded: LoadedScenario, scenarios: list, measured: dict | None) -> ProcurementInput:
    """The optimizer's tables for the scenario with these sanction scenarios listed."""
    from planner.procurement import build_input

    proc = loaded.scenario.procurement.model_copy(update={"scenarios": scenarios})
    scenario = loaded.scenario.model_copy(update={"procurement": proc, "sanctions": None})
    return build_input(scenario, loaded.catalog, measured)


def _task(args: tuple) -> object:
    """One unit of work on a worker: ("fixed", inp, settings, plan) -> the plan's costs per
    scenario; ("tree", inp, settings, plan) -> (the tree's risk-neutral dual bound, the plan's
    expected cost on the tree)."""
    kind, inp, settings, plan = args
    if kind == "fixed":
        return fixed_plan_costs(inp, settings, plan)
    from solvers.optimize import optimize

    neutral = inp.with_risk(RiskSettings(alpha=inp.risk.alpha))
    solved = optimize(neutral, settings, analyses="none")
    bound = solved.result.bound if solved.result.bound is not None else solved.result.objective
    costs = fixed_plan_costs(inp, settings, plan)
    return float(bound), float((costs["probability"] * costs["cost_usd"]).sum())


def _run(tasks: list, workers: int | None, scheduler: str | None = None) -> list:
    """The tasks' results in order: on local processes (planner.parallel), or on Dask when
    `scheduler` is given (planner.study.execute.dask_client: `local` or tcp://host:port, whose
    workers have planner installed)."""
    from planner.parallel import default_workers, map_in_processes

    if scheduler is None:
        return map_in_processes(_task, tasks, workers)
    from planner.study.execute import dask_client

    with dask_client(scheduler, min(workers or default_workers(), len(tasks))) as client:
        futures = client.map(_task, tasks, key=[f"oos-{i}" for i in range(len(tasks))],
                             pure=False)
        return client.gather(futures)


def _t_interval(values: np.ndarray, weights: np.ndarray, n: int) -> tuple[float, float, float]:
    """(mean, low, high): the weighted mean of a sample of n draws and its t interval."""
    from scipy import stats

    mean = float(weights @ values)
    if n < 2:
        return mean, float("nan"), float("nan")
    variance = float(weights @ (values - mean) ** 2) * n / (n - 1)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * math.sqrt(variance / n)
    return mean, mean - half, mean + half


def out_of_sample(loaded: LoadedScenario, result, settings: SolverSettings, paths: int,
                  in_sample_usd: float, measured: dict | None = None,
                  workers: int | None = None, replications: int = REPLICATIONS,
                  replication_paths: int | None = None,
                  scheduler: str | None = None) -> OutOfSample:
    """Evaluate the plan in `result` on `paths` fresh paths and `replications` independent
    trees of `replication_paths` paths each (default: the sanctions section's own sample size)
    reduced to its number of leaves (module docstring)."""
    scenario = loaded.scenario
    s, proc = scenario.sanctions, scenario.procurement
    seed = s.seed if s.seed is not None else scenario.seed
    quarters = quarter_labels(proc.start_quarter, proc.quarters)
    events = resolve_events(s, loaded.source)
    plan = plan_of(result)
    fresh = sample_paths(events, quarters, paths, seed, stream=(FRESH_STREAM,))
    flat = fresh.values.reshape(paths, -1)
    distinct, counts = np.unique(flat, axis=0, return_counts=True)
    values = distinct.reshape((len(distinct), *fresh.values.shape[1:]))
    named = [scenario_of(v, c / paths, fresh) for v, c in zip(values, counts, strict=True)]
    tasks = []
    for start in range(0, len(named), BATCH_SCENARIOS):
        batch = named[start:start + BATCH_SCENARIOS]
        total = sum(sc.probability for sc in batch)
        batch = [sc.model_copy(update={"probability": sc.probability / total}) for sc in batch]
        tasks.append(("fixed", replace(_inputs(loaded, batch, measured), hindsight=True),
                      settings, plan))
    size = replication_paths or s.paths
    for g in range(replications):
        sample = sample_paths(events, quarters, size, seed, stream=(REPLICATION_STREAM, g))
        tree = forward_tree(sample.values, np.full(size, 1.0 / size), s.leaves)
        leaves = [scenario_of(v, p, sample) for v, p in zip(tree.values, tree.probabilities,
                                                             strict=True)]
        tasks.append(("tree", _inputs(loaded, leaves, measured), settings, plan))
    results = _run(tasks, workers, scheduler)
    n_fixed = len(tasks) - replications
    per_path = pd.concat(results[:n_fixed], ignore_index=True)
    weight = {sc.name: sc.probability for sc in named}
    per_path["weight"] = per_path["scenario"].map(weight)
    per_path = per_path.drop(columns=["probability"])[
        ["scenario", "weight", "feasible", "cost_usd", "shortfall_pflops_hours"]]
    feasible = per_path[per_path["feasible"]]
    w = feasible["weight"].to_numpy() / feasible["weight"].sum()
    cost = _t_interval(feasible["cost_usd"].to_numpy(), w, paths)
    short = _t_interval(feasible["shortfall_pflops_hours"].to_numpy(), w, paths)
    reps = pd.DataFrame([(g, b, u, u - b) for g, (b, u) in enumerate(results[n_fixed:])],
                        columns=["replication", "tree_bound_usd", "plan_on_tree_usd", "gap_usd"])
    ones = np.full(replications, 1.0 / replications)
    lower = _t_interval(reps["tree_bound_usd"].to_numpy(), ones, replications)
    gap = _t_interval(reps["gap_usd"].to_numpy(), ones, replications)
    infeasible = int((~per_path["feasible"]).sum())
    note_paths = (f"{len(named):,} distinct of {paths:,} paths"
                  + (f"; {infeasible} admit no recourse (left out)" if infeasible else ""))
    summary = pd.DataFrame([
        ("in-sample expected cost", "the plan on the tree it was chosen on", in_sample_usd,
         np.nan, np.nan, result.capacity["scenario"].nunique(), "the optimizer's own figure"),
        ("out-of-sample expected cost", "first stage fixed, recourse with hindsight", *cost,
         paths, "optimistic: each path's recourse knows its future; " + note_paths),
        ("out-of-sample unmet demand (PFLOP/s-hours)", "first stage fixed, recourse with "
         "hindsight", *short, paths, "expected PFLOP/s-hours short, not USD"),
        ("lower bound (risk-neutral optimum)", "independent reduced trees", *lower,
         replications, f"dual bounds of {replications} trees of {size:,} paths, "
         f"{s.leaves} leaves"),
        ("optimality gap (Mak-Morton-Wood)", "the plan on each tree minus its bound", *gap,
         replications, "common random numbers; includes the price of the plan's risk aversion"
         if proc.risk.weight > 0 or proc.risk.cvar_cap is not None else "common random numbers"),
    ], columns=SUMMARY_COLUMNS)
    return OutOfSample(per_path, reps, summary)

