"""One replication of the cluster: wires pools, failure streams, the repair shop, spare stocks,
the scheduler and its jobs, deliveries and the timeseries, then runs to the horizon.

`simulate(setup, replication)` returns a ReplicationResult (plain data). Random streams come from
numpy SeedSequence(seed, spawn_key=(replication,)), one child per purpose, so a replication's
numbers depend only on the scenario, the seed and its index. The sixth child feeds what a
scenario switches on beyond the basics (failure clocks by state, lemon cures, shared
components, maintenance), so a scenario without them draws exactly what it drew before.

With `simulation.stop: jobs_done` a replication ends when the last job with a work target ends,
or at the horizon; its metrics and timeseries cover its own length.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
from collections.abc import Callable

import numpy as np
import simpy

from planner.metrics import SIMULATED_DAYS
from planner.quarters import quarter_labels
from planner.scenario.shock_quarters import BlockQuarters, block_quarters, representative_begin
from planner.sim.context import SimContext
from planner.sim.draws import Draws
from planner.sim.events import After, QueueView
from planner.sim.failure_log import FailureLog
from planner.sim.failures import PoissonStream, SharedStream, WeibullClocks
from planner.sim.fleet import Backlog, PoolState
from planner.sim.jobs import JobPhase
from planner.sim.maintenance import MaintenancePlan
from planner.sim.repair import RepairShop
from planner.sim.results import ReplicationResult, Timeseries, collect_metrics
from planner.sim.runway import runway_metrics
from planner.sim.scheduler import JobPlacement, Scheduler
from planner.sim.setup import SimSetup
from planner.sim.shocks import NODES, ShockBook, sample_shocks
from planner.sim.spares import Inventories
from planner.units import HOURS_PER_DAY


class Delivery:
    """New nodes arriving on a date: held while a shock blocks the vendor's node deliveries,
    lost under a permanent block."""

    def __init__(self, ctx: SimContext, vendor: str, at_hours: float, install: Callable[[], None]):
        self.ctx, self.vendor, self.install = ctx, vendor, install
        After(ctx.env, at_hours, self._arrive)

    def _arrive(self, _event: simpy.Event) -> None:
        now = self.ctx.env.now
        reopen = self.ctx.shocks.blocked_until(self.vendor, None, NODES, now)
        if reopen is None:
            self.install()
        elif not math.isinf(reopen):
            After(self.ctx.env, reopen - now, self._arrive)


class ClusterModel:
    """The simulation state of one replication, wired and ready to run."""

    def __init__(self, setup: SimSetup, replication: int):
        self.setup = setup
        scenario = setup.scenario
        self.replication = replication
        rng_fail, rng_repair, rng_spares, rng_shock, rng_lemon, rng_more = (
            np.random.default_rng(s)
            for s in np.random.SeedSequence(scenario.seed, spawn_key=(replication,)).spawn(6)
        )
        rng_accept, rng_shared, rng_maintenance = rng_more.spawn(3)
        env = simpy.Environment()
        self.env = env
        self.ctx = SimContext(env, Draws(rng_repair), Draws(rng_spares),
                              ShockBook(sample_shocks(scenario, rng_shock)), setup.horizon_hours,
                              FailureLog())
        self.backlog = Backlog()
        self.pools = [
            PoolState(ps.name, ps.sku, ps.capacity, rng_lemon.random(ps.capacity) < ps.lemon_fraction,
                      self.backlog, ps.retire_failures, ps.retire_window_hours)
            for ps in setup.pools
        ]
        self.inventories = Inventories(env, self.ctx.spares_draws, self.ctx.shocks, {
            (sku, part): (setup.catalog.part_supplier(sku, part),
                          setup.catalog.part_price_usd(sku, part), policy)
            for (sku, part), policy in setup.spare_policies.items()
        }, {
            (sku, part): (setup.catalog.part_supplier(sku, part),
                          setup.catalog.part_price_usd(sku, part), policy)
            for (sku, part), policy in setup.shared_spare_policies.items()
        })
        pool_by_name = {p.name: (p, s) for p, s in zip(self.pools, setup.pools, strict=True)}
        self.scheduler = Scheduler(env, setup.horizon_hours, self.pools, [
            JobPlacement(spec, pool_by_name[spec.pool][0], pool_by_name[spec.pool][1].gpus_per_node,
                         0.0 if spec.start_date is None
                         else scenario.hours_since_start(spec.start_date), interval,
                         math.inf if spec.end_date is None
                         else scenario.hours_since_start(spec.end_date))
            for spec, interval in zip(scenario.jobs, setup.job_intervals_hours, strict=True)
        ])
        self._stop_when_jobs_done(scenario.simulation.stop == "jobs_done")
        self.shop = RepairShop(self.ctx, scenario.cluster.repair, setup.pools, self.scheduler,
                               self.inventories)
        outcomes = self._shock_outcomes() if any(
            condition for ps in setup.pools for _, _, condition in ps.deliveries) else {}
        # the order below is the order events are scheduled in (ties at one instant keep it)
        accept = Draws(rng_accept)
        self.maintenance: list[MaintenancePlan] = []
        self.shared_streams: list[SharedStream] = []
        for pool, ps, prng in zip(self.pools, setup.pools, rng_fail.spawn(len(setup.pools)),
                                  strict=True):
            clocks = WeibullClocks(env, pool, ps.categories, ps.lemon_multiplier, prng,
                                   self.shop.on_failure, ps.idle_rate_factor, accept)
            self._install(pool, clocks, ps.initial_nodes)
            PoissonStream(env, pool, ps.categories, ps.lemon_multiplier, prng,
                          self.shop.on_failure, ps.idle_rate_factor, accept)
            for component in ps.shared:
                self.shared_streams.append(SharedStream(
                    env, pool, component, rng_shared.spawn(1)[0], self.shop.on_shared_failure))
            for params in ps.maintenance:
                self.maintenance.append(MaintenancePlan(self.ctx, pool, params, self.scheduler,
                                                        rng_maintenance.spawn(1)[0]))
            for when, nodes, condition in ps.deliveries:  # before the jobs: installs come first
                if condition and not all(outcomes[name] == wanted for name, wanted in condition):
                    continue
                Delivery(self.ctx, ps.vendor, max(when, 0.0),
                         lambda pool=pool, clocks=clocks, nodes=nodes:
                         self._install(pool, clocks, nodes))
        self.inventories.start()
        self.scheduler.start()
        self.timeseries = Timeseries(env, self.pools, self.inventories, self.scheduler.jobs,
                                     scenario.simulation.timeseries_step_days * HOURS_PER_DAY,
                                     extra_states=any(ps.shared or ps.maintenance
                                                      for ps in setup.pools))

    def _stop_when_jobs_done(self, enabled: bool) -> None:
        """With `stop: jobs_done`, end the run once every job with a work target has ended."""
        targeted = [j for j in self.scheduler.jobs if j.spec.work_target_gpu_hours is not None]
        if not enabled or not targeted:
            return
        stop = self.env.event()
        stop.callbacks.append(simpy.core.StopSimulation.callback)
        remaining = [len(targeted)]

        def ended(_job) -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                stop.succeed()

        for job in targeted:
            job.on_end.append(ended)

    def _shock_outcomes(self) -> dict[str, BlockQuarters]:
        """Each supply shock's outcome in this replication by planning quarter (None: no block
        in the planned quarters), read from its sampled start as the optimizer's derived
        scenarios read it (planner/scenario/shock_quarters.py): what contingent deliveries
        depend on."""
        scenario = self.setup.scenario
        proc = scenario.procurement
        labels = quarter_labels(proc.start_quarter, proc.quarters)
        started = {w.name: w.start_hours for w in self.ctx.shocks.windows}
        outcomes: dict[str, BlockQuarters] = {}
        for shock in scenario.supply_shocks:
            outcome = None
            if shock.name in started:
                day = scenario.start_date + dt.timedelta(hours=started[shock.name])
                outcome = block_quarters(shock, representative_begin(shock, day), labels)
            outcomes[shock.name] = outcome
        return outcomes

    @property
    def jobs(self):
        return self.scheduler.jobs

    def _install(self, pool: PoolState, clocks: WeibullClocks, nodes: int) -> None:
        """Put `nodes` new nodes of `pool` in service (idle) and start their Weibull clocks."""
        first = pool.install(nodes, self.env.now)
        if clocks.categories:
            for node in range(first, first + nodes):
                clocks.start_node(node)
        self.scheduler.nodes_freed(pool)

    def run(self) -> ReplicationResult:
        """Run to the horizon (or until the jobs are done) and collect the results."""
        self.env.run(until=self.setup.horizon_hours)
        horizon = self.env.now  # the horizon, or when the jobs were done (stop: jobs_done)
        sim_events = QueueView(self.env).processed()
        for job in self.scheduler.jobs:
            if job.phase != JobPhase.NOT_STARTED:
                job.close_at_horizon(horizon)
        for pool in self.pools:
            pool.finish(horizon)
        self.inventories.finish(horizon)
        self.timeseries.close(horizon)
        shocks = tuple((w.name, w.vendor, w.start_hours, w.end_hours)
                       for w in self.ctx.shocks.windows)
        metrics = collect_metrics(horizon, self.scheduler.jobs, self.pools, self.inventories,
                                  self.backlog, self.setup.category_names)
        metrics[SIMULATED_DAYS.flat()] = horizon / HOURS_PER_DAY
        metrics.update(runway_metrics(self.setup, self.ctx.shocks.windows, self.timeseries.series,
                                      horizon))
        return ReplicationResult(self.replication, metrics, self.timeseries.series,
                                 self.ctx.log.rows, sim_events, shocks)


# Allocations between two young-generation collections of Python's cyclic garbage collector
# while a replication runs (the default is 700). The event loop allocates objects at every event,
# nearly all freed at once by reference counting, and every collection that reaches the older
# generations walks every live object: the more nodes, the more of them. At the default, a
# 1,048,576-GPU year cost 1.45x more per node failure than a 102,400-GPU one; at this threshold
# 1.0-1.1x (BENCHMARKS.md). Cyclic garbage is still collected, just less often.
GC_YOUNG_THRESHOLD = 100_000


def simulate(setup: SimSetup, replication: int) -> ReplicationResult:
    """Run replication number `replication` of `setup` (the garbage collector's young-generation
    threshold raised meanwhile, then restored)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(GC_YOUNG_THRESHOLD, thresholds[0]), *thresholds[1:])
    try:
        return ClusterModel(setup, replication).run()
    finally:
        gc.set_threshold(*thresholds)
