"""Contingent deliveries (the optimizer's recourse orders): a replication gets one exactly when
its sampled shocks turn out as the delivery says, read by planning quarter as the optimizer's
derived scenarios read them."""

from __future__ import annotations

import pytest
import yaml

from planner.scenario.loader import load_scenario
from planner.sim.model import ClusterModel
from planner.sim.setup import build_setup
from tests.conftest import ROOT

EXAMPLE = ROOT / "scenarios" / "procurement-2027.yaml"
IF_NO_BLOCK, IF_BLOCK = 7, 5  # node counts that mark each delivery


def _setup(tmp_path, shock: dict):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["supply_shocks"] = [shock]
    data["cluster"]["pools"][0]["deliveries"] = [
        {"date": "2027-04-01", "nodes": IF_BLOCK,
         "when": [{"shock": "nv", "from_quarter": "2027Q3"}]},
        {"date": "2027-10-01", "nodes": IF_NO_BLOCK, "when": [{"shock": "nv"}]},
    ]
    path = tmp_path / "contingent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_scenario(path, ("horizon_days=300",))
    return build_setup(loaded.scenario, loaded.catalog)


@pytest.mark.parametrize("shock", [
    {"name": "nv", "vendor": "Nvidia", "probability": 0.5, "date": "2027-07-01"},
    {"name": "nv", "vendor": "Nvidia", "probability": 0.7, "window_start_date": "2027-06-01",
     "window_end_date": "2027-12-01"},
])
def test_a_contingent_delivery_arrives_exactly_when_its_condition_holds(tmp_path, monkeypatch,
                                                                        shock):
    setup = _setup(tmp_path, shock)
    installs: list[int] = []
    original = ClusterModel._install

    def recording(self, pool, clocks, nodes):
        installs.append(nodes)
        return original(self, pool, clocks, nodes)

    monkeypatch.setattr(ClusterModel, "_install", recording)
    seen = {"block in 2027Q3": 0, "no block": 0, "later block": 0}
    for replication in range(24):
        installs.clear()
        model = ClusterModel(setup, replication)
        model.env.run(until=model.setup.horizon_hours)
        starts = [w.start_hours for w in model.ctx.shocks.windows if w.name == "nv"]
        day = None if not starts else starts[0] / 24.0
        q3 = day is not None and 181 <= day < 273  # 2027-07-01 .. 2027-09-30
        if day is None:
            seen["no block"] += 1
        elif q3:
            seen["block in 2027Q3"] += 1
        else:
            seen["later block"] += 1
        assert (IF_BLOCK in installs) == q3, (replication, day)
        assert (IF_NO_BLOCK in installs) == (day is None), (replication, day)
    assert seen["no block"] and seen["block in 2027Q3"]


def test_a_contingent_delivery_needs_a_known_shock_and_the_planning_quarters(tmp_path):
    from planner.errors import InputError

    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["pools"][0]["deliveries"] = [
        {"date": "2027-04-01", "nodes": 3, "when": [{"shock": "nope"}]}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError, match=r"deliveries\[0\]\.when\[0\]\.shock: no supply shock "
                                         r"named 'nope'"):
        load_scenario(path)
    data["cluster"]["pools"][0]["deliveries"][0]["when"] = [
        {"shock": "nvidia-block", "from_quarter": "2031Q1"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError, match="2031Q1 is outside the planned quarters"):
        load_scenario(path)
