"""The wired model: defaults, degenerate rates, the events it reports, and its import graph."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from planner.sim.checkpoint import split_segment
from tests.conftest import model_of
from tests.sim.scenarios import MINIMAL

SIM = Path(__file__).resolve().parents[2] / "planner" / "sim"


def test_scenario_without_repair_section_runs_on_documented_defaults():
    result = model_of(MINIMAL).run()
    assert 0 < result.metrics["ettr.a"] <= 1
    assert result.sim_events > 0


def test_zero_failure_rate_gives_full_ettr_not_nan():
    data = dict(MINIMAL, catalog={"skus": {"H800": {"failure_rate_multiplier": 0}}})
    result = model_of(data).run()
    assert result.metrics["ettr.a"] == pytest.approx(1 - 0.1 / (60 * 24))  # initial host selection
    assert math.isfinite(result.metrics["goodput_gpu_hours"])
    assert split_segment(10.0, math.inf, 0.1).unsaved_hours == 10.0


def _imports(folder: Path, package: str) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports anywhere in its source (TYPE_CHECKING
    blocks and function bodies included), for the modules in `folder`."""
    graph: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        name = package if path.stem == "__init__" else f"{package}.{path.stem}"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.level == 0 and node.module.startswith(package):
                    deps.add(node.module)
                    deps.update(f"{node.module}.{a.name}" for a in node.names)
                elif node.level > 0:
                    deps.add(f"{package}.{node.module}")
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith(package))
        graph[name] = deps
    return {name: {d for d in deps if d in graph and d != name} for name, deps in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """An import cycle of `graph` (depth-first search), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep, [*path, dep])
                if found:
                    return found
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_planner_sim_has_no_import_cycle():
    graph = _imports(SIM, "planner.sim")
    assert len(graph) > 10 and graph["planner.sim.model"]
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_sees_imports_made_only_for_type_checking(tmp_path):
    (tmp_path / "a.py").write_text("from pkg.b import B\n")
    (tmp_path / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from pkg.a import A\n")
    (tmp_path / "c.py").write_text("def f():\n    from pkg import a\n")
    graph = _imports(tmp_path, "pkg")
    assert graph == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.a"}}
    assert _cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    assert _cycle({"pkg.a": {"pkg.b"}, "pkg.b": set()}) is None
