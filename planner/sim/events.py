"""The two kinds of SimPy event the model schedules (a callback after a delay, one right now), and
the one place that reads SimPy's private queue.

The model is driven by callbacks on events (no process per node, job or repair), so an event
carries its callback from the start instead of having it appended after creation.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop
from typing import Any

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, URGENT

Callback = Callable[[simpy.Event], None]


class After(simpy.Event):
    """Calls `callback(event)` `delay_hours` from now; `event.value` is `value`. Ordered in the
    queue exactly as a `simpy.Timeout` made at the same moment would be."""

    def __init__(self, env: simpy.Environment, delay_hours: float, callback: Callback,
                 value: Any = None):
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay_hours)


class Urgent(simpy.Event):
    """Calls `callback(event)` at once, before the other events of this instant (as SimPy
    schedules a process interruption)."""

    def __init__(self, env: simpy.Environment, callback: Callback):
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


class QueueView:
    """SimPy's event queue, read where SimPy offers no public way.

    SimPy counts events only in `Environment._eid` (the id the next scheduled event gets) and
    keeps them in `_queue`; it has no public count of events processed and no hook around an
    event's callbacks. A replication reports the events it processed, and the benchmark times
    the model's callbacks apart from SimPy's own step, so both read those attributes here and
    nowhere else (simpy 4.1's layout: `_queue` holds (time, priority, id, event))."""

    __slots__ = ("env",)

    def __init__(self, env: simpy.Environment):
        self.env = env

    def scheduled(self) -> int:
        """Events scheduled so far (processed or pending), without using up an id."""
        return self.env._eid.__reduce__()[1][0]  # count(n) pickles as (count, (n,))

    def pending(self) -> int:
        """Events scheduled and not yet processed."""
        return len(self.env._queue)

    def processed(self) -> int:
        """Events taken off the queue so far."""
        return self.scheduled() - self.pending()

    def take_next(self) -> simpy.Event:
        """Move the clock to the next event and take it off the queue, as
        `Environment.step` does before it runs the event's callbacks."""
        try:
            self.env._now, _, _, event = heappop(self.env._queue)
        except IndexError:
            raise EmptySchedule() from None
        return event
