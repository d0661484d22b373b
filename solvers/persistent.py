"""A fixed plan's hindsight recourse, path after path, in one HiGHS model whose paths differ only
in bounds and right-hand sides (the out-of-sample evaluation's optimistic policy; issue 15).

solvers/model.py with `hindsight` and the first stage fixed is, per scenario, a small recourse
problem; but a path's data multiply recourse variables there (the availability a[k,t,s] of
installed nodes, the pieces of a decaying part, the price multiple of an order, whether an
order arrives), so every batch of paths was a new model: built, compiled and handed to HiGHS
(11.6 of 20.6 ms per path). Here those coefficients become bounds, once per input:

- installed nodes split by class: N[k,t] = sum_c N[k,t,c], one class c per distinct
  (availability, pieces) the input's paths give cell (k,t). The path's class has
  N[k,t,c] <= inf, every other 0, and only its class's availability rows hold (right-hand side
  0, or beta (z + z0) for a piece); the others' are +inf. Exact: the rows of the other classes
  bind nothing and their share of N is 0.
- recourse orders split by price multiple: y[k,t] = sum_phi y[k,t,phi], each at its own price;
  the path's multiple has y[k,t,phi] <= M_k u[p(k)], every other 0, and so has an order the
  vendor does not take then or that would not arrive (paid for, never delivered: never
  optimal, so leaving it out changes no optimum).
- deliveries, rental cut-offs, volume factors and the fixed first stage are right-hand sides
  and bounds; the first stage's own costs (capex net of refunds, stockpile, porting, salvage of
  what arrived) are a per-path constant added to the objective.

Every constraint family of solvers/model.py that holds a recourse variable is here with the
same formula, per path s (docstrings: model.py's names); the families of the first stage alone
hold for the fixed plan. `hindsight_costs` gives what solvers.evaluate.fixed_plan_costs gives
for a hindsight input (tests/solvers/test_persistent.py compares them path by path), with one
model per input and one HiGHS solve per path.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solvers.evaluate import EVALUATION_COLUMNS
from solvers.highs import HighsModel
from solvers.model import MONEY, Params, _constraint, order_bound, parameters, residual_share
from solvers.problem import ProcurementInput, SolverSettings
from solvers.pyomo_env import pyo

INF = math.inf


@dataclass(frozen=True)
class CellClass:
    """What a path makes of cell (k, t): the availability a without a parts block and, per part
    that decays there, its pieces ((intercept, slope) each, in perspective form)."""

    availability: float
    pieces: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.pieces)

    def survival(self) -> float:
        """Share of nodes no part has killed without a stockpile (solvers.model.survival)."""
        a, share = self.availability, 1.0
        for _, pieces in self.pieces:
            share *= min(1.0, pieces[0][0] / a) if a > 0 else 0.0
        return share


@dataclass(frozen=True)
class PathData:
    """One path (a scenario of the input): its class per cell and its vendor data per period."""

    cell: dict  # (k, t) -> CellClass
    delivered: dict  # (v, t) -> delta, share of node deliveries arriving
    orderable: dict  # (v, t) -> recourse orders accepted
    volume: dict  # (v, t) -> q, volume factor on what is left of the supply cap
    price_factor: dict  # (v, t) -> phi, price multiple of recourse orders placed then
    rental_blocked: frozenset  # periods without overseas rental


def paths_of(P: Params, inp: ProcurementInput) -> dict[str, PathData]:
    """Every scenario of `inp` as a PathData (absent entries: the model's defaults)."""
    periods, scenarios = inp.period_labels, inp.scenario_labels
    pieces: dict[tuple, dict[str, list]] = {}
    for (k, j, t, s, b), piece in sorted(P.pieces.items()):
        pieces.setdefault((k, t, s), {}).setdefault(j, []).append((b, piece))
    vendors = sorted(set(P.vendor.values()))
    out = {}
    for s in scenarios:
        cell = {}
        for k in P.vendor:
            for t in periods:
                parts = pieces.get((k, t, s), {})
                cell[k, t] = CellClass(P.avail.get((k, t, s), 1.0), tuple(
                    (j, tuple(piece for _b, piece in sorted(parts[j]))) for j in sorted(parts)))
        out[s] = PathData(
            cell=cell,
            delivered={(v, t): P.delivered.get((v, t, s), 1.0) for v in vendors for t in periods},
            orderable={(v, t): P.orderable.get((v, t, s), 1.0) > 0 for v in vendors
                       for t in periods},
            volume={(v, t): P.volume.get((v, t, s), 1.0) for v in vendors for t in periods},
            price_factor={(v, t): P.price_factor.get((v, t, s), 1.0) for v in vendors
                          for t in periods},
            rental_blocked=frozenset(t for t in periods if (t, s) in inp.rental_blocked))
    return out


def _fixed(plan: dict, name: str, key, default: float = 0.0) -> float:
    return float(plan.get(name, {}).get(key, default))


def build_recourse_model(inp: ProcurementInput, plan: dict, paths: dict[str, PathData]
                         ) -> pyo.ConcreteModel:
    """The recourse of the fixed `plan` ({variable: {index: value}}, absent = 0) for any of
    `paths`: every class any path gives a cell, every price multiple any path gives an order
    (module docstring). Bounds and right-hand sides are left open: `_PathBounds` sets them."""
    P = parameters(inp)
    periods = inp.period_labels
    m = pyo.ConcreteModel(name="hindsight_recourse")
    m.P, m.inp, m.elastic = P, inp, False
    m.period_index = {t: i for i, t in enumerate(periods)}
    n = len(periods)

    # --- sets ---------------------------------------------------------------------------------
    m.T = pyo.Set(initialize=periods, ordered=True)
    m.K = pyo.Set(initialize=list(P.vendor), ordered=True)
    orderable_sku = {str(k): bool(v) for k, v in inp.skus["orderable"].items()}
    m.X = [(k, t) for k in P.vendor for t in periods
           if orderable_sku[k] and m.period_index[t] + P.lead[k] < n]
    m.classes = {cell: list(dict.fromkeys(p.cell[cell] for p in paths.values()))
                 for cell in ((k, t) for k in P.vendor for t in periods)}
    m.multiples = {(k, t): sorted({p.price_factor[P.vendor[k], t] for p in paths.values()})
                   for (k, t) in m.X}
    m.YC = pyo.Set(dimen=3, ordered=True, initialize=[
        (k, t, i) for (k, t) in m.X for i in range(len(m.multiples[k, t]))])
    m.NC = pyo.Set(dimen=3, ordered=True, initialize=[
        (k, t, c) for (k, t), classes in m.classes.items() for c in range(len(classes))])
    m.FJ = pyo.Set(dimen=3, ordered=True, initialize=sorted({
        (k, j, t) for (k, t), classes in m.classes.items() for cls in classes
        for j, _ in cls.pieces}))
    m.DB = pyo.Set(dimen=2, ordered=True, initialize=[
        cell for cell, classes in m.classes.items() if any(c.blocked for c in classes)])

    # --- parameters: the fixed first stage ----------------------------------------------------
    m.x = {(k, t): _fixed(plan, "x", (k, t)) for (k, t) in m.X}
    m.z = {kj: _fixed(plan, "z", kj) for kj in P.part_price}
    m.u = {p: 1.0 if P.adopted[p] else _fixed(plan, "u", p) for p in P.porting}
    m.pm = {p: _fixed(plan, "pm", p) for p in P.porting}

    # --- variables ----------------------------------------------------------------------------
    recourse_domain = pyo.NonNegativeIntegers if inp.integer_recourse else pyo.NonNegativeReals
    m.y = pyo.Var(m.YC, domain=recourse_domain, doc="recourse orders, per price multiple")
    m.N = pyo.Var(m.K, m.T, domain=pyo.NonNegativeReals, doc="installed nodes")
    m.Nc = pyo.Var(m.NC, domain=pyo.NonNegativeReals, doc="installed nodes, per cell class")
    m.A = pyo.Var(m.K, m.T, domain=pyo.NonNegativeReals, doc="available nodes")
    m.F = pyo.Var(m.FJ, domain=pyo.NonNegativeReals, doc="available as far as part j goes")
    m.D = pyo.Var(m.DB, domain=pyo.NonNegativeReals, doc="dead nodes")
    m.r = pyo.Var(m.T, domain=pyo.NonNegativeReals, doc="rented cloud GPUs")
    m.U = pyo.Var(m.T, domain=pyo.NonNegativeReals, doc="unmet demand, PFLOP/s")

    for family in FAMILIES:
        family(m)
    objective(m)
    return m


def _orders_arriving(m, k: str, t: str):
    """sum_phi y[k, t - L_k, phi]: the recourse orders of k that arrive in t (0 if none)."""
    j = m.period_index[t] - m.P.lead[k]
    if j < 0 or (k, list(m.T)[j]) not in m.multiples:
        return 0.0
    t_order = list(m.T)[j]
    return sum(m.y[k, t_order, i] for i in range(len(m.multiples[k, t_order])))


def _live(m, k: str, t: str):
    """N - D: nodes that draw power."""
    return m.N[k, t] - m.D[k, t] if (k, t) in m.DB else m.N[k, t]


# --- constraints (model.py's families, per path; right-hand sides set per path) ------------------


def installed_fleet(m) -> None:
    """N[k,t] - N[k,t-1] - sum_phi y[k,t-L_k,phi] = delta[v(k),t] (x[k,t-L_k] + E_kt)
    (+ E_k at t = 0): model.installed_fleet with the first stage fixed."""
    periods = list(m.T)
    m.installed_fleet = _constraint(m.K, m.T, rule=lambda _, k, t: (
        m.N[k, t] - (m.N[k, periods[m.period_index[t] - 1]] if m.period_index[t] > 0 else 0.0)
        - _orders_arriving(m, k, t) == 0.0))


def class_split(m) -> None:
    """N[k,t] = sum_c N[k,t,c]."""
    m.class_split = _constraint(m.K, m.T, rule=lambda _, k, t: m.N[k, t] == sum(
        m.Nc[k, t, c] for c in range(len(m.classes[k, t]))))


def available_nominal(m) -> None:
    """A[k,t] - a_c N[k,t,c] <= 0 (model.available_nominal, in the path's class c)."""
    m.available_nominal = _constraint(m.NC, rule=lambda _, k, t, c: (
        m.A[k, t] - m.classes[k, t][c].availability * m.Nc[k, t, c] <= 0.0))


def part_available(m) -> None:
    """F[k,j,t] - alpha_b N[k,t,c] <= beta_b (z[k,j] + z0[k,j])  (model.part_available)."""
    keys = [(k, t, c, j, b) for (k, t, c) in m.NC for j, pieces in m.classes[k, t][c].pieces
            for b in range(len(pieces))]

    def rule(_, k, t, c, j, b):
        alpha, _beta = dict(m.classes[k, t][c].pieces)[j][b]
        return m.F[k, j, t] - alpha * m.Nc[k, t, c] <= 0.0

    m.part_available = _constraint(keys, rule=rule)


def available_parts(m) -> None:
    """A[k,t] - sum_j F[k,j,t] + (|J_c| - 1) a_c N[k,t,c] <= 0  (model.available_parts)."""
    keys = [(k, t, c) for (k, t, c) in m.NC if m.classes[k, t][c].blocked]

    def rule(_, k, t, c):
        cls = m.classes[k, t][c]
        return (m.A[k, t] - sum(m.F[k, j, t] for j, _ in cls.pieces)
                + (len(cls.pieces) - 1) * cls.availability * m.Nc[k, t, c] <= 0.0)

    m.available_parts = _constraint(keys, rule=rule)


def dead_nodes(m) -> None:
    """D[k,t] - (1 - s_c) N[k,t,c] <= 0 (every class of a cell that has D: s = 1 unblocked, so
    D = 0 there), D[k,t] - N[k,t,c] + A[k,t] / a_c <= 0 (blocked classes): model.dead_nodes."""
    m.dead_without_parts = _constraint(
        [(k, t, c) for (k, t, c) in m.NC if (k, t) in m.DB],
        rule=lambda _, k, t, c: m.D[k, t]
        - (1.0 - m.classes[k, t][c].survival()) * m.Nc[k, t, c] <= 0.0)
    m.dead_not_available = _constraint(
        [(k, t, c) for (k, t, c) in m.NC if m.classes[k, t][c].blocked],
        rule=lambda _, k, t, c: m.D[k, t] - m.Nc[k, t, c]
        + m.A[k, t] / max(m.classes[k, t][c].availability, 1e-9) <= 0.0)


def demand_cover(m) -> None:
    """sum_k g_k A[k,t] + g_R r[t] + U[t] >= D_t."""
    P, inp = m.P, m.inp
    m.demand_cover = _constraint(m.T, rule=lambda _, t: sum(
        P.g[k] * m.A[k, t] for k in m.K) + inp.rental_pflops_per_gpu * m.r[t] + m.U[t]
        >= P.demand[t])


def _first_spend(m, t: str) -> float:
    """What the fixed first stage spends of period t's budget (orders, and the stockpile in the
    first period), in the model's money."""
    P = m.P
    spend = sum(MONEY * P.price[k] * m.x[k, tt] for (k, tt) in m.X if tt == t)
    if m.period_index[t] == 0:
        spend += sum(MONEY * P.part_price[kj] * m.z[kj] for kj in P.part_price)
    return spend


def _recourse_spend(m, t: str):
    """sum_{k,phi} (1 + theta) phi c_k y[k,t,phi], in the model's money."""
    P, theta = m.P, m.inp.recourse_premium
    return sum(MONEY * (1 + theta) * phi * P.price[k] * m.y[k, t, i]
               for (k, tt) in m.X if tt == t for i, phi in enumerate(m.multiples[k, t]))


def budget(m) -> None:
    """recourse spend of t <= B_t - first-stage spend of t; the sum over t <= B - all of it
    (model.budget_period, model.budget_total)."""
    P, total = m.P, m.inp.total_budget_usd
    m.budget_period = _constraint(
        [t for t in m.T if math.isfinite(P.budget[t])],
        rule=lambda _, t: _recourse_spend(m, t) <= MONEY * P.budget[t] - _first_spend(m, t))
    m.budget_total = _constraint(
        [0] if math.isfinite(total) else [],
        rule=lambda _, _i: sum(_recourse_spend(m, t) for t in m.T)
        <= MONEY * total - sum(_first_spend(m, t) for t in m.T))


def power_and_space(m) -> None:
    """sum_k e_k PUE (N - D) / 1000 <= P_t;  sum_k N / n_k <= R_t."""
    P, pue = m.P, m.inp.pue
    m.power_cap = _constraint(
        [t for t in m.T if math.isfinite(P.power_cap[t])],
        rule=lambda _, t: sum(P.power[k] * pue / 1000.0 * _live(m, k, t) for k in m.K)
        <= P.power_cap[t])
    m.rack_space = _constraint(
        [t for t in m.T if math.isfinite(P.racks[t])],
        rule=lambda _, t: sum(m.N[k, t] / P.per_rack[k] for k in m.K) <= P.racks[t])


def recourse_supply_cap(m) -> None:
    """sum_{k of v, phi} y[k,t,phi] <= q[v,t] (Q[v,t] - sum_{k of v} x[k,t])  (right-hand side
    per path)."""
    P = m.P
    cells = [(v, t) for v in sorted(set(P.vendor.values())) for t in m.T
             if math.isfinite(P.supply.get((v, t), INF))
             and any((k, t) in m.multiples for k in m.K if P.vendor[k] == v)]
    m.recourse_supply_cap = _constraint(cells, rule=lambda _, v, t: sum(
        m.y[k, t, i] for k in m.K if P.vendor[k] == v and (k, t) in m.multiples
        for i in range(len(m.multiples[k, t]))) <= 0.0)


def largest_job_fits(m) -> None:
    """sum_{k on p} g_k A[k,t] >= J_t  for the primary platform p (pm fixed)."""
    P = m.P
    cells = [(p, t) for p in sorted(P.porting) for t in m.T if P.job[t] > 0 and m.pm[p] > 0]
    m.largest_job_fits = _constraint(cells, rule=lambda _, p, t: sum(
        P.g[k] * m.A[k, t] for k in m.K if P.platform[k] == p) >= P.job[t] * m.pm[p])


def _recourse_pflops(m, keep):
    return sum(m.P.g[k] * m.y[k, t, i] for (k, t, i) in m.YC if keep(k))


def _first_pflops(m, keep) -> float:
    return sum(m.P.g[k] * m.x[k, t] for (k, t) in m.X if keep(k))


def shares(m) -> None:
    """O(v) <= sigma_v O(all);  O(domestic) >= mu O(all)  (model.vendor_share, domestic_share;
    O: compute ordered, first stage fixed plus recourse)."""
    P, inp = m.P, m.inp
    caps, mu = inp.vendor_share_caps, inp.min_domestic_share
    everything = lambda k: True  # noqa: E731

    def vendor_rule(_, v):
        own = lambda k: P.vendor[k] == v  # noqa: E731
        return (_recourse_pflops(m, own) - caps[v] * _recourse_pflops(m, everything)
                <= caps[v] * _first_pflops(m, everything) - _first_pflops(m, own))

    m.vendor_share = _constraint([v for v in sorted(set(P.vendor.values())) if v in caps],
                                    rule=vendor_rule)
    domestic = lambda k: P.domestic[k]  # noqa: E731
    m.domestic_share = _constraint(
        [0] if mu > 0 else [],
        rule=lambda _, _i: _recourse_pflops(m, domestic) - mu * _recourse_pflops(m, everything)
        >= mu * _first_pflops(m, everything) - _first_pflops(m, domestic))


FAMILIES = (installed_fleet, class_split, available_nominal, part_available, available_parts,
            dead_nodes, demand_cover, budget, power_and_space, recourse_supply_cap,
            largest_job_fits, shares)


def objective(m) -> None:
    """min the recourse's cost (model.scenario_cost without its first-stage parts):
    power on N - D, rental, unmet penalty, and each recourse order at its price multiple less
    the salvage of what it delivers: d_t (1 + theta) phi c_k - d_end c_k residual(k, t)."""
    P, inp = m.P, m.inp
    d, theta = P.discount, inp.recourse_premium
    power = sum(MONEY * d[t] * P.power[k] * inp.pue * P.hours[t] * inp.electricity_usd_per_kwh
                * _live(m, k, t) for k in m.K for t in m.T)
    rental = sum(MONEY * d[t] * inp.rental_usd_per_gpu_hour * P.hours[t] * m.r[t] for t in m.T)
    unmet = sum(MONEY * d[t] * inp.unmet_penalty_usd_per_pflops_hour * P.hours[t] * m.U[t]
                for t in m.T)
    orders = sum(MONEY * (d[t] * (1 + theta) * m.multiples[k, t][i] * P.price[k]
                          - P.discount_end * P.price[k] * residual_share(m, k, t)) * m.y[k, t, i]
                 for (k, t, i) in m.YC)
    m.obj = pyo.Objective(expr=power + rental + unmet + orders, sense=pyo.minimize)


def first_stage_cost(m, path: PathData) -> float:
    """The fixed first stage's cost along `path`, in the model's money: capex net of refunds
    for lost deliveries, stockpile, porting, less the salvage of the nodes that arrived
    (model.scenario_cost's first-stage parts)."""
    P, inp = m.P, m.inp
    periods, d = list(m.T), P.discount
    total = 0.0
    for (k, t) in m.X:
        arrival = periods[m.period_index[t] + P.lead[k]]
        delta = path.delivered[P.vendor[k], arrival]
        total += MONEY * d[t] * P.price[k] * (1.0 - inp.refund_share * (1.0 - delta)) * m.x[k, t]
        total -= (MONEY * P.discount_end * P.price[k] * residual_share(m, k, t) * delta
                  * m.x[k, t])
    total += sum(MONEY * d[periods[0]] * P.part_price[kj] * m.z[kj]
                 for kj in P.part_price)
    total += sum(MONEY * d[periods[0]] * P.porting[p] * m.u[p] for p in P.porting
                 if not P.adopted[p])
    return total


# --- per path: bounds and right-hand sides -------------------------------------------------------


class _PathBounds:
    """Where each path's bounds and right-hand sides go in the HiGHS model, and their values."""

    def __init__(self, m: pyo.ConcreteModel, hm: HighsModel):
        self.m, self.hm = m, hm
        P, periods = m.P, list(m.T)
        column, rows = hm.column_of, hm.rows_of
        self.u_columns = [column[id(m.U[t])] for t in m.T]
        self.hours = np.array([P.hours[t] for t in m.T])
        # columns: N per class (open in the path's class), orders per price multiple (open at
        # the path's multiple when the vendor takes and delivers them), rental, unmet demand
        self.class_columns = [(column[id(m.Nc[key])], key) for key in m.NC]
        cap = {k: order_bound(m, k) * m.u[P.platform[k]] for k in m.K}
        self.order_columns = [
            (column[id(m.y[k, t, i])], P.vendor[k], t,
             periods[m.period_index[t] + P.lead[k]], m.multiples[k, t][i], cap[k])
            for (k, t, i) in m.YC]
        self.rental_columns = [(column[id(m.r[t])], t, P.rental_cap[t]) for t in periods]
        # rows: each class's availability rows (0, or beta (z + z0) for a piece, when open),
        # installed nodes (delta times what arrives), what is left of a supply cap (times q)
        self.class_rows: list[tuple[int, tuple, float]] = []  # row, (k, t, c), upper when open
        for family in ("available_nominal", "available_parts", "dead_without_parts",
                       "dead_not_available"):
            for index in getattr(m, family):
                self.class_rows.append((rows[(family, index)][0], index[:3], 0.0))
        for index in m.part_available:
            k, t, c, j, b = index
            beta = dict(m.classes[k, t][c].pieces)[j][b][1]
            stock = m.z.get((k, j), 0.0) + P.part_existing.get((k, j), 0.0)
            self.class_rows.append((rows[("part_available", index)][0], (k, t, c), beta * stock))
        self.installed_rows = []  # row, vendor, period, arrivals (x + scheduled), existing
        for k in m.K:
            for i, t in enumerate(periods):
                j = i - P.lead[k]
                arrivals = P.scheduled.get((k, t), 0.0) + (
                    m.x.get((k, periods[j]), 0.0) if j >= 0 else 0.0)
                self.installed_rows.append((rows[("installed_fleet", (k, t))][0], P.vendor[k], t,
                                            arrivals, P.existing[k] if i == 0 else 0.0))
        self.supply_rows = [
            (rows[("recourse_supply_cap", (v, t))][0], v, t,
             P.supply[v, t] - sum(m.x.get((k, t), 0.0) for k in m.K if P.vendor[k] == v))
            for (v, t) in m.recourse_supply_cap]

    def apply(self, path: PathData) -> None:
        """Set `path`'s bounds and right-hand sides on the HiGHS model."""
        m = self.m
        active = {(k, t, m.classes[k, t].index(path.cell[k, t])) for k in m.K for t in m.T}
        unmet = INF if m.inp.allow_unmet else 0.0
        columns = [
            *((col, INF if key in active else 0.0) for col, key in self.class_columns),
            *((col, cap if path.orderable[v, t] and path.delivered[v, arrival] > 0
               and multiple == path.price_factor[v, t] else 0.0)
              for col, v, t, arrival, multiple, cap in self.order_columns),
            *((col, 0.0 if t in path.rental_blocked else cap)
              for col, t, cap in self.rental_columns),
            *((col, unmet) for col in self.u_columns)]
        index = np.array([col for col, _ in columns], dtype=np.int32)
        self.hm.h.changeColsBounds(len(index), index, np.zeros(len(index)),
                                   _finite_or_inf([upper for _, upper in columns]))
        rows = [*((row, -INF, on if key in active else INF) for row, key, on in self.class_rows),
                *((row, rhs, rhs) for row, rhs in (
                    (row, path.delivered[v, t] * arrivals + existing)
                    for row, v, t, arrivals, existing in self.installed_rows)),
                *((row, -INF, path.volume[v, t] * left) for row, v, t, left in self.supply_rows)]
        index = np.array([row for row, _, _ in rows], dtype=np.int32)
        self.hm.h.changeRowsBounds(len(index), index, _finite_or_inf([lo for _, lo, _ in rows]),
                                   _finite_or_inf([hi for _, _, hi in rows]))


def _finite_or_inf(values: list[float]) -> np.ndarray:
    """Python infinities as HiGHS's."""
    import highspy

    out = np.array(values, dtype=float)
    out[np.isposinf(out)] = highspy.kHighsInf
    out[np.isneginf(out)] = -highspy.kHighsInf
    return out


def hindsight_costs(inp: ProcurementInput, settings: SolverSettings, first_stage: dict
                    ) -> pd.DataFrame:
    """Per scenario of the hindsight input `inp`: what solvers.evaluate.fixed_plan_costs gives
    (EVALUATION_COLUMNS: probability, whether the plan admits a recourse, its discounted cost in
    USD and its unmet demand in PFLOP/s-hours), from one model whose paths differ in bounds and
    right-hand sides only (module docstring), solved once per scenario."""
    if not inp.hindsight:
        raise ValueError("hindsight_costs evaluates a hindsight input (each path its own node)")
    return pd.DataFrame(list(_solve_paths(inp, settings, first_stage)), columns=EVALUATION_COLUMNS)


FEASIBILITY_TOLERANCE = 1e-6  # of a first-stage row, relative to its limit (HiGHS's own)


def first_stage_holds(m) -> bool:
    """Whether the fixed plan keeps the rows of the first stage alone (model.supply_cap,
    model.platform_adoption on x, model.primary_platform): a plan that breaks them admits no
    recourse in any scenario, as the whole model would say."""
    P = m.P

    def within(value: float, limit: float) -> bool:
        return value <= limit + FEASIBILITY_TOLERANCE * max(1.0, abs(limit))

    for v in sorted(set(P.vendor.values())):
        for t in m.T:
            ordered = sum(m.x[k, tt] for (k, tt) in m.X if tt == t and P.vendor[k] == v)
            if not within(ordered, P.supply.get((v, t), INF)):
                return False
    if any(m.x[k, t] > 0 and m.u[P.platform[k]] <= 0 for (k, t) in m.X):
        return False
    primary = abs(sum(m.pm.values()) - 1.0) <= FEASIBILITY_TOLERANCE
    return not P.porting or (primary and all(m.pm[p] <= m.u[p] for p in P.porting))


def _solve_paths(inp: ProcurementInput, settings: SolverSettings, first_stage: dict
                 ) -> Iterator[tuple]:
    P = parameters(inp)
    paths = paths_of(P, inp)
    try:
        m = build_recourse_model(inp, first_stage, paths)
    except ValueError:  # a row of the fixed plan alone that it breaks (model._rows)
        m = None
    if m is None or not first_stage_holds(m):
        for s in paths:
            yield (s, P.prob[s], False, INF, INF)
        return
    hm = HighsModel(m, settings)
    bounds = _PathBounds(m, hm)
    for s, path in paths.items():
        bounds.apply(path)
        hm.run_unlogged()  # a log per path would cost more than the solve
        info = hm.h.getInfo()
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible: as HighsModel.solve
            yield (s, P.prob[s], False, INF, INF)
            continue
        unmet = np.asarray(hm.h.getSolution().col_value)[bounds.u_columns]
        cost = (info.objective_function_value + first_stage_cost(m, path)) / MONEY
        yield (s, P.prob[s], True, float(cost), float(bounds.hours @ unmet))
