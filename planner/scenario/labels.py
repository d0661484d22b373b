"""Human labels for scenario field paths, from the schema: `cluster.spares.items[0].
initial_stock` reads "spares H800/gpu_board: initial stock" in a study's tornado, tables and
terminal. The words come from the field's title (its name with the unit taken out of it, or
the title the schema gives), the context from the list items on the way (their name, SKU and
part in the base scenario, when it is at hand).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from planner.scenario.overrides import OverrideError, parse_path
from planner.scenario.reference import UNIT_SUFFIXES, unit_of

# containers whose name says nothing a label needs ("cluster.pools[0]" reads "pool h800")
SILENT = {"cluster", "catalog", "simulation"}
SINGULAR = {"pools": "pool", "items": "", "jobs": "job", "supply_shocks": "shock",
            "candidates": "candidate", "scenarios": "scenario", "events": "event",
            "deliveries": "delivery", "maintenance": "maintenance"}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (Optional, list, dict, Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
        return None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


def _is_list(annotation: Any) -> bool:
    """Whether a field holds a list (Optional and Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple)


# shares and probabilities keep their word: "min domestic share", not "min domestic (share)"
KEPT_SUFFIXES = ("_share", "_fraction", "_probability")


def _words(name: str, title: str | None) -> str:
    """A field's words: its schema title when one is set, else its name without the unit
    suffix, with the unit in parentheses."""
    if title:
        return title
    unit = "" if name.endswith(KEPT_SUFFIXES) else unit_of(name)
    stem = name
    for suffix, word in UNIT_SUFFIXES:
        if word == unit and name.endswith(suffix) and name != suffix.lstrip("_"):
            stem = name[: -len(suffix)]
            break
    text = stem.replace("_", " ")
    return f"{text} ({unit})" if unit and stem != name else text


def _item_name(item: Any, index: int) -> str:
    """A list item as a reader knows it: its name, SKU/part or SKU, else its position."""
    if isinstance(item, dict):
        if item.get("name"):
            return str(item["name"])
        if item.get("sku") and item.get("part"):
            return f"{item['sku']}/{item['part']}"
        for key in ("sku", "vendor", "type"):
            if item.get(key):
                return str(item[key])
    return f"#{index + 1}"


def field_label(path: str, base: dict | None = None) -> str:
    """The label of a field path (the path itself when it does not parse or is not a field)."""
    from planner.scenario.schema import Scenario

    try:
        steps = parse_path(path)
    except OverrideError:
        return path
    model: type[BaseModel] | None = Scenario
    data: Any = base
    context: list[str] = []
    words = path
    container = ""
    for step in steps:
        if isinstance(step, int):
            item = data[step] if isinstance(data, list) and step < len(data) else None
            name = _item_name(item, step)
            noun = SINGULAR.get(container, container.rstrip("s"))
            if noun or not context:
                context.append(f"{noun} {name}".strip())
            else:  # spares items: "spares H800/gpu_board"
                context[-1] = f"{context[-1]} {name}"
            data = item
            continue
        if model is None or step not in model.model_fields:
            return path
        field = model.model_fields[step]
        words = _words(step, field.title)
        container = step
        model = _model_of(field.annotation)
        data = data.get(step) if isinstance(data, dict) else None
        if model is not None and step not in SILENT and not _is_list(field.annotation):
            context.append(words)
    if isinstance(steps[-1], int):
        return path
    if context and context[-1] == words:
        context.pop()
    return (", ".join(context) + ": " if context else "") + words


def field_labeler(base: dict | None) -> Callable[[str], str]:
    """path -> field_label(path, base), remembered; a `param.` prefix (a study table's
    column) is dropped."""
    cache: dict[str, str] = {}

    def label(parameter: str) -> str:
        key = parameter.removeprefix("param.")
        if key not in cache:
            cache[key] = field_label(key, base)
        return cache[key]

    return label
