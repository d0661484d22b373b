"""Unit conversions used across the package (one definition each)."""

from __future__ import annotations

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25  # Julian year: asset lives in years become hours without a calendar
