"""A supply shock seen by quarter: from a start day, the quarter its block begins in and the
first quarter open again, within the planning quarters.

The optimizer's derived sanction scenarios (planner/procurement.py) and the simulator's
conditional deliveries (planner/sim/model.py) both read a shock through these functions, so a
replication whose shock started on a given day is in exactly the scenario the plan assumed.
"""

from __future__ import annotations

import datetime as dt

from planner.quarters import next_quarter, quarter_hours, quarter_of, quarter_start
from planner.scenario.schema import SupplyShock

# (first quarter blocked, first quarter open again or None = to the end); None = no block in
# the planning quarters
BlockQuarters = tuple[str, str | None] | None


def representative_begin(shock: SupplyShock, day: dt.date) -> dt.date:
    """The start a window shock starting on `day` is planned with: the window's first day in
    that quarter (every start in a quarter is one outcome). A fixed-date shock: its date."""
    if shock.date is not None:
        return shock.date
    lo = shock.window_start_date
    assert lo is not None  # the schema requires a window when there is no date
    return max(quarter_start(quarter_of(day)), lo)


def block_quarters(shock: SupplyShock, begin: dt.date, labels: list[str]) -> BlockQuarters:
    """The quarters a block that begins on `begin` covers within `labels`: (first quarter
    blocked, first quarter open again or None when it lasts past the last one), or None when
    it misses them (begins after the horizon or ends before it)."""
    first, last = quarter_start(labels[0]), quarter_start(labels[-1])
    horizon_end = last + dt.timedelta(hours=quarter_hours(labels[-1]))
    end = None if shock.duration_days is None else begin + dt.timedelta(days=shock.duration_days)
    if begin >= horizon_end or (end is not None and end <= first):
        return None
    from_q = max(quarter_of(begin), labels[0])
    until = None
    if end is not None:
        until = next_quarter(quarter_of(end - dt.timedelta(days=1)))
        until = until if until <= labels[-1] else None
    return from_q, until
