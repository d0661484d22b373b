"""Shared builders: small scenarios written as dicts, validated through the real loader, and the
command line run as a user runs it."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings as hypothesis_settings

from planner.catalog.catalog import shipped_catalog
from planner.scenario.loader import LoadedScenario, load_scenario_text
from planner.sim.model import ClusterModel
from planner.sim.setup import build_setup

# In CI (CI set, as .ci/run does) Hypothesis draws the same examples every run: a failure there
# is reproducible, not a matter of luck.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 600

BASE: dict[str, Any] = {
    "name": "test",
    "start_date": "2027-01-01",
    "horizon_days": 100,
    "seed": 7,
    "simulation": {"replications": 2},
    "cluster": {
        "pools": [{"name": "p", "sku": "H800", "nodes": 50}],
        "repair": {
            "diagnosis_hours": 0,
            "auto_repair_hours": 0,
            "auto_repair_success_probability": 1.0,
            "validation_hours": 0,
            "hands_on_hours": 0,
            "manual_fix_fail_probability": 0.0,
        },
        "spares": {"default": {"initial_stock": 1000, "policy": "base_stock",
                               "lead_time_days": 1}},
    },
    "jobs": [],
}


def only_categories(rates: dict[str, float], hard: dict[str, float] | None = None) -> dict:
    """A catalog patch that zeroes every failure category except `rates` (per 1000 node-days),
    and every shared component (switches, racks, PDUs)."""
    hard = hard or {}
    patch = {}
    for name in shipped_catalog().categories:
        entry: dict[str, Any] = {"failure_rate_per_1000_node_days": rates.get(name, 0.0),
                                 "hard_fraction": hard.get(name, 0.0)}
        patch[name] = entry
    shared = {name: {"failure_rate_per_1000_unit_days": 0.0}
              for name in shipped_catalog().shared_components}
    return {"categories": patch, "shared_components": shared}


def make_scenario(**changes: Any) -> dict:
    """BASE with top-level keys replaced (deep-copied)."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data


def load(data: dict, sets: tuple[str, ...] = ()) -> LoadedScenario:
    return load_scenario_text(yaml.safe_dump(data, sort_keys=False), "test.yaml", sets)


def model_of(data: dict, replication: int = 0, sets: tuple[str, ...] = ()) -> ClusterModel:
    """Replication `replication` of the scenario `data`, wired and not yet run."""
    loaded = load(data, sets)
    return ClusterModel(build_setup(loaded.scenario, loaded.catalog), replication)


@pytest.fixture
def write_yaml(tmp_path):
    def _write(data: dict | str, name: str = "scenario.yaml"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path
    return _write


def run_planner(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`planner ARGS` in a fresh interpreter, from the repository root unless `cwd` says
    otherwise; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "planner.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=CLI_TIMEOUT_S)


@pytest.fixture(scope="session")
def planner_cli() -> Callable[..., subprocess.CompletedProcess]:
    """The command line as a user runs it (run_planner); session-scoped, so module fixtures
    that prepare an output folder can use it too."""
    return run_planner


def invoke_planner(*args: str):
    """`planner ARGS` in this process (typer's CliRunner): quick, and an uncaught exception is
    kept in `.exception` rather than printed, so tests can tell a traceback from a clean exit."""
    from typer.testing import CliRunner

    from planner.cli import app

    return CliRunner().invoke(app, list(args), prog_name="planner")
