"""Command-line conventions: --version, shell completion, -v/--verbose through logging (before
or after the command), and help that shows no `<bool>` for flags."""

from __future__ import annotations

import re
from importlib.metadata import version
from types import SimpleNamespace

import pytest

from planner.cli import _verbosity_first, app
from tests.conftest import ROOT, invoke_planner

COMMANDS = sorted(c.name for c in app.registered_commands if c.name) or sorted(
    c.callback.__name__ for c in app.registered_commands)


def test_version_prints_the_installed_version():
    result = invoke_planner("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"planner {version('cluster-planner')}"


def test_completion_can_be_installed():
    result = invoke_planner("--help")
    assert "--install-completion" in result.output and "--show-completion" in result.output


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_shows_no_bool_metavar(command):
    result = invoke_planner(*([command] if command else []), "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output


def test_verbose_moves_before_the_command_and_nothing_after_double_dash_moves():
    assert _verbosity_first(["run", "s.yaml", "-v", "-q"]) == ["-v", "run", "s.yaml", "-q"]
    assert _verbosity_first(["-vv", "run", "x"]) == ["-vv", "run", "x"]
    assert _verbosity_first(["run", "--", "-v"]) == ["run", "--", "-v"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_the_phases_on_stderr(tmp_path, where):
    args = ["run", str(ROOT / "scenarios" / "h800-10k.yaml"), "-r", "1", "-q", "--out",
            str(tmp_path / "o")]
    args = ["-v", *args] if where == "before" else [*args, "-v"]
    result = invoke_planner(*args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(re.fullmatch(r"planner: loaded .*h800-10k\.yaml in \d+\.\d\d s", x) for x in lines)
    assert any(x.startswith("planner: simulated 1 replications in") for x in lines)
    assert any(x.startswith("planner: reports written in") for x in lines)
    quiet = invoke_planner(*[a for a in args if a != "-v"][:-1], str(tmp_path / "q"))
    assert quiet.exit_code == 0 and "planner: loaded" not in quiet.stderr


def test_the_console_script_runs_the_app_and_spares_the_exit_a_collection(monkeypatch, capsys):
    import atexit
    import gc
    import sys
    import tomllib

    from planner import cli

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"planner": "planner.cli:main"}
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(sys, "argv", ["planner", "--version"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None)
    assert capsys.readouterr().out.strip() == f"planner {version('cluster-planner')}"
    assert registered == [gc.freeze]


@pytest.mark.parametrize(("args", "started"), [
    (["run", "s.yaml"], True), (["-v", "optimize", "s.yaml"], True), (["report", "runs/x"], True),
    (["run", "--help"], False), (["schema"], False), (["--version"], False),
    (["study", "s.yaml"], False), (["--", "run"], False),
])
def test_a_drawing_command_starts_its_drawing_process_before_parsing(monkeypatch, args, started):
    """main starts the drawing process for run, optimize and report (not for --help or other
    commands); the command takes it, and one never taken is closed at exit."""
    import atexit

    from planner import cli
    from planner.reports.drawing import FigureProcess

    class Fake:
        closed = False

        def close(self) -> None:
            self.closed = True

    fake = Fake()
    exits = []
    monkeypatch.setattr(FigureProcess, "start", classmethod(lambda cls: fake))
    monkeypatch.setattr(atexit, "register", exits.append)
    monkeypatch.setattr(cli, "_EARLY_DRAWER", [])
    cli._start_drawing_early(args)
    assert ([fake] if started else []) == cli._EARLY_DRAWER
    if not started:
        return
    with cli._drawing() as taken:
        assert taken is fake and cli._EARLY_DRAWER == []
    assert fake.closed
    fake.closed = False
    exits[0]()  # at exit: nothing left to close
    assert not fake.closed
    cli._start_drawing_early(args)  # never taken: closed at exit
    exits[-1]()
    assert fake.closed


def test_the_out_of_sample_table_puts_a_sign_before_the_dollar():
    """The out-of-sample gap's interval can start below zero: -$0.4M as in report.html, not
    $-0.4M."""
    import pandas as pd
    from rich.console import Console

    from planner.cli import _oos_table

    summary = pd.DataFrame([("optimality gap (Mak-Morton-Wood)", "trees", 592_243.0, -421_470.0,
                             1_605_957.0, 5, "")],
                           columns=["measure", "policy", "estimate_usd", "ci_low_usd",
                                    "ci_high_usd", "n", "note"])
    console = Console(width=80, record=True)
    console.print(_oos_table(SimpleNamespace(summary=summary)))
    text = console.export_text()
    assert "-$0.4M to $1.6M" in text and "$-" not in text
