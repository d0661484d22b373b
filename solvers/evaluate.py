"""A fixed first-stage plan evaluated on scenarios it was not chosen on: its first-stage
decisions (orders x, stockpile z, platforms u and pm) fixed, the recourse re-optimized. With
`inp.hindsight` every scenario's recourse sees its whole future (the optimistic policy of an
out-of-sample evaluation); without, the recourse respects the scenarios' tree.
"""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from solvers.model import MONEY
from solvers.optimize import compile_model, first_stage_fixes
from solvers.problem import ProcurementInput, SolverSettings

EVALUATION_COLUMNS = ["scenario", "probability", "feasible", "cost_usd",
                      "shortfall_pflops_hours"]


def fixed_plan_costs(inp: ProcurementInput, settings: SolverSettings,
                     first_stage: dict) -> pd.DataFrame:
    """Per scenario of `inp`: its probability, whether the plan `first_stage` ({variable name:
    {index: value}}, absent = 0) admits a recourse, the discounted cost (USD) and the unmet
    demand (PFLOP/s-hours) with the best recourse. One solve for all scenarios; when that is
    infeasible, each scenario alone, so that one infeasible scenario does not hide the others'
    costs."""
    m, hm, _ = compile_model(inp, settings)
    hm.fix(first_stage_fixes(m, first_stage))
    out = hm.solve()
    scenarios = inp.scenario_labels
    if out.has_solution:
        return pd.DataFrame([(s, m.P.prob[s], True, float(pyo.value(m.cost[s])) / MONEY,
                              sum(m.P.hours[t] * (m.U[t, s].value or 0.0) for t in m.T))
                             for s in scenarios], columns=EVALUATION_COLUMNS)
    if len(scenarios) == 1:
        return pd.DataFrame([(scenarios[0], m.P.prob[scenarios[0]], False, float("inf"),
                              float("inf"))], columns=EVALUATION_COLUMNS)
    parts = []
    for s in scenarios:
        one = inp.scenarios.loc[[s]].assign(probability=1.0)
        alone = only_scenario(inp, s, one)
        row = fixed_plan_costs(alone, settings, first_stage)
        parts.append(row.assign(probability=float(inp.scenarios.loc[s, "probability"])))
    return pd.concat(parts, ignore_index=True)


def only_scenario(inp: ProcurementInput, s: str, table: pd.DataFrame) -> ProcurementInput:
    """The problem restricted to scenario `s` (probability 1)."""
    from dataclasses import replace

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if "scenario" in frame.index.names:
            return frame[frame.index.get_level_values("scenario") == s]
        if "scenario" in frame.columns:
            return frame[frame["scenario"] == s]
        return frame

    return replace(inp, scenarios=table, vendor_scenarios=keep(inp.vendor_scenarios),
                   availability=keep(inp.availability),
                   stockpile_pieces=keep(inp.stockpile_pieces),
                   rental_blocked=frozenset(c for c in inp.rental_blocked if c[1] == s))
