"""A fixed plan's recourse on a small scenario tree, case after case, in one HiGHS model whose
cases differ only in bounds and right-hand sides (the out-of-sample evaluation of issue 15, both
of its policies).

A case is a fresh path (the hindsight policy: the tree is the path alone, every quarter its own
decision) or a history of the rolling-horizon policy (the tree is the reduced tree's subtree
under the history's node, with the history in place of the node's past and the recourse done so
far fixed). solvers/model.py with the first stage fixed is, per case, a small recourse problem;
but a case's data multiply recourse variables there (the availability a[k,t,s] of installed
nodes, the pieces of a decaying part, the price multiple of an order, whether an order arrives),
so every batch of cases was a new model: built, compiled and handed to HiGHS (most of the
time). Here those coefficients become bounds, once per set of cases with the same tree
(`Shape`: leaves, their probabilities and who decides together):

- installed nodes split by class: N[k,t,l] = sum_c N[k,t,l,c], one class c per distinct
  (availability, pieces) the cases give cell (k,t) of leaf l. The case's class has
  N[k,t,l,c] <= inf, every other 0, and only its class's availability rows hold (right-hand
  side 0, or beta (z + z0) for a piece); the others' are +inf. Exact: the rows of the other
  classes bind nothing and their share of N is 0.
- recourse orders split by price multiple: y[k,t,n] = sum_phi y[k,t,n,phi], each at its own
  price; the case's multiple has y[k,t,n,phi] <= M_k u[p(k)], every other 0, and so has an order
  the vendor does not take then or that arrives in none of the node's leaves (solvers/model.py
  has no such order either: it would buy nothing). Recourse already done (the rolling policy's
  past) is fixed as bounds at the multiple it was placed at.
- what arrives: w[k,t,l,phi] = y[k,t,n(t,l),phi] in a leaf whose vendor delivers then, else
  w = 0 with that row dropped (an order placed at a node may arrive in some of its leaves and not
  in others, and an order already done may not arrive); installed nodes count w, the order is
  paid (1 - rho) on y and rho on w, its salvage is on w (model.py: (1 - rho (1 - delta^y)) y,
  delta^y y). An order still to be chosen at a node of one leaf arrives as itself (w is y, not
  a column): where it would not arrive it is bounded to 0 as above.
- deliveries, rental cut-offs, volume factors and the fixed first stage are right-hand sides
  and bounds; the first stage's own costs (capex net of refunds, stockpile, porting, salvage of
  what arrived) are a per-leaf constant added to the objective.

Every constraint family of solvers/model.py that holds a recourse variable is here with the
same formula, per leaf l or decision node n (docstrings: model.py's names); the families of the
first stage alone hold for the fixed plan. `hindsight_costs` gives what
solvers.evaluate.fixed_plan_costs gives for a hindsight input and `solve_cases` what
solvers.evaluate.rolling_step gives for one history (tests/solvers/test_persistent.py compares
both), with one model per set of cases and one HiGHS solve per case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solvers.evaluate import EVALUATION_COLUMNS, Recourse
from solvers.highs import HighsModel
from solvers.model import (
    MONEY,
    Params,
    _constraint,
    history_step,
    order_bound,
    parameters,
    residual_share,
)
from solvers.problem import ProcurementInput, SolverSettings
from solvers.pyomo_env import pyo

INF = math.inf


@dataclass(frozen=True)
class CellClass:
    """What a case makes of cell (k, t) of a leaf: the availability a without a parts block and,
    per part that decays there, its pieces ((intercept, slope) each, in perspective form)."""

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
    """One scenario of an input: its class per cell and its vendor data per period."""

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
    cells = [(v, t) for v in vendors for t in periods]
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
            delivered={(v, t): P.delivered.get((v, t, s), 1.0) for v, t in cells},
            orderable={(v, t): P.orderable.get((v, t, s), 1.0) > 0 for v, t in cells},
            volume={(v, t): P.volume.get((v, t, s), 1.0) for v, t in cells},
            price_factor={(v, t): P.price_factor.get((v, t, s), 1.0) for v, t in cells},
            rental_blocked=frozenset(t for t in periods if (t, s) in inp.rental_blocked))
    return out


@dataclass(frozen=True)
class Shape:
    """The tree of a set of cases: each leaf's conditional probability and, per period, each
    leaf's decision node (the first leaf that shares it: leaves with the same node share the
    recourse of that period)."""

    probabilities: tuple[float, ...]
    nodes: tuple[tuple[int, ...], ...]  # [period][leaf] -> node

    @staticmethod
    def single(periods: int) -> Shape:
        """One leaf, every period its own decision: a path with hindsight."""
        return Shape((1.0,), tuple((0,) for _ in range(periods)))


def decision_nodes(P: Params, inp: ProcurementInput, leaves: Sequence[str]
                   ) -> tuple[tuple[int, ...], ...]:
    """Per period, the node of each leaf (scenarios of `inp`, in order) as
    solvers.model.scenario_tree tells them apart (history_step): leaves with the same history
    up to and including the period share the node of the first of them."""
    history: list[tuple] = [()] * len(leaves)
    out = []
    for t in inp.period_labels:
        first: dict[tuple, int] = {}
        history = [h + (history_step(P, inp, t, s),) for h, s in zip(history, leaves, strict=True)]
        out.append(tuple(first.setdefault(h, i) for i, h in enumerate(history)))
    return tuple(out)


def _fixed(plan: dict, name: str, key, default: float = 0.0) -> float:
    return float(plan.get(name, {}).get(key, default))


def build_recourse_model(inp: ProcurementInput, plan: dict, shape: Shape,
                         cases: Sequence[Sequence[PathData]], params: Params | None = None,
                         past: frozenset = frozenset()) -> pyo.ConcreteModel:
    """The recourse of the fixed `plan` ({variable: {index: value}}, absent = 0) on the tree
    `shape` for any of `cases` (one PathData per leaf each): every class any case gives a cell,
    every price multiple any case gives a node's order (module docstring), the recourse of the
    periods in `past` to be fixed. Bounds and right-hand sides are left open: `_CaseBounds`
    sets them. `params`: parameters(inp), when the caller has them."""
    P = params if params is not None else parameters(inp)
    periods = inp.period_labels
    m = pyo.ConcreteModel(name="fixed_plan_recourse")
    m.P, m.inp, m.elastic, m.shape = P, inp, False, shape
    m.period_index = {t: i for i, t in enumerate(periods)}
    n = len(periods)

    # --- sets ---------------------------------------------------------------------------------
    m.T = pyo.Set(initialize=periods, ordered=True)
    m.K = pyo.Set(initialize=list(P.vendor), ordered=True)
    m.L = list(range(len(shape.probabilities)))
    m.node = {(t, leaf): shape.nodes[i][leaf] for i, t in enumerate(periods) for leaf in m.L}
    m.TN = [(t, node) for i, t in enumerate(periods) for node in sorted(set(shape.nodes[i]))]
    m.leaves_of = {(t, node): [leaf for leaf in m.L if m.node[t, leaf] == node]
                   for (t, node) in m.TN}
    m.node_probability = {key: sum(shape.probabilities[leaf] for leaf in leaves)
                          for key, leaves in m.leaves_of.items()}
    orderable_sku = {str(k): bool(v) for k, v in inp.skus["orderable"].items()}
    m.X = [(k, t) for k in P.vendor for t in periods
           if orderable_sku[k] and m.period_index[t] + P.lead[k] < n]
    m.KTL = [(k, t, leaf) for k in P.vendor for t in periods for leaf in m.L]
    m.TL = [(t, leaf) for t in periods for leaf in m.L]
    m.classes = {(k, t, leaf): list(dict.fromkeys(case[leaf].cell[k, t] for case in cases))
                 for (k, t, leaf) in m.KTL}
    m.multiples = {(k, t, node): sorted({case[node].price_factor[P.vendor[k], t]
                                         for case in cases})
                   for (k, t) in m.X for (tt, node) in m.TN if tt == t}
    m.YC = pyo.Set(dimen=4, ordered=True, initialize=[
        (k, t, node, i) for (k, t, node), phis in m.multiples.items() for i in range(len(phis))])
    # arrivals of their own where an order may arrive in some leaves and not in others
    m.W = pyo.Set(dimen=4, ordered=True, initialize=[
        (k, t, leaf, i) for (k, t) in m.X for leaf in m.L
        if t in past or len(m.leaves_of[t, m.node[t, leaf]]) > 1
        for i in range(len(m.multiples[k, t, m.node[t, leaf]]))])
    m.NC = pyo.Set(dimen=4, ordered=True, initialize=[
        (*cell, c) for cell, classes in m.classes.items() for c in range(len(classes))])
    m.FJ = pyo.Set(dimen=4, ordered=True, initialize=sorted({
        (k, j, t, leaf) for (k, t, leaf), classes in m.classes.items() for cls in classes
        for j, _ in cls.pieces}))
    m.DB = pyo.Set(dimen=3, ordered=True, initialize=[
        cell for cell, classes in m.classes.items() if any(c.blocked for c in classes)])
    # nodes switched off exist in the rolling re-solves only (solvers.model.switched_off)
    m.KO = m.KTL if inp.recourse_from_start else []

    # --- parameters: the fixed first stage ----------------------------------------------------
    m.x = {(k, t): _fixed(plan, "x", (k, t)) for (k, t) in m.X}
    m.z = {kj: _fixed(plan, "z", kj) for kj in P.part_price}
    m.u = {p: 1.0 if P.adopted[p] else _fixed(plan, "u", p) for p in P.porting}
    m.pm = {p: _fixed(plan, "pm", p) for p in P.porting}

    # --- variables ----------------------------------------------------------------------------
    recourse_domain = pyo.NonNegativeIntegers if inp.integer_recourse else pyo.NonNegativeReals
    m.y = pyo.Var(m.YC, domain=recourse_domain, doc="recourse orders, per node and multiple")
    m.w = pyo.Var(m.W, domain=pyo.NonNegativeReals, doc="recourse orders arriving, per leaf")
    m.N = pyo.Var(m.KTL, domain=pyo.NonNegativeReals, doc="installed nodes")
    m.Nc = pyo.Var(m.NC, domain=pyo.NonNegativeReals, doc="installed nodes, per cell class")
    m.A = pyo.Var(m.KTL, domain=pyo.NonNegativeReals, doc="available nodes")
    m.F = pyo.Var(m.FJ, domain=pyo.NonNegativeReals, doc="available as far as part j goes")
    m.D = pyo.Var(m.DB, domain=pyo.NonNegativeReals, doc="dead nodes")
    m.O = pyo.Var(m.KO, domain=pyo.NonNegativeReals, doc="installed nodes switched off")
    m.r = pyo.Var(m.TN, domain=pyo.NonNegativeReals, doc="rented cloud GPUs, per node")
    m.U = pyo.Var(m.TL, domain=pyo.NonNegativeReals, doc="unmet demand, PFLOP/s")

    for family in FAMILIES:
        family(m)
    objective(m)
    return m


def _ordered(m, k: str, t: str, node: int):
    """sum_phi y[k,t,n,phi]: the recourse order of k placed in t at node n (0 if none)."""
    return sum(m.y[k, t, node, i] for i in range(len(m.multiples.get((k, t, node), ()))))


def _arriving(m, k: str, t: str, leaf: int):
    """sum_phi w[k, t - L_k, l, phi]: the recourse orders of k that arrive in t in leaf l (y
    itself where it arrives as ordered)."""
    j = m.period_index[t] - m.P.lead[k]
    if j < 0:
        return 0.0
    t_order = list(m.T)[j]
    node = m.node[t_order, leaf]
    if _arrives_as_ordered(m, k, t_order, leaf):
        return _ordered(m, k, t_order, node)
    return sum(m.w[k, t_order, leaf, i]
               for i in range(len(m.multiples.get((k, t_order, node), ()))))


def _arrives_as_ordered(m, k: str, t: str, leaf: int) -> bool:
    """Whether an order of k placed in t arrives in leaf l as itself (no w column of its own)."""
    return (k, t, leaf, 0) not in m.W


def _powered(m, k: str, t: str, leaf: int):
    """N - D - O: live nodes not switched off (O: rolling re-solves only)."""
    live = _live(m, k, t, leaf)
    return live - m.O[k, t, leaf] if m.KO else live


def _live(m, k: str, t: str, leaf: int):
    """N - D: nodes that draw power and pay for it."""
    key = (k, t, leaf)
    return m.N[key] - m.D[key] if key in m.DB else m.N[key]


def _along(m, leaf: int):
    """The decision nodes on leaf l's path: (period, node)."""
    return [(t, m.node[t, leaf]) for t in m.T]


