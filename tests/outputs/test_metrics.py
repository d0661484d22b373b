"""The metric registry is the one list of metrics: the simulator reports exactly its metrics,
summary.json nests them by it, and docs/outputs.md lists exactly it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.metrics import (
    METRICS,
    PLAN_METRICS,
    RUNWAY_CENSORED,
    RUNWAY_DAYS,
    SIMULATION_METRICS,
    markdown_table,
    resolve,
    summary_path,
    unit_of,
)
from tests.conftest import model_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"

FULL = {  # a scenario in which every simulation metric occurs
    "name": "full", "start_date": "2027-01-01", "horizon_days": 120, "seed": 3,
    "catalog": {"skus": {"H800": {"failure_rate_multiplier": 10}}},
    "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 40,
                           "retirement": {"failures": 2, "window_days": 60}}],
                "spares": {"default": {"initial_stock": 1, "policy": "base_stock",
                                       "lead_time_days": 20, "cannibalize": True}}},
    "jobs": [{"name": "a", "pool": "p", "nodes": 20, "priority": 1,
              "work_target_gpu_hours": 20 * 8 * 24 * 30.0},
             {"name": "b", "pool": "p", "nodes": 10}],
    # a parts block within the run: the runway metrics
    "supply_shocks": [{"name": "block", "vendor": "Nvidia", "date": "2027-02-01"}],
}


def test_names_are_unique_and_every_flat_name_resolves_to_its_metric():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    for m in METRICS:
        assert resolve(m.flat()) == (m, None)
        if m.per is not None:
            assert resolve(m.flat("x.y")) == (m, "x.y")
    assert resolve("interruptions.by_category.gpu")[0].name == "interruptions.by_category"
    assert resolve("interruptions") is None and unit_of("nonsense") is None
    assert summary_path("interruptions.by_category.gpu") == ["interruptions", "by_category", "gpu"]
    assert summary_path("stockout_days.H800/gpu_board") == ["stockout_days", "H800/gpu_board"]


def test_the_simulator_reports_exactly_the_registered_simulation_metrics():
    result = model_of(FULL).run()
    used = set()
    for name in result.metrics:
        found = resolve(name)
        assert found is not None and found[0] in SIMULATION_METRICS, name
        used.add(found[0])
    assert used == set(SIMULATION_METRICS)


def test_plan_metrics_are_not_adaptive_and_simulation_metrics_are_but_the_runway():
    """The runway's replications are censored: the mean of their lower bounds is no target."""
    runway = {RUNWAY_DAYS, RUNWAY_CENSORED}
    assert all(m.adaptive for m in SIMULATION_METRICS if m not in runway)
    assert not any(m.adaptive for m in (*PLAN_METRICS, *runway))


def test_docs_list_exactly_the_registry():
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- metrics:begin -->\n(.*?)\n<!-- metrics:end -->", text, re.S)
    assert found is not None, "docs/outputs.md has no metrics table"
    assert found.group(1) == markdown_table(), "regenerate it: planner.metrics.markdown_table()"
    rows = [line for line in found.group(1).splitlines()[2:]]
    assert [re.match(r"\| `([^`]+)`", row).group(1) for row in rows] == [m.name for m in METRICS]


@pytest.mark.parametrize("name", ["ettr.a", "goodput_gpu_hours", "interruptions.total",
                                  "node_availability.p", "parts_spend_usd",
                                  "node_failures.p", "job_completed.a"])
def test_every_simulation_metric_can_drive_adaptive_stopping(name):
    data = {**FULL, "simulation": {"adaptive": {"metric": name, "target_rel_half_width": 0.5,
                                                "min_replications": 2, "max_replications": 2}}}
    model_of(data)  # validates


@pytest.mark.parametrize(("name", "message"), [
    ("interruptions", "unknown metric"), ("plan.gap", "unknown metric"),
    ("runway.days.p/90", "unknown metric"),
    ("ettr.nope", "no job 'nope'"), ("node_availability.q", "no pool 'q'")])
def test_an_unusable_adaptive_metric_is_refused(name, message):
    from planner.errors import InputError

    data = {**FULL, "simulation": {"adaptive": {"metric": name, "target_rel_half_width": 0.5}}}
    with pytest.raises(InputError, match=message):
        model_of(data)
