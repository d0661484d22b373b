"""Empirical durations read from a CSV file: forms, paths relative to the file that names them,
one-line errors naming the scenario, the field, the data file and its line."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.scenario.empirical_file import read_points
from planner.scenario.loader import load_scenario, load_scenario_text
from tests.conftest import invoke_planner, make_scenario


def _scenario(folder, repair: dict) -> str:
    data = make_scenario()
    data["catalog"] = {"categories": {"gpu": {"repair_hours": repair}}}
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _repair(loaded):
    return loaded.catalog.categories["gpu"].repair_distribution()


@pytest.mark.parametrize(("text", "expected"), [
    ("value\n1\n2.5\n", {"values": [1.0, 2.5]}),
    ("# repair hours of 2025\nValue, Weight\n1,3\n\n10,1\n",
     {"values": [1.0, 10.0], "weights": [3.0, 1.0]}),
    ("probability,value\n0,1\n0.5,4\n1,30\n", {"quantiles": [[0.0, 1.0], [0.5, 4.0],
                                                            [1.0, 30.0]]}),
])
def test_each_form_of_the_file_is_read(tmp_path, text, expected):
    (tmp_path / "r.csv").write_text(text)
    assert read_points(tmp_path / "r.csv", 100) == expected


def test_a_relative_file_is_read_from_the_scenarios_folder_and_lands_in_inputs(tmp_path,
                                                                              monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "repairs.csv").write_text("value,weight\n2,1\n20,3\n")
    path = _scenario(folder, {"dist": "empirical", "file": "repairs.csv"})
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    repair = _repair(load_scenario(path))
    assert (repair.values, repair.weights, repair.file) == ([2.0, 20.0], [1.0, 3.0], None)
    assert repair.mean == pytest.approx((2 + 60) / 4)
    out = tmp_path / "run"
    result = invoke_planner("run", path, "-r", "1", "-q", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    inputs = json.loads((out / "inputs.json").read_text())
    assert inputs["scenario"]["catalog"]["categories"]["gpu"]["repair_hours"]["values"] == [2, 20]


def test_a_fragments_file_is_read_from_the_fragments_folder(tmp_path):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "repairs.csv").write_text("value\n7\n")
    fragment = tmp_path / "cal" / "overrides.yaml"
    fragment.write_text("catalog:\n  categories:\n    gpu:\n      repair_hours: "
                        "{dist: empirical, file: repairs.csv}\n")
    loaded = load_scenario_text(yaml.safe_dump(make_scenario()), str(tmp_path / "s.yaml"),
                                fragments=[(str(fragment), fragment.read_text())])
    assert _repair(loaded).values == [7.0]


@pytest.mark.parametrize(("csv", "repair", "expected"), [
    (None, {"file": "missing.csv"}, "missing.csv: file not found"),
    ("value,count\n1,2\n", {}, "line 1: the header must be 'value', 'value,weight' or "
                                "'probability,value', not 'value,count'"),
    ("value,weight\n1,x\n", {}, "line 2: weight 'x' is not a number"),
    ("value,weight\n1,2\n3\n", {}, "line 3: 1 columns where the header has 2"),
    ("value\nnan\n", {}, "line 2: value must be a finite number, not 'nan'"),
    ("# nothing\n", {}, "the file is empty"),
    ("value\n", {}, "no points after the header"),
    ("value\n-1\n", {}, "line 2: value -1 is outside 0 to 1e+06"),
    ("probability,value\n0,1\n1.5,2\n", {}, "line 3: probability 1.5 is outside 0 to 1"),
    ("value,weight\n1,0\n2,0\n", {}, "weights must not all be 0"),
    ("probability,value\n0.2,1\n1,2\n", {}, "quantiles must run from probability 0 to 1"),
    ("value\n1\n", {"values": [1.0]}, "give a file or inline values or quantiles, not both"),
])
def test_a_bad_file_is_one_line_naming_scenario_field_file_and_line(tmp_path, csv, repair,
                                                                     expected):
    if csv is not None:
        (tmp_path / "r.csv").write_text(csv)
    path = _scenario(tmp_path, {"dist": "empirical", "file": "r.csv", **repair})
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(path), message
    assert "catalog.categories.gpu.repair_hours" in message and expected in message, message
    result = invoke_planner("validate", path)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_weights_need_one_per_value(tmp_path):
    path = _scenario(tmp_path, {"dist": "empirical", "values": [1, 2], "weights": [1]})
    with pytest.raises(InputError, match="one weight for each value"):
        load_scenario(path)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5, allow_nan=False),
                          st.floats(0.001, 1e3, allow_nan=False)), min_size=1, max_size=30))
def test_values_and_weights_written_as_csv_read_back_exactly(tmp_path_factory, points):
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    path.write_text("value,weight\n" + "".join(f"{v!r},{w!r}\n" for v, w in points))
    assert read_points(path, 100) == {"values": [v for v, _ in points],
                                      "weights": [w for _, w in points]}
