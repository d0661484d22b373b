"""Solve a procurement problem and analyse the plan: prices of the limits (duals with their
ranges, and re-optimized changes), VSS, EVPI, Pareto front. One HiGHS instance per model
(solvers/highs.py): the analyses of the plan change bounds on it and re-solve."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pyomo.common.collections import ComponentMap

from solvers.compile import LpCompiler, release_free_memory
from solvers.diagnose import explain_infeasible
from solvers.highs import HighsModel, SolveOutcome
from solvers.model import MONEY, build_model, cvar, shortfall
from solvers.outcomes import Infeasible, NoPlanInTime, SolverFailed
from solvers.problem import ProcurementInput, RiskSettings, SolverSettings
from solvers.pyomo_env import pyo
from solvers.results import ProcurementResult, extract, sample_cvar

FIRST_STAGE = ("x", "z", "u", "pm")
log = logging.getLogger("solvers")
# a model this large frees its constraint rows at once before the solve (its peak memory); a
# small one is not worth a full collection, which costs more the more the process holds (the
# out-of-sample batches of 25 paths)
COLLECT_FROM_SCENARIOS = 100
DEFAULT_MIP_GAP = 1e-4  # HiGHS's own mip_rel_gap when neither profile nor scenario sets one
ANALYSES = ("none", "prices", "all")  # all: prices, then VSS and EVPI
# limit families whose rows are priced: row family -> (limit name, unit of the limit, model units
# of the row per unit of the limit)
PRICED = {"budget_period": ("budget_usd", "USD", MONEY), "budget_total": ("total_budget_usd", "USD", MONEY),
          "power_cap": ("power_cap_mw", "MW", 1.0), "rack_space": ("racks", "rack", 1.0),
          "supply_cap": ("supply_nodes", "node", 1.0),
          "recourse_supply_cap": ("supply_nodes", "node", 1.0)}
READ_AFTER_SOLVE = ("cvar_limit",)  # besides the priced rows: the Pareto front moves its cap
PRICE_COLUMNS = ["family", "limit", "unit", "index_1", "index_2", "scenario", "limit_value",
                 "shadow_price", "valid_from", "valid_to", "degenerate", "binding"]
PRICE_GAP = 1e-6  # relative MIP gap of the re-solves that price a limit (at most)
HIGHS_DEFAULT_GAP = 1e-4  # HiGHS's own mip_rel_gap default, restored after pricing
TIGHT = 1e-4  # a row within this share of its limit is tight (priced by re-optimizing)
SHADOW_PRICE_CONVENTION = (
    "shadow_price: change of the objective (expected cost plus the risk term, USD) per unit "
    "increase of the limit, with every integer decision held at the plan; negative = one more "
    "unit saves that much. Valid while the limit stays within [valid_from, valid_to]; "
    "degenerate = the interval has zero width on one side or the row's slack is basic at zero, "
    "so the price can differ each way. A limit shared by the scenarios has one row per "
    "scenario; --reoptimize-prices gives its price as a whole.")
LIMIT_PRICE_COLUMNS = ["family", "limit", "unit", "index_1", "index_2", "limit_value", "step",
                       "objective_usd", "objective_up_usd", "objective_down_usd",
                       "change_per_unit_up", "change_per_unit_down", "mip_rel_gap", "note"]




@dataclass
class Optimization:
    """A solved problem: the result tables, analyses, timings and HiGHS's log."""

    result: ProcurementResult
    shadow_prices: pd.DataFrame
    value_of_information: dict
    timings_s: dict
    log: str
    limit_prices: pd.DataFrame | None = None
    analyses: str = "prices"


@dataclass
class Solved:
    """A model, its HiGHS instance and the outcome of its solve."""

    model: pyo.ConcreteModel
    highs: HighsModel
    outcome: SolveOutcome
    timings_s: dict


