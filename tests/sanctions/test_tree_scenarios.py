"""Generated sanction scenarios: each leaf becomes blocks, volume cuts and premiums that give back
its path, the optimizer shares every decision between scenarios with the same history
(non-anticipativity), and bad `sanctions:` sections are one-line errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import yaml

from planner.procurement import build_input, vendor_scenario_table
from planner.sanctions.scenarios import sanction_tree
from planner.scenario.loader import load_scenario_text
from solvers.optimize import optimize
from solvers.problem import SolverSettings
from tests.conftest import ROOT, invoke_planner

EXAMPLE = ROOT / "scenarios" / "sanctions-2027.yaml"


def _small(**sanctions) -> dict:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["procurement"]["quarters"] = 4
    data["procurement"]["integer_orders"] = False
    data["procurement"]["integer_recourse"] = False
    data["procurement"]["risk"] = {"measure": "cost", "alpha": 0.9, "weight": 0.0}
    data["sanctions"].update({"paths": 400, "leaves": 12, **sanctions})
    return data


def _loaded(data: dict):
    return load_scenario_text(yaml.safe_dump(data, sort_keys=False), "small.yaml", ())


def test_each_leaf_is_written_as_the_path_it_stands_for():
    loaded = _loaded(_small())
    made = sanction_tree(loaded.scenario)
    table = vendor_scenario_table(list(made.scenarios), ["Cambricon", "Huawei", "Nvidia"],
                                  list(made.paths.quarters))
    column = {"nodes": lambda r: 1.0 - r.orderable, "parts": lambda r: float(r.blocked),
              "volume": lambda r: r.volume_factor, "price": lambda r: r.price_factor}
    for sc, values in zip(made.scenarios, made.tree.values, strict=True):
        for t, q in enumerate(made.paths.quarters):
            for f, (kind, vendor) in enumerate(made.paths.features):
                row = table.loc[(vendor, q, sc.name)]
                assert column[kind](row) == pytest.approx(values[t, f]), (sc.name, q, kind)
    assert sum(sc.probability for sc in made.scenarios) == pytest.approx(1.0)
    assert len({sc.name for sc in made.scenarios}) == len(made.scenarios)


def test_scenarios_with_one_history_share_every_decision_up_to_it():
    loaded = _loaded(_small())
    inp = build_input(loaded.scenario, loaded.catalog)
    opt = optimize(inp, SolverSettings(mip_rel_gap=1e-6), analyses="none")
    result = opt.result
    vs = inp.vendor_scenarios.reset_index()
    quarters = inp.period_labels
    scenarios = inp.scenario_labels
    history = {s: [tuple(vs[(vs.scenario == s) & (vs.period == q)]
                         .drop(columns=["scenario", "period"]).itertuples(index=False))
                   for q in quarters] for s in scenarios}
    recourse = result.recourse.set_index(["sku", "period", "scenario"])["nodes"]
    rented = result.capacity.set_index(["period", "scenario"])["rented_gpus"]
    shared_pairs = 0
    for a, b in itertools.combinations(scenarios, 2):
        for i, q in enumerate(quarters):
            if history[a][: i + 1] != history[b][: i + 1]:
                break
            shared_pairs += 1
            assert rented[q, a] == pytest.approx(rented[q, b], abs=1e-6)
            for sku in inp.skus.index:
                ya = recourse.get((sku, q, a), 0.0)
                yb = recourse.get((sku, q, b), 0.0)
                assert ya == pytest.approx(yb, abs=1e-6), (a, b, q, sku)
    assert shared_pairs > 0  # the tree has shared prefixes to test


def test_the_tree_is_reproducible_and_follows_the_seed():
    a = sanction_tree(_loaded(_small(seed=5)).scenario)
    b = sanction_tree(_loaded(_small(seed=5)).scenario)
    c = sanction_tree(_loaded(_small(seed=6)).scenario)
    assert [s.name for s in a.scenarios] == [s.name for s in b.scenarios]
    assert np.array_equal(a.tree.probabilities, b.tree.probabilities)
    assert not np.array_equal(a.paths.values, c.paths.values)


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d.pop("procurement"), "sanctions: needs a procurement section"),
    (lambda d: d["procurement"].update(scenarios=[{"name": "x", "probability": 1.0}]),
     "give either sanctions or procurement.scenarios"),
    (lambda d: d["sanctions"]["events"][0].update(vendors=["Intel"]),
     r"sanctions\.events\[0\]\.vendors\[0\]: unknown vendor 'Intel'"),
    (lambda d: d["sanctions"]["events"][2].pop("volume_factor"), "needs volume_factor"),
    (lambda d: d["sanctions"]["events"][1].update(duration_quarters=2),
     "block_lifted has no duration"),
    (lambda d: d["sanctions"].update(leaves=0), r"sanctions\.leaves: must be >= 1"),
])
def test_a_bad_sanctions_section_is_one_line(tmp_path, edit, pattern):
    import re

    data = yaml.safe_load(EXAMPLE.read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = invoke_planner("validate", str(path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), lines
