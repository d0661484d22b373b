"""Quarters as labels ("2027Q3"): parsing, sequences, start dates, lengths in hours."""

from __future__ import annotations

import datetime as dt

from planner.units import HOURS_PER_DAY

# --- quarters ----------------------------------------------------------------------------------


def parse_quarter(label: str) -> tuple[int, int]:
    return int(label[:4]), int(label[5])


def quarter_labels(start: str, count: int) -> list[str]:
    year, q = parse_quarter(start)
    out = []
    for _ in range(count):
        out.append(f"{year}Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def quarter_start(label: str) -> dt.date:
    year, q = parse_quarter(label)
    return dt.date(year, 3 * (q - 1) + 1, 1)


def quarter_hours(label: str) -> float:
    year, q = parse_quarter(label)
    nxt = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return (nxt - quarter_start(label)).days * HOURS_PER_DAY


def quarter_of(date: dt.date) -> str:
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


def next_quarter(label: str) -> str:
    year, q = parse_quarter(label)
    return f"{year + 1}Q1" if q == 4 else f"{year}Q{q + 1}"
