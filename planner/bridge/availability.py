"""The availability a parts stockpile buys under a vendor parts block, measured by the simulator
for the optimizer (docs/model.md, "Availability under a parts block"; issue 15).

For an SKU k and a part j its vendor supplies, a probe pool of PROBE_NODES nodes of k (with the
scenario's lemon, retirement and repair settings) starts with x parts j per node on the shelf and
every other part in ample stock; the vendor's parts, orders and RMA are blocked from the first
day for good. The pool's available share (healthy nodes over the nodes it started with, retired
ones lost) averaged over each quarter m after the block, and over the replications, is f_j(x, m).
The optimizer takes, per m, the upper concave envelope of the measured points, scaled so that
ample stock gives the nominal availability a, as its pieces (F <= alpha_b N + beta_b stock), in
place of the closed form.

Levels x are fractions STOCK_FRACTIONS of r_j H, the parts a node consumes over the horizon H at
part j's hard-failure rate r_j: the closed form saturates at x = r_j m, so the grid spans the
curve's bend. Results are cached on disk per catalog and scenario hash (PLANNER_CACHE_DIR, else
~/.cache/planner): a second run reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.catalog.catalog import Catalog
from planner.outputs.layout import CacheFiles
from planner.procurement import part_rates_per_hour
from planner.quarters import quarter_hours, quarter_labels, quarter_start
from planner.scenario.loader import LoadedScenario
from planner.scenario.schema import Pool, Scenario, SpareItem, SupplyShock
from planner.units import HOURS_PER_DAY

PROBE_NODES = 256  # large enough that one part more or less moves the share by 0.4 %
REPLICATIONS = 4
STOCK_FRACTIONS = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0, 1.5)
AMPLE_STOCK_PER_NODE = 20  # parts per node of every part not probed: never the one that runs out
MEASURE_VERSION = 1  # bump when the probe changes: old cache entries are then ignored


@dataclass(frozen=True)
class MeasuredCurve:
    """f_j(x, m) of one (SKU, part): `availability[i, m - 1]` at `levels[i]` parts per node, m
    quarters after the block began."""

    sku: str
    part: str
    levels: tuple[float, ...]
    availability: tuple[tuple[float, ...], ...]  # [level][quarter]
    replications: int
    probe_nodes: int

    @property
    def quarters(self) -> int:
        return len(self.availability[0])

    def pieces(self, m: int, nominal: float) -> list[tuple[float, float]]:
        """(intercept, slope) of each piece of the upper concave envelope of the points at m
        quarters since the block (clipped to the measured range): f <= alpha + beta x, scaled so
        that its plateau (ample stock) is the `nominal` availability a. The probe also loses
        nodes to what no stock helps (retired lemons, repairs in progress); the scaling keeps
        only what part j's shortage costs, as the optimizer's union bound over parts assumes
        (docs/model.md)."""
        column = min(max(m, 1), self.quarters) - 1
        values = np.maximum.accumulate([row[column] for row in self.availability])
        plateau = float(values[-1])
        scale = nominal / plateau if plateau > 0 else 0.0
        return concave_pieces(self.levels, [float(v) * scale for v in values])


def concave_pieces(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    """The upper concave envelope of the points (xs increasing) as lines (alpha, beta): its
    segments, then a flat piece at the last value."""
    hull: list[tuple[float, float]] = []
    for point in zip(xs, ys, strict=True):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (point[0] - x1) <= (point[1] - y1) * (x2 - x1):  # hull[-1] not above
                hull.pop()
            else:
                break
        hull.append(point)
    pieces = []
    for (x1, y1), (x2, y2) in zip(hull, hull[1:], strict=False):
        slope = (y2 - y1) / (x2 - x1)
        if slope > 0:
            pieces.append((y1 - slope * x1, slope))
    pieces.append((hull[-1][1], 0.0))
    return pieces


def cache_dir() -> Path:
    """Where measured curves are kept: $PLANNER_CACHE_DIR, else ~/.cache/planner."""
    root = os.environ.get("PLANNER_CACHE_DIR") or Path.home() / ".cache" / "planner"
    return Path(root) / CacheFiles.AVAILABILITY


def _pool_of(scenario: Scenario, sku: str) -> Pool:
    """The probe pool: the scenario's first pool of `sku` (its lemons, retirement, rate
    multipliers), else a plain one; PROBE_NODES nodes, no deliveries."""
    pool = next((p for p in scenario.cluster.pools if p.sku == sku), None)
    if pool is None:
        return Pool(name="probe", sku=sku, nodes=PROBE_NODES)
    return pool.model_copy(update={"name": "probe", "nodes": PROBE_NODES, "deliveries": []})


def probe_scenario(scenario: Scenario, catalog: Catalog, sku: str, part: str, level: float,
                   quarters: list[str]) -> Scenario:
    """The probe of (sku, part) at `level` parts per node: the scenario's repair pipeline and
    spare policies, no jobs, the vendor blocked for good from the first quarter's first day."""
    start = quarter_start(quarters[0])
    days = sum(quarter_hours(q) for q in quarters) / HOURS_PER_DAY
    vendor = catalog.skus[sku].vendor
    items = [i for i in scenario.cluster.spares.items if i.sku != sku]
    for other in sorted(catalog.parts):
        stock = (round(level * PROBE_NODES) if other == part
                 else AMPLE_STOCK_PER_NODE * PROBE_NODES)
        base = next((i for i in scenario.cluster.spares.items
                     if i.sku == sku and i.part == other), None)
        item = (base.model_copy(update={"initial_stock": stock, "base_stock_level": stock})
                if base is not None else SpareItem(sku=sku, part=other, initial_stock=stock,
                                                   base_stock_level=stock))
        items.append(item)
    spares = scenario.cluster.spares.model_copy(update={"items": items})
    cluster = scenario.cluster.model_copy(update={"pools": [_pool_of(scenario, sku)],
                                                  "spares": spares})
    shock = SupplyShock(name="probe-block", vendor=vendor, date=start, block_orders=True,
                        block_deliveries=True, block_rma=True, block_node_deliveries=True)
    simulation = scenario.simulation.model_copy(update={
        "replications": REPLICATIONS, "timeseries_step_days": 1.0, "adaptive": None,
        "record_events": False, "stop": "horizon"})
    return scenario.model_copy(update={
        "name": "availability-probe", "start_date": start, "horizon_days": days,
        "cluster": cluster, "jobs": [], "supply_shocks": [shock], "procurement": None,
        "sanctions": None, "simulation": simulation})


