"""The files of a `planner optimize` output folder (tables as Parquet + CSV, one JSON summary)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from planner import __version__
from planner.outputs.atomic import write_json, write_table, write_text
from planner.outputs.layout import TABLE_SUFFIXES, OptimizeFolder
from solvers.optimize import SHADOW_PRICE_CONVENTION, Optimization


def _finite(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None


def write_optimization(opt: Optimization, inputs: pd.DataFrame, folder: Path, scenario_name: str,
                       source: str, pareto: pd.DataFrame | None = None,
                       notes: list[str] | None = None,
                       sensitivity: pd.DataFrame | None = None, loop=None,
                       oos=None) -> dict:
    """plan_*.csv/parquet tables, shadow prices, the optional tables (Pareto front, re-optimized
    limit prices, utilization sensitivity), optimization.json, highs.log."""
    folder.mkdir(parents=True, exist_ok=True)
    r = opt.result
    for name in OptimizeFolder.TABLES:
        table = (opt.shadow_prices if name == OptimizeFolder.SHADOW_PRICES
                 else inputs if name == OptimizeFolder.INPUTS else getattr(r, name))
        write_table(folder, OptimizeFolder.table(name), table)
    optional = {OptimizeFolder.PARETO: pareto, OptimizeFolder.LIMIT_PRICES: opt.limit_prices,
                OptimizeFolder.SENSITIVITY: sensitivity,
                OptimizeFolder.LOOP_ROUNDS: loop.rounds if loop else None,
                OptimizeFolder.LOOP_PLANS: loop.plans if loop else None,
                OptimizeFolder.LOOP_FACTORS: loop.factors if loop else None,
                OptimizeFolder.LOOP_CAPACITY: loop.capacity if loop else None,
                OptimizeFolder.OOS_PATHS: oos.paths if oos else None,
                OptimizeFolder.OOS_REPLICATIONS: oos.replications if oos else None,
                OptimizeFolder.OOS_SUMMARY: oos.summary if oos else None}
    for name, table in optional.items():
        stem = OptimizeFolder.table(name)
        if table is not None:
            write_table(folder, stem, table)
        else:  # a table an earlier run wrote belongs to another plan
            for suffix in TABLE_SUFFIXES:
                (folder / (stem + suffix)).unlink(missing_ok=True)
    write_text(folder / OptimizeFolder.HIGHS_LOG, opt.log)
    info = {k: (_finite(v) if isinstance(v, float) else v) for k, v in opt.value_of_information.items()}
    if info and not info.get("ev_plan_feasible", True):
        info["note"] = ("the expected-value plan is infeasible in at least one scenario: the "
                        "stochastic plan's value (VSS) is unbounded")
    summary = {
        "scenario": scenario_name,
        "source": source,
        "version": __version__,
        **{k: (_finite(v) if isinstance(v, float) else v) for k, v in r.summary.items()},
        "value_of_information": info,
        "analyses": opt.analyses,
        "shadow_price_convention": SHADOW_PRICE_CONVENTION,
        "notes": list(notes or []),
        "timings_s": opt.timings_s,
        "orders_by_vendor_nodes": r.orders.groupby("vendor")["nodes"].sum().to_dict(),
    }
    if loop is not None:
        summary["loop"] = {"rounds": len(loop.rounds), "converged": loop.converged,
                           "capacity_met_share": float(loop.capacity["meets_plan"].mean())}
    write_json(folder / OptimizeFolder.OPTIMIZATION, summary)
    return summary


def remove_plan_files(folder: Path) -> None:
    """Delete optimizer outputs left in `folder` by an earlier run."""
    if not folder.is_dir():
        return
    for path in folder.glob(OptimizeFolder.TABLE_PREFIX + "*"):
        if path.suffix in TABLE_SUFFIXES:
            path.unlink()
    for name in (OptimizeFolder.OPTIMIZATION, OptimizeFolder.HIGHS_LOG):
        (folder / name).unlink(missing_ok=True)
