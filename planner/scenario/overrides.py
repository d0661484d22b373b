"""`--set a.b[0].c=value` command-line overrides applied to the raw YAML data."""

from __future__ import annotations

import re
from typing import Any

from planner.errors import InputError
from planner.scenario.yaml_lines import load_yaml

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class OverrideError(ValueError):
    """A malformed or inapplicable --set expression (the message does not repeat it)."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """'cluster.pools[0].nodes' or 'cluster.pools.0.nodes' -> ('cluster', 'pools', 0, 'nodes')."""
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise OverrideError(f"bad field path {path!r}")
    parts: list[str | int] = []
    pos = 0
    for match in _TOKEN.finditer(path):
        between = path[pos : match.start()]
        if between not in ("", "."):
            raise OverrideError(f"bad field path {path!r}")
        name, index = match.groups()
        if index is not None:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
        pos = match.end()
    if pos != len(path) or not parts or isinstance(parts[0], int):
        raise OverrideError(f"bad field path {path!r}")
    return tuple(parts)


def parse_assignment(text: str) -> tuple[tuple[str | int, ...], Any]:
    """'a.b=3' -> (('a', 'b'), 3); the value is read as a YAML scalar or flow collection."""
    if "=" not in text:
        raise OverrideError("expected FIELD=VALUE")
    path_text, value_text = text.split("=", 1)
    path = parse_path(path_text.strip())
    try:
        value = load_yaml(value_text, "--set") if value_text.strip() else ""
    except InputError as err:
        detail = err.message.removeprefix("malformed YAML: ")
        raise OverrideError(f"the value is not valid YAML ({detail})") from None
    return path, value


def apply_override(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """Set `value` at `path` inside nested dicts/lists (missing mapping keys are created)."""
    if not isinstance(data, dict):
        raise OverrideError("the scenario is not a mapping")
    node: Any = data
    for depth, key in enumerate(path[:-1]):
        nxt = path[depth + 1]
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                raise OverrideError(f"no list element [{key}]")
            node = node[key]
            continue
        if not isinstance(node, dict):
            raise OverrideError(f"{key!r} is not inside a mapping")
        if key not in node or node[key] is None:
            if isinstance(nxt, int):
                raise OverrideError(f"no list at {key!r}")
            node[key] = {}
        node = node[key]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise OverrideError(f"no list element [{last}]")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise OverrideError(f"{last!r} is not inside a mapping")
        node[last] = value
    return data
