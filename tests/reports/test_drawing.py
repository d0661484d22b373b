"""The drawing process (planner/reports/drawing.py): it returns what the job gives in process,
and on any failure of its own the job runs in process, so the caller sees the same result or
the same error."""

from __future__ import annotations

import math
import shutil

import pytest
from report_helpers import planner_run

from planner.reports import drawing, write_reports
from planner.reports.drawing import FigureProcess, run_job

# a module the process can import at once (the plotting code is slower than these tests need)
LIGHT = "math"


@pytest.fixture
def drawer():
    process = FigureProcess.start(warm=LIGHT)
    if process is None:
        pytest.skip("a single core: no drawing process")
    yield process
    process.close()


def test_the_job_runs_in_the_process_and_returns_its_result(drawer):
    values = [0.1] * 10
    assert run_job(drawer, "math:fsum", values)() == math.fsum(values) == 1.0
    assert drawer._process.returncode is not None  # closed with its result


def test_an_error_in_the_job_is_raised_here_as_in_process(drawer):
    result = run_job(drawer, "math:sqrt", -1.0)
    with pytest.raises(ValueError, match="math domain error"):
        result()


def test_a_killed_process_leaves_the_job_to_this_one(drawer):
    drawer._process.kill()
    drawer._process.wait()
    assert run_job(drawer, "math:hypot", 3.0, 4.0)() == 5.0


def test_what_the_process_says_on_stderr_is_passed_on(drawer, capsys):
    run_job(drawer, "warnings:warn", "careful: a figure warned")()
    assert "careful: a figure warned" in capsys.readouterr().err


def test_without_a_process_the_job_runs_here():
    assert run_job(None, "math:hypot", 3.0, 4.0)() == 5.0


def test_a_single_core_gets_no_process(monkeypatch):
    monkeypatch.setattr(drawing, "default_workers", lambda: 1)
    assert FigureProcess.start(warm=LIGHT) is None


def test_the_environment_can_keep_the_drawing_in_process(monkeypatch):
    monkeypatch.setenv(drawing.IN_PROCESS_ENV, "1")
    assert FigureProcess.start(warm=LIGHT) is None


def test_a_process_never_asked_ends_with_close():
    process = FigureProcess.start(warm=LIGHT)
    if process is None:
        pytest.skip("a single core: no drawing process")
    process.close()
    assert process._process.returncode is not None


@pytest.mark.slow
def test_figures_drawn_in_the_process_are_the_bytes_drawn_here(tmp_path):
    folder = planner_run("scenarios/h800-10k.yaml", tmp_path / "run", "--set",
                         "horizon_days=60", "-r", "2")
    here = tmp_path / "here"
    shutil.copytree(folder, here)
    write_reports(here, drawer=None)
    there = tmp_path / "there"
    shutil.copytree(folder, there)
    process = FigureProcess.start()
    if process is None:
        pytest.skip("a single core: no drawing process")
    write_reports(there, drawer=process)
    plots = sorted(p.name for p in here.glob("plot_*.svg"))
    assert plots and plots == sorted(p.name for p in there.glob("plot_*.svg"))
    for name in plots:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert (here / "report.html").read_bytes() == (there / "report.html").read_bytes()


def test_run_by_hand_the_process_says_what_it_is_in_one_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "planner.reports"], capture_output=True,
                          text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "planner report DIR" in done.stderr
