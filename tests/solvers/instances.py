"""Small procurement instances built directly as tables (no planner, no YAML)."""

from __future__ import annotations

import math

import pandas as pd

from solvers.problem import ProcurementInput, RiskSettings

INF = math.inf


def instance(
    periods: int = 3,
    block_probability: float = 0.4,
    block_from: int = 1,
    demand_pflops: float = 60.0,
    budget_usd: float = 2e6,
    with_stockpile: bool = True,
    risk: RiskSettings | None = None,
    **settings,
) -> ProcurementInput:
    """Two vendors (A: cheap and fast, blockable; B: domestic, slower, dearer), one existing SKU."""
    labels = [f"P{i}" for i in range(periods)]
    skus = pd.DataFrame(
        {
            "vendor": ["A", "A", "B"],
            "platform": ["X", "X", "Y"],
            "domestic": [False, False, True],
            "pflops_per_node": [10.0, 8.0, 7.0],
            "price_usd": [300_000.0, 200_000.0, 280_000.0],
            "power_kw": [10.0, 8.0, 9.0],
            "nodes_per_rack": [4.0, 4.0, 4.0],
            "lead_periods": [0, 1, 1],
            "existing_nodes": [4.0, 0.0, 0.0],
            "orderable": [True, True, True],
        },
        index=pd.Index(["a1", "a2", "b1"], name="sku"),
    )
    period_table = pd.DataFrame(
        {
            "hours": [2190.0] * periods,
            "demand_pflops": [demand_pflops] * periods,
            "largest_job_pflops": [0.0] * periods,
            "budget_usd": [budget_usd] * periods,
            "power_cap_mw": [INF] * periods,
            "racks": [INF] * periods,
            "rental_cap_gpus": [20.0] * periods,
        },
        index=pd.Index(labels, name="period"),
    )
    scenarios = pd.DataFrame({"probability": [1 - block_probability, block_probability]},
                             index=pd.Index(["open", "blocked"], name="scenario"))
    rows = []
    for v in ("A", "B"):
        for i, t in enumerate(labels):
            for s in scenarios.index:
                blocked = v == "A" and s == "blocked" and i >= block_from
                rows.append((v, t, s, 0.0 if blocked else 1.0, 0.0 if blocked else 1.0, 1.0,
                             blocked))
    vendor_scenarios = pd.DataFrame(
        rows, columns=["vendor", "period", "scenario", "delivered_fraction", "orderable",
                       "volume_factor", "blocked"]).set_index(["vendor", "period", "scenario"])
    supply = pd.DataFrame(
        [(v, t, 6.0) for v in ("A", "B") for t in labels],
        columns=["vendor", "period", "supply_cap_nodes"]).set_index(["vendor", "period"])
    avail_rows, piece_rows = [], []
    for k in skus.index:
        for i, t in enumerate(labels):
            for s in scenarios.index:
                blocked = skus.loc[k, "vendor"] == "A" and s == "blocked" and i >= block_from
                months = i - block_from + 1
                a0 = 0.97 * math.exp(-0.1 * months) if blocked else 0.97
                avail_rows.append((k, t, s, a0))
                if blocked and with_stockpile and k in ("a1", "a2"):
                    need = 0.1 * months  # parts per node to cover all failures so far
                    piece_rows.append((k, "board", t, s, 0, a0, (0.97 - a0) / need))
                    piece_rows.append((k, "board", t, s, 1, 0.97, 0.0))
    availability = pd.DataFrame(avail_rows, columns=["sku", "period", "scenario", "availability"]
                                ).set_index(["sku", "period", "scenario"])
    pieces = pd.DataFrame(piece_rows, columns=["sku", "part", "period", "scenario", "piece",
                                               "intercept", "slope"])
    parts = pd.DataFrame(
        [("a1", "board", 20_000.0), ("a2", "board", 15_000.0)] if with_stockpile else [],
        columns=["sku", "part", "price_usd"]).set_index(["sku", "part"])
    platforms = pd.DataFrame({"porting_cost_usd": [0.0, 100_000.0], "adopted": [True, False]},
                             index=pd.Index(["X", "Y"], name="platform"))
    return ProcurementInput(
        skus=skus, periods=period_table, scenarios=scenarios, vendor_scenarios=vendor_scenarios,
        supply_caps=supply, availability=availability, stockpile_pieces=pieces, parts=parts,
        platforms=platforms, risk=risk or RiskSettings(), **settings)
