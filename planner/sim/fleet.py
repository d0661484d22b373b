"""Node state of one pool: a byte per node, counters and time integrals kept as states change."""

from __future__ import annotations

import numpy as np


class NodeState:
    """What a node is doing: one byte per node in `PoolState.state`.

    Plain int class constants rather than an IntEnum: the event loop compares them on every
    candidate failure, and `NodeState.IDLE` as an int costs a quarter of an enum member's
    lookup. The healthy states are contiguous (IDLE <= s <= STANDBY), and code relies on it."""

    ABSENT = 0  # not delivered yet
    IDLE = 1  # healthy, in no job
    BUSY = 2  # healthy, computing for a job
    STANDBY = 3  # healthy, a job's warm standby
    IN_REPAIR = 4  # in the repair pipeline (diagnosis, repair, validation)
    WAITING_PARTS = 5  # in the repair pipeline, waiting for a spare part
    RETIRED = 6  # taken out of service for good
    DOWN_SHARED = 7  # sound, but a shared component it hangs on (switch, rack, PDU) is down
    MAINTENANCE = 8  # drained for planned maintenance

    NAMES = ("absent", "idle", "busy", "standby", "in_repair", "waiting_parts", "retired",
             "down_shared", "maintenance")
    HEALTHY = frozenset((IDLE, BUSY, STANDBY))
    IN_SHOP = frozenset((IN_REPAIR, WAITING_PARTS))


N_STATES = len(NodeState.NAMES)


class Backlog:
    """Nodes in repair (any stage) across all pools, and the most there ever were at once."""

    def __init__(self) -> None:
        self.count = 0
        self.max = 0

    def change(self, delta: int) -> None:
        self.count += delta
        if self.count > self.max:
            self.max = self.count


def _flags(states: frozenset[int]) -> tuple[int, ...]:
    return tuple(1 if s in states else 0 for s in range(N_STATES))


_HEALTHY = _flags(NodeState.HEALTHY)
_INSTALLED = _flags(frozenset(range(NodeState.IDLE, N_STATES)))
_IN_REPAIR = _flags(NodeState.IN_SHOP)
# per move old -> new: the change of those three counters, looked up once per state change
_DELTAS = tuple(
    tuple((_HEALTHY[new] - _HEALTHY[old], _INSTALLED[new] - _INSTALLED[old],
           _IN_REPAIR[new] - _IN_REPAIR[old]) for new in range(N_STATES))
    for old in range(N_STATES)
)


class PoolState:
    """States of the nodes of one pool (capacity = initial nodes + every delivery)."""

    def __init__(self, name: str, sku: str, capacity: int, lemon: np.ndarray, backlog: Backlog,
                 retire_failures: int | None = None, retire_window_hours: float = 0.0):
        self.name = name
        self.sku = sku
        self.capacity = capacity
        self.state = bytearray(capacity)  # all ABSENT
        self.job = [-1] * capacity  # index of the job holding the node (busy or standby), or -1
        self.lemon = lemon
        self.count = [0] * N_STATES  # nodes per state
        self.count[NodeState.ABSENT] = capacity
        self.healthy = 0  # nodes idle, busy or standby
        self.installed = 0  # nodes delivered and not absent
        self.idle_stack: list[int] = []
        self.backlog = backlog
        self.delivered = 0
        self.failures = 0  # node failures recorded (misdiagnosed drains not counted)
        self._t = 0.0
        self.healthy_node_hours = 0.0
        self.installed_node_hours = 0.0
        self.retire_failures = retire_failures
        self.retire_window_hours = retire_window_hours
        self.failure_times: dict[int, list[float]] = {}
        self.blocked = bytearray(capacity)  # per node: shared units above it that are down
        self.units_down = 0  # shared units of this pool down now
        self.shared_failures = 0  # shared-component failures recorded

    def _advance(self, now: float) -> None:
        dt = now - self._t
        if dt > 0:
            self.healthy_node_hours += dt * self.healthy
            self.installed_node_hours += dt * self.installed
            self._t = now

    def set_state(self, node: int, new: int, now: float) -> None:
        """Move `node` to state `new`, keeping counters, integrals and the repair backlog."""
        state = self.state
        old = state[node]
        if old == new:
            return
        if now != self._t:
            dt = now - self._t
            self.healthy_node_hours += dt * self.healthy
            self.installed_node_hours += dt * self.installed
            self._t = now
        state[node] = new
        c = self.count
        c[old] -= 1
        c[new] += 1
        healthy_delta, installed_delta, repair_delta = _DELTAS[old][new]
        if healthy_delta:
            self.healthy += healthy_delta
        if installed_delta:
            self.installed += installed_delta
        if repair_delta:
            self.backlog.change(repair_delta)
        if new == NodeState.IDLE:
            self.idle_stack.append(node)

    def install(self, nodes: int, now: float) -> int:
        """The next `nodes` absent nodes become idle (a delivery); returns the first of them."""
        first = self.delivered
        self._advance(now)
        self.state[first:first + nodes] = bytes([NodeState.IDLE]) * nodes
        self.count[NodeState.ABSENT] -= nodes
        self.count[NodeState.IDLE] += nodes
        self.healthy += nodes
        self.installed += nodes
        self.idle_stack.extend(range(first, first + nodes))
        self.delivered += nodes
        if self.units_down:  # a node delivered under a unit that is down waits for it
            for node in range(first, first + nodes):
                if self.blocked[node]:
                    self.set_state(node, NodeState.DOWN_SHARED, now)
        return first

    def back_in_service(self, node: int, now: float) -> bool:
        """A node whose repair or maintenance ended: idle (True), or down with a shared
        component it hangs on (False)."""
        if self.blocked[node]:
            self.set_state(node, NodeState.DOWN_SHARED, now)
            return False
        self.set_state(node, NodeState.IDLE, now)
        return True

    def take_idle(self) -> int | None:
        """An idle node, or None (stale stack entries are skipped)."""
        stack, state = self.idle_stack, self.state
        while stack:
            node = stack.pop()
            if state[node] == NodeState.IDLE:
                return node
        return None

    def is_healthy(self, node: int) -> bool:
        return NodeState.IDLE <= self.state[node] <= NodeState.STANDBY

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
        return (self.healthy, c[NodeState.IN_REPAIR], c[NodeState.WAITING_PARTS],
                c[NodeState.RETIRED], self.installed)

    def planned_and_shared_snapshot(self) -> tuple[int, int]:
        """(nodes down with a shared component, nodes in maintenance) right now."""
        return self.count[NodeState.DOWN_SHARED], self.count[NodeState.MAINTENANCE]
