"""Node state of one pool: a byte per node, counters and time integrals kept as states change."""

from __future__ import annotations

import numpy as np

ABSENT, IDLE, BUSY, STANDBY, DOWN, WAIT_PART, RETIRED = range(7)
STATE_NAMES = ("absent", "idle", "busy", "standby", "in_repair", "waiting_parts", "retired")
HEALTHY = frozenset((IDLE, BUSY, STANDBY))


class Backlog:
    """Nodes in repair (any stage) across all pools, and the most there ever were at once."""

    def __init__(self) -> None:
        self.count = 0
        self.max = 0

    def change(self, delta: int) -> None:
        self.count += delta
        if self.count > self.max:
            self.max = self.count


class PoolState:
    """States of the nodes of one pool (capacity = initial nodes + every delivery)."""

    def __init__(self, name: str, sku: str, capacity: int, lemon: np.ndarray, backlog: Backlog):
        self.name = name
        self.sku = sku
        self.capacity = capacity
        self.state = bytearray(capacity)  # all ABSENT
        self.job = [-1] * capacity
        self.lemon = lemon
        self.count = [0] * len(STATE_NAMES)
        self.count[ABSENT] = capacity
        self.idle_stack: list[int] = []
        self.backlog = backlog
        self.delivered = 0
        self._t = 0.0
        self.healthy_node_hours = 0.0
        self.installed_node_hours = 0.0
        self.failure_times: dict[int, list[float]] = {}

    def _advance(self, now: float) -> None:
        dt = now - self._t
        if dt > 0:
            c = self.count
            self.healthy_node_hours += dt * (c[IDLE] + c[BUSY] + c[STANDBY])
            self.installed_node_hours += dt * (self.capacity - c[ABSENT])
            self._t = now

    def set_state(self, node: int, new: int, now: float) -> None:
        """Move `node` to state `new`, keeping counters, integrals and the repair backlog."""
        old = self.state[node]
        if old == new:
            return
        c = self.count
        dt = now - self._t
        if dt > 0:
            self.healthy_node_hours += dt * (c[IDLE] + c[BUSY] + c[STANDBY])
            self.installed_node_hours += dt * (self.capacity - c[ABSENT])
            self._t = now
        self.state[node] = new
        c[old] -= 1
        c[new] += 1
        if (old >= DOWN and old <= WAIT_PART) != (new >= DOWN and new <= WAIT_PART):
            self.backlog.change(1 if new in (DOWN, WAIT_PART) else -1)
        if new == IDLE:
            self.idle_stack.append(node)

    def take_idle(self) -> int | None:
        """An idle node, or None (stale stack entries are skipped)."""
        stack, state = self.idle_stack, self.state
        while stack:
            node = stack.pop()
            if state[node] == IDLE:
                return node
        return None

    def idle_count(self) -> int:
        return self.count[IDLE]

    def healthy(self, node: int) -> bool:
        return self.state[node] in HEALTHY

    def finish(self, now: float) -> None:
        """Close the time integrals at the horizon."""
        self._advance(now)

    def counts_snapshot(self) -> tuple[int, int, int, int, int]:
        """(healthy, in_repair, waiting_parts, retired, installed) right now."""
        c = self.count
        return (
            c[IDLE] + c[BUSY] + c[STANDBY],
            c[DOWN],
            c[WAIT_PART],
            c[RETIRED],
            self.capacity - c[ABSENT],
        )
