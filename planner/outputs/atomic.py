"""Write output files atomically: a temp file in the target folder, then rename over the name,
so a reader never sees half a file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.outputs.layout import TEMP_SUFFIX, csv, parquet

if TYPE_CHECKING:  # only annotations: the CLI imports this module before it needs pandas
    import pandas as pd


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN and inf become null; tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _file_mode() -> int:
    """The mode a normal file write gets: 0666 less the process's umask (mkstemp's 0600 would
    keep colleagues on a shared drive from opening the reports)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) for a temp file beside `path`, then replace `path` with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files that a killed writer left in `folder` (an atomic write that never got
    to its rename); returns how many. Never touches a finished file."""
    removed = 0
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(json_safe(data), indent=2, sort_keys=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_table(folder: Path, stem: str, table: pd.DataFrame) -> None:
    """`stem`.parquet and its CSV twin `stem`.csv."""
    atomic_write(folder / parquet(stem), lambda tmp: table.to_parquet(tmp, index=False))
    atomic_write(folder / csv(stem), lambda tmp: table.to_csv(tmp, index=False))


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
