"""The closed loop between optimizer and simulator (`planner run --loop N`, issue 15).

Round r: optimize with the current availability factors; simulate the plan in every scenario
of the optimizer (its first-stage orders, that scenario's recourse and volume cuts, its blocks
as supply shocks, the stockpile on the shelves); measure each SKU's available share per quarter
and scenario; set the factor rho_kts = simulated share / the share the optimizer counted on (its
availability cap at the plan's stockpile); re-optimize with a and the stockpile pieces scaled by
rho. Stop when the first-stage plan (orders, stockpile, platforms) is the one of the round
before, or after N rounds. The simulator runs LOOP_REPLICATIONS replications per scenario with
the same seeds every round (common random numbers), so a plan that does not change measures
the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planner.bridge.availability import quarter_means, run_replications
from planner.bridge.plan import plan_deliveries, plan_stockpile
from planner.procurement import sanction_scenarios
from planner.quarters import quarter_hours, quarter_labels, quarter_start
from planner.scenario.loader import LoadedScenario
from planner.scenario.schema import SanctionScenario, Scenario, SupplyShock
from solvers.problem import ProcurementInput

LOOP_REPLICATIONS = 4
FACTOR_BOUNDS = (0.0, 1.5)  # a simulated share may exceed the optimizer's cap, not absurdly
PLAN_TOLERANCE = 0.5  # nodes or parts: first-stage plans closer than this are the same plan
CAPACITY_TOLERANCE = 0.01  # the simulated compute meets the plan within 1 % of what it counts on


@dataclass(frozen=True)
class Measured:
    """What the simulator saw of a plan: per (sku, period, scenario) the mean available share
    and installed nodes, and the optimizer's own cap for the same cells."""

    table: pd.DataFrame  # sku, period, scenario, installed_nodes, sim_share, model_share, factor


def same_plan(a: dict, b: dict) -> bool:
    """Whether two first-stage plans ({name: {index: value}}, solvers.optimize.plan_of) agree
    to PLAN_TOLERANCE nodes or parts (platform choices, 0 or 1, must be equal)."""
    for name in set(a) | set(b):
        x, y = a.get(name, {}), b.get(name, {})
        if any(abs(x.get(c, 0.0) - y.get(c, 0.0)) >= PLAN_TOLERANCE for c in set(x) | set(y)):
            return False
    return True


def _shocks(sc: SanctionScenario, labels: list[str]) -> list[SupplyShock]:
    """The scenario's blocks as the simulator's supply shocks (dated at quarter starts)."""
    shocks = []
    for i, b in enumerate(sc.blocks):
        start = quarter_start(b.from_quarter)
        days = None if b.until_quarter is None else float(
            (quarter_start(b.until_quarter) - start).days)
        shocks.append(SupplyShock(
            name=f"block-{i}", vendor=b.vendor, date=start, duration_days=days,
            block_orders=b.parts, block_deliveries=b.parts, block_rma=b.parts,
            block_node_deliveries=b.nodes))
    return shocks


def scenario_in(loaded: LoadedScenario, inp: ProcurementInput, result, name: str) -> Scenario:
    """The simulator's scenario of optimizer scenario `name`: first-stage orders and that
    scenario's recourse as deliveries (each scaled by the share the optimizer counts as
    delivered, so a blocked quarter's delivery is lost as the optimizer assumes), the stockpile
    on the shelves, the blocks as shocks, over the planning quarters."""
    scenario = loaded.scenario
    proc = scenario.procurement
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    lead = {c.sku: c.lead_time_quarters for c in proc.candidates}
    vendor = {str(k): str(v) for k, v in inp.skus["vendor"].items()}
    delivered = inp.vendor_scenarios["delivered_fraction"]
    recourse = result.recourse[result.recourse["scenario"] == name]
    rows = []
    for r in [*result.orders.itertuples(index=False), *recourse.itertuples(index=False)]:
        arrival = labels.index(r.period) + lead[r.sku]
        if arrival >= len(labels) or r.nodes < PLAN_TOLERANCE:
            continue
        share = float(delivered.get((vendor[r.sku], labels[arrival], name), 1.0))
        rows.append((r.sku, r.period, round(r.nodes * share)))
    orders = pd.DataFrame(rows, columns=["sku", "period", "nodes"])
    sc = next(s for s in sanction_scenarios(scenario, labels) if s.name == name)
    end = quarter_start(labels[-1]) + dt.timedelta(hours=quarter_hours(labels[-1]))
    planned = plan_stockpile(plan_deliveries(scenario, orders), result.stockpile)
    simulation = planned.simulation.model_copy(update={
        "replications": LOOP_REPLICATIONS, "adaptive": None, "record_events": False,
        "stop": "horizon"})
    return planned.model_copy(update={
        "horizon_days": float((end - scenario.start_date).days),
        "supply_shocks": _shocks(sc, labels), "simulation": simulation, "procurement": None,
        "sanctions": None})


