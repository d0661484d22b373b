"""Safe YAML loading that remembers the line of every mapping key and list item, and refuses
what would hang or crash the process.

Pydantic reports a location such as ("cluster", "pools", 0, "nodes"); this module maps it back to
the line of the YAML file so errors read `scenarios/x.yaml:14 cluster.pools[0].nodes: ...`.

Limits (docs/errors.md): nesting deeper than MAX_NESTING levels, more than MAX_ALIASES aliases,
more than MAX_EXPANDED_NODES values once aliases are expanded (a "billion laughs" file), a
number of more digits than Python converts, an impossible date, a mapping key that is not text,
a control character. Each is one InputError naming the line.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from planner.errors import InputError

Path = tuple[str | int, ...]

MAX_NESTING = 64  # mappings and lists inside each other; a scenario needs about 8
MAX_ALIASES = 100  # `*name` references
MAX_EXPANDED_NODES = 200_000  # values after expanding aliases; a large scenario has ~10,000
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that refuses duplicate keys, keys that are not text,
    deep nesting and alias bombs."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name)",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise ComposerError(None, None, f"nested deeper than {MAX_NESTING} levels",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _GuardedLoader, node: yaml.MappingNode,
                       deep: bool = False) -> dict:
    loader.flatten_mapping(node)  # merge keys (`<<: *base`) first
    keys_seen: set[str] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            shown = (f"{key_node.value!r} (quote it)" if isinstance(key_node, yaml.ScalarNode)
                     else "a list or map")
            raise ConstructorError(None, None, f"a key must be text, not {shown}",
                                   key_node.start_mark)
        if key in keys_seen:
            raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        keys_seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_int(loader: _GuardedLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        raise ConstructorError(None, None, f"a number of more than {MAX_INT_DIGITS} digits",
                               node.start_mark) from None


def _construct_timestamp(loader: _GuardedLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        raise ConstructorError(None, None, f"{node.value!r} is not a date ({err})",
                               node.start_mark) from None


_GuardedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_GuardedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_GuardedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Values in `node` with every alias expanded (each shared node counted once per use)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, memo) for item in node.value)
    memo[id(node)] = size
    return size


def _line_of_position(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _parse(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    loader = _GuardedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise InputError(source, f"malformed YAML: more than {MAX_EXPANDED_NODES:,} values "
                             "once aliases are expanded", line=node.start_mark.line + 1)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text safely (the limits above); the data only."""
    return load_yaml_with_lines(text, source)[0]


def load_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text safely; return the data and a map from field path to 1-based line."""
    try:
        node, data = _parse(text, source)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = err.problem or err.context or "malformed YAML"
        if (err.context or "").startswith("expected a single document"):
            problem = "a second document (---) where one is expected"
        raise InputError(source, f"malformed YAML: {problem}", line=line) from None
    except yaml.reader.ReaderError as err:
        what = (f"byte 0x{ord(err.character):02x} is not {err.encoding}"
                if isinstance(err.character, bytes)
                else f"character U+{err.character:04X} is not allowed in YAML")
        raise InputError(source, f"malformed YAML: {what}",
                         line=_line_of_position(text, err.position)) from None
    except yaml.YAMLError as err:
        raise InputError(source, "malformed YAML: " + " ".join(str(err).split())) from None
    except RecursionError:
        raise InputError(source, f"malformed YAML: nested deeper than {MAX_NESTING} levels") \
            from None
    lines: dict[Path, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """Line of the deepest known prefix of `path` (a missing field points at its parent)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def dotted(path: Path) -> str:
    """('cluster', 'pools', 0, 'nodes') -> 'cluster.pools[0].nodes'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
