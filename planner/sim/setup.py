"""A validated scenario and catalog resolved into what the simulator needs, once per scenario:
pools with their failure categories (rates per node-hour), checkpoint intervals and spare
policies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from planner.catalog.catalog import Catalog
from planner.scenario.distributions import AnyDist, Lognormal
from planner.scenario.schema import Job, Pool, RepairPolicy, Scenario
from planner.scenario.shock_quarters import BlockQuarters
from planner.scenario.spare_policy import ResolvedSparePolicy, resolve_spare_policy
from planner.sim.checkpoint import daly_interval_hours
from planner.units import HOURS_PER_DAY


@dataclass(frozen=True)
class CategoryParams:
    """A failure category as the simulator uses it (rates already per node-hour), with the
    repair outcomes the scenario gives it."""

    name: str
    rate_per_hour: float
    hard_fraction: float
    part: str | None
    repair_hours: AnyDist  # hands-on repair time
    weibull_shape: float | None
    fix_fail_probability: float = 0.0  # a manual repair does not hold
    silent_failed_fix: bool = False  # such a repair goes unnoticed (else it is redone)
    lemon_cure_probability: float = 0.0  # a manual repair that holds cures a lemon


@dataclass(frozen=True)
class SharedParams:
    """A shared component of a pool (leaf switch, rack, PDU): its units are consecutive blocks
    of `nodes_per_unit` nodes; a unit's failure takes them all down until it is repaired once."""

    name: str
    nodes_per_unit: int
    rate_per_hour: float  # failures per unit-hour
    hard_fraction: float
    part: str | None
    repair_hours: Lognormal


@dataclass(frozen=True)
class MaintenanceParams:
    """Planned interruptions of a pool: `batch_nodes` nodes drained for `duration_hours`,
    every `every_hours` from `first_hours` (calendar), or at `per_hour` (Poisson)."""

    name: str
    batch_nodes: int
    duration_hours: object  # a scenario distribution
    every_hours: float | None
    first_hours: float
    per_hour: float | None
    random_order: bool = False  # each batch starts at a random node (else where the last ended)


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
    idle_rate_factor: float = 1.0  # share of the failure rate a healthy node not computing keeps
    shared: tuple[SharedParams, ...] = ()  # shared components with a failure rate
    maintenance: tuple[MaintenanceParams, ...] = ()

    def node_rate_per_hour(self) -> float:
        """Expected failure rate of one average node (lemons included), with its share of the
        failures of the shared components it hangs on (a job on n nodes sees n / k units)."""
        base = sum(c.rate_per_hour for c in self.categories)
        shared = sum(c.rate_per_hour / c.nodes_per_unit for c in self.shared)
        return base * (1.0 + self.lemon_fraction * (self.lemon_multiplier - 1.0)) + shared


@dataclass(frozen=True)
class SimSetup:
    """Everything a replication needs, resolved once per scenario."""

    scenario: Scenario
    catalog: Catalog
    pools: tuple[PoolSetup, ...]
    job_intervals_hours: tuple[float, ...]
    spare_policies: dict[tuple[str, str], ResolvedSparePolicy]
    category_names: tuple[str, ...]  # failure causes: categories, then shared components
    shared_spare_policies: dict[tuple[str, str], ResolvedSparePolicy] = field(
        default_factory=dict)  # parts of shared components (no cannibalization between nodes)

    @property
    def horizon_hours(self) -> float:
        return self.scenario.horizon_days * HOURS_PER_DAY


def _outcome(repair: RepairPolicy, category: str, field: str):
    """A repair outcome of `category`: its own entry in `repair.categories`, else the policy's."""
    own = repair.categories.get(category)
    value = getattr(own, field) if own is not None else None
    return value if value is not None else getattr(repair, field)


