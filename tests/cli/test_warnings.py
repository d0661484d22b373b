"""`planner validate` and `planner run` warn, one stderr line each, about a valid scenario a
planner should look at twice (planner/scenario/advice.py): a job with no spare node, and the
deprecated preemption_hours."""

from __future__ import annotations

import pytest

from tests.conftest import invoke_planner, make_scenario

WARNING = "warning:"


def _job(name: str = "train", nodes: int = 50, **fields) -> dict:
    return {"name": name, "pool": "p", "nodes": nodes, **fields}


def _invoke(command: str, path, tmp_path):
    args = ("validate", str(path)) if command == "validate" else (
        "run", str(path), "-r", "1", "-q", "--out", str(tmp_path / "out"))
    result = invoke_planner(*args)
    assert result.exit_code == 0, (result.stderr, result.exception)
    return result


def _warnings(result) -> list[str]:
    lines = result.stderr.splitlines()
    assert all(line.startswith(WARNING) for line in lines), lines  # nothing else on stderr
    return lines


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_job_filling_its_pool_with_no_standby_is_warned_once(command, write_yaml, tmp_path):
    path = write_yaml(make_scenario(horizon_days=5, jobs=[_job()]))
    (line,) = _warnings(_invoke(command, path, tmp_path))
    assert line.startswith(f"{WARNING} {path} jobs[0]: "), line
    assert "'train'" in line and "warm_standby_nodes" in line


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_job_with_a_warm_standby_is_not_warned(command, write_yaml, tmp_path):
    path = write_yaml(make_scenario(horizon_days=5,
                                    jobs=[_job(nodes=49, warm_standby_nodes=1)]))
    result = _invoke(command, path, tmp_path)
    assert result.stderr == ""
    if command == "validate":
        assert result.stdout.startswith(f"{path}: ok")


def test_a_job_with_an_idle_node_left_is_not_warned(write_yaml, tmp_path):
    path = write_yaml(make_scenario(horizon_days=5, jobs=[_job(nodes=49)]))
    assert _invoke("validate", path, tmp_path).stderr == ""


@pytest.mark.parametrize(("cap", "warned"), [(None, ["jobs[1]"]), (0, ["jobs[0]", "jobs[1]"])])
def test_a_job_that_may_borrow_from_a_lower_priority_job_is_not_warned(cap, warned, write_yaml,
                                                                       tmp_path):
    high = _job("high", nodes=40, priority=1)
    if cap is not None:
        high["max_borrowed_nodes"] = cap  # it may not borrow after all
    path = write_yaml(make_scenario(horizon_days=5, jobs=[high, _job("low", nodes=10)]))
    lines = _warnings(_invoke("validate", path, tmp_path))
    assert [line.removeprefix(f"{WARNING} {path} ").split(":")[0] for line in lines] == warned, \
        lines


@pytest.mark.parametrize("command", ["validate", "run"])
def test_deprecated_preemption_hours_is_warned_on_its_own_line(command, write_yaml, tmp_path):
    path = write_yaml(make_scenario(horizon_days=5, jobs=[_job(nodes=40, preemption_hours=0.5)]))
    (line,) = _warnings(_invoke(command, path, tmp_path))
    assert line.startswith(f"{WARNING} {path} jobs[0].preemption_hours: "), line
    assert "deprecated" in line and "borrow_hours_per_batch" in line


def test_deprecated_preemption_hours_and_no_spare_node_give_two_lines(write_yaml, tmp_path):
    path = write_yaml(make_scenario(horizon_days=5, jobs=[_job(preemption_hours=0.5)]))
    lines = _warnings(_invoke("validate", path, tmp_path))
    assert len(lines) == 2
    assert lines[0].startswith(f"{WARNING} {path} jobs[0].preemption_hours: ")
    assert lines[1].startswith(f"{WARNING} {path} jobs[0]: ")
