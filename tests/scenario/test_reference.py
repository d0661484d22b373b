"""The JSON Schemas editors use and the loader agree: every shipped scenario and study file
passes both, and files made invalid (an unknown key anywhere, a value out of range, a word
that is not one of the choices, a required field missing) fail both. The committed schemas and
docs/scenario.md are what the models generate now."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.scenario.loader import load_scenario_text
from planner.scenario.reference import generated_files, scenario_schema, study_schema
from planner.studies.run import load_study
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
STUDIES = [p for p in SHIPPED if p.name.startswith("study-")]
SCENARIOS = [p for p in SHIPPED if p not in STUDIES]


def _as_editor_reads(path: Path) -> dict:
    """The file as a YAML 1.2 editor sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))


def _schema_errors(data: dict, schema: dict) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]


def _loader_accepts(data: dict, path: Path, tmp_path: Path) -> bool:
    """Whether planner's own loader accepts `data` as the file `path` (a study's base is
    resolved next to the shipped file)."""
    try:
        if path in STUDIES:
            data = {**data, "base": str(path.parent / data["base"])}
            target = tmp_path / path.name
            target.write_text(yaml.safe_dump(data, sort_keys=False))
            load_study(target)
        else:
            load_scenario_text(yaml.safe_dump(data, sort_keys=False), str(path))
    except InputError:
        return False
    return True


def _schema_of(path: Path) -> dict:
    return study_schema() if path in STUDIES else scenario_schema()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_passes_the_schema_and_the_loader(path, tmp_path):
    data = _as_editor_reads(path)
    assert _schema_errors(data, _schema_of(path)) == []
    assert _loader_accepts(data, path, tmp_path)
    first = path.read_text().splitlines()[0]
    kind = "study" if path in STUDIES else "scenario"
    assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json"


def test_a_schema_key_is_accepted_and_ignored(tmp_path):
    path = ROOT / "scenarios" / "h800-10k.yaml"
    data = {"$schema": "../schemas/scenario.schema.json", **_as_editor_reads(path)}
    assert _schema_errors(data, scenario_schema()) == []
    loaded = load_scenario_text(yaml.safe_dump(data, sort_keys=False), str(path))
    assert "$schema" not in loaded.scenario.model_dump(by_alias=True)
    study = STUDIES[0]
    data = {"$schema": "../schemas/study.schema.json", **_as_editor_reads(study)}
    assert _schema_errors(data, study_schema()) == [] and _loader_accepts(data, study, tmp_path)


def _mappings(node, path=()):
    """Every mapping in a document, with its path."""
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from _mappings(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _mappings(value, (*path, i))


def _at(data, path):
    for key in path:
        data = data[key]
    return data


def _resolve(node: dict, schema: dict) -> dict:
    """A schema node with its $ref followed and its optional (anyOf with null) unwrapped."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            members = [m for m in node["anyOf"] if m.get("type") != "null"]
            if len(members) != 1:
                return node
            node = members[0]
        else:
            return node


def _is_model(path: tuple, schema: dict) -> bool:
    """Whether the mapping at `path` is a model (fixed fields), not a map with free keys."""
    node = _resolve(schema, schema)
    for key in path:
        if isinstance(key, int):
            node = _resolve(node.get("items", {}), schema)
        elif key in node.get("properties", {}):
            node = _resolve(node["properties"][key], schema)
        else:
            node = _resolve(node.get("additionalProperties", {}) or {}, schema)
    return "properties" in node and node.get("additionalProperties") is False


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_an_unknown_key_in_any_model_fails_both(tmp_path_factory, data):
    path = data.draw(st.sampled_from(SHIPPED), label="file")
    doc = _as_editor_reads(path)
    schema = _schema_of(path)
    models = [where for where in _mappings(doc) if _is_model(where, schema)]
    where = data.draw(st.sampled_from(models), label="mapping")
    bad = copy.deepcopy(doc)
    _at(bad, where)["no_such_field"] = 1
    assert _schema_errors(bad, schema) != []
    assert not _loader_accepts(bad, path, tmp_path_factory.mktemp("u"))


MUTATIONS = [  # (file, path, value): invalid for both; None deletes the field
    ("h800-10k.yaml", ("horizon_days",), -5),
    ("h800-10k.yaml", ("name",), None),
    ("h800-10k.yaml", ("simulation", "stop"), "never"),
    ("h800-10k.yaml", ("seed",), -1),
    ("h800-10k.yaml", ("cluster", "spares", "default", "rma_turnaround_days"), "thirty"),
    ("procurement-2027.yaml", ("procurement", "quarters"), 0),
    ("sanctions-2027.yaml", ("sanctions", "events", 0, "type"), "meteor"),
    ("study-block-date.yaml", ("replications",), 0),
    ("study-block-date.yaml", ("command",), "dance"),
    ("study-block-date.yaml", ("base",), None),
]


@pytest.mark.parametrize("name, where, value", MUTATIONS)
def test_invalid_values_fail_both(tmp_path, name, where, value):
    path = ROOT / "scenarios" / name
    doc = _as_editor_reads(path)
    parent = _at(doc, where[:-1])
    if value is None:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    assert _schema_errors(doc, _schema_of(path)) != []
    if value is None and where == ("base",):
        with pytest.raises((InputError, KeyError)):
            _loader_accepts(doc, path, tmp_path)
        return
    assert not _loader_accepts(doc, path, tmp_path)


@pytest.mark.parametrize("relative", sorted(generated_files()))
def test_generated_files_are_current(relative):
    committed = (ROOT / relative).read_text(encoding="utf-8")
    assert committed == generated_files()[relative], (
        f"{relative} is stale: run python -m planner.scenario.reference")
