"""The two-stage stochastic procurement model (docs/model.md states it as mathematics).

First stage (before the sanction scenario is known): node orders x[k,t] per SKU and period,
spare-part stockpiles z[k,j], platforms adopted u[p] and the primary training platform m[p].
Recourse per scenario s: orders y[k,t,n] from vendors still open (at a premium), placed at a
node n of the scenario tree once scenarios have told themselves apart, rented cloud GPUs r[t,n],
unmet demand U[t,s]. Risk: CVaR of cost or shortfall (Rockafellar-Uryasev).

Money is in millions of USD inside the model (MONEY), discounted by quarter, so that HiGHS sees
coefficients near 1; the result tables convert back to USD. The code keeps the model's order:
sets, parameters, variables, constraints (one function per family, its formula in the
docstring), objective. Coefficients are plain Python floats; the only Pyomo Param is the mutable
CVaR cap of the Pareto sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from solvers.problem import ProcurementInput
from solvers.pyomo_env import pyo

INF = math.inf
MONEY = 1e-6  # USD -> the model's unit of money (millions of USD)
HOURS_PER_YEAR = 365.25 * 24.0
MAX_SHARE_FACTOR = 1e3  # the big-M's share factor never beyond this (a share of 0.1 %)


@dataclass(frozen=True)
class Params:
    """Model parameters as dicts of Python floats, keyed like the sets (money in USD)."""

    prob: dict  # s -> pi_s
    hours: dict  # t -> h_t
    demand: dict  # t -> D_t
    job: dict  # t -> J_t
    budget: dict  # t -> B_t
    power_cap: dict  # t -> P_t (MW)
    racks: dict  # t -> R_t
    rental_cap: dict  # t -> G_t
    vendor: dict  # k -> v(k)
    platform: dict  # k -> p(k)
    domestic: dict  # k -> bool
    g: dict  # k -> effective PFLOP/s per node
    price: dict  # k -> c_k
    power: dict  # k -> e_k (kW)
    per_rack: dict  # k -> nodes per rack
    lead: dict  # k -> L_k (periods)
    existing: dict  # k -> E_k
    delivered: dict  # (v, t, s) -> delta
    orderable: dict  # (v, t, s) -> 1 if recourse orders may be placed
    volume: dict  # (v, t, s) -> q
    price_factor: dict  # (v, t, s) -> the price multiple of recourse orders placed then
    supply: dict  # (v, t) -> Q
    avail: dict  # (k, t, s) -> a
    pieces: dict  # (k, j, t, s, b) -> (intercept, slope)
    part_price: dict  # (k, j) -> c^z
    part_existing: dict  # (k, j) -> z0, parts already on the shelf
    parts_blocked: dict  # (v, t, s) -> 1 if the vendor's parts and RMA are cut off
    scheduled: dict  # (k, t) -> nodes already ordered that arrive in t (E_kt)
    porting: dict  # p -> F_p
    adopted: dict  # p -> bool
    discount: dict  # t -> d_t, the discount factor of cash flows in t (from its first day)
    discount_end: float  # d_end, at the end of the horizon (salvage)


def parameters(inp: ProcurementInput) -> Params:
    """Turn the input tables into dicts of Python floats (no numpy scalars reach Pyomo)."""
    sk, pe = inp.skus, inp.periods
    f = float

    def col(frame, name):
        return {str(i): f(v) for i, v in frame[name].items()}

    vs = inp.vendor_scenarios
    hours = col(pe, "hours")
    years, discount = 0.0, {}
    for t, h in hours.items():
        discount[t] = (1.0 + inp.discount_rate) ** -years
        years += h / HOURS_PER_YEAR
    return Params(
        prob=col(inp.scenarios, "probability"),
        hours=hours, demand=col(pe, "demand_pflops"), job=col(pe, "largest_job_pflops"),
        budget=col(pe, "budget_usd"), power_cap=col(pe, "power_cap_mw"), racks=col(pe, "racks"),
        rental_cap=col(pe, "rental_cap_gpus"),
        vendor={str(k): str(v) for k, v in sk["vendor"].items()},
        platform={str(k): str(v) for k, v in sk["platform"].items()},
        domestic={str(k): bool(v) for k, v in sk["domestic"].items()},
        g=col(sk, "pflops_per_node"), price=col(sk, "price_usd"), power=col(sk, "power_kw"),
        per_rack=col(sk, "nodes_per_rack"),
        lead={str(k): int(v) for k, v in sk["lead_periods"].items()},
        existing=col(sk, "existing_nodes"),
        delivered={(str(v), str(t), str(s)): f(x) for (v, t, s), x in vs["delivered_fraction"].items()},
        orderable={(str(v), str(t), str(s)): f(x) for (v, t, s), x in vs["orderable"].items()},
        volume={(str(v), str(t), str(s)): f(x) for (v, t, s), x in vs["volume_factor"].items()},
        price_factor=({(str(v), str(t), str(s)): f(x) for (v, t, s), x in
                       vs["price_factor"].items() if x != 1.0}
                      if "price_factor" in vs.columns else {}),
        supply={(str(v), str(t)): f(x) for (v, t), x in inp.supply_caps["supply_cap_nodes"].items()},
        avail={(str(k), str(t), str(s)): f(x)
               for (k, t, s), x in inp.availability["availability"].items()},
        pieces={(str(r.sku), str(r.part), str(r.period), str(r.scenario), int(r.piece)):
                (f(r.intercept), f(r.slope)) for r in inp.stockpile_pieces.itertuples(index=False)},
        part_price={(str(k), str(j)): f(x) for (k, j), x in inp.parts["price_usd"].items()},
        part_existing={(str(k), str(j)): f(x) for (k, j), x in
                       (inp.parts["existing_units"] if "existing_units" in inp.parts.columns
                        else inp.parts["price_usd"] * 0).items()},
        parts_blocked={(str(v), str(t), str(s)): f(x) for (v, t, s), x in vs["blocked"].items()},
        scheduled={(str(k), str(t)): f(x) for (k, t), x in
                   inp.scheduled_deliveries["nodes"].items()},
        porting=col(inp.platforms, "porting_cost_usd"),
        adopted={str(p): bool(v) for p, v in inp.platforms["adopted"].items()},
        discount=discount,
        discount_end=(1.0 + inp.discount_rate) ** -years,
    )


def build_model(inp: ProcurementInput, elastic: bool = False,
                hand_off: Callable[[pyo.ConcreteModel, list], None] | None = None
                ) -> pyo.ConcreteModel:
    """The Pyomo model of `inp`. With `elastic`, every family that can bind gets a penalized
    slack (solvers/diagnose.py). `hand_off(m, components)` is called after each constraint
    family is built with the Constraint components it added (it may compile and delete them,
    so that one family's rows are held at a time: solvers/compile.py)."""
    P = parameters(inp)
    m = pyo.ConcreteModel(name="procurement")
    m.P = P
    m.inp = inp
    m.elastic = elastic
    m.slack_scale = {}  # elastic slack key -> the size of its limit (ELASTIC_FLOOR at least)
    m.peak_demand = max(P.demand.values(), default=0.0)

    # --- sets ---------------------------------------------------------------------------------
    periods = inp.period_labels
    m.T = pyo.Set(initialize=periods, ordered=True, doc="periods")
    m.S = pyo.Set(initialize=inp.scenario_labels, ordered=True, doc="sanction scenarios")
    m.K = pyo.Set(initialize=list(P.vendor), ordered=True, doc="SKUs")
    m.V = pyo.Set(initialize=sorted(set(P.vendor.values())), doc="vendors")
    m.Pl = pyo.Set(initialize=sorted(P.porting), doc="software platforms")
    m.KJ = pyo.Set(initialize=sorted(P.part_price), dimen=2, doc="(SKU, stockpile part)")
    index = {t: i for i, t in enumerate(periods)}
    m.period_index = index
    orderable_sku = {str(k): bool(v) for k, v in inp.skus["orderable"].items()}
    # first-stage orders that arrive within the horizon (a plan's order is paid wherever it is
    # evaluated, delivered or not: x keeps every cell)
    m.X = pyo.Set(dimen=2, ordered=True, initialize=[
        (k, t) for k in P.vendor for t in periods
        if orderable_sku[k] and index[t] + P.lead[k] < len(periods)])
    # scenario tree: scenarios whose history is the same up to t share one node at t, and the
    # recourse decided at t (orders, rental) is one decision per node (non-anticipativity)
    m.node = scenario_tree(P, inp, periods)
    nodes = {t: sorted({m.node[t, s] for s in inp.scenario_labels}) for t in periods}
    members: dict[tuple, list[str]] = {}  # (t, n) -> the scenarios of node n at t
    for (t, s), n in m.node.items():
        members.setdefault((t, n), []).append(s)

    def arrives(k: str, t: str, n: str) -> bool:
        """Whether an order of k placed in t at node n arrives in some scenario of n."""
        arrival = periods[index[t] + P.lead[k]]
        return any(P.delivered.get((P.vendor[k], arrival, s), 1.0) > 0 for s in members[t, n])

    m.tree_nodes = nodes
    m.TN = pyo.Set(dimen=2, ordered=True, initialize=[(t, n) for t in periods for n in nodes[t]])
    # recourse orders at a node where scenarios have told themselves apart (an order placed
    # before any scenario is revealed is first stage: it is x), vendor open, arriving in time
    # in some scenario of the node: one that arrives in none is no order (it would buy
    # nothing, yet count towards a share rule). With hindsight every scenario is its own node
    # and may order from the first quarter on; so may the rolling horizon's re-solves, whose
    # first stage is fixed and whose quarters before the one they decide keep every cell (what
    # was done stays, arrived or not).
    anywhere = inp.hindsight or inp.recourse_from_start
    decided = index.get(inp.recourse_decided_from, 0)
    m.Y = pyo.Set(dimen=3, ordered=True, initialize=[
        (k, t, n) for (k, t) in m.X for n in nodes[t]
        if (len(nodes[t]) > 1 or anywhere) and P.orderable.get((P.vendor[k], t, n), 1.0) > 0
        and (index[t] < decided or arrives(k, t, n))])
    m.KTS = pyo.Set(dimen=3, ordered=True,
                    initialize=[(k, t, s) for k in P.vendor for t in periods for s in m.S])
    # every piece is a row, the flat one too: it caps F_j at a N, without which a surplus of
    # one part (F_j above a N) would offset another part's shortage in the union bound below
    m.PIECES = pyo.Set(dimen=5, ordered=True, initialize=sorted(P.pieces))
    blocked_parts = sorted({(k, j, t, s) for (k, j, t, s, _b) in m.PIECES})
    m.BJ = pyo.Set(dimen=4, ordered=True, initialize=blocked_parts,
                   doc="(SKU, part, period, scenario) cells where the part decays")
    m.B = pyo.Set(dimen=3, ordered=True, initialize=sorted({(k, t, s) for (k, _j, t, s)
                                                          in blocked_parts}),
                  doc="cells where parts decay: nodes die without a part")
    m.parts_of = {}
    for (k, j, t, s) in blocked_parts:
        m.parts_of.setdefault((k, t, s), []).append(j)

    # --- parameters (mutable only where a sweep changes them) ---------------------------------
    risk = inp.risk
    cap = risk.cvar_cap if risk.cvar_cap is not None else 1e15
    m.cvar_cap = pyo.Param(mutable=True, initialize=_risk_units(inp) * cap,
                           doc="epsilon: upper bound on CVaR in the model's units (Pareto sweep)")

    # --- variables ----------------------------------------------------------------------------
    order_domain = pyo.NonNegativeIntegers if inp.integer_orders else pyo.NonNegativeReals
    recourse_domain = pyo.NonNegativeIntegers if inp.integer_recourse else pyo.NonNegativeReals
    m.x = pyo.Var(m.X, domain=order_domain, doc="first-stage node orders")
    m.z = pyo.Var(m.KJ, domain=order_domain, doc="spare parts stockpiled at the start")
    m.u = pyo.Var(m.Pl, domain=pyo.Binary, doc="platform adopted")
    m.pm = pyo.Var(m.Pl, domain=pyo.Binary, doc="primary training platform")
    m.y = pyo.Var(m.Y, domain=recourse_domain, doc="recourse node orders, per tree node")
    m.N = pyo.Var(m.KTS, domain=pyo.NonNegativeReals, doc="installed nodes")
    m.A = pyo.Var(m.KTS, domain=pyo.NonNegativeReals, doc="available nodes")
    m.F = pyo.Var(m.BJ, domain=pyo.NonNegativeReals,
                  doc="nodes available as far as one decaying part is concerned")
    m.D = pyo.Var(m.B, domain=pyo.NonNegativeReals, doc="dead nodes (a part failed, none left)")
    # nodes switched off: only in the rolling re-solves, where deliveries and deaths planned on
    # the tree may differ from the path's, and an operator powers down what exceeds the cap
    m.O = pyo.Var(m.KTS if inp.recourse_from_start else [], domain=pyo.NonNegativeReals,
                  doc="installed nodes switched off (rolling re-solves only)")
    m.r = pyo.Var(m.TN, domain=pyo.NonNegativeReals, doc="rented cloud GPUs, per tree node")
    m.U = pyo.Var(m.T, m.S, domain=pyo.NonNegativeReals, doc="unmet demand, PFLOP/s")
    m.eta = pyo.Var(domain=pyo.Reals, doc="value at risk (CVaR auxiliary)")
    m.xi = pyo.Var(m.S, domain=pyo.NonNegativeReals, doc="excess over eta (CVaR auxiliary)")
    for p in m.Pl:
        if P.adopted[p]:
            m.u[p].fix(1)
    if not inp.allow_unmet and not elastic:
        for key in m.U:
            m.U[key].fix(0)
    m.slack = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals, doc="elastic slack")

    scenario_cost(m)  # expressions used by the risk rows below
    for family in FAMILIES:
        before = set(m.component_map(pyo.Constraint))
        family(m)
        if hand_off is not None:
            hand_off(m, [c for name, c in m.component_map(pyo.Constraint).items()
                         if name not in before])
    objective(m)
    return m