# --- constraints (model.py's families, per leaf or node; right-hand sides set per case) ---------


def installed_fleet(m) -> None:
    """N[k,t,l] - N[k,t-1,l] - sum_phi w[k,t-L_k,l,phi] = delta[v(k),t,l] (x[k,t-L_k] + E_kt)
    (+ E_k at t = 0): model.installed_fleet with the first stage fixed."""
    periods = list(m.T)

    def rule(_, k, t, leaf):
        i = m.period_index[t]
        previous = m.N[k, periods[i - 1], leaf] if i > 0 else 0.0
        return m.N[k, t, leaf] - previous - _arriving(m, k, t, leaf) == 0.0

    m.installed_fleet = _constraint(m.KTL, rule=rule)


def arrival(m) -> None:
    """w[k,t,l,phi] - y[k,t,n(t,l),phi] = 0 where the vendor delivers at arrival in leaf l
    (model.recourse_delivered); elsewhere the row is dropped and w = 0."""
    m.arrival = _constraint(m.W, rule=lambda _, k, t, leaf, i: (
        m.w[k, t, leaf, i] - m.y[k, t, m.node[t, leaf], i] == 0.0))


def class_split(m) -> None:
    """N[k,t,l] = sum_c N[k,t,l,c]."""
    m.class_split = _constraint(m.KTL, rule=lambda _, k, t, leaf: m.N[k, t, leaf] == sum(
        m.Nc[k, t, leaf, c] for c in range(len(m.classes[k, t, leaf]))))


