"""The command line as a user feels it: whole processes, start-up and reports included.

The floor is what any Python CLI of this stack costs: `python -c "import planner"` and a Typer
app that does nothing. Targets (issue 16): `planner --help` within the floor + 0.3 s; `planner
run scenarios/h800-10k.yaml -r 1` (reports included) within the floor + 1.5 s. Also the floor
of the libraries such a run must import (STACK_IMPORTS) and the run's time beyond it (what the
command itself costs on top of its libraries: no target). The run is timed with its figures
drawn in the second process (planner/reports/drawing.py) and in the command's own
(PLANNER_DRAW_IN_PROCESS=1), with the CPU time both take. Medians of `--runs` runs; the
phases of one run come from its -v log.

    python benchmarks/bench_cli.py [--runs 5] [--update]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import update_section

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "h800-10k.yaml"
NOOP_APP = """
import typer
import planner
app = typer.Typer()
@app.command()
def main() -> None:
    pass
app()
"""
# The libraries a run with reports cannot avoid importing: the stack's own floor for that command
# (issue 16's floor was measured when `import planner` imported most of them, near 0.85 s;
# making that import lazy lowered the floor without making a run any cheaper).
STACK_IMPORTS = ("numpy, pandas, pyarrow.parquet, pydantic, simpy, yaml, typer, rich.progress, "
                 "matplotlib.figure, matplotlib.backends.backend_agg, xlsxwriter")
HELP_MARGIN_S, RUN_MARGIN_S = 0.3, 1.5


def timed(args: list[str], runs: int, env: dict[str, str] | None = None
          ) -> tuple[float, float, float, str, float]:
    """(median, min, max) seconds of the whole process, the last run's stderr, and the median
    CPU seconds (user + system) of the process and its children."""
    times, cpus, stderr = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True,
                              env=None if env is None else {**os.environ, **env})
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        stderr = done.stderr
    return statistics.median(times), min(times), max(times), stderr, statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    # the console script a user runs (`python -m planner.cli` would compile cli.py afresh on
    # every start: a module run as __main__ keeps no bytecode)
    script = Path(sys.executable).with_name("planner")
    planner = [str(script)] if script.exists() else [sys.executable, "-m", "planner.cli"]
    # bytecode written first, as `pip install` does (an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "planner", "solvers"], cwd=ROOT,
                   check=True)
    with tempfile.TemporaryDirectory() as tmp:
        noop = Path(tmp) / "noop.py"
        noop.write_text(NOOP_APP)
        imported = timed([sys.executable, "-c", "import planner"], args.runs)
        floor = timed([sys.executable, str(noop)], args.runs)
        # with the exit planner's console script has (planner.cli.main: gc.freeze at exit), so
        # that the difference is the run's own work, not Python's shutdown of these libraries
        stack = timed([sys.executable, "-c", f"import atexit, gc; atexit.register(gc.freeze); "
                       f"import {STACK_IMPORTS}"], args.runs)
        helped = timed([*planner, "--help"], args.runs)
        run_args = [*planner, "-v", "run", str(EXAMPLE), "-r", "1", "--out",
                    str(Path(tmp) / "run"), "-q"]
        ran = timed(run_args, args.runs)
        alone = timed(run_args, args.runs, env={"PLANNER_DRAW_IN_PROCESS": "1"})
    phases = {name: found.group(1) for name, pattern in (
        ("loaded", r"planner: loaded .* in ([\d.]+) s"),
        ("simulated", r"planner: simulated .* in ([\d.]+) s"),
        ("reports written", r"planner: reports written in ([\d.]+) s"))
        if (found := re.search(pattern, ran[3]))}
    help_ok = helped[0] <= floor[0] + HELP_MARGIN_S
    run_ok = ran[0] <= floor[0] + RUN_MARGIN_S
    section = (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, whole processes, median of {args.runs} runs "
        f"(min-max).\n\n"
        f"- Floor: `python -c \"import planner\"` {imported[0]:.2f} s ({imported[1]:.2f}-"
        f"{imported[2]:.2f}); a Typer app that does nothing, importing planner: "
        f"{floor[0]:.2f} s ({floor[1]:.2f}-{floor[2]:.2f}).\n"
        f"- `planner --help`: {helped[0]:.2f} s ({helped[1]:.2f}-{helped[2]:.2f}); target floor "
        f"+ {HELP_MARGIN_S} s = {floor[0] + HELP_MARGIN_S:.2f} s: "
        f"{'met' if help_ok else 'MISSED'}.\n"
        f"- `planner run scenarios/h800-10k.yaml -r 1`, reports included: {ran[0]:.2f} s "
        f"({ran[1]:.2f}-{ran[2]:.2f}); target floor + {RUN_MARGIN_S} s = "
        f"{floor[0] + RUN_MARGIN_S:.2f} s: {'met' if run_ok else 'MISSED'}. Phases of the last "
        f"run (-v): load {phases.get('loaded', '?')} s, simulate {phases.get('simulated', '?')} "
        f"s, reports {phases.get('reports written', '?')} s; the rest is start-up and imports. "
        f"CPU {ran[4]:.2f} s. The figures drawn in the command's process instead "
        f"(PLANNER_DRAW_IN_PROCESS=1): {alone[0]:.2f} s ({alone[1]:.2f}-{alone[2]:.2f}), CPU "
        f"{alone[4]:.2f} s; with the second process the run takes {ran[0] / alone[0]:.2f}x "
        f"the time.\n"
        f"- The stack's floor for a run with reports, `python -c \"import {STACK_IMPORTS}\"` "
        f"(exiting as planner does, gc.freeze at exit): "
        f"{stack[0]:.2f} s ({stack[1]:.2f}-{stack[2]:.2f}); the run takes {ran[0] - stack[0]:.2f} "
        f"s beyond it.")
    print(section)
    if args.update:
        update_section("bench_cli", section)


if __name__ == "__main__":
    main()
