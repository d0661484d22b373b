"""How the plan moves with each SKU's model-FLOPs utilization: the plan re-solved with one SKU's
utilization at the low, then the high end of its range (the catalog's, or a range the
scenario's catalog section sets), every other figure central (`planner optimize --sensitivity
utilization`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from planner.procurement import build_input, utilization
from planner.scenario.loader import LoadedScenario
from solvers.optimize import Infeasible, NoPlanInTime, SolverFailed, optimize
from solvers.problem import SolverSettings

BASE = "base"
FIXED_BY_SCENARIO = "procurement.utilization sets one value: no range"


def utilization_ranges(loaded: LoadedScenario) -> dict[str, tuple[float, float, float] | None]:
    """SKU -> (low, central, high) utilization of the scenario's workload, for every SKU the
    optimizer sees (installed, candidates, the rental SKU); None where the scenario fixed it."""
    scenario, catalog = loaded.scenario, loaded.catalog
    proc = scenario.procurement
    skus = [p.sku for p in scenario.cluster.pools] + [c.sku for c in proc.candidates]
    out: dict[str, tuple[float, float, float] | None] = {}
    for sku in dict.fromkeys([*skus, proc.rental.gpu_sku]):
        if sku in proc.utilization:
            out[sku] = None
            continue
        figure = catalog.skus[sku].mfu[proc.workload]
        out[sku] = (figure.low, figure.value, figure.high)
    return out


def _with_utilization(loaded: LoadedScenario, sku: str, value: float) -> LoadedScenario:
    proc = loaded.scenario.procurement
    changed = proc.model_copy(update={"utilization": {**proc.utilization, sku: value}})
    return replace(loaded, scenario=loaded.scenario.model_copy(update={"procurement": changed}))


def _solve(loaded: LoadedScenario, settings: SolverSettings) -> dict:
    """Status, objective, expected cost and first-stage nodes per SKU of one re-solve."""
    try:
        opt = optimize(build_input(loaded.scenario, loaded.catalog), settings, analyses="none")
    except (Infeasible, NoPlanInTime, SolverFailed) as e:
        return {"status": f"no plan: {e}"}
    r = opt.result
    nodes = r.buy.groupby("sku")["nodes"].sum() if len(r.buy) else pd.Series(dtype=float)
    return {"status": r.status, "objective_usd": r.objective,
            "expected_cost_usd": r.summary["expected_cost_usd"],
            "nodes": {str(k): float(v) for k, v in nodes.items()}}


def _change(base: dict[str, float], nodes: dict[str, float]) -> str:
    """The first-stage nodes that differ from the base plan, in words."""
    moves = [f"{sku} {base.get(sku, 0):,.0f} -> {nodes.get(sku, 0):,.0f}"
             for sku in sorted(set(base) | set(nodes)) if base.get(sku, 0) != nodes.get(sku, 0)]
    return "; ".join(moves) if moves else "same first-stage orders"


def utilization_sensitivity(loaded: LoadedScenario, settings: SolverSettings) -> pd.DataFrame:
    """One row for the base plan, then two per SKU with a range (low, high) and one noting a
    SKU whose utilization the scenario fixed: utilization, status, objective, expected cost,
    first-stage nodes by SKU, and what changed against the base plan."""
    ranges = utilization_ranges(loaded)
    proc = loaded.scenario.procurement
    base = _solve(loaded, settings)
    base_nodes = base.get("nodes", {})
    rows = [{"sku": "", "level": BASE, "utilization": None, **base, "change": ""}]
    for sku, bounds in ranges.items():
        if bounds is None:
            rows.append({"sku": sku, "level": "fixed", "status": "",
                         "utilization": utilization(loaded.catalog, sku, proc)[0],
                         "change": FIXED_BY_SCENARIO})
            continue
        low, central, high = bounds
        for level, value in (("low", low), ("high", high)):
            if value == central:
                continue
            out = _solve(_with_utilization(loaded, sku, value), settings)
            rows.append({"sku": sku, "level": level, "utilization": value, **out,
                         "change": _change(base_nodes, out["nodes"]) if "nodes" in out else ""})
    skus = sorted({k for row in rows for k in row.get("nodes", {})})
    table = []
    for row in rows:
        solved = "nodes" in row
        nodes = row.pop("nodes", {})
        table.append({**row, **{f"nodes_{k}": nodes.get(k, 0.0) if solved else None
                                for k in skus}})
    columns = ["sku", "level", "utilization", "status", "objective_usd", "expected_cost_usd",
               "change", *[f"nodes_{k}" for k in skus]]
    return pd.DataFrame(table).reindex(columns=columns)