def _risk_units(inp: ProcurementInput) -> float:
    """Model units per unit of the risk measure: $M per USD, or 1 per PFLOP/s-hour."""
    return MONEY if inp.risk.measure == "cost" else 1.0


# weight of each elastic family in the diagnosis objective, per unit of relative slack (the
# slack over the size of its limit): the demand is the goal, so it is blamed only when no limit
# short by less than a thousand times itself could meet it
ELASTIC_WEIGHTS = {"budget": 1.0, "budget_total": 1.0, "power": 1.0, "space": 1.0, "supply": 1.0,
                   "recourse_supply": 1.0, "demand": 1e3, "largest_job": 1.0,
                   "vendor_share": 1.0, "domestic_share": 1.0, "cvar": 1.0}
# a limit smaller than this share of its family's largest counts as that (a cap of 0 is not
# infinitely far from being met), and never below ELASTIC_FLOOR
ELASTIC_FLOOR_SHARE = 0.01
ELASTIC_FLOOR = 1e-6


def _elastic(m, name: str, key, sense: int, limit: float):
    """Slack term for an elastic model: -slack relaxes a <= row (sense 1), +slack a >= row.
    `limit` is the size of the row's limit in the row's units: the diagnosis weighs the slack
    relative to it (being short by a whole budget counts more than by a tenth of a demand)."""
    if not m.elastic:
        return 0.0
    key = (name, *(key if isinstance(key, tuple) else (key,)))
    m.slack_scale[key] = abs(float(limit))
    return -sense * m.slack[key]