def compile_model(inp: ProcurementInput, settings: SolverSettings
                  ) -> tuple[pyo.ConcreteModel, HighsModel, float]:
    """Build the model and hand it to HiGHS. From COLLECT_FROM_SCENARIOS scenarios on, family
    by family: each constraint family is compiled as soon as it is built, then deleted
    (solvers/compile.py), so that the expressions and the compiler's transient of one family
    are held at a time. A smaller model is compiled in one pass once built (each pass walks
    the whole model: at 25 scenarios, 24 passes took as long as the build). The matrix is the
    same either way. HiGHS keeps every row, the planner the keys and limits of the rows an
    analysis reads (the priced limits and the CVaR cap). The variables and cost expressions
    stay: the result tables read them. Returns (model, HiGHS instance, build seconds: the
    model's own construction, without the compiling)."""
    import gc

    kept = {*PRICED, *READ_AFTER_SOLVE}
    large = len(inp.scenarios) >= COLLECT_FROM_SCENARIOS
    compiler = LpCompiler()
    handoff_seconds = 0.0

    def hand_off(m: pyo.ConcreteModel, components: list) -> None:
        nonlocal handoff_seconds
        start = time.perf_counter()
        for con in components:
            compiler.add(m, [con], keep_rows=con.local_name in kept)
            m.del_component(con)
        handoff_seconds += time.perf_counter() - start

    t0 = time.perf_counter()
    m = build_model(inp, hand_off=hand_off if large else None)
    t1 = time.perf_counter()
    if not large:
        compiler.add(m, list(m.component_objects(pyo.Constraint, active=True)), keep_rows=kept)
        for con in list(m.component_objects(pyo.Constraint)):
            m.del_component(con)  # as the family-by-family hand-off leaves the model
    # the availability and stockpile pieces by scenario are the largest parameters and only
    # the constraint families read them: gone with the rows (None, so a late reader fails)
    m.P = replace(m.P, avail=None, pieces=None)
    compiler.add_objective(m)
    compiled = compiler.finish(m)
    if large:
        gc.collect()  # the deleted families' ConstraintData and components refer to each other
    hm = HighsModel(m, settings, compiled)
    del compiled
    if large:
        release_free_memory()  # after HiGHS has its copy and ours is gone
    hm.handoff_seconds = handoff_seconds + time.perf_counter() - t1
    return m, hm, t1 - t0 - handoff_seconds


def _solve(inp: ProcurementInput, settings: SolverSettings) -> Solved:
    """Build, hand off and solve; the outcomes that are not a plan become exceptions."""
    m, hm, build_seconds = compile_model(inp, settings)
    if log.isEnabledFor(logging.DEBUG):  # getLp copies the model: only when asked
        lp = hm.h.getLp()
        log.debug("model: %d columns, %d rows, %d nonzeros; built in %.2f s, handed to HiGHS "
                  "in %.2f s", lp.num_col_, lp.num_row_, len(lp.a_matrix_.value_),
                  build_seconds, hm.handoff_seconds)
    out = hm.solve()
    log.debug("HiGHS: %s in %.2f s", out.status, out.highs_seconds)
    timings = {"build": build_seconds, "handoff": hm.handoff_seconds, "highs": out.highs_seconds}
    if out.status == "infeasible":
        raise Infeasible(explain_infeasible(inp, settings))
    if out.status == "time_limit" and not out.has_solution:
        raise NoPlanInTime(f"time limit {settings.time_limit_s:g} s reached before any feasible "
                           "plan was found: raise procurement.solver.time_limit_s")
    if out.status == "unbounded":
        raise Infeasible("the model is unbounded: a cost is missing or negative")
    if not out.has_solution:
        raise SolverFailed(f"HiGHS failed: {out.status}")
    return Solved(m, hm, out, timings)


def plan_values(m: pyo.ConcreteModel, names: tuple[str, ...] = FIRST_STAGE) -> dict:
    """The plan's value of every variable of `names` (rounded where integer)."""
    out = ComponentMap()
    for name in names:
        var = getattr(m, name)
        for key in var:
            v = var[key]
            if v.fixed:
                continue
            value = v.value or 0.0
            out[v] = float(round(value)) if not v.is_continuous() else float(value)
    return out


