"""The shipped catalog: required entries, a source on every number, trace-derived medians."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from planner.catalog.catalog import (
    CATEGORY_NUMBERS,
    SHARED_NUMBERS,
    SKU_NUMBERS,
    CatalogError,
    Sourced,
    load_catalog,
    shipped_catalog,
)
from planner.scenario.schema import CatalogPatch

TRACE = Path(__file__).resolve().parents[2] / "data" / "stepfun-fault-trace" / "fault_trace.json"
REQUIRED_SKUS = ("H100", "H800", "H20", "A800", "Ascend-910B", "Ascend-910C", "MLU370-X8", "MLU590")


def _sourced_values():
    cat = shipped_catalog()
    for sku in cat.skus.values():
        for name in SKU_NUMBERS:
            yield f"{sku.name}.{name}", getattr(sku, name)
        for part, value in sku.part_prices_usd.items():
            yield f"{sku.name}.part_prices_usd.{part}", value
    for c in cat.categories.values():
        for name in CATEGORY_NUMBERS:
            yield f"{c.name}.{name}", getattr(c, name)
    for u in cat.shared_components.values():
        for name in SHARED_NUMBERS:
            yield f"shared_components.{u.name}.{name}", getattr(u, name)
    for p in cat.parts.values():
        yield f"parts.{p.name}.price_usd", p.price_usd


def test_every_number_has_a_source():
    values = list(_sourced_values())
    assert len(values) > 160
    for where, value in values:
        assert isinstance(value, Sourced), where
        assert len(value.source) > 15, where
        assert "/work/" not in value.source and "shared/" not in value.source, where


def test_required_skus_vendors_and_platforms():
    cat = shipped_catalog()
    for name in REQUIRED_SKUS:
        assert name in cat.skus
    assert cat.skus["MLU590"].estimate
    assert {cat.skus[s].vendor for s in REQUIRED_SKUS} == {"Nvidia", "Huawei", "Cambricon"}
    assert {cat.skus[s].platform for s in REQUIRED_SKUS} == {"CUDA", "CANN", "Neuware"}
    assert cat.skus["H800"].bf16_dense_tflops.value == 989


def test_baseline_rates_reproduce_llama3_total():
    # Llama 3 Table 5: 419 unexpected interruptions over 2048 nodes x 54 days
    # by the node categories and the leaf switches' share per node
    cat = shipped_catalog()
    total = sum(c.failure_rate_per_1000_node_days.value for c in cat.categories.values())
    total += sum(u.failure_rate_per_1000_unit_days.value / u.nodes_per_unit.value
                 for u in cat.shared_components.values())
    assert total == pytest.approx(419 / (2048 * 54) * 1000, rel=0.001)


def _trace_median_days() -> dict[str, float]:
    events = json.loads(TRACE.read_text())
    open_at: dict[tuple[str, str], float] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    for e in events:
        ft = e["fault_type"]
        key = (e["node_id"], ft["Class"] + "|" + ft["Desc"])
        if e["event_type"] == "fault_start":
            open_at[key] = e["event_time"]
        elif key in open_at:
            d = e["event_time"] - open_at.pop(key)
            durations["class:" + ft["Class"]].append(d)
            durations["desc:" + ft["Desc"]].append(d)
    return {k: float(np.median(v)) for k, v in durations.items()}


@pytest.mark.parametrize(
    ("category", "trace_key"),
    [("gpu", "class:GPU"), ("nic", "class:NIC"),
     ("hbm", "desc:GPU DBE(Double Bit ECC) > Threshold")],
)
def test_repair_medians_match_the_shipped_fault_trace(category, trace_key):
    medians = _trace_median_days()
    hours = shipped_catalog().categories[category].repair_hours_median.value
    assert hours == pytest.approx(medians[trace_key] * 24, rel=0.03)


def test_scenario_overrides_carry_the_scenario_as_source():
    patch = CatalogPatch.model_validate({"skus": {"H800": {"node_price_usd": 250000}}})
    cat = load_catalog(patch, "mine.yaml")
    assert cat.skus["H800"].node_price_usd == Sourced(250000.0, "scenario mine.yaml")
    assert cat.skus["H100"] == shipped_catalog().skus["H100"]


def test_new_sku_needs_every_field():
    patch = CatalogPatch.model_validate({"skus": {"X1": {"vendor": "Acme"}}})
    with pytest.raises(CatalogError, match="new entry needs"):
        load_catalog(patch, "mine.yaml")


def test_every_sku_has_a_sourced_mfu_range_per_workload():
    from planner.catalog.catalog import WORKLOADS

    cat = shipped_catalog()
    for name, sku in cat.skus.items():
        assert set(sku.mfu) == set(WORKLOADS), name
        for workload, figure in sku.mfu.items():
            assert 0 < figure.low <= figure.value <= figure.high <= 1, (name, workload)
            assert len(figure.source) > 30, (name, workload)
            published = not figure.source.startswith(("assumption:", "est:"))
            # a figure without a paper (arXiv id) or derivation behind it says it is a guess
            assert published <= ("arXiv" in figure.source or figure.source.startswith(
                "derived:")), (name, workload, figure.source)
    assert cat.skus["H100"].mfu["dense"].low <= 0.38 <= 0.43 <= cat.skus["H100"].mfu["dense"].high


def test_a_scenario_can_set_an_mfu_with_its_range():
    from planner.catalog.catalog import load_catalog
    from planner.scenario.schema import CatalogPatch

    patch = CatalogPatch.model_validate(
        {"skus": {"MLU590": {"mfu": {"dense": {"value": 0.3, "low": 0.25, "high": 0.4}}}}})
    figure = load_catalog(patch, "s.yaml").skus["MLU590"].mfu["dense"]
    assert (figure.value, figure.low, figure.high) == (0.3, 0.25, 0.4)
    assert figure.source == "scenario s.yaml"
    assert load_catalog(patch, "s.yaml").skus["MLU590"].mfu["moe"].source.startswith("assumption")
