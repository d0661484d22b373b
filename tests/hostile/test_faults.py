"""Faults: a command killed mid-write, a worker killed, the parent killed, two writers, a full
disk, a tampered case file. Each ends in one line or a whole folder, never a folder that lies.
Linux only (process tree read from /proc)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from planner.outputs.layout import COMPLETE
from tests.conftest import ROOT, run_planner

pytestmark = pytest.mark.slow

SCENARIO = str(ROOT / "scenarios" / "h800-10k.yaml")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "planner.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _is_worker(pid: int) -> bool:
    """A pool worker (multiprocessing's spawn_main), not the resource tracker."""
    try:
        return "spawn_main" in (Path("/proc") / str(pid) / "cmdline").read_text()
    except OSError:
        return False


def _wait_for(condition, timeout_s: float = 120.0, step_s: float = 0.02) -> bool:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return False


def test_sigkill_during_the_report_phase_leaves_the_old_folder_whole(tmp_path):
    out = tmp_path / "out"
    first = run_planner("run", SCENARIO, "-r", "1", "-w", "1", "-q", "--set", "horizon_days=30",
                        "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = _start("run", SCENARIO, "-r", "1", "-w", "1", "-q", "--set", "horizon_days=60",
                  "--out", str(out))
    staging = lambda: next(tmp_path.glob(".out.new-*"), None)  # noqa: E731
    # summary.json is written just before the reports: kill then
    assert _wait_for(lambda: staging() is not None and (staging() / "summary.json").exists(),
                     step_s=0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old folder, whole
    again = run_planner("report", str(out))  # the next command removes what the kill left
    assert again.returncode == 0, again.stderr
    assert "removed the unfinished output of an interrupted command" in again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_killed_worker_is_one_line_naming_the_replication_and_nothing_is_written(tmp_path):
    out = tmp_path / "out"
    proc = _start("run", SCENARIO, "-r", "40", "-w", "2", "-q", "--out", str(out))
    workers = lambda: [pid for pid in _children(proc.pid) if _is_worker(pid)]  # noqa: E731
    assert _wait_for(lambda: len(workers()) >= 2)
    time.sleep(1.0)  # past start-up: the workers are simulating
    os.kill(max(workers()), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 6, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "a worker process died" in lines[0], stderr
    assert "replication" in lines[0] and "nothing was written" in lines[0]
    assert not out.exists()


def _is_drawer(pid: int) -> bool:
    """The process drawing the report figures (python -m planner.reports)."""
    try:
        return "planner.reports" in (Path("/proc") / str(pid) / "cmdline").read_text()
    except OSError:
        return False


def test_a_killed_drawing_process_leaves_the_figures_to_the_command(tmp_path):
    out = tmp_path / "out"
    proc = _start("run", SCENARIO, "-r", "1", "-w", "1", "-q", "--set", "horizon_days=60",
                  "--out", str(out))
    drawers = lambda: [pid for pid in _children(proc.pid) if _is_drawer(pid)]  # noqa: E731
    if not _wait_for(lambda: bool(drawers()) or proc.poll() is not None, step_s=0.005) \
            or not drawers():
        proc.communicate(timeout=300)
        pytest.skip("no drawing process (a single core)")
    os.kill(drawers()[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert stderr == ""
    again = tmp_path / "again"
    shutil.copytree(out, again)
    redrawn = run_planner("report", str(again))
    assert redrawn.returncode == 0, redrawn.stderr
    plots = sorted(p.name for p in out.glob("plot_*.svg"))
    assert "plot_capacity.svg" in plots
    assert plots == sorted(p.name for p in again.glob("plot_*.svg"))
    for name in plots:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_workers_and_the_resource_tracker_die_with_a_killed_parent(tmp_path):
    proc = _start("run", SCENARIO, "-r", "40", "-w", "2", "-q", "--out", str(tmp_path / "out"))
    assert _wait_for(lambda: len(_children(proc.pid)) >= 3)  # two workers and the tracker
    time.sleep(1.0)
    family = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _wait_for(lambda: not any(_alive(pid) for pid in family), timeout_s=10.0), \
        [pid for pid in family if _alive(pid)]


def test_a_second_writer_of_the_same_folder_is_refused_in_one_line(tmp_path):
    out = tmp_path / "out"
    first = _start("run", SCENARIO, "-r", "300", "-w", "1", "-q", "--out", str(out))
    assert _wait_for(lambda: (tmp_path / ".out.lock").exists())
    second = run_planner("run", SCENARIO, "-r", "1", "-q", "--out", str(out))
    assert second.returncode == 7, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"is being written by planner process {first.pid}" in lines[0]
    assert first.poll() is None, "the first writer must still be running for this to prove much"
    os.killpg(first.pid, signal.SIGKILL)  # its lock is now stale: the next writer takes over
    first.wait()
    third = run_planner("run", SCENARIO, "-r", "1", "-w", "1", "-q", "--out", str(out))
    assert third.returncode == 0, third.stderr
    assert (out / COMPLETE).exists() and not (tmp_path / ".out.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_full_disk_is_one_line_and_leaves_no_partial_folder(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()})")
    try:
        out = mount / "out"
        proc = run_planner("run", SCENARIO, "-r", "2", "-w", "1", "-q", "--out", str(out))
        assert proc.returncode == 6, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert lines == [f"{out}: no space left on the device; the folder was left as it was"]
        assert list(mount.iterdir()) == []  # no folder, no staging, no lock
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_tampered_case_file_is_recomputed_with_a_warning(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({
        "name": "t", "base": SCENARIO, "replications": 1, "metrics": ["goodput_gpu_hours"],
        "set": {"horizon_days": 20}, "grid": {"cluster.repair.technicians": [2, 4]}}))
    out = tmp_path / "out"
    first = run_planner("study", str(study), "-w", "1", "-q", "--out", str(out))
    assert first.returncode == 0, first.stderr
    results = (out / "study_results.parquet").read_bytes()
    tampered, truncated = sorted((out / "cases").glob("*.json"))
    record = json.loads(tampered.read_text())
    record["metrics"]["0"]["goodput_gpu_hours"] = 1.0
    tampered.write_text(json.dumps(record))
    truncated.write_text(truncated.read_text()[:40])
    again = run_planner("study", str(study), "-w", "1", "-q", "--out", str(out))
    assert again.returncode == 0, again.stderr
    warnings = again.stderr.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: ") for w in warnings)
    assert any(tampered.name in w and "does not match its checksum" in w for w in warnings)
    assert any(truncated.name in w and "cannot be read" in w for w in warnings)
    assert (out / "study_results.parquet").read_bytes() == results  # recomputed, not trusted
    shutil.rmtree(out)


def test_an_unreachable_dask_scheduler_is_one_line_after_the_timeout(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"name": "t", "base": SCENARIO, "replications": 1,
                                     "grid": {"seed": [1, 2]}}))
    start = time.perf_counter()
    proc = run_planner("study", str(study), "-q", "--scheduler", "tcp://127.0.0.1:1",
                       "--out", str(tmp_path / "out"))
    assert time.perf_counter() - start < 60
    assert proc.returncode == 6, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Dask scheduler answered at tcp://127.0.0.1:1 within 5 s" \
        in lines[0]


def test_a_killed_study_worker_keeps_the_stored_cases_and_names_the_lost_ones(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"name": "t", "base": SCENARIO, "replications": 40,
                                     "grid": {"cluster.repair.technicians": list(range(1, 7))}}))
    out = tmp_path / "out"
    proc = _start("study", str(study), "-w", "2", "-q", "--out", str(out))
    assert _wait_for(lambda: len(list((out / "cases").glob("*.json"))) >= 1
                     if (out / "cases").exists() else False, step_s=0.005)
    workers = [pid for pid in _children(proc.pid) if _is_worker(pid)]
    assert workers, "the study ended before a worker could be killed"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 6, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "a worker process died" in lines[0] and "case grid-" in lines[0]
    assert "finished cases are kept" in lines[0]
    kept = len(list((out / "cases").glob("*.json")))
    assert kept >= 1 and not (out / COMPLETE).exists()
    again = run_planner("study", str(study), "-w", "2", "-q", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert (out / COMPLETE).exists() and len(list((out / "cases").glob("*.json"))) == 6


def test_the_same_folder_gives_the_same_workbook_bytes(tmp_path):
    out = tmp_path / "out"
    assert run_planner("run", SCENARIO, "-r", "1", "-w", "1", "-q", "--set", "horizon_days=20",
                       "--out", str(out)).returncode == 0
    first = (out / "report.xlsx").read_bytes()
    time.sleep(1.1)  # a creation time taken from the clock would differ now
    assert run_planner("report", str(out)).returncode == 0
    assert (out / "report.xlsx").read_bytes() == first