def available_nominal(m) -> None:
    """A[k,t,l] - a_c N[k,t,l,c] <= 0 (model.available_nominal, in the case's class c)."""
    m.available_nominal = _constraint(m.NC, rule=lambda _, k, t, leaf, c: (
        m.A[k, t, leaf] - m.classes[k, t, leaf][c].availability * m.Nc[k, t, leaf, c] <= 0.0))


def part_available(m) -> None:
    """F[k,j,t,l] - alpha_b N[k,t,l,c] <= beta_b (z[k,j] + z0[k,j])  (model.part_available)."""
    keys = [(k, t, leaf, c, j, b) for (k, t, leaf, c) in m.NC
            for j, pieces in m.classes[k, t, leaf][c].pieces for b in range(len(pieces))]

    def rule(_, k, t, leaf, c, j, b):
        alpha, _beta = dict(m.classes[k, t, leaf][c].pieces)[j][b]
        return m.F[k, j, t, leaf] - alpha * m.Nc[k, t, leaf, c] <= 0.0

    m.part_available = _constraint(keys, rule=rule)


def available_parts(m) -> None:
    """A[k,t,l] - sum_j F[k,j,t,l] + (|J_c| - 1) a_c N[k,t,l,c] <= 0  (model.available_parts)."""
    keys = [key for key in m.NC if m.classes[key[:3]][key[3]].blocked]

    def rule(_, k, t, leaf, c):
        cls = m.classes[k, t, leaf][c]
        return (m.A[k, t, leaf] - sum(m.F[k, j, t, leaf] for j, _ in cls.pieces)
                + (len(cls.pieces) - 1) * cls.availability * m.Nc[k, t, leaf, c] <= 0.0)

    m.available_parts = _constraint(keys, rule=rule)