def plan_of(result) -> dict:
    """A result's first-stage decisions as the model's variables ({name: {index: value}}): its
    orders x, stockpile z, platforms adopted u and primary pm."""
    return {"x": {(r.sku, r.period): float(r.nodes) for r in result.orders.itertuples(index=False)},
            "z": {(r.sku, r.part): float(r.units) for r in result.stockpile.itertuples(index=False)},
            "u": {r.platform: float(r.adopted) for r in result.platforms.itertuples(index=False)},
            "pm": {r.platform: float(r.primary) for r in result.platforms.itertuples(index=False)}}


def first_stage_fixes(m: pyo.ConcreteModel, plan: dict) -> ComponentMap:
    """Every free first-stage variable of `m` -> its value in `plan` ({name: {index: value}},
    absent = 0), for HighsModel.fix."""
    fixed = ComponentMap()
    for name in FIRST_STAGE:
        var, values = getattr(m, name), plan.get(name, {})
        for key in var:
            if not var[key].fixed:
                fixed[var[key]] = float(values.get(key, 0.0))
    return fixed


@contextmanager
def _keeping_values(m: pyo.ConcreteModel) -> Iterator[None]:
    """Re-solves load their solutions into the model's variables: put the plan's back after."""
    saved = [(v, v.value) for v in m.component_data_objects(pyo.Var, descend_into=True)]
    try:
        yield
    finally:
        for var, value in saved:
            var.set_value(value, skip_validation=True)


def _price_rows(hm: HighsModel) -> list[tuple[str, tuple, tuple]]:
    """(family, index as a tuple, row key) of every priced limit row HiGHS holds."""
    return [(family, key[1] if isinstance(key[1], tuple) else (key[1],), key)
            for family in PRICED for key in hm.rows(family)]


def _index_columns(m, family: str, index: tuple) -> tuple[str, str, str | None]:
    """(index_1, index_2, scenario) of a priced row, as the tables show them."""
    scenarios = set(m.S)
    if family == "recourse_supply_cap":  # (vendor, period, tree node)
        v, t, n = index
        return str(v), str(t), f"node of {n}"
    if family == "supply_cap":
        return str(index[0]), str(index[1]), None
    if family == "budget_total":
        return "", "", str(index[0])
    t, s = index
    return str(t), "", str(s) if s in scenarios else None


def shadow_prices(solved: Solved) -> pd.DataFrame:
    """The LP with every integer decision fixed at the plan (orders, stockpile, platforms,
    integer recourse): for every limit row, d objective / d limit in USD per unit increase of
    the limit (negative: one more unit saves that much), the interval of the limit over which
    that price holds (HiGHS ranging), and a degeneracy flag. One row per (limit, scenario): a
    limit shared by the scenarios has a row in each; its price as a whole comes from
    re-optimizing (limit_prices)."""
    m, hm = solved.model, solved.highs
    hm.fix_integers()
    hm.relax_integrality()
    with _keeping_values(m):
        try:
            out = hm.solve()
            if out.status != "optimal":
                raise SolverFailed(f"the LP for shadow prices did not solve ({out.status})")
            rows = _price_rows(hm)
            ranges = hm.ranging([row for _, _, row in rows])
        finally:
            hm.restore()
    table = []
    for family, index, row in rows:
        rng = ranges.get(row)
        if rng is None:
            continue
        limit, unit, row_per_limit = PRICED[family]
        # d objective (USD) / d limit (its unit) = dual (model money per row unit) x row units
        # per unit of the limit / MONEY
        price = rng.dual * row_per_limit / MONEY
        i1, i2, scenario = _index_columns(m, family, index)
        table.append((family, limit, unit, i1, i2, scenario, rng.rhs / row_per_limit, price,
                      rng.low / row_per_limit, rng.high / row_per_limit, rng.degenerate,
                      rng.binding))
    return pd.DataFrame(table, columns=PRICE_COLUMNS)


