"""The study's runway curve (study_runway): the runway's censored percentiles per case, e.g. per
stockpile level, the same as the run's Runway table over each case's replications."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from planner.metrics import RUNWAY_THRESHOLDS
from planner.runway import COLUMNS, runway_table
from planner.studies.run import load_study, run_study
from tests.sim.scenarios import parts_block_decay

STOCK = "cluster.spares.items[0].initial_stock"
LEVELS = (0, 50, 100)


def _study(tmp: Path, metrics: list[str]) -> Path:
    base = tmp / "base.yaml"
    shock = {"name": "block", "vendor": "Nvidia", "date": "2027-01-11"}
    base.write_text(yaml.safe_dump(parts_block_decay(200, 0.005, horizon_days=300, shock=shock),
                                   sort_keys=False))
    study = {"name": "t-runway", "base": str(base), "seed": 4, "replications": 6,
             "metrics": metrics, "cases": [{"name": f"stock-{s}", "set": {STOCK: s}}
                                           for s in LEVELS]}
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("runway-study")
    run_study(load_study(_study(tmp, ["runway", "node_availability"])), tmp / "out", workers=1)
    return tmp / "out"


def test_one_row_per_case_pool_and_threshold_with_the_varied_parameter(study_dir):
    curve = pd.read_parquet(study_dir / "study_runway.parquet")
    assert list(curve.columns) == ["case", "key", *COLUMNS, f"param.{STOCK}"]
    assert list(curve["case"]) == [f"stock-{s}" for s in LEVELS for _ in RUNWAY_THRESHOLDS]
    assert list(curve["threshold"]) == list(RUNWAY_THRESHOLDS) * len(LEVELS)
    assert list(curve[f"param.{STOCK}"]) == [s for s in LEVELS for _ in RUNWAY_THRESHOLDS]
    assert (curve["n"] == 6).all()


def test_the_curve_is_the_runway_table_of_each_cases_replications(study_dir):
    curve = pd.read_parquet(study_dir / "study_runway.parquet")
    results = pd.read_parquet(study_dir / "study_results.parquet")
    for case, rows in curve.groupby("case", sort=False):
        mine = results[results["case"] == case]
        wide = mine.pivot(index="replication", columns="metric", values="value")
        expected = runway_table(wide).set_index("threshold")
        for r in rows.to_dict("records"):
            for q in ("p10", "p50", "p90"):
                assert r[q] == expected.loc[r["threshold"], q]
                assert r[f"{q}_censored"] == expected.loc[r["threshold"], f"{q}_censored"]


def test_the_runway_curve_rises_with_the_stockpile(study_dir):
    curve = pd.read_parquet(study_dir / "study_runway.parquet")
    for _, rows in curve.groupby("threshold"):
        p50 = rows.sort_values(f"param.{STOCK}")["p50"].to_numpy()
        assert (p50[1:] > p50[:-1]).all(), p50


def test_no_runway_metric_no_curve(tmp_path):
    run_study(load_study(_study(tmp_path, ["node_availability"])), tmp_path / "out", workers=1)
    assert not (tmp_path / "out" / "study_runway.parquet").exists()
