"""HiGHS driver: option profiles, the Pyomo model compiled once into HiGHS as matrices, solves
and re-solves on the same instance, status in plain words, duals and ranging.

The hand-off is Pyomo's LinearStandardFormCompiler (solvers/compile.py: sparse matrices in mixed
<=/=/>= form) passed to highspy directly: no LP file, no per-constraint Python calls into the
solver. A HighsModel keeps its HiGHS instance, so the analyses of a plan (prices with the
integers fixed, the expected-value plan evaluated in every scenario, the Pareto sweep's moving
CVaR cap) change bounds on it and re-solve, warm, instead of building a new one.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from solvers.compile import CompiledLp, compile_whole, row_key
from solvers.problem import SolverSettings
from solvers.pyomo_env import pyo

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
class RowRange:
    """What one row's right-hand side is worth, from the LP at the optimum.

    `dual` is d objective / d rhs (per unit increase of the row's active bound); `low`, `high`
    are the rhs interval over which the basis (and so the dual) stays valid; `degenerate` when
    that interval has zero width on one side or the row's slack is basic at zero."""

    dual: float
    rhs: float
    low: float
    high: float
    degenerate: bool
    binding: bool


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


def release_threads() -> None:
    """HiGHS's process-wide scheduler back to its default thread count for the next solve,
    after solves that asked for a count of their own."""
    import highspy

    if _SCHEDULER_THREADS[0] not in (None, -1):
        highspy.Highs.resetGlobalScheduler(True)
        _SCHEDULER_THREADS[0] = None


@contextmanager
def one_thread_each(settings: SolverSettings) -> Iterator[SolverSettings]:
    """`settings` with HiGHS on one thread, unless they name a count, for solves that run side
    by side on a pool of processes (out-of-sample evaluation): HiGHS's own threads would compete
    with the other workers for the same cores (10,000 paths of the example on two workers:
    69 s with HiGHS's default threads, 44 s on one). The scheduler is released after, so a
    later solve in the same process runs as it would have."""
    if settings.threads is not None:
        yield settings
        return
    from dataclasses import replace

    try:
        yield replace(settings, threads=1)
    finally:
        release_threads()


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints its banner to the process's stdout when an instance is made: send the C
    level file descriptor 1 to /dev/null meanwhile (the log goes to highs.log instead)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (an embedding host): nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _new_highs():
    import highspy

    with _quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return h


_STATUS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time_limit",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible",
    "kUnbounded": "unbounded",
}


def _key(row) -> tuple:
    """A row's key: itself, or its ConstraintData's (family, index)."""
    return row if isinstance(row, tuple) else row_key(row)


