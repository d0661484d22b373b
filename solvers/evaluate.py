"""A fixed first-stage plan evaluated on scenarios it was not chosen on: its first-stage
decisions (orders x, stockpile z, platforms u and pm) fixed, the recourse re-optimized. With
`inp.hindsight` every scenario's recourse sees its whole future (the optimistic policy of an
out-of-sample evaluation); without, the recourse respects the scenarios' tree.

`rolling_step` is one step of the implementable policy: the recourse of the periods before
`period` fixed along every scenario to what was done, the recourse of `period` (one decision
per tree node) chosen on the scenarios' tree of what may come. The policy itself runs on the
persistent model (solvers/persistent.solve_cases), which is checked against these two, the
model stated once (tests/solvers/test_persistent.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from pyomo.common.collections import ComponentMap

from solvers.model import MONEY
from solvers.optimize import compile_model, first_stage_fixes
from solvers.problem import ProcurementInput, SolverSettings
from solvers.pyomo_env import pyo

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
        return _costs(m, scenarios)
    if len(scenarios) == 1:
        return pd.DataFrame([(scenarios[0], m.P.prob[scenarios[0]], False, float("inf"),
                              float("inf"))], columns=EVALUATION_COLUMNS)
    parts = []
    for s in scenarios:
        one = inp.scenarios.loc[[s]].assign(probability=1.0)
        alone = only_scenarios(inp, one)
        row = fixed_plan_costs(alone, settings, first_stage)
        parts.append(row.assign(probability=float(inp.scenarios.loc[s, "probability"])))
    return pd.concat(parts, ignore_index=True)


def only_scenarios(inp: ProcurementInput, table: pd.DataFrame) -> ProcurementInput:
    """The problem restricted to the scenarios of `table` (their rows of inp.scenarios, with
    probabilities that sum to 1)."""
    names = set(table.index)

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if "scenario" in frame.index.names:
            return frame[frame.index.get_level_values("scenario").isin(names)]
        if "scenario" in frame.columns:
            return frame[frame["scenario"].isin(names)]
        return frame

    return replace(inp, scenarios=table, vendor_scenarios=keep(inp.vendor_scenarios),
                   availability=keep(inp.availability),
                   stockpile_pieces=keep(inp.stockpile_pieces),
                   rental_blocked=frozenset(c for c in inp.rental_blocked if c[1] in names))


@dataclass(frozen=True)
class Recourse:
    """The recourse of one period along one scenario: node orders placed per SKU (absent = 0)
    and rented GPUs."""

    orders: tuple[tuple[str, float], ...]
    rented_gpus: float

    def nodes(self, sku: str) -> float:
        return dict(self.orders).get(sku, 0.0)


@dataclass(frozen=True)
class StepResult:
    """One rolling step: the recourse chosen in the step's period along each scenario and each
    scenario's cost with everything after that period chosen on its tree (EVALUATION_COLUMNS;
    at the last period, the cost of the policy itself)."""

    recourse: dict[str, Recourse]  # scenario -> the recourse of the step's period
    costs: pd.DataFrame


def recourse_fixes(m: pyo.ConcreteModel, past: dict[str, dict[str, Recourse]]) -> ComponentMap:
    """The recourse variables of `m` along each scenario of `past` ({scenario: {period:
    Recourse}}) -> their values, for HighsModel.fix. Scenarios that share a node at a period
    must carry the same recourse there (one decision per node)."""
    fixed = ComponentMap()
    for s, by_period in past.items():
        for t, done in by_period.items():
            n = m.node[t, s]
            for k in m.K:
                value = done.nodes(k)
                if (k, t, n) in m.Y:
                    fixed[m.y[k, t, n]] = value
                elif value > 0:
                    raise ValueError(f"{k} cannot be ordered in {t} along scenario {s}")
            fixed[m.r[t, n]] = done.rented_gpus
    return fixed


def rolling_step(inp: ProcurementInput, settings: SolverSettings, first_stage: dict,
                 past: dict[str, dict[str, Recourse]], period: str) -> StepResult | None:
    """The first stage and the recourse of `past` fixed, the recourse of `period` and later
    chosen on the scenarios' tree (`inp.recourse_from_start`: an order can be placed in any
    period); None when no recourse is feasible. The objective must be separable by scenario
    group for a batch of independent steps to be solved as one model (risk-neutral `inp`)."""
    if not inp.recourse_from_start or inp.hindsight:
        raise ValueError("a rolling step needs recourse_from_start and no hindsight")
    m, hm, _ = compile_model(replace(inp, recourse_decided_from=period), settings)
    fixes = first_stage_fixes(m, first_stage)
    fixes.update(recourse_fixes(m, past))
    hm.fix(fixes)
    out = hm.solve()
    if not out.has_solution:
        return None
    chosen = {}
    for s in inp.scenario_labels:
        n = m.node[period, s]
        orders = tuple((k, float(round(m.y[k, period, n].value or 0.0)) if inp.integer_recourse
                        else float(m.y[k, period, n].value or 0.0))
                       for k in m.K if (k, period, n) in m.Y)
        chosen[s] = Recourse(tuple((k, v) for k, v in orders if v > 0),
                             float(m.r[period, n].value or 0.0))
    return StepResult(chosen, _costs(m, inp.scenario_labels))


def _costs(m: pyo.ConcreteModel, scenarios: list[str]) -> pd.DataFrame:
    """EVALUATION_COLUMNS of each scenario from the solution loaded in `m`."""
    return pd.DataFrame([(s, m.P.prob[s], True, float(pyo.value(m.cost[s])) / MONEY,
                          sum(m.P.hours[t] * (m.U[t, s].value or 0.0) for t in m.T))
                         for s in scenarios], columns=EVALUATION_COLUMNS)
