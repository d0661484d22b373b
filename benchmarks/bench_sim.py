"""Simulator benchmark: one-year replications from 10,240 to 1,048,576 GPUs against bare SimPy.

Each case runs in a fresh child process pinned to one core. The child times `reps`
replications of the scenario, then runs the same number of events in bare SimPy (timeouts
only, 64 processes) in the same process, so the time per node failure is compared with bare
SimPy's time per event measured in one run. Peak memory is the child's maximum resident set
(interpreter and imports included).

Targets (issue 13): at 102,400 GPUs with every new semantic on, time per node failure at most
20x bare SimPy's time per event; the 1,048,576-GPU year at most 10 s per replication scaled to a
machine where bare SimPy runs 0.9 M events/s (limit = 10 s x 0.9 M / this run's bare rate) and
1 GB, its time per node failure at most 1.2x that at 102,400 GPUs; at 10,240 GPUs with the new
semantics off, at most 10 % slower than the code before them (`--against`).

    python benchmarks/bench_sim.py            # print the table
    python benchmarks/bench_sim.py --update   # also rewrite the section in BENCHMARKS.md
    python benchmarks/bench_sim.py --against ../base --rounds 5 [--instructions] [--update]
        # this checkout against another one (say a worktree of the commit before a change):
        # the two run alternately, each case in a fresh pinned child, so both see the same
        # machine; reported as medians and the after/before ratio (section bench_sim_compare).
        # --instructions adds instructions per replication counted by valgrind's callgrind,
        # which no other load on the machine changes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sections import update_section

ROOT = Path(__file__).resolve().parents[1]
TEN_K, HUNDRED_K, SEMANTICS, MILLION = (
    "10,240 GPUs (1,280 nodes)", "102,400 GPUs (12,800 nodes)",
    "102,400 GPUs, every new semantic on", "1,048,576 GPUs (131,072 nodes)")
CASES = {
    TEN_K: "scenarios/h800-10k.yaml",
    HUNDRED_K: "benchmarks/h800-100k.yaml",
    SEMANTICS: "benchmarks/h800-100k-semantics.yaml",
    MILLION: "benchmarks/h800-1m.yaml",
}
# --against: (the scenario the other checkout runs, the one this checkout runs)
COMPARE_CASES = {
    "10,240 GPUs, new semantics off": ("scenarios/h800-10k.yaml", "benchmarks/h800-10k-basic.yaml"),
}
BARE_PROCESSES = 64
PER_FAILURE_TARGET = 20.0  # time per node failure / bare SimPy time per event (SEMANTICS)
MILLION_SECONDS, REFERENCE_BARE_RATE = 10.0, 0.9e6  # 10 s where bare SimPy runs 0.9 M events/s
MILLION_MEMORY_MB = 1024
SCALING_TARGET = 1.2  # MILLION's time per node failure / HUNDRED_K's
REGRESSION_TARGET = 1.10  # COMPARE_CASES: after / before


def bare_simpy_seconds(n_events: int) -> tuple[float, int]:
    """Time `n_events` timeouts in bare SimPy; returns (seconds, events scheduled)."""
    import simpy

    from planner.sim.events import QueueView

    env = simpy.Environment()
    rnd = random.Random(1)
    per_process = max(n_events // BARE_PROCESSES, 1)

    def ticker():
        for _ in range(per_process):
            yield env.timeout(rnd.expovariate(1.0))

    for _ in range(BARE_PROCESSES):
        env.process(ticker())
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start, QueueView(env).scheduled()


def split_replication(setup, replication: int) -> tuple[float, float, int, int]:
    """Run one replication with SimPy's step timed apart from the model's callbacks.

    Returns (callback seconds, run seconds, events processed, node failures). The timer costs
    about 0.15 us per event, so this replication is not the one reported as wall time."""
    from simpy.core import Environment

    from planner.sim.events import QueueView
    from planner.sim.model import GC_YOUNG_THRESHOLD, ClusterModel

    spent = [0.0]
    clock = time.perf_counter
    model = ClusterModel(setup, replication)
    take_next = QueueView(model.env).take_next

    def timed_step(_env):
        event = take_next()
        callbacks, event.callbacks = event.callbacks, None
        start = clock()
        for callback in callbacks:
            callback(event)
        spent[0] += clock() - start
        if not event.ok and not event.defused:
            raise event.value

    original, thresholds = Environment.step, gc.get_threshold()
    Environment.step = timed_step
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])  # as simulate() runs a replication
    try:
        start = clock()
        model.env.run(until=setup.horizon_hours)
        run_s = clock() - start
    finally:
        Environment.step = original
        gc.set_threshold(*thresholds)
    processed = QueueView(model.env).processed()
    failures = sum(p.failures for p in model.pools)
    return spent[0], run_s, processed, failures


def child(scenario: str, reps: int) -> dict:
    """Runs inside the pinned child process."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from planner.scenario.loader import load_scenario
    from planner.sim.model import simulate
    from planner.sim.setup import build_setup

    loaded = load_scenario(ROOT / scenario)
    setup = build_setup(loaded.scenario, loaded.catalog)
    walls, events, failures_each = [], [], []
    for i in range(reps):
        start = time.perf_counter()
        result = simulate(setup, i)
        walls.append(time.perf_counter() - start)
        events.append(result.sim_events)
        failures_each.append(sum(v for k, v in result.metrics.items() if k.startswith("node_failures.")))
    callbacks_s, run_s, processed, failures = split_replication(setup, 0)
    bare_events_target = int(statistics.median(events))
    bare = [bare_simpy_seconds(bare_events_target) for _ in range(3)]
    bare_wall = min(b[0] for b in bare)
    return {
        "walls_s": walls,
        "events": events,
        "failures": failures_each,
        "bare_wall_s": bare_wall,
        "bare_events": bare[0][1],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "split": {"callbacks_s": callbacks_s, "run_s": run_s, "events": processed,
                  "failures": failures},
    }