def model_share(inp: ProcurementInput, result) -> pd.DataFrame:
    """Per (sku, period, scenario) with nodes installed: the available share the optimizer
    counted on at its plan, a - sum_j (a - f_j(x_j)) with x_j the plan's parts per node (the
    union bound of docs/model.md), or a where nothing decays."""
    fleet = result.fleet.set_index(["sku", "period", "scenario"])
    avail = inp.availability["availability"]
    stock = {(r.sku, r.part): float(r.units) for r in result.stockpile.itertuples(index=False)}
    if "existing_units" in inp.parts.columns:
        for (k, j), units in inp.parts["existing_units"].items():
            stock[k, j] = stock.get((k, j), 0.0) + float(units)
    pieces = inp.stockpile_pieces
    lines: dict[tuple[str, str, str], dict[str, list]] = {}  # cell -> part -> its pieces
    for k, j, t, s, alpha, beta in zip(pieces["sku"], pieces["part"], pieces["period"],
                                       pieces["scenario"], pieces["intercept"], pieces["slope"],
                                       strict=True):
        lines.setdefault((k, t, s), {}).setdefault(j, []).append((alpha, beta))
    rows = []
    for (k, t, s), n in fleet["installed_nodes"].items():
        n = float(n)
        if n <= PLAN_TOLERANCE:
            continue
        a = float(avail.get((k, t, s), 1.0))
        share = a
        for j, pieces_j in lines.get((k, t, s), {}).items():
            x = stock.get((k, j), 0.0) / n
            share -= a - min(alpha + beta * x for alpha, beta in pieces_j)
        rows.append((k, t, s, n, max(share, 0.0)))
    return pd.DataFrame(rows, columns=["sku", "period", "scenario", "installed_nodes",
                                       "model_share"])


def measure_plan(loaded: LoadedScenario, inp: ProcurementInput, result,
                 workers: int | None = None) -> Measured:
    """Simulate the plan in every optimizer scenario; per (SKU, quarter, scenario) the mean
    healthy share of the SKU's pool over the quarter and the replications, beside the
    optimizer's own share, and their ratio rho."""
    from planner.sim.setup import build_setup

    labels = inp.period_labels
    tasks, owners = [], []
    for name in inp.scenario_labels:
        sim = scenario_in(loaded, inp, result, name)
        setup = build_setup(sim, loaded.catalog)
        for index in range(LOOP_REPLICATIONS):
            tasks.append((setup, index))
            owners.append((name, sim))
    results = run_replications(tasks, workers)
    shares: dict[tuple[str, str, str], float] = {}
    for (name, sim), rep in zip(owners, results, strict=True):
        offset = (quarter_start(labels[0]) - sim.start_date).days
        for pool in sim.cluster.pools:
            for q, value in zip(labels, _quarter_shares(rep.timeseries, pool.name, labels,
                                                        offset), strict=True):
                if value is not None:
                    key = (pool.sku, q, name)
                    shares[key] = shares.get(key, 0.0) + value / LOOP_REPLICATIONS
    table = model_share(inp, result)
    table["sim_share"] = [shares.get((r.sku, r.period, r.scenario), np.nan)
                          for r in table.itertuples(index=False)]
    ratio = table["sim_share"] / table["model_share"].where(table["model_share"] > 0)
    table["factor"] = ratio.clip(*FACTOR_BOUNDS).fillna(1.0)
    return Measured(table)


