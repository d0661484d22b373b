"""The two kinds of SimPy event the model schedules: a callback after a delay, and one right now.

The model is driven by callbacks on events (no process per node, job or repair), so an event
carries its callback from the start instead of having it appended after creation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
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