def _limit_groups(m: pyo.ConcreteModel, hm: HighsModel) -> dict[tuple, list]:
    """(family, index without the scenario) -> the rows of that one limit across scenarios."""
    groups: dict[tuple, list] = {}
    scenarios = set(m.S)
    for family, index, row in _price_rows(hm):
        if family == "recourse_supply_cap":
            key = ("supply_cap", index[0], index[1])
        elif family == "budget_total":
            key = (family,)
        elif family == "supply_cap":
            key = (family, *index)
        else:
            key = (family, *[i for i in index if i not in scenarios])
        groups.setdefault(key, []).append((family, index, row))
    return groups


def limit_prices(solved: Solved, settings: SolverSettings, step: float = 0.01,
                 only_tight: bool = True) -> pd.DataFrame:
    """Each limit shared across scenarios (a quarterly budget, power cap, rack count, supply
    cap, the total budget), moved up and down by `step` of its value and the whole problem
    re-solved: the realized change of the objective per unit of the limit, each way. Within
    the MIP gap these are what one more (or one less) unit is worth; far apart, the price is
    degenerate there. Only limits with a tight row in the plan unless `only_tight` is False."""
    m, hm = solved.model, solved.highs
    gap = min(settings.mip_rel_gap if settings.mip_rel_gap is not None else PRICE_GAP, PRICE_GAP)
    hm.h.setOptionValue("mip_rel_gap", gap)
    rows = []
    with _keeping_values(m):
        base = hm.solve()  # the plan again at the pricing gap, so the moves compare like with like
        _move_limits(m, hm, base.objective, gap, step, only_tight, rows)
    hm.h.setOptionValue("mip_rel_gap", settings.mip_rel_gap if settings.mip_rel_gap
                        is not None else HIGHS_DEFAULT_GAP)
    return pd.DataFrame(rows, columns=LIMIT_PRICE_COLUMNS)


def _move_limits(m, hm: HighsModel, base: float, gap: float, step: float, only_tight: bool,
                 rows: list) -> None:
    activities = hm.row_activities()
    try:
        for key, members in _limit_groups(m, hm).items():
            family = key[0]
            limit, unit, row_per_limit = PRICED[family]
            cons = [row for _, _, row in members]
            values = [hm.limit(c) for c in cons]
            # a recourse supply row holds q (Q - x): it moves by q per unit of Q
            moves = [m.P.volume.get(index, 1.0) if fam == "recourse_supply_cap" else 1.0
                     for fam, index, _ in members]
            if only_tight and not any(_tight(hm, c, activities) for c in cons):
                continue
            value = values[0] / row_per_limit
            delta = step * abs(value) if value else 1.0
            changes = []
            for sign in (+1, -1):
                for con, original, move in zip(cons, values, moves, strict=True):
                    hm.set_rhs(con, original + sign * delta * row_per_limit * move)
                out = hm.solve()
                changes.append(out.objective if out.has_solution else math.nan)
                for con, original in zip(cons, values, strict=True):
                    hm.set_rhs(con, original)
            up, down = changes
            index = list(key[1:]) + ["", ""]
            noise = gap * abs(base) / MONEY / delta  # what the gap allows per unit of the limit
            note = ("infeasible one way" if math.isnan(up) or math.isnan(down) else
                    f"changes below {noise:,.0f} USD per {unit} are within the MIP gap")
            rows.append((family, limit, unit, str(index[0]), str(index[1]), value, delta,
                         base / MONEY, up / MONEY, down / MONEY,
                         (up - base) / MONEY / delta, (base - down) / MONEY / delta, gap, note))
    finally:
        hm.restore()


