"""The sanction scenario generator (issue 15): sample 2,000 paths of the example's events and
build a 200-leaf tree, in a fresh process (imports and the policy-event library included);
target under 30 s. Also the example's own tree (30 leaves) and `planner optimize` on it.

    python benchmarks/bench_sanctions.py [--runs 3] [--update]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import update_section

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "sanctions-2027.yaml"
TARGET_S = 30.0
OOS_PATHS = 10_000
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from planner.scenario.loader import load_scenario
from planner.sanctions.scenarios import sanction_tree
loaded = load_scenario(sys.argv[1], sets=(f"sanctions.paths={sys.argv[2]}",
                                           f"sanctions.leaves={sys.argv[3]}"))
t1 = time.perf_counter()
made = sanction_tree(loaded.scenario)
t2 = time.perf_counter()
tree = made.tree
print(json.dumps({"load_s": t1 - t0, "tree_s": t2 - t1, "total_s": t2 - t0,
                  "distinct": tree.distinct_paths, "nodes": list(tree.nodes_per_stage),
                  "distance": tree.distance, "relative": tree.relative_distance}))
"""


ROLLING_PATHS = 1_000  # the rolling-horizon policy's default


def tree_case(paths: int, leaves: int) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(EXAMPLE), str(paths), str(leaves)],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    out = json.loads(proc.stdout)
    out["wall_s"] = time.perf_counter() - start
    return out


LOOP_CHILD = """
import json, os, sys, time
from planner import pipeline
from planner.bridge import loop
from planner.bridge.availability import run_replications
from planner.sim.setup import build_setup
if __name__ == "__main__":
    loaded = pipeline.load(sys.argv[1])
    settings = pipeline.solver_settings(loaded)
    pipeline.optimize_in_loop(loaded, settings, pipeline.NO_ANALYSES, rounds=1)  # warm caches
    t0 = time.perf_counter()
    plan = pipeline.optimize_in_loop(loaded, settings, pipeline.NO_ANALYSES, rounds=1)
    t1 = time.perf_counter()
    alone = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES)
    t2 = time.perf_counter()
    inp, result = alone.problem, alone.optimization.result
    tasks = []
    for name in inp.scenario_labels:  # every scenario's replications on one process pool
        setup = build_setup(loop.scenario_in(loaded, inp, result, name), loaded.catalog)
        tasks += [(setup, i) for i in range(loop.LOOP_REPLICATIONS)]
    run_replications(tasks, None)
    t3 = time.perf_counter()
    print(json.dumps({"round_s": t1 - t0, "optimize_s": t2 - t1, "simulate_s": t3 - t2,
                      "scenarios": len(inp.scenario_labels)}))
"""


def loop_case() -> dict:
    """One closed-loop round against its parts run on their own: one optimize, then the plan's
    replications in every scenario on one process pool (what a round cannot do without)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop_child.py"  # a file: the spawned workers import __main__
        script.write_text(LOOP_CHILD)
        proc = subprocess.run([sys.executable, str(script), str(EXAMPLE)], cwd=ROOT, check=True,
                              capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


OOS_CHILD = """
import json, sys, time
from planner import pipeline
from planner.sanctions.evaluate import out_of_sample
if __name__ == "__main__":
    loaded = pipeline.load(sys.argv[1])
    settings = pipeline.solver_settings(loaded)
    result = pipeline.optimize(loaded, settings, pipeline.NO_ANALYSES).optimization.result
    t0 = time.perf_counter()
    oos = out_of_sample(loaded, result, settings, int(sys.argv[2]), 0.0, workers=int(sys.argv[3]),
                        rolling_paths=int(sys.argv[4]), replications=int(sys.argv[5]))
    print(json.dumps({"seconds": time.perf_counter() - t0, "distinct": len(oos.paths)}))