def relative_slack_scales(m) -> None:
    """Each slack's scale: its limit, at least ELASTIC_FLOOR_SHARE of the largest limit of its
    family (so a slack is weighed as a share of the limit it relaxes)."""
    largest: dict[str, float] = {}
    for (family, *_), size in m.slack_scale.items():
        largest[family] = max(largest.get(family, 0.0), size)
    for key, size in m.slack_scale.items():
        m.slack_scale[key] = max(size, ELASTIC_FLOOR_SHARE * largest[key[0]], ELASTIC_FLOOR)


def _rows(rule):
    """Wrap a constraint rule: a row whose variables all dropped out is not added when it holds."""

    def wrapped(*args):
        expr = rule(*args)
        if isinstance(expr, bool):
            if not expr:
                raise ValueError(f"constant row violated at {args[1:]}")
            return pyo.Constraint.Skip
        return expr

    return wrapped


def _constraint(*index, rule):
    """pyo.Constraint(*index, rule=rule) where rows that resolve to a constant are skipped."""
    return pyo.Constraint(*index, rule=_rows(rule))


def _ub_ok(value: float) -> bool:
    return value is not None and math.isfinite(value)


def scenario_tree(P: Params, inp: ProcurementInput, periods: list[str]) -> dict:
    """(t, s) -> the node of s at t: the first scenario with the same history (deliveries,
    orders, volumes, parts blocks, price multiples, rental) in every period up to and including
    t; with `inp.hindsight`, s itself (each scenario sees its whole future: the out-of-sample
    evaluation's optimistic policy)."""
    if inp.hindsight:
        return {(t, s): s for t in periods for s in inp.scenario_labels}
    history: dict[str, tuple] = dict.fromkeys(inp.scenario_labels, ())
    node = {}
    for t in periods:
        first: dict[tuple, str] = {}
        for s in inp.scenario_labels:
            history[s] = history[s] + (history_step(P, inp, t, s),)
            node[t, s] = first.setdefault(history[s], s)
    return node


