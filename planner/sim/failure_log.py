"""The failure log of one replication: a row per node failure, opened at the failure and
closed when the node is back in service or retired (events.parquet, docs/outputs.md)."""

from __future__ import annotations

import math
from typing import NamedTuple


class FailureRecord(NamedTuple):
    """A row of the log read by its column names (rows themselves are plain lists, filled in
    place when the repair ends)."""

    time_hours: float
    pool: str
    node: int
    category: str
    kind: str  # HARD, TRANSIENT or MISDIAGNOSIS
    job: str  # the job the node was running, '' if none
    outcome: str
    downtime_hours: float
    part_wait_hours: float


EVENT_COLUMNS = FailureRecord._fields
_OUTCOME, _DOWNTIME, _PART_WAIT = 6, 7, 8  # the columns filled when the repair ends
STILL_IN_REPAIR = "in_repair_at_end"  # outcome of a row not closed by the horizon

# `kind` of a row
HARD, TRANSIENT, MISDIAGNOSIS = "hard", "transient", "misdiagnosis"


class FailureLog:
    """Rows of EVENT_COLUMNS, in failure order."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[list] = []

    def open(self, now: float, pool: str, node: int, category: str, kind: str,
             job: str) -> list:
        """A new row for a node that failed (or was drained) now; returned to be closed."""
        row = [now, pool, node, category, kind, job, STILL_IN_REPAIR, math.nan, 0.0]
        self.rows.append(row)
        return row

    def records(self) -> list[FailureRecord]:
        """Every row as a FailureRecord."""
        return [FailureRecord(*row) for row in self.rows]

    @staticmethod
    def close(row: list, outcome: str, downtime_hours: float, part_wait_hours: float) -> None:
        """The repair of the row's node ended with `outcome`."""
        row[_OUTCOME] = outcome
        row[_DOWNTIME] = downtime_hours
        row[_PART_WAIT] = part_wait_hours