"""


def oos_case(paths: int, workers: int, rolling: int = 0, replications: int = 5) -> dict:
    """The out-of-sample evaluation alone (after the plan's solve), on `workers` processes:
    `paths` with hindsight, `rolling` with the rolling horizon, `replications` MMW trees."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "oos_child.py"
        script.write_text(OOS_CHILD)
        proc = subprocess.run([sys.executable, str(script), str(EXAMPLE), str(paths),
                               str(workers), str(rolling), str(replications)], cwd=ROOT,
                              check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def optimize_case() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "planner.cli", "optimize", str(EXAMPLE), "--out",
                        str(Path(tmp) / "o"), "-q"], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    big = [tree_case(2000, 200) for _ in range(args.runs)]
    wall = statistics.median(b["wall_s"] for b in big)
    b = big[0]
    small = tree_case(2000, 30)
    opt = optimize_case()
    lp = loop_case()
    parts = lp["optimize_s"] + lp["simulate_s"]
    serial, parallel = oos_case(OOS_PATHS, 1), oos_case(OOS_PATHS, 2)
    efficiency = serial["seconds"] / (2 * parallel["seconds"])
    # the rolling horizon alone (one hindsight path, no trees): quarter by quarter, so its
    # parallelism is limited by the few histories of the first quarters
    roll1, roll2 = (oos_case(1, w, ROLLING_PATHS, 0) for w in (1, 2))
    section = (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, whole process, median of {args.runs} runs.\n\n"
        f"- 2,000 paths of `scenarios/sanctions-2027.yaml`'s events, 200-leaf tree: {wall:.2f} s "
        f"(target < {TARGET_S:g} s: {'met' if wall < TARGET_S else 'MISSED'}); of which loading "
        f"{b['load_s']:.2f} s and sampling + tree {b['tree_s']:.2f} s. {b['distinct']:,} distinct "
        f"paths; nodes per quarter {' '.join(map(str, b['nodes']))}; distance "
        f"{b['distance']:.2f} ({b['relative']:.0%} of a one-leaf tree's).\n"
        f"- The example's 30-leaf tree: {small['wall_s']:.2f} s; nodes per quarter "
        f"{' '.join(map(str, small['nodes']))}; distance {small['distance']:.2f} "
        f"({small['relative']:.0%}).\n"
        f"- `planner optimize scenarios/sanctions-2027.yaml -q` (tree, plan, prices, reports): "
        f"{opt:.1f} s (target < 180 s: {'met' if opt < 180 else 'MISSED'}).\n"
        f"- One closed-loop round on the example, caches warm: {lp['round_s']:.1f} s, against "
        f"one optimize ({lp['optimize_s']:.1f} s) plus the plan simulated in each of its "
        f"{lp['scenarios']} scenarios x 4 replications on one process pool "
        f"({lp['simulate_s']:.1f} s): "
        f"{lp['round_s'] / parts:.2f}x (target <= 1.5: "
        f"{'met' if lp['round_s'] <= 1.5 * parts else 'MISSED'}).\n"
        f"- The out-of-sample evaluation of {OOS_PATHS:,} fresh paths ({serial['distinct']:,} "
        f"distinct) and 5 lower-bound trees: {serial['seconds']:.1f} s on 1 worker, "
        f"{parallel['seconds']:.1f} s on 2: parallel efficiency {efficiency:.2f} (target >= "
        f"0.85: {'met' if efficiency >= 0.85 else 'MISSED'}).\n"
        f"- The rolling-horizon policy on {ROLLING_PATHS:,} fresh paths ({roll1['distinct'] - 1:,} "
        f"distinct; one persistent model per tree node and task, one solve per history): "
        f"{roll1['seconds']:.1f} s "
        f"on 1 worker, {roll2['seconds']:.1f} s on 2 (efficiency "
        f"{roll1['seconds'] / (2 * roll2['seconds']):.2f}; no target).")
    print(section)
    if args.update:
        update_section("bench_sanctions", section)


if __name__ == "__main__":
    main()