def history_step(P: Params, inp: ProcurementInput, t: str, s: str) -> tuple:
    """What tells scenario s apart in period t: per vendor its deliveries, orders, volume,
    parts block and price multiple, and whether rental is cut off."""
    return tuple((P.delivered.get((v, t, s), 1.0), P.orderable.get((v, t, s), 1.0),
                  P.volume.get((v, t, s), 1.0), P.parts_blocked.get((v, t, s), 0.0),
                  P.price_factor.get((v, t, s), 1.0))
                 for v in sorted(set(P.vendor.values()))) + ((t, s) in inp.rental_blocked,)


def y_of(m, k: str, t: str, s: str):
    """The recourse order of SKU k in t along scenario s (0 where none can be placed)."""
    key = (k, t, m.node[t, s])
    return m.y[key] if key in m.Y else 0.0


def r_of(m, t: str, s: str):
    """Rented GPUs in t along scenario s."""
    return m.r[t, m.node[t, s]]


def recourse_price(m, k: str, t: str, s: str) -> float:
    """USD per node of a recourse order of k placed in t along s: (1 + theta) phi[v(k), t, s] c_k,
    the recourse premium times the price multiple in force (grey market, tariff)."""
    return ((1 + m.inp.recourse_premium) * m.P.price_factor.get((m.P.vendor[k], t, s), 1.0)
            * m.P.price[k])


def recourse_delivered(m, k: str, t_arrival: str, s: str) -> float:
    """delta^y: a recourse order arrives in full unless node deliveries are blocked then (the
    volume factor already capped how much could be ordered)."""
    return 1.0 if m.P.delivered.get((m.P.vendor[k], t_arrival, s), 1.0) > 0 else 0.0


def live_nodes(m, k: str, t: str, s: str):
    """Installed nodes that are not dead: N - D (the ones that draw power and pay for it)."""
    return m.N[k, t, s] - m.D[k, t, s] if (k, t, s) in m.B else m.N[k, t, s]


def powered_nodes(m, k: str, t: str, s: str):
    """Live nodes not switched off: N - D - O, under the power cap. O exists only in the rolling
    re-solves and is charged electricity as if on (live_nodes): it keeps a re-solve feasible
    when the path delivered more than the tree foresaw, not an economy the plan could not make."""
    live = live_nodes(m, k, t, s)
    return live - m.O[k, t, s] if (k, t, s) in m.O else live


def survival(m, k: str, t: str, s: str) -> float:
    """Share of installed nodes no part has killed yet, without any stockpile: the product
    over decaying parts of each part's no-stockpile survival (the intercept of its first
    piece over the nominal availability)."""
    a = m.P.avail.get((k, t, s), 1.0)
    share = 1.0
    for j in m.parts_of.get((k, t, s), []):
        share *= min(1.0, m.P.pieces[k, j, t, s, 0][0] / a) if a > 0 else 0.0
    return share


# --- constraints ---------------------------------------------------------------------------------