def dead_nodes(m) -> None:
    """D - (1 - s_c) N[k,t,l,c] <= 0 (every class of a cell that has D: s = 1 unblocked, so
    D = 0 there), D - N[k,t,l,c] + A / a_c <= 0 (blocked classes): model.dead_nodes."""
    m.dead_without_parts = _constraint(
        [key for key in m.NC if key[:3] in m.DB],
        rule=lambda _, k, t, leaf, c: m.D[k, t, leaf]
        - (1.0 - m.classes[k, t, leaf][c].survival()) * m.Nc[k, t, leaf, c] <= 0.0)
    m.dead_not_available = _constraint(
        [key for key in m.NC if m.classes[key[:3]][key[3]].blocked],
        rule=lambda _, k, t, leaf, c: m.D[k, t, leaf] - m.Nc[k, t, leaf, c]
        + m.A[k, t, leaf] / max(m.classes[k, t, leaf][c].availability, 1e-9) <= 0.0)


def switched_off(m) -> None:
    """A / a_c + D + O - N[k,t,l,c] <= 0  (model.switched_off; rolling re-solves only)."""
    def rule(_, k, t, leaf, c):
        cell = (k, t, leaf)
        dead = m.D[cell] if cell in m.DB else 0.0
        a = max(m.classes[cell][c].availability, 1e-9)
        return m.A[cell] / a + dead + m.O[cell] - m.Nc[k, t, leaf, c] <= 0.0

    m.switched_off = _constraint([key for key in m.NC] if m.KO else [], rule=rule)


def demand_cover(m) -> None:
    """sum_k g_k A[k,t,l] + g_R r[t,n(t,l)] + U[t,l] >= D_t."""
    P, inp = m.P, m.inp
    m.demand_cover = _constraint(m.TL, rule=lambda _, t, leaf: sum(
        P.g[k] * m.A[k, t, leaf] for k in m.K)
        + inp.rental_pflops_per_gpu * m.r[t, m.node[t, leaf]] + m.U[t, leaf] >= P.demand[t])


def _first_spend(m, t: str) -> float:
    """What the fixed first stage spends of period t's budget (orders, and the stockpile in the
    first period), in the model's money."""
    P = m.P
    spend = sum(MONEY * P.price[k] * m.x[k, tt] for (k, tt) in m.X if tt == t)
    if m.period_index[t] == 0:
        spend += sum(MONEY * P.part_price[kj] * m.z[kj] for kj in P.part_price)
    return spend


def _recourse_spend(m, t: str, node: int):
    """sum_{k,phi} (1 + theta) phi c_k y[k,t,n,phi], in the model's money."""
    P, theta = m.P, m.inp.recourse_premium
    return sum(MONEY * (1 + theta) * phi * P.price[k] * m.y[k, t, node, i]
               for (k, tt) in m.X if tt == t
               for i, phi in enumerate(m.multiples[k, t, node]))


