"""The one path from a scenario file to results: load, optimize if the scenario asks for it,
apply the plan, simulate. The CLI and study workers both take it; solver settings are merged
here and nowhere else.

Errors a user can fix are InputError (naming the file and the field); the solver's own
outcomes (Infeasible, NoPlanInTime, SolverFailed from solvers.optimize) pass through for the
caller to report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import pandas as pd

from planner.errors import InputError
from planner.montecarlo import MonteCarloResult, run_monte_carlo
from planner.scenario.loader import LoadedScenario, load_scenario, load_scenario_text
from solvers.optimize import Optimization
from solvers.problem import SolverSettings

Progress = Callable[[int, int], None]  # (replications done, planned)

# a scenario without a procurement section cannot be optimized
NO_PROCUREMENT = "the scenario has no procurement section"
PROCUREMENT = "procurement"


def load(path: str | Path, sets: Sequence[str] = (), seed: int | None = None,
         replications: int | None = None) -> LoadedScenario:
    """Read, override and validate a scenario file (InputError on any problem)."""
    return load_scenario(path, sets, seed, replications)


def load_text(text: str, source: str, sets: Sequence[str] = ()) -> LoadedScenario:
    """As load, from text already read (a study case's base scenario)."""
    return load_scenario_text(text, source, sets)


def solver_settings(loaded: LoadedScenario, profile: str | None = None,
                    threads: int | None = None) -> SolverSettings:
    """HiGHS settings: the named profile (`profile` beats the scenario's), then the scenario's
    explicit time limit, gap and threads on top, then `threads` if given (a study worker runs
    single-threaded)."""
    from solvers.highs import load_profile, merge

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
    pareto: pd.DataFrame | None = None


def optimize(loaded: LoadedScenario, settings: SolverSettings, *, analyses: bool = True,
             pareto_points: int = 0) -> PlanResult:
    """Build the optimizer's tables from the scenario and solve them. `analyses`: shadow
    prices and value of information (EVPI only up to 50 scenarios); `pareto_points` > 0 also
    traces that many points of the cost-risk front."""
    from planner.procurement import build_input
    from solvers.optimize import optimize as solve
    from solvers.optimize import pareto_front

    _procurement(loaded)
    try:
        inp = build_input(loaded.scenario, loaded.catalog)
    except ValueError as e:
        raise InputError(loaded.source, str(e), field=PROCUREMENT) from None
    opt = solve(inp, settings, analyses=analyses, evpi=len(inp.scenarios) <= 50)
    front = pareto_front(inp, settings, pareto_points) if pareto_points > 0 else None
    return PlanResult(opt, front)


def with_plan(loaded: LoadedScenario, plan: PlanResult) -> LoadedScenario:
    """The scenario to simulate: the plan's first-stage orders as dated deliveries and its
    stockpile on the shelves (planner/bridge.py)."""
    from planner.bridge import apply_plan

    result = plan.optimization.result
    return replace(loaded, scenario=apply_plan(loaded.scenario, result.orders, result.stockpile))


def simulate(loaded: LoadedScenario, workers: int | None = None,
             progress: Progress | None = None) -> MonteCarloResult:
    """The scenario's replications (adaptive when it asks for it)."""
    return run_monte_carlo(loaded, workers, progress)


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
        settings: SolverSettings | None = None, analyses: bool = True, pareto_points: int = 0,
        workers: int | None = None, observer: Observer | None = None) -> PipelineResult:
    """Optimize (when asked), apply the plan, simulate (when asked)."""
    watch = observer if observer is not None else Unobserved()
    plan = None
    if optimize_first:
        if settings is None:
            settings = solver_settings(loaded)
        watch.optimizing()
        plan = optimize(loaded, settings, analyses=analyses, pareto_points=pareto_points)
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
