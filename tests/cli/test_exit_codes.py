"""The exit codes: one enum, used by name, every one of them documented in docs/errors.md."""

from __future__ import annotations

import ast
import re

from planner.exit_codes import ExitCode
from tests.conftest import ROOT

CLI = ROOT / "planner" / "cli.py"
DOCS = ROOT / "docs" / "errors.md"


def _codes_used() -> set[ExitCode]:
    """ExitCode members the CLI's source names (ExitCode.X)."""
    tree = ast.parse(CLI.read_text(encoding="utf-8"))
    return {ExitCode[node.attr] for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "ExitCode"}


def test_the_cli_never_exits_with_a_bare_number():
    tree = ast.parse(CLI.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("Exit", "exit"):
            for arg in node.args:
                assert not isinstance(arg, ast.Constant), ast.unparse(node)


def test_docs_name_every_exit_code_the_cli_uses():
    documented = {int(code): name for code, name in
                  re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", DOCS.read_text(encoding="utf-8"), re.M)}
    used = _codes_used()
    assert len(used) >= 7
    for code in used | set(ExitCode):
        assert documented.get(code.value) == code.name, code
