"""Finished cases on disk: one JSON file per case key, written atomically (temp + rename), so a
killed study loses at most the cases still running and never stores one twice. A case stored
with an error is run again by the next run of the study."""

from __future__ import annotations

import json
from pathlib import Path

from planner.outputs import write_json


class CaseStore:
    """`<folder>/cases/<key>.json` per finished case."""

    def __init__(self, folder: Path):
        self.folder = folder / "cases"
        self.folder.mkdir(parents=True, exist_ok=True)

    def done(self) -> set[str]:
        """Keys of cases finished without error (a failed case is run again)."""
        keys = set()
        for path in self.folder.glob("*.json"):
            if not json.loads(path.read_text()).get("error"):
                keys.add(path.stem)
        return keys

    def put(self, key: str, record: dict) -> None:
        write_json(self.folder / f"{key}.json", record)

    def get(self, key: str) -> dict:
        return json.loads((self.folder / f"{key}.json").read_text())
