"""What every part of one replication shares: the clock, random draws, shocks, the horizon and
the failure log. Parts receive this (and the other parts they call), never the whole model."""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from planner.sim.draws import Draws
from planner.sim.failure_log import FailureLog
from planner.sim.shocks import ShockBook


@dataclass(frozen=True, slots=True)
class SimContext:
    """The shared state of one replication."""

    env: simpy.Environment
    repair_draws: Draws  # the repair stream: blast, hard/transient, misdiagnosis, repair times
    spares_draws: Draws  # the spares stream: RMA dispositions, lead and turnaround times
    shocks: ShockBook
    horizon_hours: float
    log: FailureLog
