"""Turn a scenario's `procurement` section and the catalog into the optimizer's input tables.

Availability defaults are closed forms (docs/model.md): a node is available a share
`a = 1 / (1 + sum_c lambda_c MTTR_c)` of the time; from the start of a vendor block, a node whose
vendor-supplied part j fails (hard-failure rate r_j per node-hour) cannot be repaired unless a
part is on the shelf, so after m hours of block a fleet with x parts per node keeps
f_j(x) = a (e^{-r_j m} + (1 - e^{-r_j m}) min(1, x / (r_j m))) of its nodes: a concave,
two-piece function of x that the simulator can replace with estimated breakpoints later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from itertools import product

import pandas as pd

from planner.catalog.catalog import Catalog
from planner.quarters import (
    quarter_hours,
    quarter_labels,
    quarter_of,
    quarter_start,
)
from planner.scenario.schema import Procurement, SanctionScenario, Scenario, VendorBlock
from planner.scenario.shock_quarters import BlockQuarters, block_quarters, representative_begin
from planner.scenario.spare_policy import resolve_spare_policy
from planner.units import DAYS_PER_YEAR, HOURS_PER_DAY
from solvers.problem import ProcurementInput, RiskSettings

MAX_DERIVED_SCENARIOS = 500
DEFAULT_NODES_PER_RACK = 4.0  # space of an installed SKU that is not a candidate (no nodes_per_rack given)


# --- per-SKU figures ---------------------------------------------------------------------------


def utilization(catalog: Catalog, sku: str, proc: Procurement) -> tuple[float, str]:
    """(model-FLOPs utilization of `sku` for the scenario's workload, its source): the
    scenario's procurement.utilization, else the catalog's figure (references.py checks that
    one of them exists)."""
    if sku in proc.utilization:
        return float(proc.utilization[sku]), "scenario procurement.utilization"
    figure = catalog.skus[sku].mfu[proc.workload]
    return figure.value, figure.source


def effective_pflops_per_node(catalog: Catalog, sku: str, proc: Procurement) -> float:
    """g_k: accelerators x dense BF16 TFLOPS x MFU / 1000, the PFLOP/s a node delivers to the
    scenario's workload."""
    s = catalog.skus[sku]
    return s.gpus * s.bf16_dense_tflops.value * utilization(catalog, sku, proc)[0] / 1000.0


def nominal_availability(catalog: Catalog, sku: str) -> float:
    """1 / (1 + sum_c lambda_c MTTR_c), MTTR_c = the mean of the category's repair time."""
    rates = catalog.failure_rates_per_hour(sku)
    load = sum(rates[name] * c.repair_distribution().mean
               for name, c in catalog.categories.items())
    return 1.0 / (1.0 + load)


def part_rates_per_hour(catalog: Catalog, sku: str) -> dict[str, float]:
    """Hard-failure rate per node-hour of each part (categories summed)."""
    rates_per_category = catalog.failure_rates_per_hour(sku)
    rates: dict[str, float] = {}
    for name, c in catalog.categories.items():
        if c.part is not None and c.hard_fraction.value > 0:
            rates[c.part] = rates.get(c.part, 0.0) + rates_per_category[name] * c.hard_fraction.value
    return rates


# --- scenarios ---------------------------------------------------------------------------------


def _shock_outcomes(shock, labels: list[str]) -> list[tuple[BlockQuarters, VendorBlock | None,
                                                            float]]:
    """A shock's outcomes: no block in the horizon, or a block over the quarters it touches
    (planner/scenario/shock_quarters.py). A window is split by quarter (probability in
    proportion to its days in each); outcomes that block the same quarters merge. Each as
    (quarters, the block, probability)."""
    lo = shock.date if shock.date is not None else shock.window_start_date
    hi = shock.date if shock.date is not None else shock.window_end_date
    days = max((hi - lo).days, 0)
    starts: dict[dt.date, float] = {}
    if days == 0:
        starts[lo] = 1.0
    else:
        for i in range(days):
            begin = representative_begin(shock, lo + dt.timedelta(days=i))
            starts[begin] = starts.get(begin, 0.0) + 1.0 / days
    merged: dict[BlockQuarters, float] = {None: 1.0 - shock.probability}  # "no block" first
    nodes, parts = shock.block_node_deliveries, shock.block_orders or shock.block_deliveries
    for begin, weight in starts.items():
        key = block_quarters(shock, begin, labels)
        merged[key] = merged.get(key, 0.0) + shock.probability * weight
    out = []
    for key, p in merged.items():
        if p <= 0:
            continue
        block = None if key is None else VendorBlock(
            vendor=shock.vendor, from_quarter=key[0], until_quarter=key[1], nodes=nodes,
            parts=parts)
        out.append((key, block, p))
    return out


def _name(parts: list[str]) -> str:
    name = "_and_".join(parts) or "no-block"
    if len(name) > 80:  # keep names unique when they must be shortened
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        name = f"{name[:69]}-{digest}"
    return name


def blocking_shocks(scenario: Scenario) -> list:
    """The supply shocks that block a vendor's nodes or parts: the ones sanction scenarios are
    derived from (shocks on listed parts only, or that only change lead times or prices, are
    the simulator's)."""
    return [shock for shock in scenario.supply_shocks
            if shock.parts is None and (shock.block_node_deliveries or shock.block_orders
                                        or shock.block_deliveries)]


@dataclass(frozen=True)
class DerivedScenario:
    """A sanction scenario derived from the supply shocks, and the outcome of each shock in it
    (shock name -> the quarters it blocks, None = no block in the horizon)."""

    scenario: SanctionScenario
    outcomes: tuple[tuple[str, BlockQuarters], ...]


def derive_scenarios(scenario: Scenario, labels: list[str]) -> list[DerivedScenario]:
    """Sanction scenarios from the blocking shocks: each shock either does not block in the
    horizon or blocks from a quarter its window covers; shocks combine independently."""
    outcomes = [(shock.name, _shock_outcomes(shock, labels))
                for shock in blocking_shocks(scenario)]
    if not outcomes:
        return [DerivedScenario(SanctionScenario(name="no-block", probability=1.0), ())]
    combos = list(product(*[opts for _, opts in outcomes]))
    if len(combos) > MAX_DERIVED_SCENARIOS:
        raise ValueError(f"the supply shocks give {len(combos)} scenarios; list "
                         f"procurement.scenarios explicitly (at most {MAX_DERIVED_SCENARIOS})")
    out = []
    for combo in combos:
        prob = math.prod(p for _, _, p in combo)
        blocks = [b for _, b, _ in combo if b is not None]
        labels_ = [f"{outcomes[i][0]}-from-{b.from_quarter}"
                   + (f"-to-{b.until_quarter}" if b.until_quarter else "")
                   for i, (_, b, _) in enumerate(combo) if b is not None]
        out.append(DerivedScenario(
            SanctionScenario(name=_name(labels_), probability=prob, blocks=blocks),
            tuple((outcomes[i][0], key) for i, (key, _, _) in enumerate(combo))))
    return out


def sanction_scenarios(scenario: Scenario, labels: list[str]) -> list[SanctionScenario]:
    """The optimizer's scenarios: listed by hand (procurement.scenarios), else the tree of the
    sampled sanction events (sanctions:), else derived from the supply shocks."""
    proc = scenario.procurement
    if proc.scenarios is not None:
        return list(proc.scenarios)
    if scenario.sanctions is not None:
        from planner.sanctions.scenarios import sanction_tree

        return list(sanction_tree(scenario).scenarios)
    return [d.scenario for d in derive_scenarios(scenario, labels)]


def _covering(blocks: list[VendorBlock], vendor: str, q: str, kind: str) -> list[VendorBlock]:
    """Blocks of `vendor` of that kind ("nodes" or "parts") that cover quarter q (union)."""
    return [b for b in blocks if b.vendor == vendor and getattr(b, kind)
            and q >= b.from_quarter and (b.until_quarter is None or q < b.until_quarter)]


# --- the builder -------------------------------------------------------------------------------


def _per_quarter(value, labels: list[str]) -> list[float]:
    if value is None:
        return [math.inf] * len(labels)
    if isinstance(value, list):
        return [float(v) for v in value]
    return [float(value)] * len(labels)


def existing_fleet(scenario: Scenario, labels: list[str]) -> tuple[dict[str, float], dict]:
    """(nodes per SKU installed at the start, {(SKU, quarter): nodes} of scheduled deliveries).
    Deliveries before the first quarter count as installed; after the horizon, not at all."""
    fleet: dict[str, float] = {}
    scheduled: dict[tuple[str, str], float] = {}
    for pool in scenario.cluster.pools:
        fleet[pool.sku] = fleet.get(pool.sku, 0.0) + pool.nodes
        for d in pool.deliveries:
            q = quarter_of(d.date)
            if q < labels[0]:
                fleet[pool.sku] += d.nodes
            elif q <= labels[-1]:
                scheduled[pool.sku, q] = scheduled.get((pool.sku, q), 0.0) + d.nodes
    return fleet, scheduled


def largest_job_pflops(scenario: Scenario, catalog: Catalog) -> float:
    proc = scenario.procurement
    if proc.largest_job_pflops != "from_jobs":
        return float(proc.largest_job_pflops)
    pools = {p.name: p.sku for p in scenario.cluster.pools}
    return max((job.nodes * effective_pflops_per_node(catalog, pools[job.pool], proc)
                for job in scenario.jobs), default=0.0)


def sku_table(catalog: Catalog, proc: Procurement, skus: list[str],
              existing: dict[str, float]) -> pd.DataFrame:
    """One row per SKU (installed or orderable): vendor, platform, g_k, price, power, space,
    lead time, nodes installed."""
    candidates = {c.sku: c for c in proc.candidates}
    rows = []
    for k in skus:
        s = catalog.skus[k]
        c = candidates.get(k)
        rows.append({
            "sku": k, "vendor": s.vendor, "platform": s.platform,
            "domestic": s.vendor in proc.domestic_vendors,
            "pflops_per_node": effective_pflops_per_node(catalog, k, proc),
            "price_usd": s.node_price_usd.value, "power_kw": s.node_power_kw.value,
            "nodes_per_rack": c.nodes_per_rack if c else DEFAULT_NODES_PER_RACK,
            "lead_periods": c.lead_time_quarters if c else 0,
            "existing_nodes": existing.get(k, 0.0), "orderable": c is not None,
        })
    return pd.DataFrame(rows).set_index("sku")


def _demand_pflops(catalog: Catalog, proc: Procurement, labels: list[str],
                   existing: dict[str, float]) -> list[float]:
    """Demand per quarter: as listed, else the installed fleet's compute times a multiple
    growing linearly from fleet_multiple_start to fleet_multiple_end."""
    d = proc.demand
    if d.pflops is not None:
        return list(d.pflops)
    fleet_pflops = sum(n * effective_pflops_per_node(catalog, k, proc) for k, n in existing.items())
    n = len(labels)
    return [fleet_pflops * (d.fleet_multiple_start + (d.fleet_multiple_end - d.fleet_multiple_start)
                            * (i / (n - 1) if n > 1 else 1.0)) for i in range(n)]


def period_table(scenario: Scenario, catalog: Catalog, labels: list[str],
                 existing: dict[str, float]) -> pd.DataFrame:
    """One row per quarter: hours, demand, the largest job, budget, power, racks, rental cap."""
    proc = scenario.procurement
    job = largest_job_pflops(scenario, catalog)
    job_from = proc.largest_job_from_quarter or labels[min(
        min((c.lead_time_quarters for c in proc.candidates), default=0), len(labels) - 1)]
    return pd.DataFrame({
        "hours": [quarter_hours(q) for q in labels],
        "demand_pflops": _demand_pflops(catalog, proc, labels, existing),
        "largest_job_pflops": [job if q >= job_from else 0.0 for q in labels],
        "budget_usd": _per_quarter(proc.budget_usd_per_quarter, labels),
        "power_cap_mw": _per_quarter(proc.power_cap_mw, labels),
        "racks": _per_quarter(proc.racks, labels),
        "rental_cap_gpus": [proc.rental.cap_gpus] * len(labels),
    }, index=pd.Index(labels, name="period"))


def scenario_table(scenarios: list[SanctionScenario]) -> pd.DataFrame:
    """One row per sanction scenario: its probability."""
    return pd.DataFrame({"probability": [s.probability for s in scenarios]},
                        index=pd.Index([s.name for s in scenarios], name="scenario"))


def _in_force(item, q: str) -> bool:
    """Whether a volume cut or price premium covers quarter q (from <= q < until)."""
    return q >= item.from_quarter and (item.until_quarter is None or q < item.until_quarter)


def vendor_scenario_table(scenarios: list[SanctionScenario], vendors: list[str],
                          labels: list[str]) -> pd.DataFrame:
    """Per vendor, quarter and scenario: the share of orders delivered, whether new orders are
    possible, the volume factor (the product of the cuts in force), whether parts are blocked
    and the price multiple of recourse orders (the largest premium in force)."""
    rows = []
    for sc in scenarios:
        for v in vendors:
            for q in labels:
                nodes_cut = bool(_covering(sc.blocks, v, q, "nodes"))
                parts_cut = bool(_covering(sc.blocks, v, q, "parts"))
                factor = math.prod(x.factor for x in sc.volumes
                                   if x.vendor == v and _in_force(x, q))
                price = max((x.factor for x in sc.prices if x.vendor == v and _in_force(x, q)),
                            default=1.0)
                rows.append((v, q, sc.name, 0.0 if nodes_cut else factor,
                             0.0 if nodes_cut else 1.0, factor, parts_cut, price))
    return pd.DataFrame(rows, columns=[
        "vendor", "period", "scenario", "delivered_fraction", "orderable", "volume_factor",
        "blocked", "price_factor"]).set_index(["vendor", "period", "scenario"])


def supply_cap_table(proc: Procurement, vendors: list[str], labels: list[str]) -> pd.DataFrame:
    """Per vendor and quarter: the most nodes it can deliver (inf = no cap)."""
    return pd.DataFrame(
        [(v, q, float(proc.vendor_caps_nodes_per_quarter.get(v, math.inf))) for v in vendors
         for q in labels], columns=["vendor", "period", "supply_cap_nodes"]
    ).set_index(["vendor", "period"])


def _vendor_part_rates(catalog: Catalog, sku: str) -> dict[str, float]:
    """Hard-failure rates of the parts the SKU's own vendor supplies (those a block cuts)."""
    vendor = catalog.skus[sku].vendor
    return {j: r for j, r in part_rates_per_hour(catalog, sku).items()
            if catalog.part_supplier(sku, j) == vendor}


def _stockable(proc: Procurement, rates: dict[str, float]) -> set[str]:
    """The parts that may be stockpiled: `stockpile_parts`, default every part with a rate."""
    return {j for j in rates if proc.stockpile_parts is None or j in proc.stockpile_parts}


def availability_table(catalog: Catalog, skus: list[str], scenarios: list[SanctionScenario],
                       labels: list[str]) -> pd.DataFrame:
    """Per SKU, quarter and scenario: the nominal availability a (docs/model.md)."""
    rows = []
    for k in skus:
        a = nominal_availability(catalog, k)
        for sc in scenarios:
            for q in labels:
                rows.append((k, q, sc.name, a))
    return pd.DataFrame(rows, columns=["sku", "period", "scenario", "availability"]
                        ).set_index(["sku", "period", "scenario"])


def parts_block_cells(scenario: Scenario, catalog: Catalog) -> list[tuple[str, str]]:
    """(SKU, part) pairs whose availability decays in some scenario: the installed and candidate
    SKUs of a vendor whose parts some scenario blocks, and the parts that vendor supplies."""
    proc = scenario.procurement
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    blocked = {b.vendor for sc in sanction_scenarios(scenario, labels) for b in sc.blocks
               if b.parts}
    skus = dict.fromkeys([*(p.sku for p in scenario.cluster.pools),
                          *(c.sku for c in proc.candidates)])
    return [(k, j) for k in skus if catalog.skus[k].vendor in blocked
            for j in sorted(_vendor_part_rates(catalog, k))]


def stockpile_piece_table(catalog: Catalog, proc: Procurement, skus: list[str],
                          scenarios: list[SanctionScenario], labels: list[str],
                          measured: dict | None = None) -> pd.DataFrame:
    """Per SKU, vendor part, quarter and scenario under a parts block: the pieces of f_j(x).
    Closed form: f_j(x) = a (e^{-r m} + (1 - e^{-r m}) min(1, x / (r m))), m = hours from the
    block's start to the quarter's end (two pieces). `measured` {(SKU, part): curve with
    .pieces(quarters since the block, a)} replaces it where given (planner/bridge/
    availability.py). Every part the vendor supplies decays; only stockable ones have a slope."""
    rows = []
    for k in skus:
        a = nominal_availability(catalog, k)
        vendor = catalog.skus[k].vendor
        rates = _vendor_part_rates(catalog, k)
        stockable = _stockable(proc, rates)
        for sc in scenarios:
            for q in labels:
                covering = _covering(sc.blocks, vendor, q, "parts")
                if not covering:
                    continue
                first = min(b.from_quarter for b in covering)
                block_start = quarter_start(first)
                period_end = quarter_start(q) + dt.timedelta(hours=quarter_hours(q))
                hours = (period_end - block_start).days * HOURS_PER_DAY
                for j, r in sorted(rates.items()):
                    curve = (measured or {}).get((k, j))
                    if curve is not None:
                        pieces = curve.pieces(labels.index(q) - labels.index(first) + 1, a) \
                            if first in labels else curve.pieces(curve.quarters, a)
                        if j not in stockable:
                            pieces = [(pieces[0][0], 0.0)]
                        rows.extend((k, j, q, sc.name, b, alpha, beta)
                                    for b, (alpha, beta) in enumerate(pieces))
                        continue
                    need = r * hours  # parts per node to repair every failure so far
                    survive = math.exp(-need)
                    slope = a * (1 - survive) / need if j in stockable and need > 0 else 0.0
                    rows.append((k, j, q, sc.name, 0, a * survive, slope))
                    if j in stockable:
                        rows.append((k, j, q, sc.name, 1, a, 0.0))
    return pd.DataFrame(rows, columns=["sku", "part", "period", "scenario", "piece",
                                       "intercept", "slope"])


def part_table(scenario: Scenario, catalog: Catalog, skus: list[str]) -> pd.DataFrame:
    """Per SKU and stockable part: its price and the units already on the shelf (as the
    simulator starts)."""
    rows = []
    for k in skus:
        for j in sorted(_stockable(scenario.procurement, _vendor_part_rates(catalog, k))):
            shelf = resolve_spare_policy(scenario, k, j).initial_stock
            rows.append((k, j, catalog.part_price_usd(k, j), float(shelf)))
    return pd.DataFrame(rows, columns=["sku", "part", "price_usd", "existing_units"]
                        ).set_index(["sku", "part"])


def platform_table(catalog: Catalog, proc: Procurement, skus: list[str],
                   existing: dict[str, float]) -> pd.DataFrame:
    """Per software platform: its porting cost (0 where the fleet already runs on it)."""
    platforms = sorted({catalog.skus[k].platform for k in skus})
    adopted = {catalog.skus[k].platform for k in existing}
    return pd.DataFrame({
        "porting_cost_usd": [0.0 if p in adopted else float(proc.porting_cost_usd[p])
                             for p in platforms],
        "adopted": [p in adopted for p in platforms],
    }, index=pd.Index(platforms, name="platform"))


def scheduled_table(scheduled: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Per SKU and quarter: nodes the scenario already has on order."""
    return pd.DataFrame({"nodes": list(scheduled.values())},
                        index=pd.MultiIndex.from_tuples(list(scheduled), names=["sku", "period"]))


def rental_pflops_per_gpu(catalog: Catalog, proc: Procurement) -> float:
    """Effective PFLOP/s of one rented accelerator: its dense BF16 TFLOPS x its MFU / 1000."""
    sku = proc.rental.gpu_sku
    return catalog.skus[sku].bf16_dense_tflops.value * utilization(catalog, sku, proc)[0] / 1000.0


def build_input(scenario: Scenario, catalog: Catalog,
                measured: dict | None = None) -> ProcurementInput:
    """The optimizer's tables for a validated scenario with a procurement section; `measured`:
    simulator-measured availability curves per (SKU, part) (stockpile_piece_table)."""
    proc = scenario.procurement
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    existing, scheduled = existing_fleet(scenario, labels)
    skus = list(dict.fromkeys([*existing, *(c.sku for c in proc.candidates)]))
    scenarios = sanction_scenarios(scenario, labels)
    vendors = sorted({catalog.skus[k].vendor for k in skus})
    rental_pflops = rental_pflops_per_gpu(catalog, proc)
    r = proc.risk
    return ProcurementInput(
        skus=sku_table(catalog, proc, skus, existing),
        periods=period_table(scenario, catalog, labels, existing),
        scenarios=scenario_table(scenarios),
        vendor_scenarios=vendor_scenario_table(scenarios, vendors, labels),
        supply_caps=supply_cap_table(proc, vendors, labels),
        availability=availability_table(catalog, skus, scenarios, labels),
        stockpile_pieces=stockpile_piece_table(catalog, proc, skus, scenarios, labels, measured),
        parts=part_table(scenario, catalog, skus),
        platforms=platform_table(catalog, proc, skus, existing),
        pue=proc.pue, electricity_usd_per_kwh=proc.electricity_usd_per_kwh,
        recourse_premium=proc.recourse_premium, refund_share=proc.refund_share,
        discount_rate=proc.discount_rate,
        asset_life_hours=(proc.asset_life_years * DAYS_PER_YEAR * HOURS_PER_DAY
                          if proc.asset_life_years is not None else math.inf),
        rental_usd_per_gpu_hour=proc.rental.usd_per_gpu_hour, rental_pflops_per_gpu=rental_pflops,
        unmet_penalty_usd_per_pflops_hour=proc.unmet_penalty_usd_per_pflops_hour,
        total_budget_usd=proc.total_budget_usd or math.inf,
        vendor_share_caps=dict(proc.vendor_share_caps), min_domestic_share=proc.min_domestic_share,
        integer_orders=proc.integer_orders, integer_recourse=proc.integer_recourse,
        allow_unmet=proc.allow_unmet,
        risk=RiskSettings(measure=r.measure, alpha=r.alpha, weight=r.weight, cvar_cap=r.cvar_cap),
        rental_blocked=frozenset((q, sc.name) for sc in scenarios if sc.rental_blocked_from
                                 for q in labels if q >= sc.rental_blocked_from),
        scheduled_deliveries=scheduled_table(scheduled))
