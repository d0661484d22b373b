"""HiGHS driver: option profiles, a persistent solver per model, status in plain words."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib import resources

import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from solvers.problem import SolverSettings

PROFILE_DIR = "profiles"


def profile_names() -> list[str]:
    """Names of the shipped solver profiles (solvers/profiles/*.json)."""
    folder = resources.files("solvers").joinpath(PROFILE_DIR)
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_profile(name: str) -> SolverSettings:
    """The settings of profile `name`; ValueError names the known profiles."""
    if name not in profile_names():
        raise ValueError(f"unknown solver profile {name!r} (known: {', '.join(profile_names())})")
    raw = json.loads(resources.files("solvers").joinpath(PROFILE_DIR, f"{name}.json").read_text())
    return SolverSettings(time_limit_s=raw.get("time_limit_s"), mip_rel_gap=raw.get("mip_rel_gap"),
                          threads=raw.get("threads"), options=dict(raw.get("options") or {}))


def merge(base: SolverSettings, override: SolverSettings) -> SolverSettings:
    """Fields set in `override` win over `base`."""
    return SolverSettings(
        time_limit_s=override.time_limit_s if override.time_limit_s is not None else base.time_limit_s,
        mip_rel_gap=override.mip_rel_gap if override.mip_rel_gap is not None else base.mip_rel_gap,
        threads=override.threads if override.threads is not None else base.threads,
        options={**base.options, **override.options},
    )


@dataclass
class SolveOutcome:
    """What a solve gave: status in words, objective, bound, gap, times and HiGHS's log."""

    status: str  # optimal | time_limit | infeasible | unbounded | error
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    log: str
    message: str = ""
    duals: dict = field(default_factory=dict)
    highs_seconds: float = 0.0  # inside HiGHS's run(); the rest of solve_seconds is hand-off

    @property
    def ok(self) -> bool:
        return self.has_solution


_SCHEDULER_THREADS: list[int | None] = [None]  # threads of HiGHS's process-wide scheduler


def _prepare_threads(threads: int | None) -> None:
    """HiGHS fixes its thread scheduler at the first run in a process; asking for another
    thread count later is an error unless the scheduler is reset first."""
    import highspy

    if threads is not None and _SCHEDULER_THREADS[0] not in (None, threads):
        highspy.Highs.resetGlobalScheduler(True)
    if _SCHEDULER_THREADS[0] is None or threads is not None:
        _SCHEDULER_THREADS[0] = threads if threads is not None else -1


class Solver:
    """A persistent HiGHS instance attached to one model (re-solves reuse the loaded model)."""

    def __init__(self, settings: SolverSettings):
        self.settings = settings
        self.highs = Highs()
        self.log = ""

    def solve(self, model: pyo.ConcreteModel) -> SolveOutcome:
        s = self.settings
        _prepare_threads(s.threads)
        start = time.perf_counter()
        results = self.highs.solve(
            model, load_solutions=False, raise_exception_on_nonoptimal_result=False,
            time_limit=s.time_limit_s, rel_gap=s.mip_rel_gap, threads=s.threads,
            solver_options=dict(s.options))
        elapsed = time.perf_counter() - start
        log = results.solver_log or ""
        self.log += log
        tc = results.termination_condition
        has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if has_solution:
            results.solution_loader.load_vars()
        status = {
            TerminationCondition.convergenceCriteriaSatisfied: "optimal",
            TerminationCondition.maxTimeLimit: "time_limit",
            TerminationCondition.provenInfeasible: "infeasible",
            TerminationCondition.infeasibleOrUnbounded: "infeasible",
            TerminationCondition.unbounded: "unbounded",
        }.get(tc, "error")
        objective, bound = results.incumbent_objective, results.objective_bound
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
        message = ""
        if status == "time_limit":
            message = (f"time limit {s.time_limit_s:g} s reached: best plan found, relative gap "
                       f"{gap:.2%}" if gap is not None else "time limit reached: best plan found")
        outcome = SolveOutcome(status, has_solution, objective, bound, gap, elapsed, log, message,
                               highs_seconds=float(results.timing_info.highs_time or 0.0))
        if has_solution and status == "optimal" and _is_lp(model):
            outcome.duals = results.solution_loader.get_duals()
        return outcome


def _is_lp(model: pyo.ConcreteModel) -> bool:
    """True when every active variable is continuous or fixed."""
    for v in model.component_data_objects(pyo.Var, active=True):
        if not v.fixed and not v.is_continuous():
            return False
    return True
