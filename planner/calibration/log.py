"""A fleet's incident log: one fault per row, read from CSV, JSON lines or the StepFun trace.

Formats (docs/calibration.md):
- `csv`: a header with `node_id, fault_start, fault_end, category` (other columns ignored);
- `jsonl`: one JSON object per line with those keys;
- `stepfun`: the StepFun InfiniteHBD trace (a JSON list of `fault_start` / `fault_end` events
  with a `fault_type` of Level, Class and Desc; times in days since the trace's start). A fault is
  a start paired with the next end of the same node and fault type; its category is the Class.

Times are ISO dates or date-times (`--from DATE`), or the log's day numbers (the window starts at
day `--from N`, default 0). An empty end
means the fault is still open. Faults that start outside the window are left out; a fault still
open at the window's end is right-censored there. Every problem is one InputError naming the
file, the line and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

from planner.errors import InputError
from planner.scenario.loader import read_input
from planner.units import HOURS_PER_DAY

FORMATS = ("csv", "jsonl", "stepfun")
COLUMNS = ("node_id", "fault_start", "fault_end", "category")
MAX_LOG_BYTES = 256 * 1024 * 1024  # a million faults are about 100 MB of CSV


@dataclass(frozen=True)
class Window:
    """The observation window: `days` long, starting at date `start` (times may then be dates)
    or at day number `first_day` of the log's own day count."""

    days: float
    start: dt.datetime | None = None
    first_day: float = 0.0


@dataclass(frozen=True)
class Fault:
    """One fault of one node, in days since the window's start."""

    node: str
    category: str
    start_day: float
    end_day: float  # the window's end when the fault is still open there
    censored: bool  # still open at the window's end

    @property
    def downtime_hours(self) -> float:
        return (self.end_day - self.start_day) * HOURS_PER_DAY


@dataclass(frozen=True)
class FaultLog:
    """The faults of a fleet of `nodes` nodes over a window of `window_days` days."""

    source: str
    nodes: int
    window_days: float
    faults: tuple[Fault, ...]

    def categories(self) -> list[str]:
        """Log categories, most frequent first (ties by name)."""
        counts: dict[str, int] = {}
        for f in self.faults:
            counts[f.category] = counts.get(f.category, 0) + 1
        return sorted(counts, key=lambda c: (-counts[c], c))


def _date_day(text: str, window: Window, source: str, line: int, field: str) -> float:
    """An ISO date or date-time as days since the window's start (`--from`)."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(source, f"{text[:40]!r} is neither a day number nor an ISO date",
                         line=line, field=field) from None
    if window.start is None:
        raise InputError(source, "a date needs --from (the window's first day), or give day "
                         "numbers", line=line, field=field)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return (moment - window.start).total_seconds() / 86_400.0


def _day(value: object, window: Window, source: str, line: int, field: str) -> float:
    """A time as days since the window's start: a number of days, or an ISO date/time."""
    if isinstance(value, bool):
        raise InputError(source, "must be a day number or an ISO date, not true/false",
                         line=line, field=field)
    if isinstance(value, int | float):
        try:
            day = float(value) - window.first_day
        except OverflowError:
            raise InputError(source, "is too large a day number", line=line,
                             field=field) from None
    else:
        text = str(value).strip()
        try:
            day = float(text) - window.first_day
        except ValueError:
            day = _date_day(text, window, source, line, field)
    if not math.isfinite(day):
        raise InputError(source, "is not a finite time", line=line, field=field)
    return day


def _fault(node: object, category: object, start: float, end: float | None,
           window: Window, source: str, line: int) -> Fault | None:
    """The fault as seen through the window, or None when it starts outside it."""
    if not str(node).strip():
        raise InputError(source, "is empty", line=line, field="node_id")
    if not str(category).strip():
        raise InputError(source, "is empty", line=line, field="category")
    if end is not None and end < start:
        raise InputError(source, "ends before it starts", line=line, field="fault_end")
    if start < 0 or start >= window.days:
        return None
    censored = end is None or end > window.days
    return Fault(str(node).strip(), str(category).strip(), start,
                 window.days if censored else end, censored)


