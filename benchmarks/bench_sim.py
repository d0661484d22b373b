"""Simulator benchmark: one-year replications at 10,240 and 102,400 GPUs against bare SimPy.

Each case runs in a fresh child process pinned to one core. The child times `reps`
replications of the scenario, then runs the same number of events in bare SimPy (timeouts
only, 64 processes) in the same process, so the events-per-second ratio is measured in one run.
Peak memory is the child's maximum resident set (interpreter and imports included).

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
CASES = {
    "10,240 GPUs (1,280 nodes)": ("scenarios/h800-10k.yaml", 0.5),
    "102,400 GPUs (12,800 nodes)": ("benchmarks/h800-100k.yaml", 5.0),
}
BARE_PROCESSES = 64
MEMORY_TARGET_MB = 500
RATIO_TARGET = 0.5


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


def event_chain_seconds(failures: int) -> tuple[float, int]:
    """Time the model's chain of events per node failure with callbacks that do nothing but
    schedule the next ones: candidate failure -> urgent job interruption (-> end of restart)
    and end of diagnosis (-> end of repair). Returns (seconds, events processed).

    This is the ceiling of the ratio for the model's event structure: what is left of the
    budget per failure at ratio 0.5 is what the modelling itself may cost."""
    import simpy

    from planner.sim.events import After, QueueView, Urgent

    env = simpy.Environment()
    rnd = random.Random(1)
    gaps_hours = [rnd.expovariate(1.0) for _ in range(failures)]
    restart_hours, diagnosis_hours, repair_hours = 0.25, 0.5, 0.5

    def nothing(_event) -> None:
        pass

    def interrupted(_event) -> None:
        After(env, restart_hours, nothing)

    def diagnosed(_event) -> None:
        After(env, repair_hours, nothing)

    def candidate(_event) -> None:
        Urgent(env, interrupted)
        After(env, diagnosis_hours, diagnosed)
        if gaps_hours:
            After(env, gaps_hours.pop(), candidate)

    After(env, 0.0, candidate)
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start, QueueView(env).scheduled()


def split_replication(setup, replication: int) -> tuple[float, float, int, int]:
    """Run one replication with SimPy's step timed apart from the model's callbacks.

    Returns (callback seconds, run seconds, events processed, node failures). The timer costs
    about 0.15 us per event, so this replication is not the one reported as wall time."""
    from simpy.core import Environment

    from planner.sim.events import QueueView
    from planner.sim.model import ClusterModel

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

    original = Environment.step
    Environment.step = timed_step
    try:
        start = clock()
        model.env.run(until=setup.horizon_hours)
        run_s = clock() - start
    finally:
        Environment.step = original
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
    chain = min(event_chain_seconds(failures) for _ in range(3))
    return {
        "chain_s": chain[0],
        "chain_events": chain[1],
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
                                                for name in CASES}
    for r in range(rounds):  # rounds = 0: instructions only
        for name, (path, _) in CASES.items():
            sides = [("before", other), ("after", ROOT)]
            for side, root in (sides if r % 2 == 0 else sides[::-1]):
                walls[name][side].append(statistics.median(run_case(path, reps, root)["walls_s"]))
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}: this checkout (after) against `{other.name}` (before), "
        f"{rounds} rounds, the two alternating in fresh children pinned to one core, "
        f"{reps} replications per child (a round's figure = the median of its replications).",
        "",
        "| case | before: median wall per replication | after | after / before | "
        "after / before per round (min-max) |",
        "|---|---|---|---|---|",
    ]
    for name, w in walls.items():
        if not rounds:
            break
        before, after = statistics.median(w["before"]), statistics.median(w["after"])
        per_round = [a / b for a, b in zip(w["after"], w["before"], strict=True)]
        lines.append(f"| {name}, 365 days | {before:.4f} s | {after:.4f} s | {after / before:.3f} "
                     f"| {min(per_round):.3f}-{max(per_round):.3f} |")
    if count:
        lines += table_head(
            "Instructions per replication (valgrind callgrind, Python's cyclic collector off; a "
            "run of the replications minus a run of imports and setup alone; load on the machine "
            "does not change them):",
            ["case", "before", "after", "after / before"])
        for name, (path, _) in CASES.items():
            n = 3 if "10,240" in name else 1
            before_i, after_i = instructions(other, path, n), instructions(ROOT, path, n)
            lines.append(f"| {name}, 365 days | {before_i / 1e6:,.1f} M | {after_i / 1e6:,.1f} M | "
                         f"{after_i / before_i:.3f} |")
    return "\n".join(lines)


def table_head(intro: str, columns: list[str]) -> list[str]:
    """A paragraph, then the head of a Markdown table with `columns`."""
    return ["", intro, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def table(results: dict[str, dict], reps: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, each case in a child process pinned "
        f"to one core; {reps} replications per case (wall = median, events = median).",
        "",
        "| case | wall per replication | target | events | model events/s | bare SimPy events/s "
        "| ratio (target >= 0.5) | peak memory (target < 500 MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        wall = statistics.median(r["walls_s"])
        events = statistics.median(r["events"])
        model_rate = events / wall
        bare_rate = r["bare_events"] / r["bare_wall_s"]
        ratio = model_rate / bare_rate
        target = CASES[name][1]
        lines.append(
            f"| {name}, 365 days | {wall:.3f} s | < {target:g} s {'met' if wall < target else 'MISSED'} "
            f"| {events:,.0f} | {model_rate:,.0f} | {bare_rate:,.0f} | {ratio:.2f} "
            f"{'met' if ratio >= RATIO_TARGET else 'MISSED'} | {r['peak_mb']:.0f} MB "
            f"{'met' if r['peak_mb'] < MEMORY_TARGET_MB else 'MISSED'} |")
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
    lines += table_head(
        "The ratio's ceiling for this event structure (same run): the model's chain of events per "
        "node failure (candidate, interruption, end of restart, end of diagnosis, end of repair) "
        "with callbacks that only schedule the next events, scaled to the model's events per "
        "failure, and what is left per failure for the modelling itself if the ratio is to "
        "reach 0.5 (medians over the timed replications):",
        ["case", "events per node failure", "event chain alone per event", "its ratio to bare SimPy",
         "event chain alone per failure", "modelling budget per failure at ratio 0.5",
         "model per failure: modelling + events"])
    for name, r in results.items():
        sp = r["split"]
        bare_us = 1e6 * r["bare_wall_s"] / r["bare_events"]
        chain_us = 1e6 * r["chain_s"] / r["chain_events"]
        events_per_failure = statistics.median(
            e / f for e, f in zip(r["events"], r["failures"], strict=True))
        chain_per_failure_us = chain_us * events_per_failure
        budget_us = 2.0 * bare_us * events_per_failure - chain_per_failure_us
        wall_per_failure_us = 1e6 * statistics.median(
            w / f for w, f in zip(r["walls_s"], r["failures"], strict=True))
        lines.append(
            f"| {name} | {events_per_failure:.2f} | {chain_us:.2f} us | {bare_us / chain_us:.2f} "
            f"| {chain_per_failure_us:.1f} us "
            f"| {budget_us:.1f} us | {wall_per_failure_us - chain_per_failure_us:.1f} us "
            f"+ {chain_per_failure_us:.1f} us |")
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
    results = {name: run_case(path, args.reps) for name, (path, _) in CASES.items()}
    section = table(results, args.reps)
    print(section)
    if args.update:
        update_section("bench_sim", section)


if __name__ == "__main__":
    main()
