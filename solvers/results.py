"""Read a solved model back into tables, in USD: the plan, what to buy, what to buy if a block
comes, cash per quarter, stockpile, fleet, capacity, costs and risk."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from solvers.model import COST_PARTS, MONEY, r_of, recourse_price, y_of
from solvers.pyomo_env import pyo


def _v(var) -> float:
    """The variable's value; an integer variable's rounded (HiGHS leaves 9.9999999998 for 10
    within its integrality tolerance, which a spreadsheet would show)."""
    value = var.value
    if value is None or abs(value) < 1e-9:
        return 0.0
    if hasattr(var, "is_continuous") and not var.is_continuous():
        return float(round(value))
    return float(value)


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
    buy: pd.DataFrame = field(default_factory=pd.DataFrame)
    contingent: pd.DataFrame = field(default_factory=pd.DataFrame)
    cash: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)


BUY_COLUMNS = ["sku", "vendor", "order_quarter", "delivery_quarter", "nodes", "unit_price_usd",
               "cost_usd"]
CONTINGENT_COLUMNS = ["if", "quarter", "sku", "vendor", "nodes", "unit_price_usd", "cost_usd",
                      "probability", "scenarios", "tree_node"]
CASH_COLUMNS = ["quarter", "scenario", "probability", "capex_usd", "recourse_usd",
                "stockpile_usd", "porting_usd", "power_usd", "rental_usd", "cash_out_usd",
                "discount_factor", "cash_out_discounted_usd", "budget_usd", "budgeted_spend_usd",
                "headroom_usd"]


def extract(m: pyo.ConcreteModel, status: str, message: str, objective, bound, gap) -> ProcurementResult:
    """Tables from the variable values currently loaded in `m` (objective and bound in the
    model's money; reported in USD)."""
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
        [(k, t, s, _v(m.N[k, t, s]), _v(m.A[k, t, s]),
          _v(m.D[k, t, s]) if (k, t, s) in m.B else 0.0, P.g[k] * _v(m.A[k, t, s]))
         for (k, t, s) in m.KTS],
        columns=["sku", "period", "scenario", "installed_nodes", "available_nodes",
                 "dead_nodes", "effective_pflops"])
    own = fleet.groupby(["period", "scenario"], sort=False)["effective_pflops"].sum()
    capacity = pd.DataFrame(
        [(t, s, P.prob[s], P.demand[t], float(own[t, s]), _v(r_of(m, t, s)),
          inp.rental_pflops_per_gpu * _v(r_of(m, t, s)), _v(m.U[t, s])) for t in m.T for s in m.S],
        columns=["period", "scenario", "probability", "demand_pflops", "own_pflops",
                 "rented_gpus", "rented_pflops", "unmet_pflops"])
    rows = []
    for s in m.S:
        parts = {f"{part}_usd": float(pyo.value(getattr(m, f"cost_{part}")[s])) / MONEY
                 for part in COST_PARTS}
        shortfall = sum(P.hours[t] * _v(m.U[t, s]) for t in m.T)
        rows.append({"scenario": s, "probability": P.prob[s], **parts,
                     "total_usd": sum(parts.values()), "shortfall_pflops_hours": shortfall})
    costs = pd.DataFrame(rows)
    prob = costs["probability"].to_numpy()
    alpha = inp.risk.alpha
    summary = {
        "status": status,
        "message": message,
        "objective": objective / MONEY if objective is not None else None,
        "bound": bound / MONEY if bound is not None else None,
        "gap": gap,
        "discount_rate": inp.discount_rate,
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
    if inp.risk.weight > 0 or inp.risk.cvar_cap is not None:
        from solvers.model import cvar

        term = float(pyo.value(cvar(m)))
        if inp.risk.measure == "cost":
            summary["cvar_term_usd"] = term / MONEY
        else:
            summary["cvar_term_pflops_hours"] = term
    return ProcurementResult(status, message, summary["objective"], summary["bound"], gap,
                             orders, recourse, stockpile, platforms, fleet, capacity, costs,
                             buy_table(m), contingent_table(m), cash_table(m), summary)


def buy_table(m: pyo.ConcreteModel) -> pd.DataFrame:
    """What to order now: every first-stage order as whole nodes, by order quarter, with the
    quarter it is delivered in, its unit price and cost (nominal USD)."""
    P, periods = m.P, list(m.T)
    rows = []
    for (k, t) in m.X:
        nodes = round(_v(m.x[k, t]))
        if nodes <= 0:
            continue
        delivery = periods[m.period_index[t] + P.lead[k]]
        rows.append((k, P.vendor[k], t, delivery, nodes, P.price[k], nodes * P.price[k]))
    return pd.DataFrame(rows, columns=BUY_COLUMNS)


def _spells(upto: list[str], on) -> list[tuple[str, str | None]]:
    """Runs of quarters in `upto` where on(q) holds: (first quarter, first quarter after the run
    or None when it lasts to the end of `upto`)."""
    spells, start = [], None
    for q in upto:
        if on(q) and start is None:
            start = q
        elif not on(q) and start is not None:
            spells.append((start, q))
            start = None
    if start is not None:
        spells.append((start, None))
    return spells


def _history(m: pyo.ConcreteModel, t: str, s: str) -> str:
    """What has happened along s by the end of t, in words (the condition of a recourse order
    placed at t): per vendor, what was cut off, reduced or dearer and over which quarters;
    rental cut off."""
    P, periods = m.P, list(m.T)
    upto = periods[: m.period_index[t] + 1]
    said = []

    def when(spell: tuple[str, str | None]) -> str:
        start, end = spell
        return f"from {start}" if end is None else f"{start} until {end}"

    for v in sorted(m.V):
        cut_nodes = _spells(upto, lambda q, v=v: P.delivered.get((v, q, s), 1.0) <= 0)
        cut_parts = _spells(upto, lambda q, v=v: P.parts_blocked.get((v, q, s), 0.0) > 0)
        effects = ([("blocked (nodes, parts/RMA)", cut_nodes)] if cut_nodes == cut_parts else
                   [("blocked (nodes)", cut_nodes), ("blocked (parts/RMA)", cut_parts)])
        effects += [
            ("at reduced volume", _spells(upto, lambda q, v=v: P.volume.get((v, q, s), 1.0) < 1)),
            ("at a price premium",
             _spells(upto, lambda q, v=v: P.price_factor.get((v, q, s), 1.0) > 1))]
        for what, spells in effects:
            if spells:
                said.append(f"{v} {what} " + ", ".join(map(when, spells)))
    spells = _spells(upto, lambda q: (q, s) in m.inp.rental_blocked)
    if spells:
        said.append("rental cut off " + ", ".join(map(when, spells)))
    return "; ".join(said) if said else f"no block by {t}"


def contingent_table(m: pyo.ConcreteModel) -> pd.DataFrame:
    """What to order if a block comes: each recourse order as whole nodes, with the condition
    under which it is placed (what has happened by its quarter), its cost and probability; one
    row per tree node, never summed across scenarios."""
    P = m.P
    rows = []
    for (k, t, n) in m.Y:
        nodes = round(_v(m.y[k, t, n]))
        if nodes <= 0:
            continue
        members = [s for s in m.S if m.node[t, s] == n]
        price = recourse_price(m, k, t, n)  # n is a member scenario: same history up to t
        rows.append((_history(m, t, n), t, k, P.vendor[k], nodes, price, nodes * price,
                     sum(P.prob[s] for s in members), ", ".join(members), n))
    return pd.DataFrame(rows, columns=CONTINGENT_COLUMNS)


def cash_table(m: pyo.ConcreteModel) -> pd.DataFrame:
    """Cash out per quarter and scenario, nominal and discounted, and the budget headroom:
    orders (first stage and recourse, at the premium), the stockpile and porting in the first
    quarter, power of live nodes, rental."""
    P, inp = m.P, m.inp
    periods = list(m.T)
    first = periods[0]
    rows = []
    for s in m.S:
        for t in m.T:
            capex = sum(P.price[k] * _v(m.x[k, t]) for k in m.K if (k, t) in m.X)
            recourse = sum(recourse_price(m, k, t, s) * _v(y)
                           for k in m.K if not isinstance(y := y_of(m, k, t, s), float))
            stock = sum(P.part_price[kj] * _v(m.z[kj]) for kj in m.KJ) if t == first else 0.0
            porting = sum(P.porting[p] * _v(m.u[p]) for p in m.Pl
                          if not P.adopted[p]) if t == first else 0.0
            live = [m.N[k, t, s].value - (m.D[k, t, s].value if (k, t, s) in m.B else 0.0)
                    for k in m.K]
            power = sum(P.power[k] * inp.pue * P.hours[t] * inp.electricity_usd_per_kwh
                        * max(nodes or 0.0, 0.0) for k, nodes in zip(m.K, live, strict=True))
            rental = inp.rental_usd_per_gpu_hour * P.hours[t] * _v(r_of(m, t, s))
            total = capex + recourse + stock + porting + power + rental
            budgeted = capex + recourse + stock  # what period_spend counts against the budget
            budget = P.budget[t]
            rows.append((t, s, P.prob[s], capex, recourse, stock, porting, power, rental, total,
                         P.discount[t], total * P.discount[t], budget, budgeted,
                         budget - budgeted))
    return pd.DataFrame(rows, columns=CASH_COLUMNS)
