"""Say why a model is infeasible in the user's terms, found with elastic slack variables.

One elastic model relaxes every family that can bind: demand (only when unmet demand is not
allowed), budget per quarter and in total, power, rack space, supply caps (first stage and
recourse), the vendor and domestic shares, the largest job and the CVaR cap. Its LP relaxation
minimizes the weighted sum of the slacks, each in its family's unit; the family, period and
scenario with the largest weighted slack is named, with the gap in that family's unit. One LP
solve: the diagnosis costs about what the elastic model's own solve costs.

Weights say which limit a planner would rather hear about: a policy they set (a share, the CVaR
cap) before a budget, a budget before a physical limit (power, space, a vendor's supply), and
the demand itself last.
"""

from __future__ import annotations

from dataclasses import replace

from solvers.highs import HighsModel
from solvers.model import ELASTIC_WEIGHTS, MONEY, build_model
from solvers.problem import ProcurementInput, SolverSettings

# family -> (unit of its slack, words); slack units: budgets and CVaR of cost in millions of
# USD, power MW, space racks, supply nodes, the rest PFLOP/s
FAMILIES = {
    "domestic_share": ("PFLOP/s", "the minimum domestic share"),
    "vendor_share": ("PFLOP/s", "the vendor share cap"),
    "cvar": ("", "the CVaR cap"),
    "budget": ("USD", "the budget"),
    "budget_total": ("USD", "the total budget"),
    "largest_job": ("PFLOP/s", "the largest job"),
    "power": ("MW", "the power cap"),
    "space": ("racks", "the rack space"),
    "supply": ("nodes", "the vendor's supply cap"),
    "recourse_supply": ("nodes", "the vendor's supply cap for recourse orders"),
    "demand": ("PFLOP/s", "the demand"),
}
assert set(FAMILIES) == set(ELASTIC_WEIGHTS)
TOLERANCE = 1e-6


def _where(m, family: str, index: tuple) -> str:
    """The period, scenario, vendor or platform a slack belongs to, in words."""
    several = len(m.S) > 1
    if family in ("budget", "power", "space", "demand"):
        t, s = index
        return f"in {t}" + (f" in scenario '{s}'" if several else "")
    if family == "budget_total":
        return f"in scenario '{index[0]}'" if several else ""
    if family == "supply":
        return f"of {index[0]} in {index[1]}"
    if family == "recourse_supply":
        v, t, n = index
        return f"of {v} in {t} (after the history of scenario '{n}')"
    if family == "largest_job":
        p, t, s = index
        return f"on {p} in {t}" + (f" in scenario '{s}'" if several else "")
    if family == "vendor_share":
        v, s = index
        return f"of {v}" + (f" in scenario '{s}'" if several else "")
    if family == "domestic_share":
        return f"in scenario '{index[0]}'" if several else ""
    return ""


def _gap(inp: ProcurementInput, family: str, value: float) -> str:
    unit = FAMILIES[family][0]
    if unit == "USD":
        return f"${value / MONEY:,.0f}"
    if family == "cvar":
        return (f"${value / MONEY:,.0f}" if inp.risk.measure == "cost"
                else f"{value:,.0f} PFLOP/s-hours")
    return f"{value:,.2f} {unit}"


def explain_infeasible(inp: ProcurementInput, settings: SolverSettings) -> str:
    """One line naming the constraint family, period and scenario, and the size of the gap."""
    relaxed = replace(inp, integer_orders=False, integer_recourse=False)
    m = build_model(relaxed, elastic=True)
    out = HighsModel(m, settings).solve()
    if not out.has_solution:
        return "the model is infeasible even with every constraint family relaxed"
    slacks = sorted((ELASTIC_WEIGHTS[key[0]] * (v.value or 0.0) / m.slack_scale[key], key,
                     v.value or 0.0)
                    for key, v in m.slack.items() if (v.value or 0.0) > TOLERANCE)
    if not slacks:
        return ("the plan is feasible only with fractions of nodes: no whole-node plan meets "
                "every limit (try procurement.integer_orders: false to see the fractional plan)")
    _, key, value = slacks[-1]
    family, *index = key
    words = FAMILIES[family][1]
    if family == "cvar":
        return (f"{words} is {_gap(inp, family, value)} below the least CVaR any plan reaches: "
                "raise procurement.risk.cvar_cap")
    if family == "demand":
        return (f"{words} {_where(m, family, tuple(index))} exceeds what can be supplied by "
                f"{_gap(inp, family, value)} (unmet demand is not allowed)")
    where = _where(m, family, tuple(index))
    return f"{words} {where} is short by {_gap(inp, family, value)}".replace("  ", " ")
