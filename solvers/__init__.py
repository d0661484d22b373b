"""The procurement optimization library: a Pyomo model solved by HiGHS, plain tables in and out.

This package never imports `planner`, YAML or SimPy: the application turns its scenario files
into a `ProcurementInput` and writes the `ProcurementResult` tables itself.
"""

from solvers.problem import ProcurementInput, RiskSettings, SolverSettings

__all__ = ["ProcurementInput", "RiskSettings", "SolverSettings"]
