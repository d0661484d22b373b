"""Property tests of the YAML line map and the --set override parser."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from planner.scenario.overrides import apply_override, parse_assignment, parse_path
from planner.scenario.yaml_lines import dotted, line_of, load_yaml_with_lines
from tests.conftest import load, make_scenario

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(st.integers(-1000, 1000), st.booleans(),
                    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                    st.text("abcxyz", min_size=1, max_size=5))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, min_size=1, max_size=3),
                               st.dictionaries(keys, children, min_size=1, max_size=3)),
    max_leaves=12,
)


def _paths(data, prefix=()):
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


@pytest.mark.slow
@given(st.dictionaries(keys, trees, min_size=1, max_size=4))
def test_every_mapping_key_maps_to_its_own_line(data):
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    parsed, lines = load_yaml_with_lines(text, "x.yaml")
    assert parsed == data
    text_lines = text.splitlines()
    for path, _ in _paths(data):
        if path and isinstance(path[-1], str):
            line = line_of(lines, path)
            assert f"{path[-1]}:" in text_lines[line - 1] or f"'{path[-1]}':" in text_lines[line - 1]


@given(st.lists(st.one_of(keys, st.integers(0, 20)), min_size=1, max_size=6).filter(
    lambda p: isinstance(p[0], str)))
def test_dotted_path_round_trips(path):
    assert parse_path(dotted(tuple(path))) == tuple(path)


@given(st.integers(0, 10**6))
def test_set_overrides_reach_the_validated_scenario(nodes):
    loaded = load(make_scenario(), (f"cluster.pools[0].nodes={nodes + 1}", "seed=3",
                                    "jobs=[]", "simulation.replications=4"))
    s = loaded.scenario
    assert s.cluster.pools[0].nodes == nodes + 1
    assert s.seed == 3 and s.simulation.replications == 4


def test_set_creates_missing_mapping_keys_and_parses_yaml_values():
    data = {"a": {"b": [1, 2]}}
    path, value = parse_assignment("a.c.d={dist: exponential, mean: 2}")
    apply_override(data, path, value)
    assert data["a"]["c"]["d"] == {"dist": "exponential", "mean": 2}
    path, value = parse_assignment("a.b.1=2027-07-01")
    apply_override(data, path, value)
    assert str(data["a"]["b"][1]) == "2027-07-01"
