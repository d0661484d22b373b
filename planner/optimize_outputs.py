"""The files of a `planner optimize` output folder (tables as Parquet + CSV, one JSON summary)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from planner import __version__
from planner.outputs import write_json, write_table, write_text
from solvers.optimize import Optimization

TABLES = ("orders", "recourse", "stockpile", "platforms", "fleet", "capacity", "costs")


def _finite(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None


def write_optimization(opt: Optimization, folder: Path, scenario_name: str, source: str,
                       pareto: pd.DataFrame | None = None) -> dict:
    """plan_*.csv/parquet tables, shadow prices, Pareto front, optimization.json, highs.log."""
    folder.mkdir(parents=True, exist_ok=True)
    r = opt.result
    for name in TABLES:
        write_table(folder, f"plan_{name}", getattr(r, name))
    write_table(folder, "plan_shadow_prices", opt.shadow_prices)
    if pareto is not None:
        write_table(folder, "plan_pareto", pareto)
    else:  # a front traced by an earlier run belongs to another plan
        for suffix in (".csv", ".parquet"):
            (folder / f"plan_pareto{suffix}").unlink(missing_ok=True)
    write_text(folder / "highs.log", opt.log)
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
        "timings_s": opt.timings_s,
        "orders_by_vendor_nodes": r.orders.groupby("vendor")["nodes"].sum().to_dict(),
    }
    write_json(folder / "optimization.json", summary)
    return summary


def remove_plan_files(folder: Path) -> None:
    """Delete optimizer outputs left in `folder` by an earlier run."""
    if not folder.is_dir():
        return
    for path in folder.glob("plan_*"):
        if path.suffix in (".csv", ".parquet"):
            path.unlink()
    for name in ("optimization.json", "highs.log"):
        (folder / name).unlink(missing_ok=True)