class HighsModel:
    """A Pyomo model compiled into one HiGHS instance; solved and re-solved in place."""

    def __init__(self, model: pyo.ConcreteModel, settings: SolverSettings,
                 compiled: CompiledLp | None = None):
        """Hand `model` to a new HiGHS instance: `compiled` when the caller compiled it as it
        was built (solvers/compile.py), else the whole model now."""
        import highspy

        start = time.perf_counter()
        self.model = model
        self.settings = settings
        info = compiled if compiled is not None else compile_whole(model)
        self.columns = info.columns
        self.row_keys = info.row_keys  # (family, index) per row, None where not kept
        self.row_limits = info.row_limits
        self.row_senses = info.row_senses
        self._column_of: dict[int, int] | None = None  # built when first needed
        self._rows_of: dict[tuple, list[int]] | None = None
        self.offset = info.offset
        self.eliminated = info.eliminated
        n, m = len(self.columns), len(self.row_keys)
        inf = highspy.kHighsInf
        lower = np.array([-inf if v.lb is None else float(v.lb) for v in self.columns])
        upper = np.array([inf if v.ub is None else float(v.ub) for v in self.columns])
        self.integer = np.array([not v.is_continuous() for v in self.columns], dtype=bool)
        rhs = info.rhs
        senses = self.row_senses
        self.row_lower = np.where(senses <= 0, rhs, -inf)
        self.row_upper = np.where(senses >= 0, rhs, inf)
        a = info.matrix
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = info.costs, lower, upper
        lp.offset_ = self.offset  # the objective's constant (fixed variables, constants)
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
        if self.integer.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in self.integer]
        self.lower, self.upper = lower.copy(), upper.copy()
        self.integer_now = self.integer.copy()
        self.h = _new_highs()
        self.h.passModel(lp)
        del lp, a  # HiGHS holds its own copy: the compiler's matrix goes before the solve
        info.matrix = None
        self._apply_settings(settings)
        self.log = ""
        self.handoff_seconds = time.perf_counter() - start

    # --- settings and log ---------------------------------------------------------------------

    def _apply_settings(self, s: SolverSettings) -> None:
        h = self.h
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        if s.time_limit_s is not None:
            h.setOptionValue("time_limit", float(s.time_limit_s))
        if s.mip_rel_gap is not None:
            h.setOptionValue("mip_rel_gap", float(s.mip_rel_gap))
        if s.threads is not None:
            h.setOptionValue("threads", int(s.threads))
        for key, value in s.options.items():
            h.setOptionValue(key, value)

    def _run(self) -> float:
        """h.run() with the log captured; returns HiGHS's seconds."""
        _prepare_threads(self.settings.threads)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "highs.log"
            self.h.setOptionValue("log_file", str(path))
            start = time.perf_counter()
            self.h.run()
            seconds = time.perf_counter() - start
            self.h.setOptionValue("log_file", "")
            self.log += path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return seconds

    # --- solving ------------------------------------------------------------------------------

    def run_unlogged(self) -> None:
        """Run HiGHS on what is loaded, with its threads prepared as for `solve` but no log
        and no solution loaded into the model: a solve repeated path after path
        (solvers/persistent.py), whose caller reads what it needs from `h`."""
        _prepare_threads(self.settings.threads)
        self.h.setOptionValue("output_flag", False)
        self.h.run()

    def solve(self) -> SolveOutcome:
        """Solve what is loaded now; on a solution the Pyomo variables get its values."""
        start = time.perf_counter()
        highs_seconds = self._run()
        h = self.h
        status_name = h.getModelStatus().name
        status = _STATUS.get(status_name, "error")
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        objective = bound = gap = None
        mip = bool(self.integer_now.any())
        if has_solution:
            objective = float(info.objective_function_value)
            self._load(h.getSolution().col_value)
        if mip:
            dual_bound = float(info.mip_dual_bound)
            bound = dual_bound if math.isfinite(dual_bound) else None
        elif status == "optimal":
            bound = objective
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
        message = ""
        if status == "time_limit":
            limit = self.settings.time_limit_s
            message = (f"time limit {limit:g} s reached: best plan found, relative gap {gap:.2%}"
                       if gap is not None else "time limit reached: best plan found")
        return SolveOutcome(status, has_solution, objective, bound, gap,
                            time.perf_counter() - start, self.log, message,
                            highs_seconds=highs_seconds)

    @property
    def column_of(self) -> dict[int, int]:
        """id(VarData) -> its column."""
        if self._column_of is None:
            self._column_of = {id(v): i for i, v in enumerate(self.columns)}
        return self._column_of

    @property
    def rows_of(self) -> dict[tuple, list[int]]:
        """Row key (family, index) -> its rows (two for a range)."""
        if self._rows_of is None:
            self._rows_of = {}
            for i, key in enumerate(self.row_keys):
                if key is not None:
                    self._rows_of.setdefault(key, []).append(i)
        return self._rows_of

    def rows(self, family: str) -> list[tuple]:
        """The keys of the kept rows of a constraint family, in row order."""
        return list(dict.fromkeys(k for k in self.row_keys if k is not None and k[0] == family))

    def limit(self, row) -> float:
        """The limit a row (its key, or its ConstraintData while the model has it) was compiled
        with, in the row's units (its first row's, for a range)."""
        return float(self.row_limits[self.rows_of[_key(row)][0]])

    def row_activities(self) -> np.ndarray:
        """Each row's activity (A x) in the solution loaded in HiGHS now, in the compiled
        units: compare it with row_lower / row_upper, not with the limit."""
        return np.asarray(self.h.getSolution().row_value, dtype=float)

    def _load(self, values) -> None:
        for var, value in zip(self.columns, values, strict=True):
            var.set_value(float(value), skip_validation=True)
        for var, expr in self.eliminated:
            var.set_value(float(pyo.value(expr)), skip_validation=True)

    # --- changing the loaded problem ------------------------------------------------------------

    def fix(self, values: dict) -> None:
        """Fix columns (Pyomo VarData -> value): lower = upper = value."""
        pairs = [(self.column_of[id(v)], float(x)) for v, x in values.items()
                 if id(v) in self.column_of]  # a variable in no row is not a column
        idx = np.array([i for i, _ in pairs], dtype=np.int32)
        vals = np.array([x for _, x in pairs])
        if len(idx):
            self.h.changeColsBounds(len(idx), idx, vals, vals)

    def fix_integers(self) -> None:
        """Fix every integer column at its value in the solution loaded now, rounded."""
        values = np.asarray(self.h.getSolution().col_value, dtype=float)
        idx = np.flatnonzero(self.integer_now).astype(np.int32)
        if len(idx):
            vals = np.round(values[idx])
            self.h.changeColsBounds(len(idx), idx, vals, vals)

    def relax_integrality(self) -> None:
        """Make every integer column continuous (an LP: duals and ranging)."""
        import highspy

        idx = np.flatnonzero(self.integer).astype(np.int32)
        if len(idx):
            kinds = np.array([highspy.HighsVarType.kContinuous] * len(idx))
            self.h.changeColsIntegrality(len(idx), idx, kinds)
        self.integer_now = np.zeros_like(self.integer)

    def restore(self) -> None:
        """Back to the problem as compiled: original bounds and integrality."""
        import highspy

        n = len(self.columns)
        idx = np.arange(n, dtype=np.int32)
        self.h.changeColsBounds(n, idx, self.lower, self.upper)
        ints = np.flatnonzero(self.integer).astype(np.int32)
        if len(ints):
            kinds = np.array([highspy.HighsVarType.kInteger] * len(ints))
            self.h.changeColsIntegrality(len(ints), ints, kinds)
        self.integer_now = self.integer.copy()

    def set_rhs(self, row, value: float) -> None:
        """Move the active bound of a one-sided row (its key, or its ConstraintData while the
        model has it) to `value` (in the row's units), from the limit it was compiled with."""
        import highspy

        inf = highspy.kHighsInf
        for i in self.rows_of.get(_key(row), []):
            sense = int(self.row_senses[i])
            shift = float(value) - float(self.row_limits[i])
            lower = self.row_lower[i] + shift if sense <= 0 else -inf
            upper = self.row_upper[i] + shift if sense >= 0 else inf
            self.h.changeRowBounds(i, lower, upper)

    # --- prices ---------------------------------------------------------------------------------

    def ranging(self, rows) -> dict:
        """RowRange of each row in `rows` (keys, or ConstraintData while the model has them),
        keyed as given, from the LP just solved."""
        import highspy

        h = self.h
        status, rng = h.getRanging()
        if status != highspy.HighsStatus.kOk:
            return {}
        # each of these attributes copies a whole C++ vector when read: read them once
        solution, basis = h.getSolution(), h.getBasis()
        activities = np.asarray(solution.row_value, dtype=float)
        duals = np.asarray(solution.row_dual, dtype=float)
        basic_rows = np.asarray([s == highspy.HighsBasisStatus.kBasic for s in basis.row_status],
                                dtype=bool)
        ups = np.asarray(rng.row_bound_up.value_, dtype=float)
        downs = np.asarray(rng.row_bound_dn.value_, dtype=float)
        wanted = {_key(row): row for row in rows}
        out = {}
        tolerance = 1e-9
        for i, key in enumerate(self.row_keys):
            if key is None or key not in wanted:
                continue
            sense = int(self.row_senses[i])
            activity = float(activities[i])
            rhs = float(self.row_upper[i] if sense >= 0 else self.row_lower[i])
            dual = float(duals[i]) + 0.0  # no negative zero
            scale = tolerance * max(1.0, abs(rhs))
            basic = bool(basic_rows[i])
            if basic:
                # the row's slack is in the basis: its dual is 0 for as long as the limit stays
                # beyond the activity (HiGHS ranges a basic row's activity, not its limit)
                dual = 0.0
                low, high = (activity, math.inf) if sense > 0 else (-math.inf, activity)
                if sense == 0:
                    low = high = activity
            else:
                up, down = float(ups[i]), float(downs[i])
                high = up if abs(up) < 1e30 else math.inf
                low = down if abs(down) < 1e30 else -math.inf
            slack_zero = abs(activity - rhs) <= scale
            degenerate = (abs(high - rhs) <= scale or abs(rhs - low) <= scale
                          or (basic and slack_zero))
            out[wanted[key]] = RowRange(dual, rhs, low, high, degenerate, binding=not basic)
        return out