def budget(m) -> None:
    """recourse spend of (t, n) <= B_t - first-stage spend of t; along each leaf, the sum over t
    <= B - all of it (model.budget_period, model.budget_total)."""
    P, total = m.P, m.inp.total_budget_usd
    m.budget_period = _constraint(
        [(t, node) for (t, node) in m.TN if math.isfinite(P.budget[t])],
        rule=lambda _, t, node: _recourse_spend(m, t, node)
        <= MONEY * P.budget[t] - _first_spend(m, t))
    m.budget_total = _constraint(
        m.L if math.isfinite(total) else [],
        rule=lambda _, leaf: sum(_recourse_spend(m, t, node) for t, node in _along(m, leaf))
        <= MONEY * total - sum(_first_spend(m, t) for t in m.T))


def power_and_space(m) -> None:
    """sum_k e_k PUE (N - D - O) / 1000 <= P_t;  sum_k N / n_k <= R_t  (per leaf)."""
    P, pue = m.P, m.inp.pue
    m.power_cap = _constraint(
        [(t, leaf) for (t, leaf) in m.TL if math.isfinite(P.power_cap[t])],
        rule=lambda _, t, leaf: sum(P.power[k] * pue / 1000.0 * _powered(m, k, t, leaf)
                                    for k in m.K) <= P.power_cap[t])
    m.rack_space = _constraint(
        [(t, leaf) for (t, leaf) in m.TL if math.isfinite(P.racks[t])],
        rule=lambda _, t, leaf: sum(m.N[k, t, leaf] / P.per_rack[k] for k in m.K)
        <= P.racks[t])


def recourse_supply_cap(m) -> None:
    """sum_{k of v, phi} y[k,t,n,phi] <= q[v,t,n] (Q[v,t] - sum_{k of v} x[k,t])  (right-hand
    side per case)."""
    P = m.P
    cells = [(v, t, node) for v in sorted(set(P.vendor.values())) for (t, node) in m.TN
             if math.isfinite(P.supply.get((v, t), INF))
             and any((k, t, node) in m.multiples for k in m.K if P.vendor[k] == v)]
    m.recourse_supply_cap = _constraint(cells, rule=lambda _, v, t, node: sum(
        _ordered(m, k, t, node) for k in m.K if P.vendor[k] == v) <= 0.0)


def largest_job_fits(m) -> None:
    """sum_{k on p} g_k A[k,t,l] >= J_t  for the primary platform p (pm fixed)."""
    P = m.P
    cells = [(p, t, leaf) for p in sorted(P.porting) for (t, leaf) in m.TL
             if P.job[t] > 0 and m.pm[p] > 0]
    m.largest_job_fits = _constraint(cells, rule=lambda _, p, t, leaf: sum(
        P.g[k] * m.A[k, t, leaf] for k in m.K if P.platform[k] == p) >= P.job[t] * m.pm[p])


def _recourse_pflops(m, leaf: int, keep):
    return sum(m.P.g[k] * _ordered(m, k, t, node) for t, node in _along(m, leaf)
               for k in m.K if keep(k) and (k, t) in m.x)


def _first_pflops(m, keep) -> float:
    return sum(m.P.g[k] * m.x[k, t] for (k, t) in m.X if keep(k))


def shares(m) -> None:
    """O_l(v) <= sigma_v O_l(all);  O_l(domestic) >= mu O_l(all)  along each leaf
    (model.vendor_share, domestic_share; O: compute ordered, first stage fixed plus
    recourse)."""
    P, inp = m.P, m.inp
    caps, mu = inp.vendor_share_caps, inp.min_domestic_share
    everything = lambda k: True  # noqa: E731

    def vendor_rule(_, v, leaf):
        own = lambda k: P.vendor[k] == v  # noqa: E731
        return (_recourse_pflops(m, leaf, own) - caps[v] * _recourse_pflops(m, leaf, everything)
                <= caps[v] * _first_pflops(m, everything) - _first_pflops(m, own))

    m.vendor_share = _constraint(
        [(v, leaf) for v in sorted(set(P.vendor.values())) if v in caps for leaf in m.L],
        rule=vendor_rule)
    domestic = lambda k: P.domestic[k]  # noqa: E731
    m.domestic_share = _constraint(
        m.L if mu > 0 else [],
        rule=lambda _, leaf: _recourse_pflops(m, leaf, domestic)
        - mu * _recourse_pflops(m, leaf, everything)
        >= mu * _first_pflops(m, everything) - _first_pflops(m, domestic))


FAMILIES = (installed_fleet, arrival, class_split, available_nominal, part_available,
            available_parts, dead_nodes, switched_off, demand_cover, budget, power_and_space,
            recourse_supply_cap, largest_job_fits, shares)


