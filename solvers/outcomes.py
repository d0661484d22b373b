"""The solver's outcomes that are not a plan, as exceptions (light: no Pyomo, so that a caller
can catch them without loading the model)."""

from __future__ import annotations


class Infeasible(Exception):
    """The problem has no feasible plan; the message names the family, period and gap."""


class NoPlanInTime(Exception):
    """The time limit ran out before HiGHS found any feasible plan (not a proof of infeasibility)."""


class SolverFailed(Exception):
    """HiGHS stopped without a plan for a reason other than infeasibility or the time limit."""
