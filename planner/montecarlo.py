"""Monte-Carlo replications of a scenario: serial or on local processes, fixed or adaptive count.

Replication i always uses SeedSequence(seed, spawn_key=(i,)), so results do not depend on the
number of workers or on the order in which replications finish.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from planner.parallel import WorkerLost, default_workers, process_pool
from planner.scenario.loader import LoadedScenario
from planner.sim.model import simulate
from planner.sim.results import ReplicationResult
from planner.sim.setup import SimSetup, build_setup
from planner.stats import relative_half_width

Progress = Callable[[int, int], None]  # (done, planned)


@dataclass(frozen=True)
class MonteCarloResult:
    """All replications of a scenario, in replication order."""

    loaded: LoadedScenario
    setup: SimSetup
    results: tuple[ReplicationResult, ...]
    adaptive_stop: str | None = None


def _simulate_index(args: tuple[SimSetup, int]) -> ReplicationResult:
    setup, index = args
    return simulate(setup, index)


def _run_batch(setup: SimSetup, indices: Iterable[int], pool: ProcessPoolExecutor | None,
               on_done: Callable[[], None]) -> list[ReplicationResult]:
    indices = list(indices)
    if pool is None:
        out = []
        for i in indices:
            out.append(simulate(setup, i))
            on_done()
        return out
    out = []
    try:
        for result in pool.map(_simulate_index, [(setup, i) for i in indices]):
            out.append(result)
            on_done()
    except BrokenProcessPool:
        lost = [str(i) for i in indices[len(out):]]
        raise WorkerLost(lost, f"a worker process died (killed, or out of memory) while "
                         f"replication {lost[0]} was running; nothing was written") from None
    return out


def metric_values(results: Iterable[ReplicationResult], metric: str) -> list[float]:
    """Values of a flat metric (or the first metric under a prefix, e.g. `ettr`)."""
    values = []
    for r in results:
        if metric in r.metrics:
            values.append(r.metrics[metric])
        else:
            keys = sorted(k for k in r.metrics if k.startswith(metric + "."))
            values.append(r.metrics[keys[0]] if keys else math.nan)
    return values


def run_monte_carlo(loaded: LoadedScenario, workers: int | None = None,
                    progress: Progress | None = None) -> MonteCarloResult:
    """Run the scenario's replications (adaptive when the scenario asks for it)."""
    setup = build_setup(loaded.scenario, loaded.catalog)
    sim = loaded.scenario.simulation
    adaptive = sim.adaptive
    planned = adaptive.max_replications if adaptive else sim.replications
    workers = default_workers() if workers is None else max(1, workers)
    workers = min(workers, planned)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, planned)

    executor = process_pool(workers) if workers > 1 else None
    try:
        if adaptive is None:
            results = _run_batch(setup, range(sim.replications), executor, tick)
            return MonteCarloResult(loaded, setup, tuple(results))
        results = _run_batch(setup, range(adaptive.min_replications), executor, tick)
        reason = None
        while True:
            width = relative_half_width(metric_values(results, adaptive.metric))
            if width <= adaptive.target_rel_half_width:
                reason = (f"95% CI half-width of {adaptive.metric} is {width:.4f} of the mean "
                          f"after {len(results)} replications")
                break
            if len(results) >= adaptive.max_replications:
                reason = (f"max_replications {adaptive.max_replications} reached; half-width "
                          f"{width:.4f} of the mean")
                break
            nxt = range(len(results),
                        min(len(results) + adaptive.batch_replications, adaptive.max_replications))
            results += _run_batch(setup, nxt, executor, tick)
        if progress is not None:
            progress(len(results), len(results))
        return MonteCarloResult(loaded, setup, tuple(results), reason)
    finally:
        if executor is not None:
            executor.shutdown()
