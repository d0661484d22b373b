"""Solve a procurement problem and analyse the plan: shadow prices, VSS, EVPI, Pareto front."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from solvers.diagnose import explain_infeasible
from solvers.highs import SolveOutcome, Solver
from solvers.model import build_model
from solvers.problem import ProcurementInput, RiskSettings, SolverSettings
from solvers.results import ProcurementResult, extract

FIRST_STAGE = ("x", "z", "u", "pm")
SHADOW_FAMILIES = {"budget_period": "budget_usd", "budget_total": "total_budget_usd",
                   "power_cap": "power_cap_mw", "rack_space": "racks", "supply_cap": "supply_nodes"}


class Infeasible(Exception):
    """The problem has no feasible plan; the message names the family, period and gap."""


class NoPlanInTime(Exception):
    """The time limit ran out before HiGHS found any feasible plan (not a proof of infeasibility)."""


class SolverFailed(Exception):
    """HiGHS stopped without a plan for a reason other than infeasibility or the time limit."""


@dataclass
class Optimization:
    """A solved problem: the result tables, analyses, timings and HiGHS's log."""

    result: ProcurementResult
    shadow_prices: pd.DataFrame
    value_of_information: dict
    timings_s: dict
    log: str
    extra: dict = field(default_factory=dict)


def _fix_first_stage(m: pyo.ConcreteModel, values: dict | None = None) -> dict:
    """Fix first-stage variables (to `values`, else to their current values, rounded only where
    the domain is integer) and make them continuous, so that HiGHS sees an LP (fixed integer
    columns would keep it a MIP)."""
    saved = {}
    for name in FIRST_STAGE:
        var = getattr(m, name)
        for key in var:
            v = var[key]
            if values is not None:
                value = values[name, key]
            else:
                value = v.value or 0.0
                if not v.is_continuous():
                    value = round(value)
            saved[name, key] = (v.domain, v.value, v.fixed)
            v.domain = pyo.Reals
            v.fix(float(value))
    return saved


def _restore_first_stage(m: pyo.ConcreteModel, saved: dict) -> None:
    for (name, key), (domain, value, fixed) in saved.items():
        v = getattr(m, name)[key]
        v.unfix()
        v.domain = domain
        v.set_value(value, skip_validation=True)
        if fixed:
            v.fix()


def _solve(inp: ProcurementInput, settings: SolverSettings) -> tuple[pyo.ConcreteModel, SolveOutcome]:
    m = build_model(inp)
    out = Solver(settings).solve(m)
    if out.status == "infeasible":
        raise Infeasible(explain_infeasible(inp, settings))
    if out.status == "time_limit" and not out.has_solution:
        raise NoPlanInTime(f"time limit {settings.time_limit_s:g} s reached before any feasible "
                           "plan was found: raise procurement.solver.time_limit_s")
    if out.status == "unbounded":
        raise Infeasible("the model is unbounded: a cost is missing or negative")
    if not out.has_solution:
        raise SolverFailed(f"HiGHS failed: {out.status}")
    return m, out


def shadow_prices(m: pyo.ConcreteModel, settings: SolverSettings) -> pd.DataFrame:
    """d objective / d right-hand side of the budget, power, rack and supply limits, from the LP
    with the first-stage decisions fixed at the optimum (continuous recourse).

    A limit such as B_t is the right-hand side of one row per scenario, so its price is the sum
    of those rows' duals; a supply cap Q_vt also bounds the recourse rows (through
    q (Q - x)), whose duals count with weight q. Units: USD of objective per unit of the limit
    (<= 0 for a binding cap: one more unit saves that much)."""
    saved = _fix_first_stage(m)
    recourse_domains = {key: m.y[key].domain for key in m.y}
    for key in m.y:
        m.y[key].domain = pyo.NonNegativeReals
    try:
        out = Solver(settings).solve(m)
    finally:
        for key, domain in recourse_domains.items():
            m.y[key].domain = domain
    if out.status != "optimal" or not out.duals:
        _restore_first_stage(m, saved)
        raise SolverFailed(f"the LP for shadow prices did not solve ({out.status})")
    duals = out.duals
    total: dict[tuple[str, str, str], float] = {}

    def add(family: str, index_1: str, index_2: str, value: float) -> None:
        total[family, index_1, index_2] = total.get((family, index_1, index_2), 0.0) + value

    for family in ("budget_period", "power_cap", "rack_space"):
        for (t, _s), row in getattr(m, family).items():
            add(family, str(t), "", duals.get(row, 0.0))
    for _s, row in m.budget_total.items():
        add("budget_total", "", "", duals.get(row, 0.0))
    for (v, t), row in m.supply_cap.items():
        add("supply_cap", str(v), str(t), duals.get(row, 0.0))
    for (v, t, n), row in m.recourse_supply_cap.items():
        add("supply_cap", str(v), str(t), m.P.volume.get((v, t, n), 1.0) * duals.get(row, 0.0))
    _restore_first_stage(m, saved)
    rows = [(family, SHADOW_FAMILIES[family], i1, i2, value, abs(value) > 1e-9)
            for (family, i1, i2), value in total.items()]
    return pd.DataFrame(rows, columns=["family", "unit", "index_1", "index_2", "shadow_price",
                                       "binding"])


