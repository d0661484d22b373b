"""`planner calibrate` on the StepFun trace as a user runs it: the whole process, imports, the
bootstrap of the lemon mixture and the censored fits included (issue 14: under 10 s).

    python benchmarks/bench_calibrate.py [--runs 5] [--update]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sections import update_section

ROOT = Path(__file__).resolve().parents[1]
TRACE = ROOT / "data" / "stepfun-fault-trace" / "fault_trace.json"
TARGET_S = 10.0


def run_once(out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planner.cli", "calibrate", str(TRACE), "--nodes", "400",
                    "--days", "348", "--format", "stepfun", "--out", str(out), "-q"],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        walls = [run_once(Path(tmp) / f"c{i}") for i in range(args.runs)]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import planner.cli"], cwd=ROOT, check=True)
    imports = time.perf_counter() - start
    wall = statistics.median(walls)
    section = (f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
               f"{platform.python_version()}: `planner calibrate` on the StepFun trace (400 nodes, "
               f"348 days, 583 faults), whole process, median of {args.runs} runs: {wall:.2f} s "
               f"(min {min(walls):.2f} s, max {max(walls):.2f} s; target < {TARGET_S:g} s: "
               f"{'met' if wall < TARGET_S else 'MISSED'}), of which `import planner.cli` "
               f"{imports:.2f} s.")
    print(section)
    if args.update:
        update_section("bench_calibrate", section)


if __name__ == "__main__":
    main()