def _tight(hm: HighsModel, row: tuple, activities: np.ndarray) -> bool:
    """The plan's row is at its limit (within TIGHT of its size): its activity in HiGHS's
    solution against its compiled bound (both less the constants moved out of the body)."""
    i = hm.rows_of[row][0]
    bound = float(hm.row_upper[i] if hm.row_senses[i] >= 0 else hm.row_lower[i])
    return abs(float(activities[i]) - bound) <= TIGHT * max(1.0, abs(hm.limit(row)))


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


def _expected(m: pyo.ConcreteModel) -> float:
    """Expected cost of the solution loaded in `m`, USD."""
    return float(sum(m.P.prob[s] * pyo.value(m.cost[s]) for s in m.S)) / MONEY


def _risk_neutral(inp: ProcurementInput) -> bool:
    return inp.risk.weight == 0 and inp.risk.cvar_cap is None


def value_of_information(inp: ProcurementInput, settings: SolverSettings, with_evpi: bool,
                         plan: Solved | None = None) -> dict:
    """VSS = EEV - RP and EVPI = RP - WS, on expected cost (risk-neutral). The plan's own solve
    is RP when the plan is risk-neutral; EEV fixes the expected-value plan on RP's HiGHS
    instance and re-solves the recourse."""
    neutral = inp.with_risk(RiskSettings(alpha=inp.risk.alpha))
    rp = plan if plan is not None and _risk_neutral(inp) else _solve(neutral, settings)
    with _keeping_values(rp.model):
        return _value_of_information(inp, neutral, settings, with_evpi, rp)


def _value_of_information(inp: ProcurementInput, neutral: ProcurementInput,
                          settings: SolverSettings, with_evpi: bool, rp: Solved) -> dict:
    rp_value = _expected(rp.model)
    ev = _solve(expected_value_input(neutral), settings)
    ev_plan = {name: {key: round(getattr(ev.model, name)[key].value or 0.0)
                      for key in getattr(ev.model, name)} for name in FIRST_STAGE}
    rp.highs.fix(first_stage_fixes(rp.model, ev_plan))
    eev_out = rp.highs.solve()
    eev = _expected(rp.model) if eev_out.has_solution else float("inf")
    rp.highs.restore()
    out = {"rp_expected_cost_usd": rp_value, "eev_expected_cost_usd": eev,
           "vss_usd": eev - rp_value, "ev_plan_feasible": eev_out.has_solution}
    if with_evpi:
        ws = 0.0
        for s, p in inp.scenarios["probability"].items():
            one = _solve(_scenario_input(neutral, str(s)), settings)
            ws += float(p) * float(pyo.value(one.model.cost[str(s)])) / MONEY
        out.update({"ws_expected_cost_usd": ws, "evpi_usd": rp_value - ws})
    return out


def keep_incumbent(solved: Solved, incumbent: dict, settings: SolverSettings) -> Solved:
    """`solved` with the `incumbent` first-stage plan ({variable name: {index: value}}, absent
    = 0) in place of its own when the incumbent, with its best recourse, is within the solve's
    relative MIP gap of the new dual bound: a plan still optimal to the solver's tolerance is
    not swapped for another one equally good (the closed loop then settles). Else `solved` as
    it was (its values and HiGHS solution put back)."""
    m, hm, out = solved.model, solved.highs, solved.outcome
    if out.bound is None:
        return solved
    own = hm.h.getSolution()
    with _keeping_values(m):
        hm.fix(first_stage_fixes(m, incumbent))
        again = hm.solve()
        hm.restore()
        gap = settings.mip_rel_gap if settings.mip_rel_gap is not None else DEFAULT_MIP_GAP
        keep = (again.has_solution and again.objective is not None
                and again.objective <= out.bound + gap * max(abs(out.bound), 1e-9))
        if keep:
            kept = [(v, v.value) for v in m.component_data_objects(pyo.Var, descend_into=True)]
    if not keep:
        hm.h.setSolution(own)
        return solved
    for var, value in kept:
        var.set_value(value, skip_validation=True)
    outcome = replace(out, objective=again.objective,
                      gap=abs(again.objective - out.bound) / max(abs(again.objective), 1e-9),
                      message=(out.message + "; " if out.message else "")
                      + "the previous round's plan, still within the gap")
    return replace(solved, outcome=outcome)


