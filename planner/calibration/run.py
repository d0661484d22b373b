"""Read a fleet's incident log for calibration: its format, the observed window and the
catalog peer of each of its classes (the command line and planner.api share it)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from planner.errors import InputError


def read_fault_log(log: Path, nodes: int, days: float | None, from_: str | None,
                   to: str | None, fmt: str | None, map_file: Path | None):
    """The log, its format and each class's catalog peer (the window as `days` from `from_`, or
    `from_` to `to`); InputError naming the log and the option on any problem."""
    from planner.calibration.log import FORMATS, Window, read_log
    from planner.calibration.mapping import read_map, resolve, stepfun_map
    from planner.catalog.catalog import shipped_catalog
    from planner.outputs.layout import CSV

    source = str(log)
    if fmt is None:
        fmt = {CSV: "csv", ".jsonl": "jsonl"}.get(log.suffix.lower())
        if fmt is None:
            raise InputError(source, f"cannot tell the format from the extension: give "
                             f"--format ({', '.join(FORMATS)})")

    def naive_utc(text: str) -> dt.datetime:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo is None \
            else moment.astimezone(dt.UTC).replace(tzinfo=None)

    start, first_day = None, 0.0
    if from_ is not None:
        try:
            first_day = float(from_)
        except ValueError:
            try:
                start = naive_utc(from_)
            except ValueError:
                raise InputError(source, f"{from_!r} is neither a day number nor an ISO date",
                                 option="--from") from None
        if not math.isfinite(first_day):
            raise InputError(source, "must be a finite day number", option="--from")
    if to is not None:
        if start is None or days is not None:
            raise InputError(source, "--to goes with --from, instead of --days", option="--to")
        try:
            days = (naive_utc(to) - start).total_seconds() / 86_400.0
        except ValueError:
            raise InputError(source, f"{to!r} is not an ISO date", option="--to") from None
    if days is None:
        raise InputError(source, "give the window: --days, or --from and --to", option="--days")
    fault_log = read_log(log, fmt, nodes, Window(days, start, first_day))
    catalog = shipped_catalog()
    likeness = resolve(fault_log.categories(), catalog,
                       stepfun_map() if fmt == "stepfun" else {},
                       read_map(map_file) if map_file is not None else {}, source)
    if not fault_log.faults:
        raise InputError(source, "no fault starts inside the window")
    return fault_log, catalog, likeness
