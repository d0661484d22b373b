"""Durations of every kind, sampled: empirical values and quantiles, mixtures, and a failure
category's repair time given as any duration."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from planner.scenario.distributions import Empirical, Mixture
from planner.scenario.schema import Duration
from planner.sim.draws import Draws, sampler
from planner.sim.setup import build_setup
from tests.conftest import load, make_scenario, only_categories

DURATION = TypeAdapter(Duration)


def _draws(spec: dict, n: int = 40_000, seed: int = 3) -> np.ndarray:
    draw = sampler(DURATION.validate_python(spec), Draws(np.random.default_rng(seed)))
    return np.array([draw() for _ in range(n)])


def test_empirical_values_are_drawn_with_equal_chance():
    x = _draws({"dist": "empirical", "values": [1.0, 2.0, 10.0]})
    assert set(np.unique(x)) == {1.0, 2.0, 10.0}
    assert np.mean(x == 10.0) == pytest.approx(1 / 3, abs=0.01)


def test_weighted_empirical_values_are_drawn_by_their_weights():
    spec = {"dist": "empirical", "values": [1.0, 2.0, 10.0, 50.0], "weights": [6, 0, 3, 1]}
    x = _draws(spec)
    shares = [np.mean(x == v) for v in (1.0, 2.0, 10.0, 50.0)]
    sd = np.sqrt(0.6 * 0.4 / len(x))
    assert shares == pytest.approx([0.6, 0.0, 0.3, 0.1], abs=4 * sd)
    assert DURATION.validate_python(spec).mean == pytest.approx(0.6 + 3 + 5)


def test_empirical_quantiles_interpolate_the_inverse_cdf():
    spec = {"dist": "empirical", "quantiles": [[0, 0.0], [0.5, 10.0], [0.9, 20.0], [1, 100.0]]}
    x = _draws(spec)
    assert np.quantile(x, [0.25, 0.5, 0.7, 0.95]) == pytest.approx([5, 10, 15, 60], rel=0.03)
    dist = DURATION.validate_python(spec)
    assert isinstance(dist, Empirical)
    assert x.mean() == pytest.approx(dist.mean, rel=0.02)  # 0.5*5 + 0.4*15 + 0.1*60 = 14.5
    assert dist.mean == pytest.approx(14.5)


def test_a_mixture_draws_each_part_by_its_weight():
    spec = {"dist": "mixture", "components": [
        {"weight": 3, "value": 1.0},
        {"weight": 1, "value": {"dist": "exponential", "mean": 40.0}}]}
    x = _draws(spec)
    dist = DURATION.validate_python(spec)
    assert isinstance(dist, Mixture) and dist.mean == pytest.approx(0.75 + 10.0)
    assert np.mean(x == 1.0) == pytest.approx(0.75, abs=0.01)
    assert x.mean() == pytest.approx(dist.mean, rel=0.03)


@pytest.mark.parametrize("spec", [
    {"dist": "empirical"},
    {"dist": "empirical", "values": [1.0], "quantiles": [[0, 1.0], [1, 2.0]]},
    {"dist": "empirical", "quantiles": [[0.1, 1.0], [1, 2.0]]},
    {"dist": "empirical", "quantiles": [[0, 3.0], [1, 2.0]]},
    {"dist": "empirical", "values": [-1.0]},
    {"dist": "mixture", "components": []},
    {"dist": "mixture", "components": [{"weight": 0, "value": 1.0}]},
])
def test_malformed_durations_are_refused(spec):
    with pytest.raises(ValidationError):
        DURATION.validate_python(spec)


def test_a_category_repair_time_of_any_kind_reaches_the_simulator():
    catalog = only_categories({"gpu": 5.0})
    catalog["categories"]["gpu"]["repair_hours"] = {"dist": "empirical", "values": [3.0, 5.0]}
    catalog["categories"]["mine"] = {"label": "mine", "failure_rate_per_1000_node_days": 1.0,
                                     "hard_fraction": 0.0,
                                     "repair_hours": {"dist": "weibull", "scale": 2, "shape": 1}}
    loaded = load(make_scenario(catalog=catalog))
    setup = build_setup(loaded.scenario, loaded.catalog)
    by_name = {c.name: c for c in setup.pools[0].categories}
    assert isinstance(by_name["gpu"].repair_hours, Empirical)
    assert by_name["mine"].repair_hours.dist == "weibull"
    assert loaded.catalog.categories["mine"].repair_hours_median is None


def test_a_run_with_any_repair_duration_writes_it_into_inputs_json(tmp_path):
    import json

    import yaml

    from tests.conftest import invoke_planner

    catalog = {"categories": {"gpu": {"repair_hours": {"dist": "mixture", "components": [
        {"weight": 0.8, "value": 2}, {"weight": 0.2, "value": {"dist": "empirical",
                                                                "values": [10, 50]}}]}}}}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(make_scenario(horizon_days=20, catalog=catalog)))
    result = invoke_planner("run", str(scenario), "-r", "1", "-q", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.stderr
    inputs = json.loads((tmp_path / "o" / "inputs.json").read_text())
    assert inputs["catalog"]["categories"]["gpu"]["repair_hours"]["dist"] == "mixture"
