"""What one study case runs, in a worker process: plain data in, plain data out."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any


def _keep(metric: str, wanted: list[str]) -> bool:
    return not wanted or any(metric == w or metric.startswith(w + ".") for w in wanted)


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _optimizer_metrics(opt) -> dict[str, float | None]:
    r = opt.result
    out = {f"plan.{k}": _finite(v) for k, v in r.summary.items() if _finite(v) is not None}
    pflops = r.orders.groupby("vendor")["effective_pflops"].sum()
    total = float(pflops.sum())
    for vendor, value in pflops.items():
        out[f"plan.ordered_pflops.{vendor}"] = float(value)
        out[f"plan.share.{vendor}"] = float(value) / total if total > 0 else 0.0
    out["plan.stockpile_units"] = float(r.stockpile["units"].sum())
    out["plan.ordered_nodes"] = float(r.orders["nodes"].sum())
    return out


def run_case(payload: dict) -> dict:
    """Run one case; never raises: a failure comes back as {'error': one line}."""
    start = time.perf_counter()
    try:
        rows = _run(payload)
        return {"metrics": rows, "error": None, "elapsed_s": time.perf_counter() - start}
    except Exception as err:  # noqa: BLE001 - a failing case is data, not a crash
        text = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return {"metrics": {}, "error": f"{type(err).__name__}: {text}",
                "elapsed_s": time.perf_counter() - start}


def _run(p: dict) -> dict[str, dict[str, float | None]]:
    from planner.scenario.loader import load_scenario_text

    sets = [*p["overrides"], f"seed={p['seed']}", f"simulation.replications={p['replications']}"]
    if p.get("adaptive"):
        import json

        sets.append("simulation.adaptive=" + json.dumps(p["adaptive"]))
    loaded = load_scenario_text(p["base_text"], p["base_source"], sets)
    wanted = p["metrics"]
    plan_metrics: dict[str, float | None] = {}
    if p["command"] in ("optimize", "both"):
        from planner.bridge import apply_plan
        from planner.procurement import build_input
        from solvers.highs import load_profile, merge
        from solvers.optimize import optimize
        from solvers.problem import SolverSettings

        proc = loaded.scenario.procurement
        if proc is None:
            raise ValueError("the case's scenario has no procurement section")
        settings = merge(load_profile(proc.solver.profile), SolverSettings(
            time_limit_s=proc.solver.time_limit_s, mip_rel_gap=proc.solver.mip_rel_gap, threads=1))
        opt = optimize(build_input(loaded.scenario, loaded.catalog), settings, analyses=False)
        plan_metrics = {k: v for k, v in _optimizer_metrics(opt).items() if _keep(k, wanted)}
        if p["command"] == "optimize":
            return {"0": plan_metrics}
        loaded = replace(loaded, scenario=apply_plan(loaded.scenario, opt.result.orders,
                                                     opt.result.stockpile))
    from planner.montecarlo import run_monte_carlo

    mc = run_monte_carlo(loaded, workers=1)
    rows = {}
    for r in mc.results:
        row = {k: _finite(v) for k, v in r.metrics.items() if _keep(k, wanted)}
        row.update(plan_metrics)
        rows[str(r.replication)] = row
    return rows
