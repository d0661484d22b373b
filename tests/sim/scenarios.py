"""Small scenarios shared by the simulator's tests (plain dicts, loaded through the real loader)."""

from __future__ import annotations

from tests.conftest import make_scenario, only_categories

NODE_DAYS = 1000.0  # catalog rates are per 1000 node-days
START = "2027-01-01"  # make_scenario's start date

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


def parts_block_decay(nodes: int, rate_per_day: float, horizon_days: float, stock: int = 0,
                      shock: dict | None = None) -> dict:
    """`nodes` nodes whose only failure (a GPU, needing a board every time) comes at
    `rate_per_day` per node, repaired instantly when a board is on the shelf (`stock` boards,
    kept full by orders until the block); no job, no lemon, no cannibalization. A permanent
    Nvidia block from the start unless `shock` says otherwise: availability then decays like
    exp(-rate t) once the shelf is empty."""
    data = make_scenario(horizon_days=horizon_days,
                         catalog=only_categories({"gpu": rate_per_day * NODE_DAYS},
                                                 hard={"gpu": 1.0}))
    data["cluster"]["pools"][0]["nodes"] = nodes
    data["cluster"]["spares"]["items"] = [{"sku": "H800", "part": "gpu_board",
                                           "initial_stock": stock}]
    data["supply_shocks"] = [shock or {"name": "block", "vendor": "Nvidia", "date": START}]
    return data
