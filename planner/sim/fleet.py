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


# per state: counts as healthy / as installed / as in the repair shop
_HEALTHY = (0, 1, 1, 1, 0, 0, 0)
_INSTALLED = (0, 1, 1, 1, 1, 1, 1)
_IN_REPAIR = (0, 0, 0, 0, 1, 1, 0)
# per move old -> new: the change of those three counters, looked up once per state change
_DELTAS = tuple(
    tuple((_HEALTHY[new] - _HEALTHY[old], _INSTALLED[new] - _INSTALLED[old],
           _IN_REPAIR[new] - _IN_REPAIR[old]) for new in range(len(STATE_NAMES)))
    for old in range(len(STATE_NAMES))
)


class PoolState:
    """States of the nodes of one pool (capacity = initial nodes + every delivery)."""

    def __init__(self, name: str, sku: str, capacity: int, lemon: np.ndarray, backlog: Backlog,
                 retire_failures: int | None = None, retire_window_hours: float = 0.0):
        self.name = name
        self.sku = sku
        self.capacity = capacity
        self.state = bytearray(capacity)  # all ABSENT
        self.job = [-1] * capacity
        self.lemon = lemon
        self.count = [0] * len(STATE_NAMES)
        self.count[ABSENT] = capacity
        self.healthy = 0  # nodes idle, busy or standby
        self.installed = 0  # nodes delivered and not absent
        self.idle_stack: list[int] = []
        self.backlog = backlog
        self.delivered = 0
        self.failures = 0  # node failures recorded (misdiagnosed drains not counted)
        self.parked_jobs = 0  # jobs of this pool waiting for nodes while holding none
        self._t = 0.0
        self.healthy_node_hours = 0.0
        self.installed_node_hours = 0.0
        self.retire_failures = retire_failures
        self.retire_window_hours = retire_window_hours
        self.failure_times: dict[int, list[float]] = {}

    def _advance(self, now: float) -> None:
        dt = now - self._t
        if dt > 0:
            self.healthy_node_hours += dt * self.healthy
            self.installed_node_hours += dt * self.installed
            self._t = now

    def set_state(self, node: int, new: int, now: float) -> None:
        """Move `node` to state `new`, keeping counters, integrals and the repair backlog."""
        old = self.state[node]
        if old == new:
            return
        if now != self._t:
            dt = now - self._t
            self.healthy_node_hours += dt * self.healthy
            self.installed_node_hours += dt * self.installed
            self._t = now
        self.state[node] = new
        c = self.count
        c[old] -= 1
        c[new] += 1
        healthy_delta, installed_delta, repair_delta = _DELTAS[old][new]
        self.healthy += healthy_delta
        self.installed += installed_delta
        if repair_delta:
            self.backlog.change(repair_delta)
        if new == IDLE:
            self.idle_stack.append(node)

    def install(self, nodes: int, now: float) -> int:
        """The next `nodes` absent nodes become idle (a delivery); returns the first of them."""
        first = self.delivered
        self._advance(now)
        self.state[first:first + nodes] = bytes([IDLE]) * nodes
        self.count[ABSENT] -= nodes
        self.count[IDLE] += nodes
        self.healthy += nodes
        self.installed += nodes
        self.idle_stack.extend(range(first, first + nodes))
        self.delivered += nodes
        return first

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

    def record_failure_and_check_retirement(self, node: int, failed_at: float, now: float) -> bool:
        """Record a failure of `node` at `failed_at`; at its repair end (`now`), True when the
        retirement rule (that many failures within the window before now) is met."""
        if self.retire_failures is None:
            return False
        history = self.failure_times.get(node)
        if history is None:
            history = self.failure_times[node] = []
        history.append(failed_at)
        cutoff = now - self.retire_window_hours
        if history[0] < cutoff:  # times are in failure order: drop the old ones
            history[:] = [t for t in history if t >= cutoff]
        return len(history) >= self.retire_failures

    def finish(self, now: float) -> None:
        """Close the time integrals at the horizon."""
        self._advance(now)

    def counts_snapshot(self) -> tuple[int, int, int, int, int]:
        """(healthy, in_repair, waiting_parts, retired, installed) right now."""
        c = self.count
        return self.healthy, c[DOWN], c[WAIT_PART], c[RETIRED], self.installed