def optimize(inp: ProcurementInput, settings: SolverSettings, *, analyses: str = "prices",
             evpi: bool = True, reoptimize_prices: bool = False,
             price_step: float = 0.01, incumbent: dict | None = None) -> Optimization:
    """Solve and extract the tables; then the analyses asked for: `prices` (duals with their
    ranges, on the plan's own HiGHS instance; `reoptimize_prices` adds each limit moved by
    `price_step`), `all` (and VSS and EVPI; EVPI only with `evpi`). `incumbent`: a first-stage
    plan kept when it is still within the gap (keep_incumbent)."""
    if analyses not in ANALYSES:
        raise ValueError(f"analyses must be one of {', '.join(ANALYSES)}, not {analyses!r}")
    t0 = time.perf_counter()
    solved = _solve(inp, settings)
    if incumbent is not None:
        solved = keep_incumbent(solved, incumbent, settings)
    out, m = solved.outcome, solved.model
    result = extract(m, out.status, out.message, out.objective, out.bound, out.gap)
    timings = {**solved.timings_s, "plan": time.perf_counter() - t0}
    prices = pd.DataFrame(columns=PRICE_COLUMNS)
    info: dict = {}
    limits = None
    if analyses in ("prices", "all"):
        t1 = time.perf_counter()
        prices = shadow_prices(solved)
        timings["shadow_prices"] = time.perf_counter() - t1
        if reoptimize_prices:
            t2 = time.perf_counter()
            limits = limit_prices(solved, settings, price_step)
            timings["limit_prices"] = time.perf_counter() - t2
    if analyses == "all":
        t3 = time.perf_counter()
        info = value_of_information(inp, settings, with_evpi=evpi, plan=solved)
        timings["value_of_information"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return Optimization(result, prices, info, timings, solved.highs.log, limits, analyses)


def pareto_front(inp: ProcurementInput, settings: SolverSettings, points: int) -> pd.DataFrame:
    """Cost against risk by epsilon-constraint: min E[cost] s.t. CVaR <= eps, eps from the
    risk-neutral plan's CVaR down to the least-risk plan's, on one HiGHS instance whose CVaR
    cap row moves between solves."""
    base = inp.with_risk(RiskSettings(measure=inp.risk.measure, alpha=inp.risk.alpha,
                                      cvar_cap=1e15))
    m = build_model(base)
    hm = HighsModel(m, settings)
    out = hm.solve()
    if not out.has_solution:
        raise Infeasible(explain_infeasible(inp, settings))
    units = MONEY if inp.risk.measure == "cost" else 1.0
    def risk_of(model, s):
        return model.cost[s] if inp.risk.measure == "cost" else shortfall(model, s)

    def current(model=m) -> tuple[float, float]:
        """(expected cost USD, CVaR in the measure's unit) of the solution loaded in model."""
        values = np.array([pyo.value(risk_of(model, s)) for s in model.S]) / units
        probs = np.array([model.P.prob[s] for s in model.S])
        return _expected(model), sample_cvar(values, probs, inp.risk.alpha)

    cost_hi, risk_hi = current()
    least = build_model(base)
    least.obj.deactivate()
    least.risk_obj = pyo.Objective(expr=cvar(least) + 1e-6 * least.obj.expr)
    lo_out = HighsModel(least, settings).solve()
    risk_lo = current(least)[1] if lo_out.has_solution else risk_hi
    rows = []
    for i, eps in enumerate(np.linspace(risk_hi, risk_lo, max(points, 2))):
        cap = (float(eps) + 1e-6 * max(1.0, abs(float(eps)))) * units
        hm.set_rhs(m.cvar_limit, cap)
        out = hm.solve()
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
