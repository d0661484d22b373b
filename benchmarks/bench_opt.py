"""Optimizer benchmark: 8 SKUs x 12 quarters x 1, 10, 100, 1,000 scenarios, LP relaxation and MILP,
against HiGHS alone on the same model.

Each case runs in a fresh child process: tables -> Pyomo model -> hand-off to HiGHS -> solve,
with the time of each step and the peak resident memory. The child then writes the very model
HiGHS received to MPS (not timed), and a second fresh child reads that file with highspy and
solves it with the same options: the ratio of the two totals is the cost of our modelling layer.
Both use one thread.

    python benchmarks/bench_opt.py [--sizes 1,10,100,1000] [--update]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import update_section

ROOT = Path(__file__).resolve().parents[1]
LIMITS_S = {"lp": 900.0, "milp": 300.0}
MILP_GAP = 0.01
OPTIONS = {"lp": {"solver": "ipm"}, "milp": {}}  # large stochastic LPs: interior point, both sides


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(n: int, kind: str, mps: str) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from opt_instance import instance

    from solvers.highs import Solver
    from solvers.model import build_model
    from solvers.problem import SolverSettings

    t0 = time.perf_counter()
    inp = instance(n, integer=kind == "milp")
    t1 = time.perf_counter()
    m = build_model(inp)
    t2 = time.perf_counter()
    solver = Solver(SolverSettings(time_limit_s=LIMITS_S[kind], threads=1,
                                   mip_rel_gap=MILP_GAP if kind == "milp" else None,
                                   options=dict(OPTIONS[kind])))
    out = solver.solve(m)
    t3 = time.perf_counter()
    peak = _peak_mb()
    solver.highs._solver_model.writeModel(mps)
    rows = solver.highs._solver_model.getNumRow()
    cols = solver.highs._solver_model.getNumCol()
    return {"tables_s": t1 - t0, "build_s": t2 - t1, "handoff_s": out.solve_seconds - out.highs_seconds,
            "solve_s": out.highs_seconds, "total_s": t3 - t1, "status": out.status, "gap": out.gap,
            "objective": out.objective, "peak_mb": peak, "rows": rows, "cols": cols}


def alone(mps: str, kind: str) -> dict:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", LIMITS_S[kind])
    if kind == "milp":
        h.setOptionValue("mip_rel_gap", MILP_GAP)
    for name, value in OPTIONS[kind].items():
        h.setOptionValue(name, value)
    t0 = time.perf_counter()
    h.readModel(mps)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    info = h.getInfo()
    return {"read_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0,
            "status": h.modelStatusToString(h.getModelStatus()),
            "objective": info.objective_function_value, "peak_mb": _peak_mb()}


def _child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, one HiGHS thread; each side in a fresh process. `ours` = "
        "Pyomo build + hand-off + HiGHS solve (tables from the planner not counted, shown apart); "
        "`HiGHS alone` = read the same model from MPS + solve. Time limits: LP "
        f"{LIMITS_S['lp']:.0f} s, MILP {LIMITS_S['milp']:.0f} s (gap {MILP_GAP:.0%}); LPs by "
        "interior point on both sides.",
        "",
        "| scenarios | kind | rows x cols | tables | build | hand-off | solve | ours total | status (gap) "
        "| HiGHS alone: read + solve | time ratio | peak MB ours / alone | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        o, a = r["ours"], r["alone"]
        gap = f" ({o['gap']:.2%})" if o.get("gap") is not None and r["kind"] == "milp" else ""
        lines.append(
            f"| {r['n']:,} | {r['kind'].upper()} | {o['rows']:,} x {o['cols']:,} | {o['tables_s']:.1f} s "
            f"| {o['build_s']:.1f} s | {o['handoff_s']:.1f} s | {o['solve_s']:.1f} s | {o['total_s']:.1f} s "
            f"| {o['status']}{gap} | {a['read_s']:.1f} + {a['solve_s']:.1f} = {a['total_s']:.1f} s "
            f"| {o['total_s'] / a['total_s']:.2f} | {o['peak_mb']:.0f} / {a['peak_mb']:.0f} "
            f"| {o['peak_mb'] / a['peak_mb']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", nargs=3)
    parser.add_argument("--alone", nargs=2)
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--kinds", default="lp,milp")
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    if args.ours:
        n, kind, mps = args.ours
        print(json.dumps(ours(int(n), kind, mps)))
        return
    if args.alone:
        print(json.dumps(alone(*args.alone)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            for kind in args.kinds.split(","):
                mps = os.path.join(tmp, f"m{n}{kind}.mps")
                o = _child("--ours", str(n), kind, mps)
                a = _child("--alone", mps, kind)
                rows.append({"n": n, "kind": kind, "ours": o, "alone": a})
                print(json.dumps(rows[-1]), flush=True)
    section = table(rows)
    print(section)
    if args.update:
        update_section("bench_opt", section)


if __name__ == "__main__":
    main()