def _categories(catalog: Catalog, pool: Pool, repair: RepairPolicy) -> tuple[CategoryParams, ...]:
    rates = catalog.failure_rates_per_hour(pool.sku, pool.failure_rate_multipliers,
                                           pool.sku_failure_rate_multiplier, pool.categories)
    out = []
    for name, cat in catalog.categories.items():
        own = repair.categories.get(name)
        fix_fail = (own.fix_fail_probability if own is not None
                    and own.fix_fail_probability is not None
                    else repair.manual_fix_fail_probability)
        out.append(CategoryParams(
            name=name,
            rate_per_hour=rates[name],
            hard_fraction=cat.hard_fraction.value,
            part=cat.part,
            repair_hours=cat.repair_distribution(),
            weibull_shape=cat.lifetime_weibull_shape,
            fix_fail_probability=fix_fail,
            silent_failed_fix=_outcome(repair, name, "failed_fix") == "silent",
            lemon_cure_probability=_outcome(repair, name, "lemon_cure_probability"),
        ))
    return tuple(out)


def _shared(catalog: Catalog, pool: Pool) -> tuple[SharedParams, ...]:
    """The pool's shared components that can fail (a rate above zero)."""
    sku_multiplier = catalog.skus[pool.sku].failure_rate_multiplier.value \
        if pool.sku_failure_rate_multiplier is None else pool.sku_failure_rate_multiplier
    out = []
    for name, comp in catalog.shared_components.items():
        if pool.categories is not None and name not in pool.categories:
            continue
        rate = comp.rate_per_hour * sku_multiplier * pool.failure_rate_multipliers.get(name, 1.0)
        if rate <= 0:
            continue
        out.append(SharedParams(
            name=name, nodes_per_unit=pool.topology.get(name, int(comp.nodes_per_unit.value)),
            rate_per_hour=rate, hard_fraction=comp.hard_fraction.value, part=comp.part,
            repair_hours=Lognormal(dist="lognormal", median=comp.repair_hours_median.value,
                                   sigma=comp.repair_hours_sigma.value)))
    return tuple(out)


def _maintenance(scenario: Scenario, pool: Pool) -> tuple[MaintenanceParams, ...]:
    out = []
    for m in pool.maintenance:
        every = None if m.every_days is None else m.every_days * HOURS_PER_DAY
        first = (scenario.hours_since_start(m.first_date) if m.first_date is not None
                 else every if every is not None else 0.0)
        out.append(MaintenanceParams(
            name=m.name, batch_nodes=m.batch_nodes, duration_hours=m.duration_hours,
            every_hours=every, first_hours=first,
            per_hour=None if m.per_day is None else m.per_day / HOURS_PER_DAY,
            random_order=m.order == "random"))
    return tuple(out)


IDLE_RATE_FACTOR = {"always": 1.0, "busy": 0.0}  # `idle_reduced` takes the pool's own factor


def idle_rate_factor(pool: Pool) -> float:
    """The share of the failure rate a healthy node keeps while it does not compute."""
    if pool.failure_clock == "idle_reduced":
        assert pool.idle_failure_rate_factor is not None  # the schema requires it
        return pool.idle_failure_rate_factor
    return IDLE_RATE_FACTOR[pool.failure_clock]


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
            categories=_categories(catalog, p, scenario.cluster.repair),
            idle_rate_factor=idle_rate_factor(p),
            shared=_shared(catalog, p),
            maintenance=_maintenance(scenario, p),
        ))
    by_name = {p.name: p for p in pools}
    intervals = tuple(job_interval_hours(j, by_name[j.pool]) for j in scenario.jobs)
    parts = sorted({c.part for c in catalog.categories.values()
                    if c.part is not None and c.hard_fraction.value > 0})
    policies = {(p.sku, part): resolve_spare_policy(scenario, p.sku, part)
                for p in pools for part in parts}
    shared_parts = {(p.sku, c.part): resolve_spare_policy(scenario, p.sku, c.part)
                    for p in pools for c in p.shared
                    if c.part is not None and c.hard_fraction > 0 and (p.sku, c.part) not in policies}
    causes = (*catalog.categories, *sorted({c.name for p in pools for c in p.shared}))
    return SimSetup(scenario, catalog, tuple(pools), intervals, policies, causes,
                    shared_parts)
