"""Finished cases on disk: one JSON file per case key, written atomically (temp + rename), so a
killed study loses at most the cases still running and never stores one twice. A case stored
with an error is run again by the next run of the study."""

from __future__ import annotations

import json
from pathlib import Path

from planner.outputs.atomic import remove_stale_temps, write_json
from planner.outputs.layout import StudyFolder


class CaseStore:
    """`<folder>/cases/<key>.json` per finished case."""

    def __init__(self, folder: Path):
        self.folder = folder / StudyFolder.CASE_STORE
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder)  # a case killed while being stored left only a temp

    def done(self) -> set[str]:
        """Keys of cases finished without error (a failed case is run again)."""
        keys = set()
        for path in self.folder.glob("*" + StudyFolder.CASE_SUFFIX):
            if not json.loads(path.read_text()).get("error"):
                keys.add(path.stem)
        return keys

    def put(self, key: str, record: dict) -> None:
        write_json(self.folder / StudyFolder.case_file(key), record)

    def get(self, key: str) -> dict:
        return json.loads((self.folder / StudyFolder.case_file(key)).read_text())
