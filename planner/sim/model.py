"""One replication of the cluster: wires pools, failure streams, repairs, spares, jobs and shocks.

`simulate(setup, replication)` returns a ReplicationResult (plain data). Random streams come from
numpy SeedSequence(seed, spawn_key=(replication,)), one child per purpose, so a replication's
numbers depend only on the scenario, the seed and its index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count

import numpy as np
import simpy

from planner.catalog.catalog import Catalog
from planner.scenario.distributions import Lognormal
from planner.scenario.schema import Job, Scenario
from planner.scenario.spare_policy import ResolvedSparePolicy, resolve_spare_policy
from planner.sim.checkpoint import daly_interval_hours
from planner.sim.draws import Draws, sampler
from planner.sim.events import After
from planner.sim.failures import PoissonStream, WeibullClocks
from planner.sim.fleet import ABSENT, Backlog, PoolState
from planner.sim.jobs import PREEMPTION, JobRunner
from planner.sim.repair import EVENT_COLUMNS, MISDIAGNOSIS, CategoryParams, Crew
from planner.sim.shocks import NODES, ShockBook, sample_shocks
from planner.sim.spares import HOURS_PER_DAY, Inventory


@dataclass(frozen=True)
class PoolSetup:
    """A pool as the simulator needs it."""

    name: str
    sku: str
    vendor: str
    gpus_per_node: int
    initial_nodes: int
    deliveries: tuple[tuple[float, int], ...]  # (hours since start, nodes)
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


def _categories(scenario: Scenario, catalog: Catalog, pool) -> tuple[CategoryParams, ...]:
    sku = catalog.skus[pool.sku]
    out = []
    for name, cat in catalog.categories.items():
        mult = sku.failure_rate_multiplier.value * pool.failure_rate_multipliers.get(name, 1.0)
        out.append(CategoryParams(
            name=name,
            rate_per_hour=cat.rate_per_hour * mult,
            hard_fraction=cat.hard_fraction.value,
            part=cat.part,
            blast_radius_nodes=cat.blast_radius_nodes,
            blast_fraction=cat.blast_fraction.value,
            repair_hours=Lognormal(dist="lognormal", median=cat.repair_hours_median.value,
                                   sigma=cat.repair_hours_sigma.value),
            weibull_shape=cat.lifetime_weibull_shape,
        ))
    return tuple(out)


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
        deliveries = tuple((scenario.hours_since_start(d.date), d.nodes) for d in p.deliveries)
        pools.append(PoolSetup(
            name=p.name, sku=p.sku, vendor=sku.vendor, gpus_per_node=sku.gpus,
            initial_nodes=p.nodes, deliveries=deliveries,
            capacity=p.nodes + sum(n for _, n in deliveries),
            lemon_fraction=p.lemon_fraction, lemon_multiplier=p.lemon_rate_multiplier,
            retire_failures=None if p.retirement is None else p.retirement.failures,
            retire_window_hours=0.0 if p.retirement is None else p.retirement.window_days * 24.0,
            categories=_categories(scenario, catalog, p),
        ))
    by_name = {p.name: p for p in pools}
    intervals = tuple(job_interval_hours(j, by_name[j.pool]) for j in scenario.jobs)
    parts = sorted({c.part for c in catalog.categories.values()
                    if c.part is not None and c.hard_fraction.value > 0})
    policies = {(p.sku, part): resolve_spare_policy(scenario, p.sku, part)
                for p in pools for part in parts}
    return SimSetup(scenario, catalog, tuple(pools), intervals, policies,
                    tuple(catalog.categories))


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication produced: flat metrics, a daily timeseries and the failure log."""

    replication: int
    metrics: dict[str, float]
    timeseries: dict[str, list]
    events: list[list]  # rows of EVENT_COLUMNS
    sim_events: int
    shocks: tuple[tuple[str, str, float, float], ...] = ()  # (name, vendor, start h, end h)