def quarter_means(days: np.ndarray, share: np.ndarray, quarters: list[str],
                  valid: np.ndarray | None = None) -> list[float | None]:
    """The mean of `share` over the samples of each quarter (`days` counted from the first
    quarter's first day; only samples where `valid` holds; None for a quarter without one)."""
    keep = np.ones(len(days), dtype=bool) if valid is None else valid
    out: list[float | None] = []
    begin = 0.0
    for q in quarters:
        end = begin + quarter_hours(q) / HOURS_PER_DAY
        inside = (days >= begin) & (days < end) & keep
        out.append(float(share[inside].mean()) if inside.any() else None)
        begin = end
    return out


def _probe_shares(series: dict[str, list], quarters: list[str]) -> np.ndarray:
    """The probe pool's available share (healthy over the nodes it started with) per quarter;
    a quarter without a sample takes the last one."""
    share = np.asarray(series["probe.healthy_nodes"], dtype=float) / PROBE_NODES
    means = quarter_means(np.asarray(series["day"], dtype=float), share, quarters)
    return np.array([float(share[-1]) if m is None else m for m in means])


def _key(scenario: Scenario, catalog: Catalog, sku: str, part: str, quarters: list[str]) -> str:
    """Hash of everything the measurement depends on: the catalog, the probe pool, the repair
    pipeline and spare policies, the quarters, the seed and the probe's own settings."""
    pool = _pool_of(scenario, sku)
    payload = json.dumps({
        "version": MEASURE_VERSION, "catalog": repr(catalog), "sku": sku, "part": part,
        "quarters": quarters, "seed": scenario.seed, "pool": pool.model_dump(mode="json"),
        "repair": scenario.cluster.repair.model_dump(mode="json"),
        "spares": scenario.cluster.spares.model_dump(mode="json"),
        "probe": [PROBE_NODES, REPLICATIONS, STOCK_FRACTIONS, AMPLE_STOCK_PER_NODE]},
        sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def run_replications(tasks: list, workers: int | None) -> list:
    """Replications (setup, index) on local processes (serially for one worker)."""
    from planner.montecarlo import _simulate_index
    from planner.parallel import map_in_processes

    return map_in_processes(_simulate_index, tasks, workers)


def measure_curves(loaded: LoadedScenario, cells: Sequence[tuple[str, str]],
                   workers: int | None = None) -> dict[tuple[str, str], MeasuredCurve]:
    """f_j(x, m) of every (SKU, part) in `cells` over the procurement's quarters, read from the
    cache or simulated (then cached)."""
    from planner.sim.setup import build_setup

    scenario, catalog = loaded.scenario, loaded.catalog
    proc = scenario.procurement
    quarters = quarter_labels(proc.start_quarter, proc.quarters)
    horizon_hours = sum(quarter_hours(q) for q in quarters)
    out: dict[tuple[str, str], MeasuredCurve] = {}
    todo: dict[tuple[str, str], tuple[str, list[float]]] = {}
    for sku, part in cells:
        key = _key(scenario, catalog, sku, part, quarters)
        path = cache_dir() / CacheFiles.curve(key)
        if path.exists():
            try:
                data = json.loads(path.read_text())
                out[sku, part] = MeasuredCurve(**{**data, "levels": tuple(data["levels"]),
                                                  "availability": tuple(map(tuple,
                                                                            data["availability"]))})
                continue
            except (ValueError, TypeError, KeyError):
                pass  # a damaged entry is measured again
        rate = part_rates_per_hour(catalog, sku).get(part, 0.0)
        todo[sku, part] = (key, [f * rate * horizon_hours for f in STOCK_FRACTIONS])
    tasks, owners = [], []
    for (sku, part), (_cache_key, levels) in todo.items():
        for level in levels:
            probe = probe_scenario(scenario, catalog, sku, part, level, quarters)
            setup = build_setup(probe, catalog)
            for index in range(REPLICATIONS):
                tasks.append((setup, index))
                owners.append((sku, part, level))
    results = run_replications(tasks, workers) if tasks else []
    sums: dict[tuple[str, str, float], np.ndarray] = {}
    for (sku, part, level), result in zip(owners, results, strict=True):
        means = _probe_shares(result.timeseries, quarters)
        sums[sku, part, level] = sums.get((sku, part, level), 0.0) + means / REPLICATIONS
    for (sku, part), (key, levels) in todo.items():
        curve = MeasuredCurve(
            sku=sku, part=part, levels=tuple(float(x) for x in levels),
            availability=tuple(tuple(float(v) for v in sums[sku, part, x]) for x in levels),
            replications=REPLICATIONS, probe_nodes=PROBE_NODES)
        out[sku, part] = curve
        _store(cache_dir() / CacheFiles.curve(key), curve)
    return out


def _store(path: Path, curve: MeasuredCurve) -> None:
    """Write a cache entry whole (planner/outputs/atomic.py); a cache that cannot be written
    only costs a new measurement next time."""
    from planner.outputs.atomic import write_json

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {
            "sku": curve.sku, "part": curve.part, "levels": list(curve.levels),
            "availability": [list(r) for r in curve.availability],
            "replications": curve.replications, "probe_nodes": curve.probe_nodes})
    except OSError:
        pass
