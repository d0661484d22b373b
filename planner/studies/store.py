"""Finished cases on disk: one JSON file per case key, written atomically (temp + rename), so a
killed study loses at most the cases still running and never stores one twice. A case stored
with an error is run again by the next run of the study.

Each file carries the SHA-256 of its own content (`checksum`). A file that cannot be read, is
not a case record, or whose checksum does not match (damaged, truncated, edited by hand) is not
trusted: the case is run again, with a one-line warning naming it. This guards against
corruption and accidental edits, not against someone who rewrites the folder on purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.outputs.atomic import json_safe, remove_stale_temps, write_json
from planner.outputs.layout import StudyFolder

CHECKSUM = "checksum"
_REQUIRED = {"name": str, "key": str, "metrics": dict}


def _digest(record: dict[str, Any]) -> str:
    content = {k: v for k, v in record.items() if k != CHECKSUM}
    text = json.dumps(content, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class CaseStore:
    """`<folder>/cases/<key>.json` per finished case."""

    def __init__(self, folder: Path, warn: Callable[[str], None] | None = None):
        self.folder = folder / StudyFolder.CASE_STORE
        self.folder.mkdir(parents=True, exist_ok=True)
        self.warn = warn if warn is not None else (lambda _message: None)
        remove_stale_temps(self.folder)  # a case killed while being stored left only a temp

    def _path(self, key: str) -> Path:
        return self.folder / StudyFolder.case_file(key)

    def _read(self, path: Path) -> dict[str, Any] | None:
        """The record in `path` when it is whole and unchanged; else None, with a warning."""
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            problem = f"cannot be read ({' '.join(str(err).split())})"
        else:
            if not isinstance(record, dict) or any(
                    not isinstance(record.get(k), t) for k, t in _REQUIRED.items()):
                problem = "is not a case record"
            elif record.get(CHECKSUM) != _digest(record):
                problem = ("does not match its checksum (damaged or edited)" if CHECKSUM in record
                           else "has no checksum (written by an older version)")
            elif record["key"] != path.stem:
                problem = "holds another case's key"
            else:
                return record
        self.warn(f"warning: {path} {problem}: the case is run again")
        return None

    def done(self) -> set[str]:
        """Keys of cases finished without error and intact (a failed, damaged or edited case
        is run again)."""
        keys = set()
        for path in sorted(self.folder.glob("*" + StudyFolder.CASE_SUFFIX)):
            record = self._read(path)
            if record is not None and not record.get("error"):
                keys.add(path.stem)
        return keys

    def put(self, key: str, record: dict) -> None:
        # the checksum is of the content as it will be read back (NaN as null, tuples as lists)
        content = json.loads(json.dumps(json_safe({k: v for k, v in record.items()
                                                   if k != CHECKSUM})))
        write_json(self._path(key), {**content, CHECKSUM: _digest(content)})

    def get(self, key: str) -> dict:
        """A stored record (its checksum checked); KeyError when it is missing or damaged."""
        record = self._read(self._path(key)) if self._path(key).exists() else None
        if record is None:
            raise KeyError(key)
        return {k: v for k, v in record.items() if k != CHECKSUM}