def installed_fleet(m) -> None:
    """N[k,t,s] = N[k,t-1,s] + delta[v(k),t,s] (x[k,t-L_k] + E_kt) + delta^y y[k,t-L_k,n(t-L_k,s)],
    N[k,-1,s] = E_k  (delta: share of deliveries arriving, 0 when blocked)."""
    P, periods = m.P, list(m.T)

    def rule(_, k, t, s):
        i = m.period_index[t]
        previous = m.N[k, periods[i - 1], s] if i > 0 else P.existing[k]
        delta = P.delivered.get((P.vendor[k], t, s), 1.0)
        arrivals = delta * P.scheduled.get((k, t), 0.0)
        j = i - P.lead[k]
        if j >= 0:
            t_order = periods[j]
            if (k, t_order) in m.X:
                arrivals = arrivals + delta * m.x[k, t_order]
            arrivals = arrivals + recourse_delivered(m, k, t, s) * y_of(m, k, t_order, s)
        return m.N[k, t, s] == previous + arrivals

    m.installed_fleet = _constraint(m.KTS, rule=rule)


def available_nominal(m) -> None:
    """A[k,t,s] <= a[k,t,s] N[k,t,s]  (availability without a parts block)."""
    P = m.P
    m.available_nominal = _constraint(
        m.KTS, rule=lambda _, k, t, s: m.A[k, t, s] <= P.avail.get((k, t, s), 1.0) * m.N[k, t, s])


def part_available(m) -> None:
    """F[k,j,t,s] <= alpha_b N[k,t,s] + beta_b (z[k,j] + z0[k,j])  for each piece b of part j in
    a blocked cell: the perspective of f_j, the concave piecewise-linear share of nodes part j
    leaves available with x = (z + z0) / N parts per node."""
    P = m.P

    def rule(_, k, j, t, s, b):
        alpha, beta = P.pieces[k, j, t, s, b]
        stock = (m.z[k, j] + P.part_existing.get((k, j), 0.0)) if (k, j) in m.KJ else 0.0
        return m.F[k, j, t, s] <= alpha * m.N[k, t, s] + beta * stock

    m.part_available = _constraint(m.PIECES, rule=rule)


def available_parts(m) -> None:
    """A[k,t,s] <= sum_j F[k,j,t,s] - (|J_kts| - 1) a N[k,t,s]: nodes available once every
    decaying part has taken its share, a N (1 - sum_j (1 - f_j / a)); linear, and never above
    the exact product of the parts' shares (a conservative union bound)."""
    P = m.P

    def rule(_, k, t, s):
        parts = m.parts_of[k, t, s]
        a = P.avail.get((k, t, s), 1.0)
        return (m.A[k, t, s] <= sum(m.F[k, j, t, s] for j in parts)
                - (len(parts) - 1) * a * m.N[k, t, s])

    m.available_parts = _constraint(m.B, rule=rule)


def dead_nodes(m) -> None:
    """D[k,t,s] <= (1 - s_kts) N[k,t,s],  D[k,t,s] <= N[k,t,s] - A[k,t,s] / a  (s_kts: the share
    of nodes no part has killed without a stockpile). Dead nodes draw no power; as power costs,
    D rises to what the parts block really killed, never into nodes the plan uses."""
    P = m.P
    m.dead_without_parts = _constraint(
        m.B, rule=lambda _, k, t, s: m.D[k, t, s] <= (1.0 - survival(m, k, t, s)) * m.N[k, t, s])
    m.dead_not_available = _constraint(
        m.B, rule=lambda _, k, t, s: m.D[k, t, s] <= m.N[k, t, s]
        - m.A[k, t, s] / max(P.avail.get((k, t, s), 1.0), 1e-9))


def switched_off(m) -> None:
    """A[k,t,s] / a + D[k,t,s] + O[k,t,s] <= N[k,t,s]: nodes switched off neither work nor
    overlap the dead ones (rolling re-solves only; elsewhere O does not exist)."""
    P = m.P
    def rule(_, k, t, s):
        dead = m.D[k, t, s] if (k, t, s) in m.B else 0.0
        a = max(P.avail.get((k, t, s), 1.0), 1e-9)
        return m.A[k, t, s] / a + dead + m.O[k, t, s] <= m.N[k, t, s]

    m.switched_off = _constraint(list(m.O), rule=rule)


def demand_cover(m) -> None:
    """sum_k g_k A[k,t,s] + g_R r[t,n(t,s)] + U[t,s] >= D_t."""
    P, inp = m.P, m.inp

    def rule(_, t, s):
        supply = sum(P.g[k] * m.A[k, t, s] for k in m.K)
        unmet = m.U[t, s] if inp.allow_unmet else _elastic(m, "demand", (t, s), -1, P.demand[t])
        return supply + inp.rental_pflops_per_gpu * r_of(m, t, s) + unmet >= P.demand[t]

    m.demand_cover = _constraint(m.T, m.S, rule=rule)


def rental_cap(m) -> None:
    """r[t,n] <= G_t  (0 where the scenario cuts overseas rental off)."""
    P, blocked = m.P, m.inp.rental_blocked
    cells = [(t, n) for (t, n) in m.TN if _ub_ok(P.rental_cap[t]) or (t, n) in blocked]
    m.rental_cap = _constraint(
        cells, rule=lambda _, t, n: m.r[t, n] <= (0.0 if (t, n) in blocked else P.rental_cap[t]))