def objective(m) -> None:
    """min the recourse's expected cost (model.scenario_cost without its first-stage parts):
    sum_l p_l (power on N - D, unmet penalty) + sum_n p_n rental + each order at its price
    multiple, (1 - rho) of it on y at its node and rho on what arrives, less the salvage of
    what arrives: p_n (1 - rho) d_t (1 + theta) phi c_k y + p_l (rho d_t (1 + theta) phi c_k
    - d_end c_k residual(k, t)) w."""
    P, inp = m.P, m.inp
    d, theta, rho = P.discount, inp.recourse_premium, inp.refund_share
    prob = m.shape.probabilities

    def on_arrival(k: str, t: str, leaf: int, i: int) -> float:
        """p_l (rho d_t (1 + theta) phi c_k - d_end c_k residual(k, t)): an arrival's share."""
        return MONEY * prob[leaf] * (
            rho * d[t] * (1 + theta) * m.multiples[k, t, m.node[t, leaf]][i] * P.price[k]
            - P.discount_end * P.price[k] * residual_share(m, k, t))

    power = sum(MONEY * prob[leaf] * d[t] * P.power[k] * inp.pue * P.hours[t]
                * inp.electricity_usd_per_kwh * _live(m, k, t, leaf) for (k, t, leaf) in m.KTL)
    rental = sum(MONEY * m.node_probability[t, node] * d[t] * inp.rental_usd_per_gpu_hour
                 * P.hours[t] * m.r[t, node] for (t, node) in m.TN)
    unmet = sum(MONEY * prob[leaf] * d[t] * inp.unmet_penalty_usd_per_pflops_hour * P.hours[t]
                * m.U[t, leaf] for (t, leaf) in m.TL)
    placed = sum((MONEY * m.node_probability[t, node] * (1 - rho) * d[t] * (1 + theta)
                   * m.multiples[k, t, node][i] * P.price[k]
                   + sum(on_arrival(k, t, leaf, i) for leaf in m.leaves_of[t, node]
                         if _arrives_as_ordered(m, k, t, leaf))) * m.y[k, t, node, i]
                 for (k, t, node, i) in m.YC)
    arrived = sum(on_arrival(k, t, leaf, i) * m.w[k, t, leaf, i] for (k, t, leaf, i) in m.W)
    m.obj = pyo.Objective(expr=power + rental + unmet + placed + arrived, sense=pyo.minimize)


@dataclass(frozen=True)
class FirstStageCost:
    """The fixed first stage's cost along a path, in the model's money: capex net of refunds
    for lost deliveries, stockpile, porting, less the salvage of the nodes that arrived
    (model.scenario_cost's first-stage parts), as constant + sum_(v,t) slope[v,t] delta[v,t]:
    d_t c_k (1 - rho (1 - delta)) x - d_end c_k residual delta x is linear in the delivered
    share delta of the order's vendor at its arrival."""

    constant: float
    slope: dict  # (vendor, arrival period) -> per unit of delivered share

    @staticmethod
    def of(m) -> FirstStageCost:
        P, inp = m.P, m.inp
        periods, d, rho = list(m.T), P.discount, inp.refund_share
        constant, slope = 0.0, {}
        for (k, t) in m.X:
            key = (P.vendor[k], periods[m.period_index[t] + P.lead[k]])
            constant += MONEY * d[t] * P.price[k] * (1.0 - rho) * m.x[k, t]
            slope[key] = slope.get(key, 0.0) + MONEY * P.price[k] * m.x[k, t] * (
                d[t] * rho - P.discount_end * residual_share(m, k, t))
        constant += sum(MONEY * d[periods[0]] * P.part_price[kj] * m.z[kj]
                        for kj in P.part_price)
        constant += sum(MONEY * d[periods[0]] * P.porting[p] * m.u[p] for p in P.porting
                        if not P.adopted[p])
        return FirstStageCost(constant, slope)

    def along(self, path: PathData) -> float:
        return self.constant + sum(b * path.delivered[key] for key, b in self.slope.items())


# --- per case: bounds and right-hand sides -------------------------------------------------------


