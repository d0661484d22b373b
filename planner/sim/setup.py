"""A validated scenario and catalog resolved into what the simulator needs, once per scenario:
pools with their failure categories (rates per node-hour), checkpoint intervals and spare
policies."""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.catalog.catalog import Catalog
from planner.scenario.distributions import Lognormal
from planner.scenario.schema import Job, Pool, Scenario
from planner.scenario.shock_quarters import BlockQuarters
from planner.scenario.spare_policy import ResolvedSparePolicy, resolve_spare_policy
from planner.sim.checkpoint import daly_interval_hours
from planner.units import HOURS_PER_DAY


@dataclass(frozen=True)
class CategoryParams:
    """A failure category as the simulator uses it (rates already per node-hour)."""

    name: str
    rate_per_hour: float
    hard_fraction: float
    part: str | None
    blast_radius_nodes: int
    blast_fraction: float
    repair_hours: Lognormal  # hands-on repair time
    weibull_shape: float | None


# a contingent delivery's condition: (shock name, the quarters it blocks or None) for each shock
# it depends on; empty = always delivered
Condition = tuple[tuple[str, BlockQuarters], ...]


def _condition(delivery) -> Condition:
    return tuple((o.shock, None if o.from_quarter is None else (o.from_quarter, o.until_quarter))
                 for o in delivery.when)


@dataclass(frozen=True)
class PoolSetup:
    """A pool as the simulator needs it."""

    name: str
    sku: str
    vendor: str
    gpus_per_node: int
    initial_nodes: int
    deliveries: tuple[tuple[float, int, Condition], ...]  # (hours since start, nodes, when)
    capacity: int
    lemon_fraction: float
    lemon_multiplier: float
    retire_failures: int | None
    retire_window_hours: float
    categories: tuple[CategoryParams, ...]

    def node_rate_per_hour(self) -> float:
        """Expected failure rate of one average node (lemons included)."""
        base = sum(c.rate_per_hour for c in self.categories)
        return base * (1.0 + self.lemon_fraction * (self.lemon_multiplier - 1.0))


@dataclass(frozen=True)
class SimSetup:
    """Everything a replication needs, resolved once per scenario."""

    scenario: Scenario
    catalog: Catalog
    pools: tuple[PoolSetup, ...]
    job_intervals_hours: tuple[float, ...]
    spare_policies: dict[tuple[str, str], ResolvedSparePolicy]
    category_names: tuple[str, ...]

    @property
    def horizon_hours(self) -> float:
        return self.scenario.horizon_days * HOURS_PER_DAY


def _categories(catalog: Catalog, pool: Pool) -> tuple[CategoryParams, ...]:
    rates = catalog.failure_rates_per_hour(pool.sku, pool.failure_rate_multipliers)
    return tuple(
        CategoryParams(
            name=name,
            rate_per_hour=rates[name],
            hard_fraction=cat.hard_fraction.value,
            part=cat.part,
            blast_radius_nodes=cat.blast_radius_nodes,
            blast_fraction=cat.blast_fraction.value,
            repair_hours=Lognormal(dist="lognormal", median=cat.repair_hours_median.value,
                                   sigma=cat.repair_hours_sigma.value),
            weibull_shape=cat.lifetime_weibull_shape,
        )
        for name, cat in catalog.categories.items()
    )


def job_interval_hours(job: Job, pool: PoolSetup) -> float:
    """The job's checkpoint interval: explicit, or Daly's optimum from its expected MTBF."""
    if job.checkpoint_interval_hours != "auto":
        return float(job.checkpoint_interval_hours)
    rate = job.nodes * pool.node_rate_per_hour()
    if rate <= 0:
        return math.inf if job.checkpoint_write_hours > 0 else 0.0
    return daly_interval_hours(job.checkpoint_write_hours, 1.0 / rate)


def build_setup(scenario: Scenario, catalog: Catalog) -> SimSetup:
    """Resolve a validated scenario and catalog into simulator inputs."""
    pools = []
    for p in scenario.cluster.pools:
        sku = catalog.skus[p.sku]
        deliveries = tuple((scenario.hours_since_start(d.date), d.nodes, _condition(d))
                           for d in p.deliveries)
        pools.append(PoolSetup(
            name=p.name, sku=p.sku, vendor=sku.vendor, gpus_per_node=sku.gpus,
            initial_nodes=p.nodes, deliveries=deliveries,
            capacity=p.nodes + sum(n for _, n, _ in deliveries),
            lemon_fraction=p.lemon_fraction, lemon_multiplier=p.lemon_rate_multiplier,
            retire_failures=None if p.retirement is None else p.retirement.failures,
            retire_window_hours=(0.0 if p.retirement is None
                                 else p.retirement.window_days * HOURS_PER_DAY),
            categories=_categories(catalog, p),
        ))
    by_name = {p.name: p for p in pools}
    intervals = tuple(job_interval_hours(j, by_name[j.pool]) for j in scenario.jobs)
    parts = sorted({c.part for c in catalog.categories.values()
                    if c.part is not None and c.hard_fraction.value > 0})
    policies = {(p.sku, part): resolve_spare_policy(scenario, p.sku, part)
                for p in pools for part in parts}
    return SimSetup(scenario, catalog, tuple(pools), intervals, policies,
                    tuple(catalog.categories))