def period_spend(m, t, s):
    """What the budget of period t counts along s, in USD x MONEY: first-stage and recourse
    orders (at the premium) placed in t, and the stockpile in the first period (undiscounted:
    a budget is in the money of its quarter)."""
    P = m.P
    spend = sum(MONEY * P.price[k] * m.x[k, t] for k in m.K if (k, t) in m.X)
    spend = spend + sum(MONEY * recourse_price(m, k, t, s) * y_of(m, k, t, s) for k in m.K)
    if m.period_index[t] == 0:
        spend = spend + sum(MONEY * P.part_price[kj] * m.z[kj] for kj in m.KJ)
    return spend


def budget_period(m) -> None:
    """sum_k c_k x[k,t] + (1 + theta) sum_k c_k y[k,t,n(t,s)] + [t = 0] sum c_z z <= B_t."""
    P = m.P
    cells = [(t, s) for t in m.T for s in m.S if _ub_ok(P.budget[t])]
    m.budget_period = _constraint(
        cells, rule=lambda _, t, s: period_spend(m, t, s)
        + _elastic(m, "budget", (t, s), 1, MONEY * P.budget[t]) <= MONEY * P.budget[t])


def budget_total(m) -> None:
    """sum_t (period spend in s) <= B_total  for every scenario s."""
    total = m.inp.total_budget_usd
    cells = list(m.S) if _ub_ok(total) else []
    m.budget_total = _constraint(
        cells, rule=lambda _, s: sum(period_spend(m, t, s) for t in m.T)
        + _elastic(m, "budget_total", s, 1, MONEY * total) <= MONEY * total)


def power_cap(m) -> None:
    """sum_k e_k PUE (N[k,t,s] - D[k,t,s] - O[k,t,s]) / 1000 <= P_t (MW): live nodes draw
    power unless switched off (O: rolling re-solves only)."""
    P, pue = m.P, m.inp.pue
    cells = [(t, s) for t in m.T for s in m.S if _ub_ok(P.power_cap[t])]
    m.power_cap = _constraint(
        cells, rule=lambda _, t, s: sum(P.power[k] * pue / 1000.0 * powered_nodes(m, k, t, s)
                                        for k in m.K)
        + _elastic(m, "power", (t, s), 1, P.power_cap[t]) <= P.power_cap[t])


def rack_space(m) -> None:
    """sum_k N[k,t,s] / n_k <= R_t (racks)."""
    P = m.P
    cells = [(t, s) for t in m.T for s in m.S if _ub_ok(P.racks[t])]
    m.rack_space = _constraint(
        cells, rule=lambda _, t, s: sum(m.N[k, t, s] / P.per_rack[k] for k in m.K)
        + _elastic(m, "space", (t, s), 1, P.racks[t]) <= P.racks[t])


def supply_cap(m) -> None:
    """sum_{k in v} x[k,t] <= Q[v,t]  (what one buyer can get from a vendor per period)."""
    P = m.P
    cells = [(v, t) for v in m.V for t in m.T if _ub_ok(P.supply.get((v, t), INF))
             and any((k, t) in m.X for k in m.K if P.vendor[k] == v)]
    m.supply_cap = _constraint(
        cells, rule=lambda _, v, t: sum(m.x[k, t] for k in m.K if P.vendor[k] == v and (k, t) in m.X)
        + _elastic(m, "supply", (v, t), 1, P.supply[v, t]) <= P.supply[v, t])


def recourse_supply_cap(m) -> None:
    """sum_{k in v} y[k,t,n] <= q[v,t,n] (Q[v,t] - sum_{k in v} x[k,t])  (what is left, scaled by
    the volume factor of the node's history)."""
    P = m.P
    cells = [(v, t, n) for v in m.V for (t, n) in m.TN
             if _ub_ok(P.supply.get((v, t), INF))
             and any((k, t, n) in m.Y for k in m.K if P.vendor[k] == v)]

    def rule(_, v, t, n):
        q = P.volume.get((v, t, n), 1.0)
        own = [k for k in m.K if P.vendor[k] == v]
        first = sum(m.x[k, t] for k in own if (k, t) in m.X)
        return (sum(m.y[k, t, n] for k in own if (k, t, n) in m.Y)
                + _elastic(m, "recourse_supply", (v, t, n), 1, P.supply[v, t])
                <= q * (P.supply[v, t] - first))

    m.recourse_supply_cap = _constraint(cells, rule=rule)


def order_bound(m, k: str) -> float:
    """M_k: more nodes of SKU k than this are never worth ordering in a period: its vendor's
    largest supply cap (not in the elastic model, where supply may be exceeded), and the nodes
    of k alone that cover twice the largest demand plus the largest job at the lowest
    availability, times the share factor (a share floor mu or a vendor cap sigma can make a
    plan buy up to 1/(1 - mu) or 1/sigma times that of the other vendors). A tight big-M keeps
    the model well scaled."""
    P, inp = m.P, m.inp
    caps = [] if m.elastic else [P.supply.get((P.vendor[k], t), INF) for t in m.T]
    bound = max((c for c in caps if _ub_ok(c)), default=INF)
    need = max(P.demand[t] + P.job[t] for t in m.T)
    a_min = min((a for (kk, _t, _s), a in P.avail.items() if kk == k and a > 0), default=1.0)
    mu = inp.min_domestic_share
    factors = [1.0, 1.0 / (1.0 - mu) if mu < 1 else 1.0]
    factors += [1.0 / sigma for sigma in inp.vendor_share_caps.values() if sigma > 0]
    share_factor = min(max(factors), MAX_SHARE_FACTOR)
    if P.g[k] > 0:
        bound = min(bound, math.ceil(2.0 * need * share_factor / (P.g[k] * a_min)) + 1.0)
    return bound if _ub_ok(bound) else 1e6


