"""The HiGHS driver's time limit, on an instance whose first solution comes at once and whose
proof of optimality cannot come in any time a test waits, whatever the machine's load."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from solvers.highs import HighsModel
from solvers.problem import SolverSettings


def market_split(rows: int = 6, seed: int = 1) -> pyo.ConcreteModel:
    """Cornuejols and Dawande's market split as an optimization: binaries x_j, and per row the
    slack |sum_j a_ij x_j - b_i| minimized; a_ij uniform in 0..99, b_i half the row sum,
    n = 10 (rows - 1). Any x is feasible (x = 0 at once), the LP bound is 0, and a split with
    zero slack almost never exists (expected count ~1e-7 here), so only an exhaustive tree
    proves the optimum: hours for branch and bound at 6 rows."""
    rng = np.random.default_rng(seed)
    n = 10 * (rows - 1)
    a = rng.integers(0, 100, size=(rows, n))
    b = a.sum(axis=1) // 2
    m = pyo.ConcreteModel()
    m.J, m.I = pyo.RangeSet(0, n - 1), pyo.RangeSet(0, rows - 1)
    m.x = pyo.Var(m.J, domain=pyo.Binary)
    m.over = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    m.under = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    m.split = pyo.Constraint(m.I, rule=lambda m, i: sum(float(a[i, j]) * m.x[j] for j in m.J)
                             - m.over[i] + m.under[i] == float(b[i]))
    m.obj = pyo.Objective(expr=sum(m.over[i] + m.under[i] for i in m.I))
    return m


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, None])
def test_time_limit_returns_the_best_solution_marked_with_its_gap(threads):
    m = market_split()
    settings = SolverSettings(time_limit_s=1.0, mip_rel_gap=0.0, threads=threads)
    out = HighsModel(m, settings).solve()
    assert out.status == "time_limit" and out.has_solution
    assert out.gap is not None and out.gap > 0
    assert out.message.startswith("time limit 1 s reached: best plan found, relative gap")
    slack = sum(pyo.value(m.over[i]) + pyo.value(m.under[i]) for i in m.I)
    assert slack == pytest.approx(out.objective)  # the solution loaded is the one reported


def test_pool_solves_take_one_thread_and_give_the_scheduler_back():
    """Side-by-side evaluation solves run HiGHS on one thread unless the settings name a count,
    and leave HiGHS's process-wide scheduler as a later solve expects it."""
    from solvers import highs
    from solvers.highs import one_thread_each

    with one_thread_each(SolverSettings()) as pinned:
        assert pinned.threads == 1
        highs._prepare_threads(pinned.threads)
        assert highs._SCHEDULER_THREADS[0] == 1
    assert highs._SCHEDULER_THREADS[0] is None
    chosen = SolverSettings(threads=2)
    with one_thread_each(chosen) as kept:
        assert kept is chosen