class Delivery:
    """New nodes of a pool arriving on a date; held while a shock blocks the vendor's node
    deliveries, lost under a permanent block."""

    def __init__(self, model: ClusterModel, pool: PoolState, vendor: str, clocks: WeibullClocks,
                 nodes: int, at_hours: float):
        self.model, self.pool, self.vendor, self.clocks, self.nodes = model, pool, vendor, clocks, nodes
        After(model.env, at_hours, self._arrive)

    def _arrive(self, _event: simpy.Event) -> None:
        env = self.model.env
        reopen = self.model.shocks.blocked_until(self.vendor, None, NODES, env.now)
        if reopen is None:
            self.model.install(self.pool, self.clocks, self.nodes)
        elif not math.isinf(reopen):
            After(env, reopen - env.now, self._arrive)


class ClusterModel:
    """The simulation state of one replication."""

    def __init__(self, setup: SimSetup, replication: int):
        self.setup = setup
        scenario = setup.scenario
        self.replication = replication
        seeds = np.random.SeedSequence(scenario.seed, spawn_key=(replication,)).spawn(6)
        rng_fail, self.rng_repair, self.rng_spares, rng_shock, rng_lemon, _ = (
            np.random.default_rng(s) for s in seeds
        )
        self.draws_repair = Draws(self.rng_repair)
        self.draws_spares = Draws(self.rng_spares)
        self.env = simpy.Environment()
        self.env._eid = count()  # fresh event counter (read back as events processed)
        self.horizon_hours = setup.horizon_hours
        self.repair = scenario.cluster.repair
        self.misdiagnosis_probability = self.repair.misdiagnosis_probability
        self.misdiagnosis_refail_hours = self.repair.misdiagnosis_refail_hours
        self.crew = Crew(self.repair.technicians)
        rp, draws = self.repair, self.draws_repair
        self.diagnosis = sampler(rp.diagnosis_hours, draws)
        self.auto_repair = sampler(rp.auto_repair_hours, draws)
        self.validation = sampler(rp.validation_hours, draws)
        self.hands_on = {
            c.name: sampler(rp.hands_on_hours or c.repair_hours, draws)
            for ps in setup.pools for c in ps.categories
        }
        self.shocks = ShockBook(sample_shocks(scenario, rng_shock))
        self.backlog = Backlog()
        self.events: list[list] = []
        self.pools: list[PoolState] = []
        self.pool_setups = setup.pools
        self._weibull: list[WeibullClocks] = []
        self.jobs: list[JobRunner] = []
        self._jobs_by_pool: dict[str, list[JobRunner]] = {}
        self._standby_jobs_by_pool: dict[str, list[JobRunner]] = {}
        pool_rngs = rng_fail.spawn(len(setup.pools))
        for ps, prng in zip(setup.pools, pool_rngs, strict=True):
            lemon = rng_lemon.random(ps.capacity) < ps.lemon_fraction
            pool = PoolState(ps.name, ps.sku, ps.capacity, lemon, self.backlog,
                             ps.retire_failures, ps.retire_window_hours)
            self.pools.append(pool)
            clocks = WeibullClocks(self, pool, list(ps.categories), ps.lemon_multiplier, prng)
            self._weibull.append(clocks)
            self.install(pool, clocks, ps.initial_nodes)
            PoissonStream(self, pool, list(ps.categories), ps.lemon_multiplier, prng)
            for when, nodes in ps.deliveries:  # before the jobs: a delivery installs first
                Delivery(self, pool, ps.vendor, clocks, nodes, max(when, 0.0))
        self._inventories: dict[tuple[str, str], Inventory] = {}
        for (sku, part), policy in setup.spare_policies.items():
            self._inventories[(sku, part)] = Inventory(
                self, sku, part, setup.catalog.part_supplier(sku, part),
                setup.catalog.part_price_usd(sku, part), policy)
        pool_by_name = {p.name: (p, s) for p, s in zip(self.pools, setup.pools, strict=True)}
        for index, (spec, interval) in enumerate(
                zip(scenario.jobs, setup.job_intervals_hours, strict=True)):
            pool, ps = pool_by_name[spec.pool]
            start = 0.0 if spec.start_date is None else scenario.hours_since_start(spec.start_date)
            self.jobs.append(JobRunner(self, index, spec, pool, ps.gpus_per_node, start, interval))
        # jobs of each pool, highest priority first (ties: scenario order)
        for job in sorted(self.jobs, key=lambda j: (-j.spec.priority, j.index)):
            self._jobs_by_pool.setdefault(job.pool.name, []).append(job)
            if job.spec.warm_standby_nodes > 0:
                self._standby_jobs_by_pool.setdefault(job.pool.name, []).append(job)
        for job in self.jobs:  # lowest priority first: the order preemption takes nodes in
            lower = [j for j in self._jobs_by_pool[job.pool.name]
                     if j.spec.priority < job.spec.priority]
            job.lower_priority = lower[::-1]
        for job in sorted(self.jobs, key=lambda j: (-j.spec.priority, j.index)):
            job.schedule_start()  # jobs starting at one instant take nodes by priority
        self.timeseries: dict[str, list] = {}
        self.env.process(self._sampler(scenario.simulation.timeseries_step_days * HOURS_PER_DAY))

    # --- fleet -----------------------------------------------------------------------------------

    def install(self, pool: PoolState, clocks: WeibullClocks, nodes: int) -> None:
        """Put `nodes` new nodes of `pool` in service (idle) and start their Weibull clocks."""
        first = pool.install(nodes, self.env.now)
        if clocks.categories:
            for node in range(first, first + nodes):
                clocks.start_node(node)
        self.nodes_freed(pool)

    def nodes_freed(self, pool: PoolState) -> None:
        """Idle nodes appeared in `pool`: wake waiting jobs by priority, then fill standbys."""
        if pool.parked_jobs:
            for job in self._jobs_by_pool[pool.name]:
                if job.parked and job.can_restart():
                    job.wake()
            return  # idle nodes are kept for waiting jobs, not given to standbys
        for job in self._standby_jobs_by_pool.get(pool.name, ()):
            while job.standby_deficit() > 0:
                node = pool.take_idle()
                if node is None:
                    return
                job.add_standby(node)

    def pool_has_waiting_job(self, pool: PoolState, other_than: JobRunner | None = None) -> bool:
        """Whether a job of `pool` (other than `other_than`) waits for nodes."""
        own = 1 if other_than is not None and other_than.parked else 0
        return pool.parked_jobs - own > 0

    # --- spares ----------------------------------------------------------------------------------

    def inventory(self, sku: str, part: str) -> Inventory:
        return self._inventories[(sku, part)]

    def inventories_of(self, sku: str) -> list[Inventory]:
        return [inv for (s, _), inv in self._inventories.items() if s == sku]

    # --- records ---------------------------------------------------------------------------------

    def record_failure(self, pool: PoolState, node: int, category: str, kind: str, job: str) -> list:
        row = [self.env.now, pool.name, node, category, kind, job, "in_repair_at_end",
               math.nan, 0.0]
        self.events.append(row)
        if kind != MISDIAGNOSIS:
            pool.failures += 1
        return row

    def _sampler(self, step_hours: float):
        while True:
            self._snapshot()
            yield self.env.timeout(step_hours)

    def _snapshot(self) -> None:
        ts, now = self.timeseries, self.env.now
        ts.setdefault("day", []).append(now / HOURS_PER_DAY)
        for pool in self.pools:
            healthy, repair, waiting, retired, installed = pool.counts_snapshot()
            for key, value in (("healthy_nodes", healthy), ("in_repair_nodes", repair),
                               ("waiting_parts_nodes", waiting), ("retired_nodes", retired),
                               ("installed_nodes", installed)):
                ts.setdefault(f"{pool.name}.{key}", []).append(value)
        for (sku, part), inv in self._inventories.items():
            ts.setdefault(f"stock.{sku}/{part}", []).append(inv.on_hand)
        for job in self.jobs:
            ts.setdefault(f"{job.name}.progress_gpu_hours", []).append(job.progress_hours * job.gpus)

    # --- run -------------------------------------------------------------------------------------

    def run(self) -> ReplicationResult:
        horizon = self.horizon_hours
        self.env.run(until=horizon)
        sim_events = next(self.env._eid) - len(self.env._queue)  # processed, not just scheduled
        for job in self.jobs:
            if job.phase not in (ABSENT,):
                job.close_at_horizon(horizon)
        for pool in self.pools:
            pool.finish(horizon)
        for inv in self._inventories.values():
            inv.finish(horizon)
        if not self.timeseries["day"] or self.timeseries["day"][-1] * HOURS_PER_DAY < horizon:
            self._snapshot()
        shocks = tuple((w.name, w.vendor, w.start_hours, w.end_hours) for w in self.shocks.windows)
        return ReplicationResult(self.replication, self._metrics(horizon), self.timeseries,
                                 self.events, sim_events, shocks)

    def _metrics(self, horizon: float) -> dict[str, float]:
        m: dict[str, float] = {}
        lost = dict.fromkeys(("lost_work", "restart", "waiting_for_nodes", "checkpoint_writes"), 0.0)
        interruption_causes = (*self.setup.category_names, PREEMPTION, MISDIAGNOSIS)
        by_cause = dict.fromkeys(interruption_causes, 0)
        goodput = 0.0
        for job in self.jobs:
            wall = job.wall_hours(horizon)
            m[f"ettr.{job.name}"] = job.progress_hours / wall if wall > 0 else math.nan
            goodput += job.progress_hours * job.gpus
            if job.spec.work_target_gpu_hours is not None:
                finished_at = job.finished_at
                m[f"time_to_train_days.{job.name}"] = (
                    (finished_at - job.start_hours) / HOURS_PER_DAY
                    if finished_at is not None else math.nan)
                m[f"job_completed.{job.name}"] = 1.0 if finished_at is not None else 0.0
            n = sum(job.interruptions.values())
            m[f"job_mttf_hours.{job.name}"] = job.exposed_hours / n if n else math.nan
            m[f"job_interruptions.{job.name}"] = float(n)
            for cause, k in job.interruptions.items():
                by_cause[cause] = by_cause.get(cause, 0) + k
            lost["lost_work"] += job.lost_work_hours * job.gpus
            lost["restart"] += job.restart_hours * job.gpus
            lost["waiting_for_nodes"] += job.waiting_hours * job.gpus
            lost["checkpoint_writes"] += job.write_total_hours * job.gpus
        m["goodput_gpu_hours"] = goodput
        m["interruptions.total"] = float(sum(by_cause.values()))
        for cause, k in by_cause.items():
            m[f"interruptions.by_category.{cause}"] = float(k)
        for key, value in lost.items():
            m[f"lost_gpu_hours.{key}"] = value
        for pool in self.pools:
            m[f"node_availability.{pool.name}"] = (
                pool.healthy_node_hours / pool.installed_node_hours
                if pool.installed_node_hours > 0 else math.nan)
            m[f"nodes_retired.{pool.name}"] = float(pool.count[6])
            m[f"node_failures.{pool.name}"] = float(pool.failures)
        spend = 0.0
        for (sku, part), inv in self._inventories.items():
            m[f"stockout_days.{sku}/{part}"] = inv.stockout_hours / HOURS_PER_DAY
            m[f"parts_consumed.{sku}/{part}"] = float(inv.consumed + inv.from_retired)
            m[f"parts_cannibalized.{sku}/{part}"] = float(inv.cannibalized)
            spend += inv.spend_usd
        m["parts_spend_usd"] = spend
        m["repair_backlog_max"] = float(self.backlog.max)
        return m


def simulate(setup: SimSetup, replication: int) -> ReplicationResult:
    """Run replication number `replication` of `setup`."""
    return ClusterModel(setup, replication).run()


__all__ = ["EVENT_COLUMNS", "ReplicationResult", "SimSetup", "build_setup", "simulate"]