def platform_adoption(m) -> None:
    """x[k,t] <= M_k u[p(k)],  y[k,t,n] <= M_k u[p(k)]  (buying a platform's SKU adopts it)."""
    P = m.P
    bound = {k: order_bound(m, k) for k in m.K}
    m.platform_adoption = _constraint(
        m.X, rule=lambda _, k, t: m.x[k, t] <= bound[k] * m.u[P.platform[k]])
    m.platform_adoption_recourse = _constraint(
        m.Y, rule=lambda _, k, t, n: m.y[k, t, n] <= bound[k] * m.u[P.platform[k]])


def primary_platform(m) -> None:
    """sum_p m[p] = 1,  m[p] <= u[p]."""
    m.primary_platform = pyo.Constraint(expr=sum(m.pm[p] for p in m.Pl) == 1)
    m.primary_adopted = _constraint(m.Pl, rule=lambda _, p: m.pm[p] <= m.u[p])


def largest_job_fits(m) -> None:
    """sum_{k on p} g_k A[k,t,s] >= J_t m[p]  (the largest synchronous job runs on one platform)."""
    P = m.P
    cells = [(p, t, s) for p in m.Pl for t in m.T for s in m.S if P.job[t] > 0]
    m.largest_job_fits = _constraint(
        cells, rule=lambda _, p, t, s: sum(P.g[k] * m.A[k, t, s] for k in m.K if P.platform[k] == p)
        + _elastic(m, "largest_job", (p, t, s), -1, P.job[t]) >= P.job[t] * m.pm[p])


def ordered_pflops(m, s: str, keep) -> object:
    """O_s: effective compute of every order along s, first stage and recourse, of the SKUs
    `keep` accepts: sum_k g_k (sum_t x[k,t] + sum_t y[k,t,n(t,s)])."""
    P = m.P
    first = sum(P.g[k] * m.x[k, t] for (k, t) in m.X if keep(k))
    later = sum(P.g[k] * y_of(m, k, t, s) for k in m.K if keep(k) for t in m.T)
    return first + later


def vendor_share(m) -> None:
    """O_s(v) <= sigma_v O_s(all)  for every scenario s: a vendor's share of all compute ordered
    along s, first stage and recourse."""
    P, caps = m.P, m.inp.vendor_share_caps
    cells = [(v, s) for v in m.V if v in caps for s in m.S]
    m.vendor_share = _constraint(
        cells, rule=lambda _, v, s: ordered_pflops(m, s, lambda k: P.vendor[k] == v)
        + _elastic(m, "vendor_share", (v, s), 1, m.peak_demand)
        <= caps[v] * ordered_pflops(m, s, lambda k: True))


def domestic_share(m) -> None:
    """O_s(domestic) >= mu O_s(all)  for every scenario s."""
    P, mu = m.P, m.inp.min_domestic_share
    cells = list(m.S) if mu > 0 else []
    m.domestic_share = _constraint(
        cells, rule=lambda _, s: ordered_pflops(m, s, lambda k: P.domestic[k])
        + _elastic(m, "domestic_share", s, -1, m.peak_demand) >= mu * ordered_pflops(m, s, lambda k: True))


def shortfall(m, s):
    """Unmet demand of scenario s in PFLOP/s-hours: sum_t h_t U[t,s]."""
    return sum(m.P.hours[t] * m.U[t, s] for t in m.T)


def _risk_value(m, s):
    return m.cost[s] if m.inp.risk.measure == "cost" else shortfall(m, s)


def _uses_cvar(m) -> bool:
    r = m.inp.risk
    return r.weight > 0 or r.cvar_cap is not None


def cvar_excess(m) -> None:
    """xi[s] >= risk[s] - eta  (Rockafellar-Uryasev)."""
    m.cvar_excess = _constraint(
        m.S if _uses_cvar(m) else [], rule=lambda _, s: m.xi[s] >= _risk_value(m, s) - m.eta)


def cvar(m):
    """CVaR_alpha = eta + sum_s pi_s xi[s] / (1 - alpha), in the model's units."""
    alpha = m.inp.risk.alpha
    return m.eta + sum(m.P.prob[s] * m.xi[s] for s in m.S) / (1.0 - alpha)


def cvar_limit(m) -> None:
    """CVaR_alpha <= epsilon (only with a cap; epsilon is the mutable Param cvar_cap)."""
    slack = _elastic(m, "cvar", 0, 1, pyo.value(m.cvar_cap))
    m.cvar_limit = pyo.Constraint(expr=cvar(m) + slack <= m.cvar_cap)
    if m.inp.risk.cvar_cap is None:
        m.cvar_limit.deactivate()


FAMILIES = (installed_fleet, available_nominal, part_available, available_parts, dead_nodes,
            switched_off, demand_cover, rental_cap, budget_period, budget_total, power_cap, rack_space,
            supply_cap, recourse_supply_cap, platform_adoption, primary_platform,
            largest_job_fits, vendor_share, domestic_share, cvar_excess, cvar_limit)

COST_PARTS = ("capex", "stockpile", "recourse", "power", "rental", "unmet_penalty", "porting",
              "salvage")


