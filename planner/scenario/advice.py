"""Warnings about a valid scenario: settings that run, but that a planner should look at twice.

Each is (field path, message); the CLI prints one line per warning on stderr, naming the file.
"""

from __future__ import annotations

from planner.scenario.schema import Scenario

Advice = tuple[str, str]


def _dotted(*parts: str | int) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _no_spare_nodes(s: Scenario) -> list[Advice]:
    """A job with no warm standby and no node it could take when one of its own fails: every
    repair stalls it (docs/simulator.md, "Spare nodes")."""
    out = []
    pools = {p.name: p for p in s.cluster.pools}
    for i, job in enumerate(s.jobs):
        if job.warm_standby_nodes > 0:
            continue
        pool = pools[job.pool]
        capacity = pool.nodes + sum(d.nodes for d in pool.deliveries)
        others = [j for j in s.jobs if j.pool == job.pool and j is not job]
        spare = capacity - job.nodes - sum(j.nodes + j.warm_standby_nodes for j in others)
        lower = job.preempt_lower_priority and job.max_borrowed_nodes != 0 and any(
            j.priority < job.priority for j in others)
        if spare <= 0 and not lower:
            out.append((_dotted("jobs", i), (
                f"job {job.name!r} has no warm standby and no idle node in pool "
                f"{pool.name!r}: it waits out every repair of its own nodes; add "
                "warm_standby_nodes or nodes to the pool")))
    return out


def _deprecated(s: Scenario) -> list[Advice]:
    return [(_dotted("jobs", i, "preemption_hours"),
             "is deprecated: call it borrow_hours_per_batch (and see borrow_hours_per_node)")
            for i, job in enumerate(s.jobs) if job.preemption_hours is not None]


def scenario_warnings(s: Scenario) -> list[Advice]:
    """Every warning about `s`, in scenario order."""
    return [*_deprecated(s), *_no_spare_nodes(s)]
