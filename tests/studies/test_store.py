"""The case store trusts only whole, unchanged case files."""

from __future__ import annotations

import json

import pytest

from planner.studies.store import CaseStore

RECORD = {"name": "c1", "key": "k1", "seed": 3, "params": [["a", 1]], "overrides": ["a=1"],
          "metrics": {"0": {"goodput_gpu_hours": 12.5, "ettr.x": float("nan")}}, "error": None,
          "elapsed_s": 0.1}


def test_a_stored_case_reads_back_as_written(tmp_path):
    warnings: list[str] = []
    store = CaseStore(tmp_path, warn=warnings.append)
    store.put("k1", RECORD)
    assert store.done() == {"k1"}
    back = store.get("k1")
    assert back["metrics"]["0"] == {"goodput_gpu_hours": 12.5, "ettr.x": None}  # NaN as null
    assert warnings == []


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda text: "", "cannot be read"),
    (lambda text: text[:30], "cannot be read"),
    (lambda text: "[1, 2]", "is not a case record"),
    (lambda text: '{"name": "c1"}', "is not a case record"),
    (lambda text: text.replace("12.5", "99.0"), "does not match its checksum"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "checksum"}),
     "has no checksum"),
])
def test_a_damaged_or_edited_case_is_run_again_with_one_warning(tmp_path, damage, problem):
    warnings: list[str] = []
    store = CaseStore(tmp_path, warn=warnings.append)
    store.put("k1", RECORD)
    path = tmp_path / "cases" / "k1.json"
    path.write_text(damage(path.read_text()))
    assert store.done() == set()  # not trusted: the study runs it again
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {path} {problem}")
    assert "\n" not in warnings[0]
    with pytest.raises(KeyError):
        store.get("k1")


def test_a_case_file_under_another_key_is_not_trusted(tmp_path):
    warnings: list[str] = []
    store = CaseStore(tmp_path, warn=warnings.append)
    store.put("k1", RECORD)
    (tmp_path / "cases" / "k1.json").rename(tmp_path / "cases" / "k2.json")
    assert store.done() == set() and "holds another case's key" in warnings[0]


def test_stale_temp_files_of_a_killed_write_are_removed(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / ".k1.json.abc123.tmp").write_text("{half")
    CaseStore(tmp_path)
    assert list((tmp_path / "cases").iterdir()) == []