def residual_share(m, k: str, t_order: str) -> float:
    """Share of the price a node ordered in t_order is still worth at the horizon, by
    straight-line depreciation from its delivery: max(0, 1 - hours in service / asset life)."""
    life = m.inp.asset_life_hours
    if not math.isfinite(life):
        return 0.0
    periods = list(m.T)
    arrival = m.period_index[t_order] + m.P.lead[k]
    in_service = sum(m.P.hours[t] for t in periods[arrival:])
    return max(0.0, 1.0 - in_service / life)


def scenario_cost(m) -> None:
    """cost[s], in the model's money (MONEY x USD), every cash flow of period t discounted by
    d_t and the salvage by d_end: capex (net of refunds for lost deliveries) + stockpile +
    recourse + power + rental + unmet penalty + porting - salvage, each an Expression
    cost_<part>[s]."""
    P, inp = m.P, m.inp
    periods = list(m.T)
    n = len(periods)
    d = P.discount
    first = periods[0]

    def capex(_, s):
        """sum_{k,t} d_t c_k (1 - rho (1 - delta[v(k), t + L_k, s])) x[k,t]."""
        total = 0.0
        for (k, t) in m.X:
            arrival = m.period_index[t] + P.lead[k]
            delta = P.delivered.get((P.vendor[k], periods[arrival], s), 1.0) if arrival < n else 1.0
            total = total + (MONEY * d[t] * P.price[k] * (1.0 - inp.refund_share * (1.0 - delta))
                             * m.x[k, t])
        return total

    m.cost_capex = pyo.Expression(m.S, rule=capex)
    m.cost_stockpile = pyo.Expression(
        m.S, rule=lambda _, s: sum(MONEY * d[first] * P.part_price[kj] * m.z[kj] for kj in m.KJ))

    def recourse(_, s):
        """d_t (1 + theta) phi[v(k), t, s] sum c_k (1 - rho (1 - delta^y[k, t + L_k, s]))
        y[k,t,n(t,s)], phi the price multiple in force when the order is placed."""
        total = 0.0
        for k in m.K:
            for t in m.T:
                y = y_of(m, k, t, s)
                if isinstance(y, float):
                    continue
                arrival = m.period_index[t] + P.lead[k]
                delta = recourse_delivered(m, k, periods[arrival], s) if arrival < n else 1.0
                total = total + (MONEY * d[t] * recourse_price(m, k, t, s)
                                 * (1.0 - inp.refund_share * (1.0 - delta)) * y)
        return total

    m.cost_recourse = pyo.Expression(m.S, rule=recourse)
    m.cost_power = pyo.Expression(m.S, rule=lambda _, s: sum(
        MONEY * d[t] * P.power[k] * inp.pue * P.hours[t] * inp.electricity_usd_per_kwh
        * live_nodes(m, k, t, s) for k in m.K for t in m.T))
    m.cost_rental = pyo.Expression(m.S, rule=lambda _, s: sum(
        MONEY * d[t] * inp.rental_usd_per_gpu_hour * P.hours[t] * r_of(m, t, s) for t in m.T))
    m.cost_unmet_penalty = pyo.Expression(m.S, rule=lambda _, s: sum(
        MONEY * d[t] * inp.unmet_penalty_usd_per_pflops_hour * P.hours[t] * m.U[t, s]
        for t in m.T))
    m.cost_porting = pyo.Expression(m.S, rule=lambda _, s: sum(
        MONEY * d[first] * P.porting[p] * m.u[p] for p in m.Pl if not P.adopted[p]))

    residual = {(k, t): share for (k, t) in m.X if (share := residual_share(m, k, t)) > 0}

    def salvage(_, s):
        """- d_end sum c_k residual(k, t) (delta x[k,t] + delta^y y[k,t,n]): what delivered
        nodes are still worth at the horizon, discounted to today."""
        total = 0.0
        for (k, t), share in residual.items():
            arrival = periods[m.period_index[t] + P.lead[k]]
            value = MONEY * P.discount_end * P.price[k] * share
            delta = P.delivered.get((P.vendor[k], arrival, s), 1.0)
            total = total - value * delta * m.x[k, t]
            y = y_of(m, k, t, s)
            if not isinstance(y, float):
                total = total - value * recourse_delivered(m, k, arrival, s) * y
        return total

    m.cost_salvage = pyo.Expression(m.S, rule=salvage)
    m.cost = pyo.Expression(m.S, rule=lambda _, s: sum(
        getattr(m, f"cost_{part}")[s] for part in COST_PARTS))


# --- objective -----------------------------------------------------------------------------------


def objective(m) -> None:
    """min sum_s pi_s cost[s] + omega CVaR_alpha  (elastic: min the slacks, each in its family's
    natural unit, then cost)."""
    expected = sum(m.P.prob[s] * m.cost[s] for s in m.S)
    weight = m.inp.risk.weight
    expr = expected + weight * cvar(m) if weight > 0 else expected
    if m.elastic:
        relative_slack_scales(m)
        expr = sum(ELASTIC_WEIGHTS[i[0]] * m.slack[i] / m.slack_scale[i] for i in m.slack) \
            + 1e-6 * expected
    m.obj = pyo.Objective(expr=expr, sense=pyo.minimize)