def _end(value: object, window: Window, source: str, line: int) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _day(value, window, source, line, "fault_end")


def _read_csv(text: str, window: Window, source: str) -> list[Fault]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))  # a BOM: Excel's CSV
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(source, f"the header lacks {', '.join(missing)} (columns: "
                         f"{', '.join(COLUMNS)})", line=1)
    faults = []
    for row in reader:
        line = reader.line_num
        short = [c for c in COLUMNS if row.get(c) is None]
        if short:
            raise InputError(source, f"the row has no {', '.join(short)} column", line=line,
                             field=short[0])
        start = _day(row["fault_start"], window, source, line, "fault_start")
        fault = _fault(row["node_id"], row["category"], start,
                       _end(row["fault_end"], window, source, line), window, source, line)
        if fault is not None:
            faults.append(fault)
    return faults


def _read_jsonl(text: str, window: Window, source: str) -> list[Fault]:
    faults = []
    for line, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as err:
            raise InputError(source, f"not JSON: {err.msg}", line=line) from None
        if not isinstance(row, dict):
            raise InputError(source, "a line must be a JSON object", line=line)
        for key in ("node_id", "fault_start", "category"):
            if key not in row:
                raise InputError(source, "is missing", line=line, field=key)
        start = _day(row["fault_start"], window, source, line, "fault_start")
        fault = _fault(row["node_id"], row["category"], start,
                       _end(row.get("fault_end"), window, source, line), window, source, line)
        if fault is not None:
            faults.append(fault)
    return faults


def _read_stepfun(text: str, window: Window, source: str) -> list[Fault]:
    try:
        events = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(source, f"not JSON: {err.msg}", line=err.lineno) from None
    if not isinstance(events, list):
        raise InputError(source, "the StepFun trace is a JSON list of events", line=1)
    open_at: dict[tuple[str, str, str], tuple[float, int]] = {}
    faults = []
    for k, event in enumerate(events):
        where = f"event {k}"
        try:
            node, kind = str(event["node_id"]), event["event_type"]
            ftype = event["fault_type"]
            category, desc = str(ftype["Class"]), str(ftype.get("Desc", ""))
            time = event["event_time"]
        except (KeyError, TypeError):
            raise InputError(source, f"{where}: needs node_id, event_time, event_type and "
                             "fault_type.Class") from None
        day = _day(time, window, source, k + 1, f"{where}.event_time")
        key = (node, category, desc)
        if kind == "fault_start":
            open_at.setdefault(key, (day, k + 1))
        elif kind == "fault_end" and key in open_at:
            start, line = open_at.pop(key)
            fault = _fault(node, category, start, day, window, source, line)
            if fault is not None:
                faults.append(fault)
        elif kind not in ("fault_start", "fault_end"):
            raise InputError(source, f"{where}: event_type {kind!r} is neither fault_start "
                             "nor fault_end")
    for (node, category, _), (start, line) in open_at.items():  # never ended: still open
        fault = _fault(node, category, start, None, window, source, line)
        if fault is not None:
            faults.append(fault)
    faults.sort(key=lambda f: (f.start_day, f.node, f.category))
    return faults


READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "stepfun": _read_stepfun}


def read_log(path: str | Path, fmt: str, nodes: int, window: Window) -> FaultLog:
    """Read the incident log at `path` in format `fmt` for a fleet of `nodes` nodes."""
    source = str(path)
    if fmt not in READERS:
        raise InputError(source, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})",
                         option="--format")
    if nodes < 1:
        raise InputError(source, "must be at least 1", option="--nodes")
    if not window.days > 0 or not math.isfinite(window.days):
        raise InputError(source, "the window must be longer than 0 days", option="--days")
    text = read_input(path, source, max_bytes=MAX_LOG_BYTES)
    faults = READERS[fmt](text, window, source)
    distinct = len({f.node for f in faults})
    if distinct > nodes:
        raise InputError(source, f"the log names {distinct} nodes, more than --nodes {nodes}",
                         option="--nodes")
    return FaultLog(source, nodes, window.days, tuple(faults))