def expected_value_input(inp: ProcurementInput) -> ProcurementInput:
    """The EV problem: one scenario whose parameters are the probability-weighted means."""
    prob = inp.scenarios["probability"]
    vs = inp.vendor_scenarios.reset_index()
    vs["w"] = vs["scenario"].map(prob)
    cols = ["delivered_fraction", "orderable", "volume_factor"]
    for c in cols:
        vs[c] = vs[c].astype(float) * vs["w"]
    ev_vs = vs.groupby(["vendor", "period"], sort=False)[cols].sum()
    ev_vs["orderable"] = (ev_vs["orderable"] >= 0.5).astype(float)
    ev_vs["blocked"] = False
    ev_vs["scenario"] = "expected"
    ev_vs = ev_vs.reset_index().set_index(["vendor", "period", "scenario"])
    av = inp.availability.reset_index()
    av["availability"] = av["availability"] * av["scenario"].map(prob)
    ev_av = av.groupby(["sku", "period"], sort=False)["availability"].sum().reset_index()
    ev_av["scenario"] = "expected"
    ev_av = ev_av.set_index(["sku", "period", "scenario"])
    # expected stockpile pieces: cells without a block contribute (availability, 0) to each piece
    pieces = inp.stockpile_pieces
    if len(pieces):
        pieces_n = int(pieces["piece"].max()) + 1
        rows = []
        for (k, j, t), group in pieces.groupby(["sku", "part", "period"], sort=False):
            for b in range(pieces_n):
                alpha = beta = 0.0
                for s, p in prob.items():
                    hit = group[(group["scenario"] == s) & (group["piece"] == b)]
                    if len(hit):
                        alpha += p * float(hit["intercept"].iloc[0])
                        beta += p * float(hit["slope"].iloc[0])
                    else:
                        alpha += p * float(inp.availability.loc[(k, t, s), "availability"])
                rows.append((k, j, t, "expected", b, alpha, beta))
        pieces = pd.DataFrame(rows, columns=list(inp.stockpile_pieces.columns))
    scenarios = pd.DataFrame({"probability": [1.0]}, index=pd.Index(["expected"], name="scenario"))
    # rental: the cap scaled by the chance it is not cut off
    open_share = {t: 1.0 - sum(float(p) for s, p in prob.items() if (t, s) in inp.rental_blocked)
                  for t in inp.period_labels}
    periods = inp.periods.assign(rental_cap_gpus=[
        float(g) * open_share[t] for t, g in inp.periods["rental_cap_gpus"].items()])
    return replace(inp, scenarios=scenarios, vendor_scenarios=ev_vs, availability=ev_av,
                   stockpile_pieces=pieces, periods=periods, rental_blocked=frozenset(),
                   risk=RiskSettings(alpha=inp.risk.alpha))


def _scenario_input(inp: ProcurementInput, scenario: str) -> ProcurementInput:
    keep = lambda frame: frame[frame.index.get_level_values("scenario") == scenario]  # noqa: E731
    pieces = inp.stockpile_pieces
    return replace(
        inp, scenarios=pd.DataFrame({"probability": [1.0]}, index=pd.Index([scenario], name="scenario")),
        vendor_scenarios=keep(inp.vendor_scenarios), availability=keep(inp.availability),
        stockpile_pieces=pieces[pieces["scenario"] == scenario], risk=RiskSettings(alpha=inp.risk.alpha),
        rental_blocked=frozenset(c for c in inp.rental_blocked if c[1] == scenario))


