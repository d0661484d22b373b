"""A study's parameters as a reader names them (planner/scenario/labels.py): the field's words
and, for list items, their name in the base scenario, when the base file is still at hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from planner.reports.folder import StudyFiles
from planner.scenario.labels import field_label


def parameter_labeler(study: StudyFiles) -> Callable[[str], str]:
    """path -> label; `param.` prefixes are dropped."""
    base = None
    path = study.info.get("base")
    if isinstance(path, str) and Path(path).is_file():
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            base = loaded if isinstance(loaded, dict) else None
        except (OSError, yaml.YAMLError):
            base = None
    cache: dict[str, str] = {}

    def label(parameter: str) -> str:
        key = parameter.removeprefix("param.")
        if key not in cache:
            cache[key] = field_label(key, base)
        return cache[key]

    return label