class _CaseBounds:
    """Where each case's bounds and right-hand sides go in the HiGHS model, and their values."""

    def __init__(self, m: pyo.ConcreteModel, hm: HighsModel):
        self.m, self.hm = m, hm
        P, periods = m.P, list(m.T)
        column, rows = hm.column_of, hm.rows_of
        self.u_columns = [column[id(m.U[key])] for key in m.TL]
        self.hours = np.array([P.hours[t] * m.shape.probabilities[leaf] for (t, leaf) in m.TL])
        # columns: N per class (open in the case's class), orders per price multiple (open at
        # the case's multiple when the vendor takes them and delivers them in some leaf of the
        # node; fixed where done), what arrives (open where delivered), rental, unmet demand
        self.class_columns = [(column[id(m.Nc[key])], key) for key in m.NC]
        cap = {k: order_bound(m, k) * m.u[P.platform[k]] for k in m.K}
        self.order_columns = [
            (column[id(m.y[key])], key, P.vendor[key[0]],
             periods[m.period_index[key[1]] + P.lead[key[0]]],
             m.multiples[key[:3]][key[3]], cap[key[0]], m.leaves_of[key[1], key[2]])
            for key in m.YC]
        self.arrival_columns = [
            (column[id(m.w[key])], rows[("arrival", key)][0], key[2], P.vendor[key[0]],
             periods[m.period_index[key[1]] + P.lead[key[0]]]) for key in m.W]
        self.rental_columns = [(column[id(m.r[key])], key, P.rental_cap[key[0]],
                                m.leaves_of[key][0]) for key in m.TN]
        # rows: each class's availability rows (0, or beta (z + z0) for a piece, when open),
        # installed nodes (delta times what arrives), what is left of a supply cap (times q)
        self.class_rows: list[tuple[int, tuple, float]] = []  # row, (k, t, l, c), upper if open
        for family in ("available_nominal", "available_parts", "dead_without_parts",
                       "dead_not_available", "switched_off"):
            for index in getattr(m, family):
                self.class_rows.append((rows[(family, index)][0], index[:4], 0.0))
        for index in m.part_available:
            k, t, leaf, c, j, b = index
            beta = dict(m.classes[k, t, leaf][c].pieces)[j][b][1]
            stock = m.z.get((k, j), 0.0) + P.part_existing.get((k, j), 0.0)
            self.class_rows.append((rows[("part_available", index)][0], index[:4], beta * stock))
        self.installed_rows = []  # row, leaf, vendor, period, arrivals (x + scheduled), existing
        for (k, t, leaf) in m.KTL:
            i = m.period_index[t]
            j = i - P.lead[k]
            arrivals = P.scheduled.get((k, t), 0.0) + (
                m.x.get((k, periods[j]), 0.0) if j >= 0 else 0.0)
            self.installed_rows.append((rows[("installed_fleet", (k, t, leaf))][0], leaf,
                                        P.vendor[k], t, arrivals,
                                        P.existing[k] if i == 0 else 0.0))
        self.supply_rows = []  # row, vendor, period, the node's first leaf, what is left
        for (v, t, node) in m.recourse_supply_cap:
            left = P.supply[v, t] - sum(m.x.get((k, t), 0.0) for k in m.K if P.vendor[k] == v)
            self.supply_rows.append((rows[("recourse_supply_cap", (v, t, node))][0], v, t,
                                     m.leaves_of[t, node][0], left))

    def apply(self, case: Sequence[PathData], past: dict[str, Recourse] | None = None) -> None:
        """Set the bounds and right-hand sides of `case` (one PathData per leaf), the recourse
        of the periods in `past` fixed to what was done."""
        m, past = self.m, past or {}
        active = {(k, t, leaf, m.classes[k, t, leaf].index(case[leaf].cell[k, t]))
                  for (k, t, leaf) in m.KTL}
        unmet = INF if m.inp.allow_unmet else 0.0
        columns: list[tuple[int, float, float]] = []
        for col, (k, t, node, _i), v, arrival, multiple, cap, leaves in self.order_columns:
            at_multiple = multiple == case[node].price_factor[v, t]
            if t in past:
                done = past[t].nodes(k) if at_multiple else 0.0
                columns.append((col, done, done))
                continue
            open_ = (at_multiple and case[node].orderable[v, t]
                     and any(case[leaf].delivered[v, arrival] > 0 for leaf in leaves))
            columns.append((col, 0.0, cap if open_ else 0.0))
        columns += [(col, 0.0, INF if key in active else 0.0) for col, key in self.class_columns]
        columns += [(col, 0.0, INF if case[leaf].delivered[v, arrival] > 0 else 0.0)
                    for col, _row, leaf, v, arrival in self.arrival_columns]
        for col, (t, _node), cap, first in self.rental_columns:
            if t in past:
                columns.append((col, past[t].rented_gpus, past[t].rented_gpus))
            else:
                columns.append((col, 0.0, 0.0 if t in case[first].rental_blocked else cap))
        columns += [(col, 0.0, unmet) for col in self.u_columns]
        self._check_past(past)
        index = np.array([col for col, _, _ in columns], dtype=np.int32)
        self.hm.h.changeColsBounds(len(index), index, _finite_or_inf([lo for _, lo, _ in columns]),
                                   _finite_or_inf([hi for _, _, hi in columns]))
        rows = [*((row, -INF, on if key in active else INF) for row, key, on in self.class_rows),
                *((row, rhs, rhs) for row, rhs in (
                    (row, case[leaf].delivered[v, t] * arrivals + existing)
                    for row, leaf, v, t, arrivals, existing in self.installed_rows)),
                *((row, -INF, case[first].volume[v, t] * left)
                  for row, v, t, first, left in self.supply_rows),
                *((row, 0.0, 0.0) if case[leaf].delivered[v, arrival] > 0 else (row, -INF, INF)
                  for _col, row, leaf, v, arrival in self.arrival_columns)]
        index = np.array([row for row, _, _ in rows], dtype=np.int32)
        self.hm.h.changeRowsBounds(len(index), index, _finite_or_inf([lo for _, lo, _ in rows]),
                                   _finite_or_inf([hi for _, _, hi in rows]))

    def _check_past(self, past: dict[str, Recourse]) -> None:
        """Recourse done must be recourse the model can hold (solvers.evaluate.recourse_fixes)."""
        m = self.m
        for t, done in past.items():
            for k, value in done.orders:
                if value > 0 and (k, t) not in m.x:
                    raise ValueError(f"{k} cannot be ordered in {t}")

    def chosen(self, t: str, node: int) -> Recourse:
        """The recourse of period t at node n in the solution HiGHS holds (orders rounded when
        recourse is integer, as solvers.evaluate.rolling_step)."""
        values = np.asarray(self.hm.h.getSolution().col_value)
        ordered: dict[str, float] = {}  # summed over price multiples
        for col, (k, tt, nn, _i), *_ in self.order_columns:
            if (tt, nn) == (t, node):
                ordered[k] = ordered.get(k, 0.0) + float(values[col])
        if self.m.inp.integer_recourse:
            ordered = {k: float(round(v)) for k, v in ordered.items()}
        rented = next(float(values[col]) for col, key, *_ in self.rental_columns
                      if key == (t, node))
        return Recourse(tuple((k, v) for k, v in ordered.items() if v > 0), rented)


