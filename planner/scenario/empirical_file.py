"""An empirical duration read from a CSV file (`{dist: empirical, file: repairs.csv}`).

The file has a header row naming its columns, then one row per point:
- `value` alone: observed values, each drawn with equal chance;
- `value,weight`: values drawn with chance proportional to their weight;
- `probability,value`: quantile pairs, as the inline `quantiles` form.

Lines that are empty or start with `#` are skipped. A relative path is read from the folder of
the file that names it (the scenario, or the `--overrides` fragment). The file is read when the
scenario is loaded, and its points replace the `file` key: a run folder's inputs.json and a
study's case key therefore carry the data itself, not its path.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

FILE_FORMS = {("value",): "values", ("value", "weight"): "weights",
              ("probability", "value"): "quantiles"}
MAX_FILE_BYTES = 8 * 1024 * 1024  # 100,000 points of up to ~80 characters


def _number(text: str, column: str, where: str) -> float:
    """A cell as a number within its column's range (a duration, a weight, a probability)."""
    from planner.scenario.distributions import MAX_DURATION

    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {column} must be a finite number, not {text.strip()!r}")
    high = 1.0 if column == "probability" else MAX_DURATION
    if not 0.0 <= value <= high:
        raise ValueError(f"{where}: {column} {value:g} is outside 0 to {high:g}")
    return value


def read_points(path: Path, max_points: int) -> dict[str, list]:
    """The fields of an empirical duration read from `path`: {'values': [...]} with
    'weights' when the file has them, or {'quantiles': [[p, v], ...]}. A problem is a
    ValueError naming the file and line (the schema reports it under the field `file`)."""
    from planner.errors import InputError
    from planner.scenario.loader import read_input

    try:
        text = read_input(path, max_bytes=MAX_FILE_BYTES)
    except InputError as err:
        raise ValueError(f"{path}: {err.message}") from None
    rows = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), start=1)
            if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise ValueError(f"{path}: the file is empty (a header row, then one row per point)")
    header_line, header = rows[0]
    columns = tuple(cell.strip().lower() for cell in header)
    form = FILE_FORMS.get(columns)
    if form is None:
        raise ValueError(f"{path} line {header_line}: the header must be 'value', "
                         f"'value,weight' or 'probability,value', not {','.join(header)!r}")
    points = rows[1:]
    if not points:
        raise ValueError(f"{path}: no points after the header")
    if len(points) > max_points:
        raise ValueError(f"{path}: {len(points):,} points; at most {max_points:,}")
    parsed = []
    for number, row in points:
        where = f"{path} line {number}"
        if len(row) != len(columns):
            raise ValueError(f"{where}: {len(row)} columns where the header has {len(columns)}")
        parsed.append([_number(cell, column, where) for cell, column in zip(row, columns,
                                                                             strict=True)])
    if form == "quantiles":
        return {"quantiles": parsed}
    out: dict[str, list] = {"values": [row[0] for row in parsed]}
    if form == "weights":
        out["weights"] = [row[1] for row in parsed]
    return out
