"""What one study case runs, in a worker process: plain data in, plain data out."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from planner.metrics import (
    PLAN_ORDERED_NODES,
    PLAN_ORDERED_PFLOPS,
    PLAN_PREFIX,
    PLAN_SHARE,
    PLAN_STOCKPILE_UNITS,
    PLAN_SUMMARY_METRICS,
)


def _keep(metric: str, wanted: list[str]) -> bool:
    return not wanted or any(metric == w or metric.startswith(w + ".") for w in wanted)


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _plan_metrics(opt) -> dict[str, float | None]:
    """A case's plan metrics (planner.metrics.PLAN_METRICS) from the optimizer's result."""
    r = opt.result
    out = {}
    for metric in PLAN_SUMMARY_METRICS:
        value = _finite(r.summary.get(metric.name.removeprefix(PLAN_PREFIX)))
        if value is not None:
            out[metric.flat()] = value
    pflops = r.orders.groupby("vendor")["effective_pflops"].sum()
    total = float(pflops.sum())
    for vendor, value in pflops.items():
        out[PLAN_ORDERED_PFLOPS.flat(str(vendor))] = float(value)
        out[PLAN_SHARE.flat(str(vendor))] = float(value) / total if total > 0 else 0.0
    out[PLAN_STOCKPILE_UNITS.flat()] = float(r.stockpile["units"].sum())
    out[PLAN_ORDERED_NODES.flat()] = float(r.orders["nodes"].sum())
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
    from planner import pipeline

    sets = [*p["overrides"], f"seed={p['seed']}", f"simulation.replications={p['replications']}"]
    if p.get("adaptive"):
        sets.append("simulation.adaptive=" + json.dumps(p["adaptive"]))
    loaded = pipeline.load_text(p["base_text"], p["base_source"], sets,
                                [tuple(f) for f in p.get("fragments", [])])
    wanted = p["metrics"]
    optimize_first = p["command"] in ("optimize", "both")
    result = pipeline.run(
        loaded, optimize_first=optimize_first, simulate_after=p["command"] != "optimize",
        settings=pipeline.solver_settings(loaded, threads=1) if optimize_first else None,
        analyses=pipeline.NO_ANALYSES, workers=1)
    plan_metrics: dict[str, float | None] = {}
    if result.plan is not None:
        plan_metrics = {k: v for k, v in _plan_metrics(result.plan.optimization).items()
                        if _keep(k, wanted)}
    if result.simulation is None:
        return {"0": plan_metrics}
    rows = {}
    for r in result.simulation.results:
        row = {k: _finite(v) for k, v in r.metrics.items() if _keep(k, wanted)}
        row.update(plan_metrics)
        rows[str(r.replication)] = row
    return rows
