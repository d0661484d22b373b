"""Which catalog category each log class is like: a fitted category inherits from it what a log
cannot estimate (the part a hard failure consumes, the share that needs one).

A log class named like a catalog category maps to it; the StepFun trace's classes have a shipped
table (data/stepfun-map.yaml); `--map FILE` adds or replaces entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from planner.catalog.catalog import Catalog
from planner.errors import InputError
from planner.scenario.loader import read_input

FITTED_PREFIX = "fit_"


@dataclass(frozen=True)
class Likeness:
    """The catalog category a log class is like, with optional own part and hard fraction."""

    like: str
    part: str | None = None
    hard_fraction: float | None = None


def fitted_name(log_class: str) -> str:
    """The scenario name of a fitted category: `fit_` + the class in lower case, words joined
    by `_` (`Parameter Plane Cable` -> `fit_parameter_plane_cable`)."""
    slug = re.sub(r"[^a-z0-9]+", "_", log_class.lower()).strip("_") or "unnamed"
    return FITTED_PREFIX + slug


def _entries(raw: object, source: str) -> dict[str, Likeness]:
    if not isinstance(raw, dict):
        raise InputError(source, "a map is a YAML mapping of log class to catalog category",
                         line=1)
    out = {}
    for cls, value in raw.items():
        if isinstance(value, str):
            out[str(cls)] = Likeness(value)
        elif isinstance(value, dict) and isinstance(value.get("like"), str) \
                and set(value) <= {"like", "part", "hard_fraction"}:
            hard = value.get("hard_fraction")
            if hard is not None and (isinstance(hard, bool) or not isinstance(hard, int | float)
                                     or not 0 <= hard <= 1):
                raise InputError(source, "must be a number from 0 to 1",
                                 field=f"{cls}.hard_fraction")
            out[str(cls)] = Likeness(value["like"], value.get("part"),
                                     None if hard is None else float(hard))
        else:
            raise InputError(source, "must be a catalog category or {like, part, "
                             "hard_fraction}", field=str(cls))
    return out


def stepfun_map() -> dict[str, Likeness]:
    text = resources.files("planner.calibration").joinpath("data", "stepfun-map.yaml").read_text()
    return _entries(yaml.safe_load(text), "stepfun-map.yaml")


def read_map(path: str | Path) -> dict[str, Likeness]:
    source = str(path)
    try:
        raw = yaml.safe_load(read_input(path, source))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(source, f"malformed YAML: {getattr(err, 'problem', err)}",
                         line=None if mark is None else mark.line + 1) from None
    return _entries(raw or {}, source)


def resolve(classes: list[str], catalog: Catalog, base: dict[str, Likeness],
            extra: dict[str, Likeness], source: str) -> dict[str, Likeness]:
    """Every log class's likeness: `extra` (--map), then `base` (the format's table), then a
    catalog category of the same name; an unmapped class or unknown category is one error."""
    out = {}
    for cls in classes:
        likeness = extra.get(cls) or base.get(cls) or (
            Likeness(cls) if cls in catalog.categories else None)
        if likeness is None:
            raise InputError(source, f"log class {cls!r} maps to no catalog category: name it "
                             f"in a --map file (categories: {', '.join(catalog.categories)})")
        if likeness.like not in catalog.categories:
            raise InputError(source, f"log class {cls!r} is mapped to {likeness.like!r}, which "
                             "is not a catalog category", option="--map")
        if likeness.part is not None and likeness.part not in catalog.parts:
            raise InputError(source, f"log class {cls!r}: unknown part {likeness.part!r}",
                             option="--map")
        out[cls] = likeness
    return out
