"""--overrides: scenario fragments merged before --set, with errors naming the fragment."""

from __future__ import annotations

import pytest
import yaml

from planner.errors import InputError
from planner.scenario.loader import load_scenario_text, merge_fragment
from tests.conftest import make_scenario


def _load(fragments: list[str], sets: tuple[str, ...] = (), base: dict | None = None):
    text = yaml.safe_dump(base or make_scenario(), sort_keys=False)
    return load_scenario_text(text, "s.yaml", sets,
                              fragments=[(f"f{i}.yaml", f) for i, f in enumerate(fragments)])


def test_maps_merge_and_lists_are_replaced():
    data = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    replaced = merge_fragment(data, {"a": {"c": [3], "e": {"f": 2}}, "g": 0})
    assert data == {"a": {"b": 1, "c": [3], "e": {"f": 2}}, "d": 1, "g": 0}
    assert replaced == [("a", "c"), ("a", "e"), ("g",)]


def test_a_fragment_changes_the_scenario_and_set_comes_after_it():
    loaded = _load(["horizon_days: 30\ncluster: {repair: {technicians: 3}}\n"])
    assert loaded.scenario.horizon_days == 30
    assert loaded.scenario.cluster.repair.technicians == 3
    assert loaded.scenario.cluster.pools[0].nodes == make_scenario()["cluster"]["pools"][0]["nodes"]
    assert loaded.overrides == ("--overrides f0.yaml",)
    later = _load(["horizon_days: 30\n", "horizon_days: 40\n"], ("horizon_days=50",))
    assert later.scenario.horizon_days == 50  # fragments in order, then --set


def test_an_error_in_a_fragment_names_the_fragment_and_its_line():
    with pytest.raises(InputError) as err:
        _load(["# fitted\ncluster:\n  repair:\n    technicians: -1\n"])
    assert str(err.value).startswith("f0.yaml:4 cluster.repair.technicians:"), str(err.value)
    with pytest.raises(InputError, match="f0.yaml:1 a scenario fragment must be a YAML mapping"):
        _load(["- 1\n"])


def test_calibrated_pools_replace_a_pools_settings_by_name_or_for_every_pool():
    fragment = ("cluster: {calibrated_pools: {'*': {lemon_fraction: 0.2, lemon_rate_multiplier: 3,"
                " sku_failure_rate_multiplier: 1.0, categories: [gpu]}}}\n")
    pool = _load([fragment]).scenario.cluster.pools[0]
    assert (pool.lemon_fraction, pool.lemon_rate_multiplier, pool.categories) == (0.2, 3, ["gpu"])
    with pytest.raises(InputError, match="calibrated_pools names no pool 'h900'"):
        _load(["cluster: {calibrated_pools: {h900: {lemon_fraction: 0.1}}}\n"])


def test_a_pool_with_a_category_list_fails_by_those_alone():
    from planner.sim.setup import build_setup

    loaded = _load(["cluster: {calibrated_pools: {'*': {categories: [gpu, nic],"
                    " sku_failure_rate_multiplier: 2.0}}}\n"])
    setup = build_setup(loaded.scenario, loaded.catalog)
    rates = {c.name: c.rate_per_hour for c in setup.pools[0].categories if c.rate_per_hour > 0}
    assert set(rates) == {"gpu", "nic"} and setup.pools[0].shared == ()
    gpu = loaded.catalog.categories["gpu"].rate_per_hour
    assert rates["gpu"] == pytest.approx(2.0 * gpu)  # the pool's own SKU multiplier
    with pytest.raises(InputError, match="unknown failure category or shared component 'gizmo'"):
        _load(["cluster: {calibrated_pools: {'*': {categories: [gizmo]}}}\n"])