def value_of_information(inp: ProcurementInput, settings: SolverSettings, with_evpi: bool) -> dict:
    """VSS = EEV - RP and EVPI = RP - WS, on expected cost (risk-neutral)."""
    neutral = inp.with_risk(RiskSettings(alpha=inp.risk.alpha))
    rp_model, rp = _solve(neutral, settings)
    rp_value = float(sum(rp_model.P.prob[s] * pyo.value(rp_model.cost[s]) for s in rp_model.S))
    ev_model, _ = _solve(expected_value_input(neutral), settings)
    first = {(name, key): round(getattr(ev_model, name)[key].value or 0.0)
             for name in FIRST_STAGE for key in getattr(ev_model, name)}
    _fix_first_stage(rp_model, {k: first.get(k, 0.0) for k in
                                ((n, key) for n in FIRST_STAGE for key in getattr(rp_model, n))})
    eev_out = Solver(settings).solve(rp_model)
    eev = (float(sum(rp_model.P.prob[s] * pyo.value(rp_model.cost[s]) for s in rp_model.S))
           if eev_out.has_solution else float("inf"))
    out = {"rp_expected_cost_usd": rp_value, "eev_expected_cost_usd": eev,
           "vss_usd": eev - rp_value, "ev_plan_feasible": eev_out.has_solution}
    if with_evpi:
        ws = 0.0
        for s, p in inp.scenarios["probability"].items():
            sm, _ = _solve(_scenario_input(neutral, str(s)), settings)
            ws += float(p) * float(pyo.value(sm.cost[str(s)]))
        out.update({"ws_expected_cost_usd": ws, "evpi_usd": rp_value - ws})
    return out


def optimize(inp: ProcurementInput, settings: SolverSettings, *, analyses: bool = True,
             evpi: bool = True) -> Optimization:
    """Solve, extract tables, then shadow prices and value of information."""
    t0 = time.perf_counter()
    m, out = _solve(inp, settings)
    t1 = time.perf_counter()
    result = extract(m, out.status, out.message, out.objective, out.bound, out.gap)
    timings = {"build_and_solve": t1 - t0}
    prices = pd.DataFrame(columns=["family", "unit", "index_1", "index_2", "shadow_price", "binding"])
    info: dict = {}
    if analyses:
        prices = shadow_prices(m, settings)
        t2 = time.perf_counter()
        info = value_of_information(inp, settings, with_evpi=evpi)
        timings.update({"shadow_prices": t2 - t1, "value_of_information": time.perf_counter() - t2})
    if m.inp.risk.weight > 0 or m.inp.risk.cvar_cap is not None:
        result.summary["cvar_model"] = float(pyo.value(
            m.eta + sum(m.P.prob[s] * m.xi[s] for s in m.S) / (1 - m.inp.risk.alpha)))
    return Optimization(result, prices, info, timings, out.log)


def pareto_front(inp: ProcurementInput, settings: SolverSettings, points: int) -> pd.DataFrame:
    """Cost against risk by epsilon-constraint: min E[cost] s.t. CVaR <= eps, eps from the
    risk-neutral plan's CVaR down to the least-risk plan's, on one persistent HiGHS model whose
    mutable Param `cvar_cap` changes between solves."""
    base = inp.with_risk(RiskSettings(measure=inp.risk.measure, alpha=inp.risk.alpha,
                                      cvar_cap=1e15))
    m = build_model(base)
    solver = Solver(settings)
    from solvers.model import cvar, shortfall

    expected = m.obj.expr
    out = solver.solve(m)
    if not out.has_solution:
        raise Infeasible(explain_infeasible(inp, settings))
    risk_of = (lambda s: m.cost[s]) if inp.risk.measure == "cost" else (lambda s: shortfall(m, s))
    # the model's CVaR variables are free when the cap is loose: evaluate CVaR by definition
    from solvers.results import sample_cvar

    def current() -> tuple[float, float]:
        values = np.array([pyo.value(risk_of(s)) for s in m.S])
        probs = np.array([m.P.prob[s] for s in m.S])
        return float(pyo.value(expected)), sample_cvar(values, probs, inp.risk.alpha)

    cost_hi, risk_hi = current()
    m.obj.deactivate()
    m.risk_obj = pyo.Objective(expr=cvar(m) + 1e-9 * expected)
    solver.solve(m)
    _, risk_lo = current()
    m.risk_obj.deactivate()
    m.obj.activate()
    rows = []
    for i, eps in enumerate(np.linspace(risk_hi, risk_lo, max(points, 2))):
        m.cvar_cap.set_value(float(eps) + 1e-6 * max(1.0, abs(float(eps))))
        out = solver.solve(m)
        if not out.has_solution:
            continue
        cost, risk = current()
        ordered = {k: round(m.x[k].value or 0.0) for k in m.x}
        by_vendor: dict[str, float] = {}
        for (k, _t), n in ordered.items():
            by_vendor[m.P.vendor[k]] = by_vendor.get(m.P.vendor[k], 0.0) + n
        rows.append({"point": i, "cvar_cap": float(eps), "expected_cost_usd": cost,
                     f"cvar_{inp.risk.measure}": risk, "status": out.status,
                     **{f"nodes_{v}": n for v, n in sorted(by_vendor.items())}})
    return pd.DataFrame(rows)
