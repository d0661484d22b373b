"""Read a solved model back into tables: plan, stockpile, fleet, capacity, costs, risk."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from solvers.model import COST_PARTS, r_of, y_of


def _v(var) -> float:
    value = var.value
    return 0.0 if value is None or abs(value) < 1e-9 else float(value)


def sample_cvar(values: np.ndarray, probabilities: np.ndarray, alpha: float) -> float:
    """CVaR_alpha of a discrete distribution by its definition: min_eta eta + E[(X - eta)+]/(1 - alpha)
    (the minimum is attained at one of the outcomes)."""
    best = np.inf
    for eta in values:
        best = min(best, eta + float(probabilities @ np.maximum(values - eta, 0.0)) / (1.0 - alpha))
    return float(best)


@dataclass(frozen=True)
class ProcurementResult:
    """The solution as tables (all in plain units named in the columns)."""

    status: str
    message: str
    objective: float | None
    bound: float | None
    gap: float | None
    orders: pd.DataFrame
    recourse: pd.DataFrame
    stockpile: pd.DataFrame
    platforms: pd.DataFrame
    fleet: pd.DataFrame
    capacity: pd.DataFrame
    costs: pd.DataFrame
    summary: dict = field(default_factory=dict)


def extract(m: pyo.ConcreteModel, status: str, message: str, objective, bound, gap) -> ProcurementResult:
    """Tables from the variable values currently loaded in `m`."""
    P, inp = m.P, m.inp
    orders = pd.DataFrame(
        [(k, t, _v(m.x[k, t]), P.vendor[k], P.platform[k], P.price[k] * _v(m.x[k, t]),
          P.g[k] * _v(m.x[k, t])) for (k, t) in m.X],
        columns=["sku", "period", "nodes", "vendor", "platform", "capex_usd", "effective_pflops"])
    recourse = pd.DataFrame(
        [(k, t, s, m.node[t, s], _v(y)) for k in m.K for t in m.T for s in m.S
         if not isinstance(y := y_of(m, k, t, s), float) and _v(y) > 0],
        columns=["sku", "period", "scenario", "tree_node", "nodes"])
    stockpile = pd.DataFrame(
        [(k, j, _v(m.z[k, j]), P.part_price[k, j], P.part_price[k, j] * _v(m.z[k, j]))
         for (k, j) in m.KJ],
        columns=["sku", "part", "units", "price_usd", "cost_usd"])
    platforms = pd.DataFrame(
        [(p, _v(m.u[p]) > 0.5, _v(m.pm[p]) > 0.5, P.porting[p] if not P.adopted[p] else 0.0)
         for p in m.Pl], columns=["platform", "adopted", "primary", "porting_cost_usd"])
    fleet = pd.DataFrame(
        [(k, t, s, _v(m.N[k, t, s]), _v(m.A[k, t, s]), P.g[k] * _v(m.A[k, t, s]))
         for (k, t, s) in m.KTS],
        columns=["sku", "period", "scenario", "installed_nodes", "available_nodes",
                 "effective_pflops"])
    own = fleet.groupby(["period", "scenario"], sort=False)["effective_pflops"].sum()
    capacity = pd.DataFrame(
        [(t, s, P.prob[s], P.demand[t], float(own[t, s]), _v(r_of(m, t, s)),
          inp.rental_pflops_per_gpu * _v(r_of(m, t, s)), _v(m.U[t, s])) for t in m.T for s in m.S],
        columns=["period", "scenario", "probability", "demand_pflops", "own_pflops",
                 "rented_gpus", "rented_pflops", "unmet_pflops"])
    rows = []
    for s in m.S:
        parts = {f"{part}_usd": float(pyo.value(getattr(m, f"cost_{part}")[s])) for part in COST_PARTS}
        shortfall = sum(P.hours[t] * _v(m.U[t, s]) for t in m.T)
        rows.append({"scenario": s, "probability": P.prob[s], **parts,
                     "total_usd": sum(parts.values()), "shortfall_pflops_hours": shortfall})
    costs = pd.DataFrame(rows)
    prob = costs["probability"].to_numpy()
    alpha = inp.risk.alpha
    summary = {
        "status": status,
        "message": message,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "expected_cost_usd": float(prob @ costs["total_usd"].to_numpy()),
        "cvar_alpha": alpha,
        "cvar_cost_usd": sample_cvar(costs["total_usd"].to_numpy(), prob, alpha),
        "cvar_shortfall_pflops_hours": sample_cvar(costs["shortfall_pflops_hours"].to_numpy(),
                                                   prob, alpha),
        "expected_shortfall_pflops_hours": float(prob @ costs["shortfall_pflops_hours"].to_numpy()),
        "worst_case_shortfall_pflops_hours": float(costs["shortfall_pflops_hours"].max()),
        "worst_case_shortfall_pflops": float(capacity["unmet_pflops"].max()),
        "primary_platform": next((p for p in m.Pl if _v(m.pm[p]) > 0.5), None),
    }
    return ProcurementResult(status, message, objective, bound, gap, orders, recourse, stockpile,
                             platforms, fleet, capacity, costs, summary)
