"""The shipped catalog and model reproduce the reliability of the study they were taken from."""

from __future__ import annotations

import numpy as np

from planner.scenario.loader import load_scenario
from planner.sim.model import simulate
from planner.sim.setup import build_setup


def test_llama3_example_reproduces_the_papers_job_mtbf():
    # Llama 3 (arXiv 2407.21783): 419 unexpected interruptions in 54 days -> 3.09 h job MTBF
    loaded = load_scenario("scenarios/llama3-16k-h100.yaml", ("horizon_days=20",))
    setup = build_setup(loaded.scenario, loaded.catalog)
    mttf = [simulate(setup, i).metrics["job_mttf_hours.llama3-405b"] for i in range(4)]
    assert abs(np.mean(mttf) - 54 * 24 / 419) / (54 * 24 / 419) < 0.08, mttf
