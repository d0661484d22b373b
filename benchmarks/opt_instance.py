"""A benchmark procurement instance: 8 catalog SKUs x 12 quarters x N random sanction scenarios."""

from __future__ import annotations

import numpy as np
import yaml

from planner.procurement import build_input
from planner.quarters import quarter_labels
from planner.scenario.loader import load_scenario_text

SKUS = ("H100", "H800", "H20", "A800", "Ascend-910B", "Ascend-910C", "MLU370-X8", "MLU590")
BASE = "scenarios/procurement-2027.yaml"


def instance(n_scenarios: int, integer: bool, seed: int = 1):
    """The example's fleet and costs, 8 candidates, 12 quarters, `n_scenarios` random outcomes:
    an Nvidia block from a random quarter (60 %), a Huawei volume cut (30 %), a Cambricon block
    (20 %), rental cut with the Nvidia block (50 %)."""
    with open(BASE) as fh:
        data = yaml.safe_load(fh)
    proc = data["procurement"]
    proc["quarters"] = 12
    proc["candidates"] = [{"sku": s, "lead_time_quarters": 1 if s.startswith(("H", "A8")) else 2}
                          for s in SKUS]
    proc["porting_cost_usd"] = {"CANN": 30e6, "Neuware": 25e6}
    proc["integer_orders"] = integer
    proc["integer_recourse"] = integer
    proc["solver"] = {"profile": "default"}
    labels = quarter_labels(proc["start_quarter"], 12)
    rng = np.random.default_rng(seed)
    scenarios = []
    for i in range(n_scenarios):
        sc = {"name": f"s{i}", "probability": 1.0 / n_scenarios, "blocks": [], "volumes": []}
        if n_scenarios > 1 and rng.random() < 0.6:
            q = labels[int(rng.integers(1, 12))]
            sc["blocks"].append({"vendor": "Nvidia", "from_quarter": q})
            if rng.random() < 0.5:
                sc["rental_blocked_from"] = q
        if n_scenarios > 1 and rng.random() < 0.3:
            sc["volumes"].append({"vendor": "Huawei", "factor": 0.5,
                                  "from_quarter": labels[int(rng.integers(0, 12))]})
        if n_scenarios > 1 and rng.random() < 0.2:
            sc["blocks"].append({"vendor": "Cambricon", "from_quarter": labels[int(rng.integers(2, 12))]})
        scenarios.append(sc)
    total = sum(s["probability"] for s in scenarios)
    scenarios[-1]["probability"] += 1.0 - total
    proc["scenarios"] = scenarios
    proc["demand"] = {"fleet_multiple_start": 1.0, "fleet_multiple_end": 3.0}
    proc["budget_usd_per_quarter"] = 150e6
    proc["total_budget_usd"] = 1.2e9
    proc["power_cap_mw"] = 40
    loaded = load_scenario_text(yaml.safe_dump(data, sort_keys=False), "benchmark")
    return build_input(loaded.scenario, loaded.catalog)
