"""A study's parameters as a reader names them (planner/scenario/labels.py): the field's words
and, for list items, their name in the base scenario, when the base file is still at hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from planner.reports.folder import StudyFiles
from planner.scenario.labels import field_labeler


def parameter_labeler(study: StudyFiles) -> Callable[[str], str]:
    """path -> label, with the base scenario the study names, when it can still be read."""
    base = None
    path = study.info.get("base")
    if isinstance(path, str) and Path(path).is_file():
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            base = loaded if isinstance(loaded, dict) else None
        except (OSError, yaml.YAMLError):
            base = None
    return field_labeler(base)
