"""Small scenarios shared by the simulator's tests (plain dicts, loaded through the real loader)."""

from __future__ import annotations

MINIMAL = {
    "name": "minimal", "start_date": "2027-01-01", "horizon_days": 60, "seed": 1,
    "cluster": {"pools": [{"name": "p", "sku": "H800", "nodes": 32}],
                "spares": {"default": {"initial_stock": 8, "policy": "base_stock",
                                       "lead_time_days": 14}}},
    "jobs": [{"name": "a", "pool": "p", "nodes": 24, "priority": 1},
             {"name": "b", "pool": "p", "nodes": 4}],
}


def hard_gpu_and_nic_failures(seed: int, spares: dict, repair: dict | None = None) -> dict:
    """200 nodes whose GPU and NIC failures all need a part, with cannibalization."""
    cluster = {"pools": [{"name": "p", "sku": "H800", "nodes": 200}],
               "spares": {"default": {**spares, "policy": "base_stock", "lead_time_days": 30,
                                      "cannibalize": True}}}
    if repair is not None:
        cluster["repair"] = repair
    return {
        "name": "sp", "start_date": "2027-01-01", "horizon_days": 365, "seed": seed,
        "catalog": {"categories": {
            "gpu": {"failure_rate_per_1000_node_days": 20, "hard_fraction": 1.0},
            "nic": {"failure_rate_per_1000_node_days": 20, "hard_fraction": 1.0}}},
        "cluster": cluster,
    }
