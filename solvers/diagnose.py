"""Say why a model is infeasible in the user's terms, found with elastic slack variables.

First only demand is relaxed (unmet demand allowed, everything else hard): if that is feasible,
the largest unmet demand is reported with the families that bind in that period. Otherwise every
hard family gets a penalized slack and the largest slacks are reported.
"""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo

from solvers.highs import Solver
from solvers.model import SLACK_SCALE, build_model
from solvers.problem import ProcurementInput, RiskSettings, SolverSettings

UNITS = {"budget": "USD", "budget_total": "USD", "power": "MW", "space": "racks",
         "supply": "nodes", "demand": "PFLOP/s", "largest_job": "PFLOP/s",
         "vendor_share": "PFLOP/s", "domestic_share": "PFLOP/s", "cvar": "(risk measure unit)"}
WORDS = {"budget": "the budget", "budget_total": "the total budget", "power": "the power cap",
         "space": "the rack space", "supply": "the vendors' supply caps"}


def _binding_families(m, period: str, scenario: str) -> list[str]:
    """Families with a tight row under `scenario` in `period` or before it (orders placed
    earlier arrive after their lead time, so an earlier budget or cap can be the limit)."""
    upto = set(list(m.T)[: m.period_index[period] + 1])
    tight = []
    for family, name in (("budget_period", "budget"), ("power_cap", "power"),
                         ("rack_space", "space")):
        con = getattr(m, family)
        if any(_tight(con[t, scenario]) for t in upto if (t, scenario) in con):
            tight.append(name)
    if any(_tight(row) for (_v, t), row in m.supply_cap.items() if t in upto):
        tight.append("supply")
    if scenario in m.budget_total and _tight(m.budget_total[scenario]):
        tight.append("budget_total")
    return tight


def _tight(con) -> bool:
    body = pyo.value(con.body)
    bound = con.upper if con.upper is not None else con.lower
    bound = pyo.value(bound)
    return abs(body - bound) <= 1e-6 * max(1.0, abs(bound))


def explain_infeasible(inp: ProcurementInput, settings: SolverSettings) -> str:
    """One line naming the constraint family, period and the size of the gap."""
    relaxed = replace(inp, allow_unmet=True, unmet_penalty_usd_per_pflops_hour=1e6,
                      risk=RiskSettings(alpha=inp.risk.alpha), integer_orders=False)
    m = build_model(relaxed)
    m.obj.deactivate()
    m.unmet_obj = pyo.Objective(expr=sum(m.P.prob[s] * m.U[t, s] for t in m.T for s in m.S))
    out = Solver(settings).solve(m)
    if out.has_solution:
        worst = max(((t, s) for t in m.T for s in m.S), key=lambda ts: m.U[ts].value or 0.0)
        gap = m.U[worst].value or 0.0
        if gap > 1e-6:
            t, s = worst
            families = _binding_families(m, t, s) or ["the available supply"]
            what = " and ".join(WORDS.get(f, f) for f in families)
            where = f" in scenario '{s}'" if len(m.S) > 1 else ""
            return (f"demand in {t}{where} exceeds what {what} can provide by "
                    f"{gap:,.0f} PFLOP/s (unmet demand is not allowed)")
    m = build_model(replace(inp, integer_orders=False), elastic=True)
    out = Solver(settings).solve(m)
    if not out.has_solution:
        return "the model is infeasible even with every constraint family relaxed"
    slacks = sorted(((v.value or 0.0) / SLACK_SCALE[i[0]], i, v.value or 0.0)
                    for i, v in m.slack.items() if (v.value or 0.0) > 1e-6)
    if not slacks:
        return "the model is infeasible only with integer orders: relax integrality to see why"
    _, key, value = slacks[-1]
    family, *where = key
    if family == "cvar":
        return (f"the CVaR cap is {value:,.2f} below the least CVaR any plan reaches: raise "
                "procurement.risk.cvar_cap")
    place = " ".join(str(w) for w in where)
    return (f"{family.replace('_', ' ')} constraint ({place}) is short by {value:,.2f} "
            f"{UNITS.get(family, '')}".rstrip() + " to make the plan feasible")