def _finite_or_inf(values: list[float]) -> np.ndarray:
    """Python infinities as HiGHS's."""
    import highspy

    out = np.array(values, dtype=float)
    out[np.isposinf(out)] = highspy.kHighsInf
    out[np.isneginf(out)] = -highspy.kHighsInf
    return out


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


@dataclass(frozen=True)
class CaseOutcome:
    """One case solved: whether the plan (and the recourse done) admits a recourse, the
    expected cost over the case's leaves (USD, first stage included) and unmet demand
    (PFLOP/s-hours), and the recourse chosen at the decided period's node (rolling only)."""

    feasible: bool
    cost_usd: float
    shortfall_pflops_hours: float
    chosen: Recourse | None = None


INFEASIBLE = CaseOutcome(False, INF, INF)


def solve_cases(inp: ProcurementInput, settings: SolverSettings, plan: dict, shape: Shape,
                cases: Sequence[Sequence[PathData]],
                pasts: Sequence[dict[str, Recourse]] | None = None,
                decide: str | None = None, params: Params | None = None
                ) -> list[CaseOutcome]:
    """Each case (one PathData per leaf of `shape`) solved on one persistent model, with the
    recourse of the periods in its past fixed (`pasts`, one per case) and, when `decide` names
    a period, the recourse chosen there at the cases' node (all leaves share it)."""
    past = frozenset(t for done in pasts or () for t in done)
    try:
        m = build_recourse_model(inp, plan, shape, cases, params, past)
    except ValueError:  # a row of the fixed plan alone that it breaks (model._rows)
        m = None
    if m is None or not first_stage_holds(m):
        return [INFEASIBLE] * len(cases)
    hm = HighsModel(m, settings)
    bounds = _CaseBounds(m, hm)
    first_stage = FirstStageCost.of(m)
    node = m.node[decide, 0] if decide is not None else None
    out = []
    for i, case in enumerate(cases):
        bounds.apply(case, pasts[i] if pasts is not None else None)
        hm.run_unlogged()  # a log per case would cost more than the solve
        info = hm.h.getInfo()
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible: as HighsModel.solve
            out.append(INFEASIBLE)
            continue
        unmet = np.asarray(hm.h.getSolution().col_value)[bounds.u_columns]
        fixed = sum(p * first_stage.along(leaf)
                    for p, leaf in zip(shape.probabilities, case, strict=True))
        out.append(CaseOutcome(True, float((info.objective_function_value + fixed) / MONEY),
                               float(bounds.hours @ unmet),
                               bounds.chosen(decide, node) if decide is not None else None))
    return out


def hindsight_costs(inp: ProcurementInput, settings: SolverSettings, first_stage: dict
                    ) -> pd.DataFrame:
    """Per scenario of the hindsight input `inp`: what solvers.evaluate.fixed_plan_costs gives
    (EVALUATION_COLUMNS: probability, whether the plan admits a recourse, its discounted cost in
    USD and its unmet demand in PFLOP/s-hours), from one model whose paths differ in bounds and
    right-hand sides only (module docstring), solved once per scenario."""
    if not inp.hindsight:
        raise ValueError("hindsight_costs evaluates a hindsight input (each path its own node)")
    P = parameters(inp)
    paths = paths_of(P, inp)
    outcomes = solve_cases(inp, settings, first_stage, Shape.single(len(inp.period_labels)),
                           [[path] for path in paths.values()], params=P)
    return pd.DataFrame([(s, P.prob[s], o.feasible, o.cost_usd, o.shortfall_pflops_hours)
                         for s, o in zip(paths, outcomes, strict=True)],
                        columns=EVALUATION_COLUMNS)
