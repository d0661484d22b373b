"""Output file names are defined once, in planner/outputs/layout.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from planner.outputs import layout

PLANNER = Path(__file__).resolve().parents[2] / "planner"
LAYOUT = PLANNER / "outputs" / "layout.py"
# a string naming an output file by its extension (.yaml counts only for the names the layout
# defines: the catalog's data files and scenario inputs are .yaml too)
OUTPUT_FILE = re.compile(r"\.(json|parquet|csv|xlsx|html|svg|png|log|tmp)$")


def _layout_names() -> set[str]:
    """The file names (`summary.json`) and name prefixes (`plan_`) the layout defines."""
    values = [v for v in vars(layout).values() if isinstance(v, str)]
    for holder in (v for v in vars(layout).values() if isinstance(v, type)):
        values += [v for k, v in vars(holder).items() if k.isupper() and isinstance(v, str)]
    return {v for v in values if "." in v[1:] or v.endswith("_")}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def file_name_literals(source: str, defined: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every string in `source`, docstrings aside, that names an output file:
    a name or prefix the layout defines, or anything ending in an output file's extension
    (the constant parts of f-strings included)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip
            and (OUTPUT_FILE.search(node.value.strip()) or node.value.strip() in defined)]


def test_no_output_file_name_is_defined_outside_the_layout():
    defined = _layout_names()
    assert {"summary.json", "optimization.json", "study.json", "report.xlsx", "scenario.yaml",
            "plan_", "report_"} <= defined
    found = [f"{path.relative_to(PLANNER.parent)}:{line}: {text!r}"
             for path in sorted(PLANNER.rglob("*.py")) if path != LAYOUT
             for line, text in file_name_literals(path.read_text(encoding="utf-8"), defined)]
    assert found == []


def test_the_check_finds_names_in_strings_and_f_strings_but_not_in_docstrings():
    source = ('"""Writes summary.json (a docstring may say so)."""\n'
              'NAME = "summary.json"\n'
              'def f(stem):\n'
              '    """Returns <stem>.parquet."""\n'
              '    return f"{stem}.parquet", "plan_" + stem, "capacity", "skus.yaml"\n')
    found = file_name_literals(source, _layout_names())
    assert found == [(2, "summary.json"), (5, ".parquet"), (5, "plan_")]