def run_case(scenario: str, reps: int, root: Path = ROOT) -> dict:
    """One case in a fresh child process of the checkout at `root` (its own copy of this
    script, its own `planner`), pinned to one core."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    script = root / "benchmarks" / Path(__file__).name
    proc = subprocess.run([sys.executable, str(script), "--child", scenario, "--reps", str(reps)],
                          capture_output=True, text=True, cwd=root, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_child(scenario: str, reps: int) -> None:
    """Runs under callgrind: imports, the scenario's setup, then `reps` replications (the
    instruction count of reps=0 is subtracted). Works with a checkout before planner.sim.setup
    existed (build_setup was in planner.sim.model)."""
    from planner.scenario.loader import load_scenario
    from planner.sim.model import simulate

    try:
        from planner.sim.setup import build_setup
    except ImportError:  # an older checkout compared against
        from planner.sim.model import build_setup  # type: ignore[attr-defined,no-redef]

    loaded = load_scenario(scenario)  # relative to the checkout: the child runs in it
    setup = build_setup(loaded.scenario, loaded.catalog)
    # the cyclic collector runs after so many allocations, whatever allocated them (imports
    # included): off, so that the count is the replications' own work
    gc.collect()
    gc.disable()
    for i in range(reps):
        simulate(setup, i)


def instructions(root: Path, scenario: str, reps: int) -> float:
    """Instructions per replication of the checkout at `root` (callgrind, hash seed fixed)."""
    def collected(n: int) -> int:
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                               sys.executable, __file__, "--count", scenario, "--reps", str(n)],
                              capture_output=True, text=True, cwd=root, env=env, check=True)
        return int(proc.stderr.split("Collected :")[1].split()[0])

    return (collected(reps) - collected(0)) / reps


def compare(other: Path, rounds: int, reps: int, count: bool = False) -> str:
    """Median wall per replication of this checkout (after) and `other` (before), measured in
    alternating children, `rounds` times per case; the order flips every round."""
    walls: dict[str, dict[str, list[float]]] = {name: {"before": [], "after": []}
                                                for name in COMPARE_CASES}
    for r in range(rounds):  # rounds = 0: instructions only
        for name, (before_path, after_path) in COMPARE_CASES.items():
            sides = [("before", other, before_path), ("after", ROOT, after_path)]
            for side, root, path in (sides if r % 2 == 0 else sides[::-1]):
                walls[name][side].append(statistics.median(run_case(path, reps, root)["walls_s"]))
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}: this checkout (after) against `{other.name}` (before), "
        f"{rounds} rounds, the two alternating in fresh children pinned to one core, "
        f"{reps} replications per child (a round's figure = the median of its replications).",
        "",
        "| case | before: median wall per replication | after | after / before "
        f"(target <= {REGRESSION_TARGET:g}) | after / before per round (min-max) |",
        "|---|---|---|---|---|",
    ]
    for name, w in walls.items():
        if not rounds:
            break
        before, after = statistics.median(w["before"]), statistics.median(w["after"])
        per_round = [a / b for a, b in zip(w["after"], w["before"], strict=True)]
        ratio = after / before
        lines.append(f"| {name}, 365 days | {before:.4f} s | {after:.4f} s | {ratio:.3f} "
                     f"{'met' if ratio <= REGRESSION_TARGET else 'MISSED'} "
                     f"| {min(per_round):.3f}-{max(per_round):.3f} |")
    if count:
        lines += table_head(
            "Instructions per replication (valgrind callgrind, Python's cyclic collector off; a "
            "run of the replications minus a run of imports and setup alone; load on the machine "
            "does not change them):",
            ["case", "before", "after", "after / before"])
        for name, (before_path, after_path) in COMPARE_CASES.items():
            before_i, after_i = instructions(other, before_path, 3), instructions(ROOT, after_path, 3)
            lines.append(f"| {name}, 365 days | {before_i / 1e6:,.1f} M | {after_i / 1e6:,.1f} M | "
                         f"{after_i / before_i:.3f} |")
    return "\n".join(lines)


def table_head(intro: str, columns: list[str]) -> list[str]:
    """A paragraph, then the head of a Markdown table with `columns`."""
    return ["", intro, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def _per_failure_us(r: dict) -> float:
    """Median over the timed replications of wall / node failures, microseconds."""
    return 1e6 * statistics.median(
        w / f for w, f in zip(r["walls_s"], r["failures"], strict=True))


def table(results: dict[str, dict], reps: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, each case in a child process pinned "
        f"to one core; {reps} replications per case (medians).",
        "",
        "| case | wall per replication | node failures | per node failure | bare SimPy per event "
        "| per failure / bare per event | events per failure | peak memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        wall = statistics.median(r["walls_s"])
        per_failure = _per_failure_us(r)
        bare_us = 1e6 * r["bare_wall_s"] / r["bare_events"]
        ratio = per_failure / bare_us
        verdict = (f" (target <= {PER_FAILURE_TARGET:g}: "
                   f"{'met' if ratio <= PER_FAILURE_TARGET else 'MISSED'})"
                   if name == SEMANTICS else "")
        events_per_failure = statistics.median(
            e / f for e, f in zip(r["events"], r["failures"], strict=True))
        lines.append(
            f"| {name}, 365 days | {wall:.3f} s | {statistics.median(r['failures']):,.0f} "
            f"| {per_failure:.1f} us | {bare_us:.2f} us | {ratio:.1f}{verdict} "
            f"| {events_per_failure:.2f} | {r['peak_mb']:.0f} MB |")
    if MILLION in results and HUNDRED_K in results:
        r = results[MILLION]
        wall = statistics.median(r["walls_s"])
        bare_rate = r["bare_events"] / r["bare_wall_s"]
        limit = MILLION_SECONDS * REFERENCE_BARE_RATE / bare_rate
        scaling = _per_failure_us(r) / _per_failure_us(results[HUNDRED_K])
        lines += table_head(
            "A million GPUs (targets: 10 s per replication where bare SimPy runs 0.9 M events/s, "
            "scaled by this run's bare rate; 1 GB; time per node failure at most 1.2x that at "
            "102,400 GPUs in the same run):",
            ["case", "wall per replication", "limit this run", "peak memory",
             "per node failure / at 102,400 GPUs"])
        lines.append(
            f"| {MILLION}, 365 days | {wall:.2f} s | {limit:.2f} s "
            f"{'met' if wall <= limit else 'MISSED'} | {r['peak_mb']:.0f} MB "
            f"{'met' if r['peak_mb'] <= MILLION_MEMORY_MB else 'MISSED'} | {scaling:.2f} "
            f"{'met' if scaling <= SCALING_TARGET else 'MISSED'} |")
    lines += table_head(
        "Where the time goes (one more replication per case, SimPy's step timed apart from the "
        "model's callbacks; the timer adds about 0.15 us per event):",
        ["case", "events per node failure", "SimPy machinery per event", "model callbacks per event",
         "model callbacks per node failure", "bare SimPy per event"])
    for name, r in results.items():
        sp = r["split"]
        per_event_us = 1e6 * sp["callbacks_s"] / sp["events"]
        machinery_us = 1e6 * (sp["run_s"] - sp["callbacks_s"]) / sp["events"]
        bare_us = 1e6 * r["bare_wall_s"] / r["bare_events"]
        lines.append(
            f"| {name} | {sp['events'] / sp['failures']:.1f} | {machinery_us:.2f} us "
            f"| {per_event_us:.2f} us | {1e6 * sp['callbacks_s'] / sp['failures']:.1f} us "
            f"| {bare_us:.2f} us |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--count", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.reps)))
        return
    if args.count:
        count_child(args.count, args.reps)
        return
    if args.against is not None:
        section = compare(args.against.resolve(), args.rounds, args.reps, args.instructions)
        print(section)
        if args.update:
            update_section("bench_sim_compare", section)
        return
    results = {name: run_case(path, args.reps) for name, path in CASES.items()}
    section = table(results, args.reps)
    print(section)
    if args.update:
        update_section("bench_sim", section)


if __name__ == "__main__":
    main()
