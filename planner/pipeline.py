"""The one path from a scenario file to results: load, optimize if the scenario asks for it,
apply the plan, simulate. The CLI and study workers both take it; solver settings are merged
here and nowhere else.

Errors a user can fix are InputError (naming the file and the field); the solver's own
outcomes (Infeasible, NoPlanInTime, SolverFailed from solvers.optimize) pass through for the
caller to report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from planner.errors import InputError
from planner.scenario.loader import (
    Fragment,
    LoadedScenario,
    load_scenario,
    load_scenario_text,
    read_fragment,
)

if TYPE_CHECKING:  # the simulator loads only when a pass simulates, Pyomo when it optimizes
    from planner.montecarlo import MonteCarloResult
    from planner.sanctions.evaluate import OutOfSample
    from solvers.optimize import Optimization
    from solvers.problem import ProcurementInput, SolverSettings

Progress = Callable[[int, int], None]  # (replications done, planned)
log = logging.getLogger("planner")  # planner -v: phases; -vv: details

# a scenario without a procurement section cannot be optimized
NO_PROCUREMENT = "the scenario has no procurement section"
PROCUREMENT = "procurement"


def load(path: str | Path, sets: Sequence[str] = (), seed: int | None = None,
         replications: int | None = None,
         fragment_files: Sequence[str | Path] = ()) -> LoadedScenario:
    """Read, merge the --overrides fragment files into, override and validate a scenario file
    (InputError on any problem)."""
    start = time.perf_counter()
    fragments = [read_fragment(f) for f in fragment_files]
    loaded = load_scenario(path, sets, seed, replications, fragments)
    log.info("loaded %s in %.2f s", path, time.perf_counter() - start)
    return loaded


def load_text(text: str, source: str, sets: Sequence[str] = (),
              fragments: Sequence[Fragment] = ()) -> LoadedScenario:
    """As load, from text already read (a study case's base scenario) and fragments read."""
    return load_scenario_text(text, source, sets, fragments=fragments)


def solver_settings(loaded: LoadedScenario, profile: str | None = None,
                    threads: int | None = None) -> SolverSettings:
    """HiGHS settings: the named profile (`profile` beats the scenario's), then the scenario's
    explicit time limit, gap and threads on top, then `threads` if given (a study worker runs
    single-threaded)."""
    from solvers.highs import load_profile, merge
    from solvers.problem import SolverSettings

    choice = _procurement(loaded).solver
    try:
        base = load_profile(profile or choice.profile)
    except ValueError as e:
        raise InputError(loaded.source, str(e), field="procurement.solver.profile") from None
    return merge(base, SolverSettings(
        time_limit_s=choice.time_limit_s, mip_rel_gap=choice.mip_rel_gap,
        threads=threads if threads is not None else choice.threads))


@dataclass(frozen=True)
class PlanResult:
    """The optimizer's plan with its analyses, and the Pareto front when one was traced."""

    optimization: Optimization
    inputs: pd.DataFrame  # every input with its source (planner/plan_inputs.py)
    pareto: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None  # planner/plan_sensitivity.py
    problem: ProcurementInput | None = None  # the tables the plan was solved on
    loop: LoopResult | None = None  # the closed loop's rounds (run --loop)
    oos: OutOfSample | None = None  # the out-of-sample evaluation (--out-of-sample M)


@dataclass(frozen=True)
class LoopResult:
    """The closed loop (planner/bridge/loop.py): one row per round, the plan of every round,
    the last factors the simulator measured and the final plan's capacity check."""

    rounds: pd.DataFrame
    plans: pd.DataFrame  # round, kind (order | stockpile), sku, item (quarter or part), value
    factors: pd.DataFrame  # sku, period, scenario, installed_nodes, model_share, sim_share, factor
    capacity: pd.DataFrame  # per quarter and scenario: demand, optimizer's and simulated PFLOP/s
    converged: bool
    applied: dict  # the factors the last round was optimized with, (sku, period, scenario) -> f


@dataclass(frozen=True)
class Analyses:
    """What to work out beyond the plan: `level` none | prices (duals and their ranges) | all
    (and VSS, EVPI up to EVPI_MAX_SCENARIOS scenarios); `reoptimize_prices` re-solves with each
    shared limit moved by `price_step` of its value; `pareto_points` > 0 traces the cost-risk
    front; `sensitivity` "utilization" re-plans at each SKU's low and high utilization."""

    level: str = "prices"
    reoptimize_prices: bool = False
    price_step: float = 0.01
    pareto_points: int = 0
    sensitivity: str | None = None  # "utilization": re-plan at each SKU's low and high MFU
    out_of_sample: int = 0  # > 0: evaluate the plan on this many fresh sanction paths
    rolling: int = 1_000  # ... and the rolling-horizon policy on the first this many (0: not)
    scheduler: str | None = None  # the evaluation on Dask: `local` or tcp://host:port


EVPI_MAX_SCENARIOS = 50  # EVPI solves one problem per scenario: skipped beyond this many
NO_ANALYSES = Analyses(level="none")


def optimize(loaded: LoadedScenario, settings: SolverSettings,
             analyses: Analyses = Analyses(), factors: dict | None = None,
             incumbent: dict | None = None) -> PlanResult:
    """Build the optimizer's tables from the scenario, solve them and run the analyses asked;
    `factors`: the closed loop's availability factors per (SKU, quarter, scenario);
    `incumbent`: a first-stage plan to keep while it is still within the gap."""
    from planner.plan_inputs import input_table
    from planner.plan_sensitivity import utilization_sensitivity
    from planner.procurement import build_input
    from solvers.optimize import optimize as solve
    from solvers.optimize import pareto_front

    proc = _procurement(loaded)
    try:
        measured = measured_availability(loaded) if proc.availability == "simulated" else None
        inp = build_input(loaded.scenario, loaded.catalog, measured)
    except ValueError as e:
        raise InputError(loaded.source, str(e), field=PROCUREMENT) from None
    if factors:
        from planner.bridge.loop import with_factors

        inp = with_factors(inp, factors)
    start = time.perf_counter()
    log.info("optimizing: %d scenarios, %d SKUs, %d quarters", len(inp.scenarios),
             len(inp.skus), len(inp.periods))
    opt = solve(inp, settings, analyses=analyses.level,
                evpi=len(inp.scenarios) <= EVPI_MAX_SCENARIOS,
                reoptimize_prices=analyses.reoptimize_prices, price_step=analyses.price_step,
                incumbent=incumbent)
    log.info("optimized in %.2f s (%s)", time.perf_counter() - start,
             ", ".join(f"{k} {v:.2f} s" for k, v in opt.timings_s.items()
                       if isinstance(v, float)))
    front = (pareto_front(inp, settings, analyses.pareto_points)
             if analyses.pareto_points > 0 else None)
    sensitivity = (utilization_sensitivity(loaded, settings)
                   if analyses.sensitivity == "utilization" else None)
    oos = None
    if analyses.out_of_sample > 0:
        from planner.sanctions.evaluate import out_of_sample

        if loaded.scenario.sanctions is None:
            raise InputError(loaded.source, "--out-of-sample needs a sanctions section (the "
                             "fresh paths are drawn from its events)", field="sanctions")
        oos = out_of_sample(loaded, opt.result, settings, analyses.out_of_sample,
                            opt.result.summary["expected_cost_usd"], measured,
                            scheduler=analyses.scheduler, rolling_paths=analyses.rolling)
    return PlanResult(opt, input_table(loaded, inp, settings), front, sensitivity, problem=inp,
                      oos=oos)


def optimize_in_loop(loaded: LoadedScenario, settings: SolverSettings, analyses: Analyses,
                     rounds: int, workers: int | None = None,
                     observer: Observer | None = None) -> PlanResult:
    """The closed loop: optimize, simulate the plan in every scenario, scale the availability
    by what the simulator measured, re-optimize; until the first-stage plan repeats or after
    `rounds` rounds (planner/bridge/loop.py). The last plan, with every round in `.loop`."""
    import time

    from planner.bridge import loop
    from solvers.optimize import plan_of

    watch = observer if observer is not None else Unobserved()
    factors: dict = {}
    applied: dict = {}
    previous = measured = plan = None
    rows, plans = [], []
    converged = False
    for r in range(1, rounds + 1):
        watch.optimizing()
        t0 = time.perf_counter()
        applied = dict(factors)
        plan = optimize(loaded, settings, analyses, factors, incumbent=previous)
        t1 = time.perf_counter()
        result = plan.optimization.result
        decided = plan_of(result)
        changed = previous is None or not loop.same_plan(decided, previous)
        plans += [(r, "order", k, t, v) for (k, t), v in decided["x"].items() if v > 0]
        plans += [(r, "stockpile", k, j, v) for (k, j), v in decided["z"].items() if v > 0]
        row = {"round": r, "expected_cost_usd": result.summary.get("expected_cost_usd"),
               "cvar_cost_usd": result.summary.get("cvar_cost_usd"),
               "first_stage_nodes": float(result.orders["nodes"].sum()),
               "stockpile_parts": float(result.stockpile["units"].sum()),
               "plan_changed": changed, "optimize_s": t1 - t0, "simulate_s": 0.0}
        if not changed:
            converged = True
        else:
            measured = loop.measure_plan(loaded, plan.problem, result, workers)
            row["simulate_s"] = time.perf_counter() - t1
            factors = loop.averaged_factors(factors, measured, r)
        table = measured.table
        row.update(factor_mean=float(table["factor"].mean()),
                   factor_min=float(table["factor"].min()),
                   factor_max=float(table["factor"].max()))
        rows.append(row)
        previous = decided
        if converged:
            break
    capacity = loop.capacity_check(plan.problem, plan.optimization.result, measured)
    result_loop = LoopResult(
        rounds=pd.DataFrame(rows),
        plans=pd.DataFrame(plans, columns=["round", "kind", "sku", "item", "value"]),
        factors=measured.table, capacity=capacity, converged=converged, applied=applied)
    return replace(plan, loop=result_loop)


def measured_availability(loaded: LoadedScenario, workers: int | None = None) -> dict:
    """The simulator's measure of what a stockpile is worth under a parts block, per (SKU,
    part) a parts block touches (planner/bridge/availability.py; cached)."""
    from planner.bridge.availability import measure_curves
    from planner.procurement import parts_block_cells

    cells = parts_block_cells(loaded.scenario, loaded.catalog)
    return measure_curves(loaded, cells, workers) if cells else {}


def plan_notes(scenario, plan: PlanResult) -> list[str]:
    """What a reader of the plan must know that its tables do not say."""
    notes = []
    proc = scenario.procurement
    result = plan.optimization.result
    if proc.scenarios is not None and (result.recourse["nodes"] > 0.5).any():
        notes.append("procurement.scenarios are listed by hand, so their recourse orders cannot "
                     "be matched to the simulator's supply shocks: planner run simulates the "
                     "first-stage orders only")
    if scenario.sanctions is not None and (result.recourse["nodes"] > 0.5).any():
        notes.append("the scenarios are generated from sanction events, so their recourse "
                     "orders cannot be matched to the simulator's supply shocks: planner run "
                     "simulates the first-stage orders only")
    if not proc.integer_recourse and len(result.recourse):
        notes.append("integer_recourse is false: recourse orders are fractions of nodes in "
                     "the model; the contingent table and the simulation round them")
    if not proc.integer_orders:
        notes.append("integer_orders is false: first-stage orders are fractions of nodes in "
                     "the model; the buy table and the simulation round them")
    return notes


def with_plan(loaded: LoadedScenario, plan: PlanResult) -> LoadedScenario:
    """The scenario to simulate: the plan's first-stage orders as dated deliveries, its recourse
    as deliveries contingent on the shocks' outcomes, its stockpile on the shelves
    (planner/bridge.py)."""
    from planner.bridge import apply_plan

    result = plan.optimization.result
    return replace(loaded, scenario=apply_plan(loaded.scenario, result.orders, result.stockpile,
                                               result.recourse))


def simulate(loaded: LoadedScenario, workers: int | None = None,
             progress: Progress | None = None) -> MonteCarloResult:
    """The scenario's replications (adaptive when it asks for it)."""
    from planner.montecarlo import run_monte_carlo

    start = time.perf_counter()
    mc = run_monte_carlo(loaded, workers, progress)
    log.info("simulated %d replications in %.2f s", len(mc.results),
             time.perf_counter() - start)
    return mc


@dataclass(frozen=True)
class PipelineResult:
    """What one pass gave: the plan (None without optimizing) and the replications (None when
    only optimizing)."""

    loaded: LoadedScenario  # the scenario as simulated (the plan applied)
    plan: PlanResult | None
    simulation: MonteCarloResult | None


class Observer(Protocol):
    """Who watches a pass: the terminal shows it, a study worker does not."""

    def optimizing(self) -> None:
        """The optimizer starts."""

    def planned(self, plan: PlanResult) -> None:
        """The plan is ready, before it is simulated (the CLI writes its files then)."""

    def simulating(self) -> None:
        """The replications start."""

    def replicated(self, done: int, planned: int) -> None:
        """`done` of `planned` replications have finished."""


class Unobserved:
    """An observer that does nothing."""

    def optimizing(self) -> None:
        pass

    def planned(self, plan: PlanResult) -> None:
        pass

    def simulating(self) -> None:
        pass

    def replicated(self, done: int, planned: int) -> None:
        pass


def run(loaded: LoadedScenario, *, optimize_first: bool, simulate_after: bool = True,
        settings: SolverSettings | None = None, analyses: Analyses = Analyses(),
        workers: int | None = None, observer: Observer | None = None,
        loop: int = 0) -> PipelineResult:
    """Optimize (when asked; with `loop` > 0, in the closed loop with the simulator for at most
    that many rounds), apply the plan, simulate (when asked)."""
    watch = observer if observer is not None else Unobserved()
    plan = None
    if optimize_first:
        if settings is None:
            settings = solver_settings(loaded)
        if loop > 0:
            plan = optimize_in_loop(loaded, settings, analyses, loop, workers, watch)
        else:
            watch.optimizing()
            plan = optimize(loaded, settings, analyses)
        watch.planned(plan)
        loaded = with_plan(loaded, plan)
    mc = None
    if simulate_after:
        watch.simulating()
        mc = simulate(loaded, workers, watch.replicated)
    return PipelineResult(loaded, plan, mc)


def _procurement(loaded: LoadedScenario):
    if loaded.scenario.procurement is None:
        raise InputError(loaded.source, NO_PROCUREMENT, field=PROCUREMENT)
    return loaded.scenario.procurement
