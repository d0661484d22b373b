"""Read, override, validate and cross-check a scenario file; every problem is one InputError."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from planner.catalog.catalog import Catalog, CatalogError, load_catalog
from planner.errors import InputError
from planner.scenario.overrides import OverrideError, apply_override, parse_assignment
from planner.scenario.references import check_references
from planner.scenario.schema import Scenario
from planner.scenario.yaml_lines import dotted, line_of, load_yaml_with_lines


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, its resolved catalog, and the exact text it was read from."""

    scenario: Scenario
    catalog: Catalog
    source: str
    text: str
    overrides: tuple[str, ...] = ()  # as the user typed them: --overrides FILE, --set a.b=1, ...
    fragments: tuple[Fragment, ...] = ()  # the --overrides files merged in, in order


# a scenario fragment (`--overrides FILE`): (its source, its text)
Fragment = tuple[str, str]


def pydantic_message(error: dict) -> str:
    """Pydantic error -> short lower-case message such as 'must be > 0'."""
    kind, ctx = error["type"], error.get("ctx", {})
    templates = {
        "greater_than": "must be > {gt}",
        "greater_than_equal": "must be >= {ge}",
        "less_than": "must be < {lt}",
        "less_than_equal": "must be <= {le}",
        "missing": "is required",
        "extra_forbidden": "unknown field",
        "too_short": "must have at least {min_length} item(s)",
        "string_pattern_mismatch": "must use letters, digits, '_' or '-' only",
    }
    if kind in templates:
        try:
            return templates[kind].format(**ctx)
        except KeyError:
            pass
    msg = error["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif kind.startswith("union_tag"):
        msg = msg.replace("Input tag", "distribution").replace("'dist'", "'dist'")
    return msg[0].lower() + msg[1:] if msg else kind


def clean_location(loc: Sequence) -> tuple[str | int, ...]:
    """Drop pydantic's union/validator tags from a location, keep field names and indices."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            part in {"fixed", "exponential", "lognormal", "gamma", "uniform", "weibull"}
            or part.startswith("function-")
            or part in {"float", "literal['auto']", "int", "str", "none"}
        ):
            continue
        out.append(part)
    return tuple(out)


Overrides = Sequence[tuple[tuple[str | int, ...], str]]  # (field path, as the user typed it)
# paths a fragment set, with the fragment's source and line table: errors there name it
FragmentPaths = Sequence[tuple[tuple[str | int, ...], str, dict]]


def _error(source: str, lines: dict, path: tuple, message: str, overrides: Overrides,
           fragment_paths: FragmentPaths = ()) -> InputError:
    """An InputError at `path`: the command-line option that set it, else the fragment file that
    set it (with its line), else the scenario file's line."""
    for set_path, label in reversed(overrides):
        n = min(len(set_path), len(path))
        if set_path[:n] == path[:n]:
            return InputError(source, message, field=dotted(path) or None, option=label)
    for set_path, fragment, fragment_lines in reversed(fragment_paths):
        n = min(len(set_path), len(path))
        if set_path[:n] == path[:n]:
            return InputError(fragment, message, line_of(fragment_lines, path[:len(set_path)]),
                              dotted(path) or None)
    return InputError(source, message, line_of(lines, path), dotted(path) or None)


def merge_fragment(data: dict, fragment: dict, at: tuple[str | int, ...] = ()
                   ) -> list[tuple[str | int, ...]]:
    """Deep-merge `fragment` into `data` in place: mappings merge key by key, anything else
    (lists included) replaces what was there. Returns the paths it replaced."""
    replaced = []
    for key, value in fragment.items():
        here = (*at, key)
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            replaced += merge_fragment(data[key], value, here)
        else:
            data[key] = value
            replaced.append(here)
    return replaced


def read_fragment(path: str | Path) -> Fragment:
    """An --overrides file's (source, text)."""
    return str(path), read_input(path)


def anchor_data_files(data: object, base_dir: Path) -> None:
    """Make the relative `file` of every empirical duration in `data` (a fragment's, read
    before it is merged into the scenario) relative to `base_dir` instead, in place: a file
    is read from the folder of the file that names it."""
    if isinstance(data, dict):
        name = data.get("file")
        if data.get("dist") == "empirical" and isinstance(name, str) and name.strip() \
                and not Path(name).expanduser().is_absolute():
            data["file"] = str(base_dir / name)
        for value in data.values():
            anchor_data_files(value, base_dir)
    elif isinstance(data, list):
        for value in data:
            anchor_data_files(value, base_dir)


def validate_data(data: object, source: str, lines: dict, overrides: Overrides = (),
                  fragment_paths: FragmentPaths = ()) -> Scenario:
    """Pydantic validation of raw data; the first error becomes an InputError. Data files
    (empirical durations) are read relative to the folder of `source`."""
    if not isinstance(data, dict):
        raise InputError(source, "a scenario must be a YAML mapping", line=1)
    try:
        return Scenario.model_validate(data, context={"base_dir": Path(source).parent})
    except ValidationError as err:
        first = err.errors()[0]
        raise _error(source, lines, clean_location(first["loc"]), pydantic_message(first),
                     overrides, fragment_paths) from None


def load_scenario(
    path: str | Path,
    sets: Sequence[str] = (),
    seed: int | None = None,
    replications: int | None = None,
    fragments: Sequence[Fragment] = (),
) -> LoadedScenario:
    """Read `path`, merge the `--overrides` fragments, apply `--set` overrides and
    seed/replications, validate, resolve the catalog."""
    return load_scenario_text(read_input(path), str(path), sets, seed, replications, fragments)


MAX_INPUT_BYTES = 4 * 1024 * 1024  # a scenario or study file; the largest example is 4 KB


def read_input(path: str | Path, source: str | None = None,
               max_bytes: int | None = None) -> str:
    """The text of an input file; a missing, unreadable or oversized one (over `max_bytes`,
    default MAX_INPUT_BYTES), or one that is not a regular file (a folder, a FIFO, /dev/zero),
    is an InputError naming `source` (default: the path). Nothing is opened before it is known
    to be a regular file, so a FIFO cannot block."""
    limit = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    name = str(path) if source is None else source
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(name, "file not found") from None
    except OSError as err:
        raise InputError(name, f"cannot read: {err.strerror or err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(name, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(name, "is not a regular file (a device, pipe or socket)")
    if info.st_size > limit:
        raise InputError(name, f"is {info.st_size:,} bytes; an input file may have at most "
                         f"{limit:,}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as err:
        raise InputError(name, f"cannot read: {err.strerror or err}") from None
    if len(raw) > limit:  # grew since stat
        raise InputError(name, f"has more than {limit:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(name, f"is not UTF-8 text (byte 0x{raw[err.start]:02x})",
                         line=line) from None


def load_scenario_text(
    text: str,
    source: str,
    sets: Sequence[str] = (),
    seed: int | None = None,
    replications: int | None = None,
    fragments: Sequence[Fragment] = (),
) -> LoadedScenario:
    """As load_scenario, from text already read."""
    data, lines = load_yaml_with_lines(text, source)
    fragment_paths: list[tuple[tuple[str | int, ...], str, dict]] = []
    for fragment_source, fragment_text in fragments:
        fragment, fragment_lines = load_yaml_with_lines(fragment_text, fragment_source)
        if not isinstance(fragment, dict):
            raise InputError(fragment_source, "a scenario fragment must be a YAML mapping", line=1)
        anchor_data_files(fragment, Path(fragment_source).parent)
        if isinstance(data, dict):
            fragment_paths += [(path, fragment_source, fragment_lines)
                               for path in merge_fragment(data, fragment)]
    labelled = [(item, f"--set {item}") for item in sets]
    if seed is not None:
        labelled.append((f"seed={seed}", f"--seed {seed}"))
    if replications is not None:
        labelled.append((f"simulation.replications={replications}", f"--replications {replications}"))
    overrides = []
    for item, label in labelled:
        try:
            field_path, value = parse_assignment(item)
            apply_override(data, field_path, value)
        except OverrideError as err:
            raise InputError(source, str(err), option=label) from None
        overrides.append((field_path, label))
    scenario = validate_data(data, source, lines, overrides, fragment_paths)
    try:
        catalog = load_catalog(scenario.catalog, source)
    except CatalogError as err:
        raise _error(source, lines, ("catalog", *err.path), err.message, overrides,
                     fragment_paths) from None
    problem = check_references(scenario, catalog)
    if problem is not None:
        path, message = problem
        raise _error(source, lines, path, message, overrides, fragment_paths)
    return LoadedScenario(scenario, catalog, source, text,
                          (*(f"--overrides {name}" for name, _ in fragments),
                           *(item for item, _ in labelled)), tuple(fragments))