def _quarter_shares(series: dict, pool: str, labels: list[str],
                    offset_days: float) -> list[float | None]:
    """Mean healthy / installed nodes of `pool` over each quarter (None where none installed)."""
    healthy = np.asarray(series[f"{pool}.healthy_nodes"], dtype=float)
    installed = np.asarray(series[f"{pool}.installed_nodes"], dtype=float)
    share = np.divide(healthy, installed, out=np.zeros_like(healthy), where=installed > 0)
    return quarter_means(np.asarray(series["day"], dtype=float) - offset_days, share, labels,
                         valid=installed > 0)


def averaged_factors(factors: dict, measured: Measured, round_: int) -> dict:
    """The next round's factors by successive averages: f <- f (1 + (rho - 1) / r) at round r.
    The first round takes the measured ratio whole; later rounds move by ever smaller steps, so
    that a plan whose measure moves with the plan settles instead of swinging between two
    (the method of successive averages for fixed points)."""
    out = dict(factors)
    t = measured.table
    for k, q, s, rho in zip(t["sku"], t["period"], t["scenario"], t["factor"], strict=True):
        old = out.get((k, q, s), 1.0)
        out[k, q, s] = old * (1.0 + (float(rho) - 1.0) / round_)
    return out


def with_factors(inp: ProcurementInput, factors: dict[tuple[str, str, str], float]
                 ) -> ProcurementInput:
    """The problem with a_kts and the stockpile pieces of (k, t, s) scaled by rho_kts."""
    if not factors:
        return inp
    avail = inp.availability.copy()
    rho = pd.Series([factors.get(key, 1.0) for key in avail.index], index=avail.index)
    avail["availability"] = (avail["availability"] * rho).clip(upper=1.0)
    pieces = inp.stockpile_pieces.copy()
    if len(pieces):
        scale = np.array([factors.get((r.sku, r.period, r.scenario), 1.0)
                          for r in pieces.itertuples(index=False)])
        pieces["intercept"] = pieces["intercept"] * scale
        pieces["slope"] = pieces["slope"] * scale
    return replace(inp, availability=avail, stockpile_pieces=pieces)


def capacity_check(inp: ProcurementInput, result, measured: Measured) -> pd.DataFrame:
    """Per quarter and scenario: the demand the plan was bought for, the compute the optimizer
    counted on (own nodes and rental), what the simulator's shares give in its place (sum_k
    g_k x installed x simulated share, plus rental), the simulated shortfall against demand, and
    whether the simulated compute is within CAPACITY_TOLERANCE of what the plan counted on."""
    g = {str(k): float(v) for k, v in inp.skus["pflops_per_node"].items()}
    t = measured.table
    sim = (t["installed_nodes"] * t["sim_share"].fillna(t["model_share"])
           * t["sku"].map(g)).groupby([t["period"], t["scenario"]]).sum()
    cap = result.capacity.set_index(["period", "scenario"])
    rows = []
    for (q, s), r in cap.iterrows():
        simulated = float(sim.get((q, s), 0.0)) + float(r["rented_pflops"])
        model = float(r["own_pflops"]) + float(r["rented_pflops"])
        rows.append((q, s, float(r["probability"]), float(r["demand_pflops"]), model, simulated,
                     max(float(r["demand_pflops"]) - simulated, 0.0),
                     simulated >= (1 - CAPACITY_TOLERANCE) * model))
    return pd.DataFrame(rows, columns=["period", "scenario", "probability", "demand_pflops",
                                       "optimizer_pflops", "simulated_pflops",
                                       "simulated_shortfall_pflops", "meets_plan"])
