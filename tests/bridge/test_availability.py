"""The availability a stockpile buys under a parts block, measured by the simulator: the probe
agrees with the closed form where one holds, more stock never lowers the curve, the envelope is
concave and above every point, the cache is read back, and the optimizer takes the measured
pieces in place of the closed form."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.bridge import availability
from planner.bridge.availability import MeasuredCurve, concave_pieces, measure_curves
from planner.procurement import (
    build_input,
    nominal_availability,
    parts_block_cells,
    stockpile_piece_table,
)
from planner.quarters import quarter_hours, quarter_labels
from tests.conftest import load, make_scenario, only_categories

RATE_PER_NODE_YEAR = 1.0
PER_1000_NODE_DAYS = RATE_PER_NODE_YEAR / 365.25 * 1000


def _scenario(quarters: int = 4) -> dict:
    return make_scenario(
        catalog=only_categories({"gpu": PER_1000_NODE_DAYS}, hard={"gpu": 1.0}),
        supply_shocks=[{"name": "cut", "vendor": "Nvidia", "date": "2027-04-01"}],
        procurement={"start_quarter": "2027Q1", "quarters": quarters,
                     "candidates": [{"sku": "H800"}], "demand": {"pflops": [1.0] * quarters},
                     "availability": "simulated"})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "availability"


@pytest.mark.slow
def test_without_stock_the_probe_decays_as_the_closed_form(cache):
    """One failure kind, every failure consumes a board, repairs instant, no lemons, no
    cannibalizing: a node is up until its first failure, so the quarter's mean share is the mean
    of e^{-r t} over the quarter."""
    loaded = load(_scenario())
    curve = measure_curves(loaded, [("H800", "gpu_board")], workers=1)[("H800", "gpu_board")]
    r = RATE_PER_NODE_YEAR / (365.25 * 24)
    start = 0.0
    trajectories = availability.PROBE_NODES * availability.REPLICATIONS
    for m, q in enumerate(quarter_labels("2027Q1", 4)):
        end = start + quarter_hours(q)
        want = (math.exp(-r * start) - math.exp(-r * end)) / (r * (end - start))
        tolerance = 4 * math.sqrt(want * (1 - want) / trajectories)
        assert curve.availability[0][m] == pytest.approx(want, abs=tolerance), m
        start = end
    levels = np.asarray(curve.availability)  # common random numbers across levels
    assert np.all(np.diff(levels, axis=0) >= -1.5 / availability.PROBE_NODES)
    assert levels[-1][-1] > levels[0][-1] + 0.2  # a stockpile of 1.5 years' boards is worth it


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 1)), min_size=1, max_size=12,
                unique_by=lambda p: round(p[0], 6)))
def test_the_envelope_is_concave_and_above_every_point(points):
    points = sorted(points)
    xs = [x for x, _ in points]
    ys = list(np.maximum.accumulate([y for _, y in points]))
    pieces = concave_pieces(xs, ys)
    value = [min(a + b * x for a, b in pieces) for x in xs]
    assert all(v >= y - 1e-9 for v, y in zip(value, ys, strict=True))
    assert max(value) <= max(ys) + 1e-9  # never above the best measured point
    slopes = [b for _, b in pieces]
    assert slopes == sorted(slopes, reverse=True) and slopes[-1] == 0.0


def test_a_cached_curve_is_read_back_without_simulating(cache, monkeypatch):
    loaded = load(_scenario(2))
    calls = []
    real = availability.run_replications
    monkeypatch.setattr(availability, "run_replications", lambda tasks, workers: calls.append(1)
                        or real(tasks, workers))
    first = measure_curves(loaded, [("H800", "gpu_board")], workers=1)
    again = measure_curves(loaded, [("H800", "gpu_board")], workers=1)
    assert calls == [1] and first == again
    entry = next(cache.glob("*.json"))
    entry.write_text("{not json")  # a damaged entry is measured again
    measure_curves(loaded, [("H800", "gpu_board")], workers=1)
    assert calls == [1, 1] and json.loads(entry.read_text())["sku"] == "H800"
    other = load(_scenario(2) | {"seed": 8})  # another scenario hash: another entry
    measure_curves(other, [("H800", "gpu_board")], workers=1)
    assert len(list(cache.glob("*.json"))) == 2


def test_the_optimizer_takes_the_measured_pieces():
    loaded = load(_scenario())
    scenario, catalog = loaded.scenario, loaded.catalog
    assert parts_block_cells(scenario, catalog) == [("H800", "gpu_board")]  # the only rate
    curve = MeasuredCurve(sku="H800", part="gpu_board", levels=(0.0, 0.5, 1.0),
                          availability=((0.9, 0.7, 0.5, 0.4), (0.95, 0.9, 0.8, 0.7),
                                        (0.97, 0.96, 0.95, 0.95)),
                          replications=1, probe_nodes=10)
    inp = build_input(scenario, catalog, {("H800", "gpu_board"): curve})
    pieces = inp.stockpile_pieces
    a = nominal_availability(catalog, "H800")
    checked = 0
    for scenario_name in inp.scenario_labels:
        rows = pieces[(pieces.part == "gpu_board") & (pieces.scenario == scenario_name)
                      & (pieces.period == "2027Q3")]
        if not len(rows):
            continue  # the no-block scenario
        m = 2  # the block began in 2027Q2
        want = curve.pieces(m, a)
        got = [v for r in rows.itertuples() for v in (r.intercept, r.slope)]
        assert got == pytest.approx([v for piece in want for v in piece])
        checked += 1
    assert checked == 1
    closed = stockpile_piece_table(catalog, scenario.procurement, ["H800"],
                                   [], quarter_labels("2027Q1", 4))
    assert closed.empty  # no scenario, no block: nothing decays
