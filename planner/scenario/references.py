"""Cross-field checks that need the catalog: names that must exist, dates that must be in order."""

from __future__ import annotations

from planner.catalog.catalog import Catalog
from planner.metrics import PER_JOB, PER_POOL, adaptive_names, resolve
from planner.quarters import quarter_labels
from planner.scenario.schema import Scenario
from planner.units import HOURS_PER_DAY

Problem = tuple[tuple[str | int, ...], str]


def _pools(s: Scenario, cat: Catalog) -> Problem | None:  # noqa: C901 - a list of checks
    categories = set(cat.categories) | set(cat.shared_components)
    for i, pool in enumerate(s.cluster.pools):
        if pool.sku not in cat.skus:
            known = ", ".join(sorted(cat.skus))
            return ("cluster", "pools", i, "sku"), f"unknown SKU {pool.sku!r} (known: {known})"
        for j, delivery in enumerate(pool.deliveries):
            if delivery.date < s.start_date:
                where = ("cluster", "pools", i, "deliveries", j, "date")
                return where, f"{delivery.date} is before start_date {s.start_date}"
            problem = _condition(s, delivery)
            if problem is not None:
                return ("cluster", "pools", i, "deliveries", j, "when", *problem[0]), problem[1]
        for name in pool.failure_rate_multipliers:
            if name not in categories:
                where = ("cluster", "pools", i, "failure_rate_multipliers", name)
                return where, f"unknown failure category {name!r}"
        for j, name in enumerate(pool.categories or []):
            if name not in categories:
                return (("cluster", "pools", i, "categories", j),
                        f"unknown failure category or shared component {name!r}")
        for name in pool.topology:
            if name not in cat.shared_components:
                known = ", ".join(sorted(cat.shared_components))
                return (("cluster", "pools", i, "topology", name),
                        f"unknown shared component {name!r} (known: {known})")
        capacity = pool.nodes + sum(d.nodes for d in pool.deliveries)
        for j, m in enumerate(pool.maintenance):
            where = ("cluster", "pools", i, "maintenance", j)
            if m.batch_nodes > capacity:
                return (*where, "batch_nodes"), (
                    f"{m.batch_nodes} nodes is more than the pool's {capacity}")
            if m.first_date is not None and m.first_date < s.start_date:
                return (*where, "first_date"), f"{m.first_date} is before start_date"
        events = _expected_failure_events(s, cat, pool)
        if events > MAX_FAILURE_EVENTS:
            return ("cluster", "pools", i), (
                f"about {events:.2g} failure events per replication (nodes x failure rates x "
                f"lemon multiplier x horizon); at most {MAX_FAILURE_EVENTS:.0e}: check the "
                "failure rates and multipliers")
    return None


def _condition(s: Scenario, delivery) -> Problem | None:
    """A contingent delivery names shocks of the scenario, once each, by planning quarters."""
    if not delivery.when:
        return None
    if s.procurement is None:
        return (), "needs a procurement section (its quarters date the shock outcomes)"
    labels = quarter_labels(s.procurement.start_quarter, s.procurement.quarters)
    shocks = {shock.name for shock in s.supply_shocks}
    seen: set[str] = set()
    for k, outcome in enumerate(delivery.when):
        if outcome.shock not in shocks:
            return (k, "shock"), f"no supply shock named {outcome.shock!r}"
        if outcome.shock in seen:
            return (k, "shock"), f"shock {outcome.shock!r} listed twice"
        seen.add(outcome.shock)
        for name in ("from_quarter", "until_quarter"):
            quarter = getattr(outcome, name)
            if quarter is not None and quarter not in labels:
                return (k, name), f"{quarter} is outside the planned quarters"
        if outcome.from_quarter is None and outcome.until_quarter is not None:
            return (k, "until_quarter"), "needs from_quarter"
    return None


# A replication costs about 20-30 us per failure event, so 1e8 events take about an hour: more
# than that is a typo in a rate or multiplier, not a plan.
MAX_FAILURE_EVENTS = 100_000_000


def _expected_failure_events(s: Scenario, cat: Catalog, pool) -> float:
    """Expected candidate failure events of `pool` over the horizon if every node were always in
    service (an upper bound of the events the simulator will process for it)."""
    rate_per_node_hour = sum(cat.failure_rates_per_hour(
        pool.sku, pool.failure_rate_multipliers, pool.sku_failure_rate_multiplier,
        pool.categories).values())
    nodes = pool.nodes + sum(d.nodes for d in pool.deliveries)
    weight = 1.0 + pool.lemon_fraction * (pool.lemon_rate_multiplier - 1.0)
    shared = sum(c.rate_per_hour / pool.topology.get(name, c.nodes_per_unit.value)
                 for name, c in cat.shared_components.items())
    maintenance = sum(m.per_day / HOURS_PER_DAY if m.per_day is not None
                      else 1.0 / (m.every_days * HOURS_PER_DAY) for m in pool.maintenance)
    return ((rate_per_node_hour * weight + shared) * nodes + maintenance) \
        * s.horizon_days * HOURS_PER_DAY


def _jobs(s: Scenario) -> Problem | None:
    pools = {p.name: p for p in s.cluster.pools}
    names: set[str] = set()
    for i, job in enumerate(s.jobs):
        if job.name in names:
            return ("jobs", i, "name"), f"duplicate job name {job.name!r}"
        names.add(job.name)
        pool = pools.get(job.pool)
        if pool is None:
            return ("jobs", i, "pool"), f"unknown pool {job.pool!r}"
        capacity = pool.nodes + sum(d.nodes for d in pool.deliveries)
        if job.nodes + job.warm_standby_nodes > capacity:
            return ("jobs", i, "nodes"), (
                f"{job.nodes} nodes + {job.warm_standby_nodes} standby exceed pool "
                f"{pool.name!r} ({capacity} nodes with deliveries)"
            )
        if job.start_date is not None:
            if job.start_date < s.start_date:
                return ("jobs", i, "start_date"), f"{job.start_date} is before start_date"
            if job.start_date >= s.end_date:
                return ("jobs", i, "start_date"), f"{job.start_date} is after the horizon"
        begin = job.start_date or s.start_date
        if job.end_date is not None and job.end_date <= begin:
            return ("jobs", i, "end_date"), f"{job.end_date} is not after the job's start {begin}"
    return None


def _repair(s: Scenario, cat: Catalog) -> Problem | None:
    for name in s.cluster.repair.categories:
        if name not in cat.categories:
            known = ", ".join(cat.categories)
            return (("cluster", "repair", "categories", name),
                    f"unknown failure category {name!r} (known: {known})")
    return None


def _spares(s: Scenario, cat: Catalog) -> Problem | None:
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(s.cluster.spares.items):
        if item.sku not in cat.skus:
            return ("cluster", "spares", "items", i, "sku"), f"unknown SKU {item.sku!r}"
        if item.part not in cat.parts:
            return ("cluster", "spares", "items", i, "part"), f"unknown part {item.part!r}"
        if (item.sku, item.part) in seen:
            return ("cluster", "spares", "items", i), f"duplicate entry for {item.sku}/{item.part}"
        seen.add((item.sku, item.part))
    return None


def _shocks(s: Scenario, cat: Catalog) -> Problem | None:
    vendors = {sku.vendor for sku in cat.skus.values()} | {p.supplier for p in cat.parts.values()}
    vendors.discard("sku_vendor")
    for i, shock in enumerate(s.supply_shocks):
        if shock.vendor not in vendors:
            known = ", ".join(sorted(vendors))
            return ("supply_shocks", i, "vendor"), f"unknown vendor {shock.vendor!r} ({known})"
        for j, part in enumerate(shock.parts or []):
            if part not in cat.parts:
                return ("supply_shocks", i, "parts", j), f"unknown part {part!r}"
    return None


MAX_TIMESERIES_SAMPLES = 100_000  # rows per replication of timeseries.parquet


def _simulation(s: Scenario) -> Problem | None:
    if s.simulation.stop == "jobs_done" and not any(
            j.work_target_gpu_hours is not None for j in s.jobs):
        return ("simulation", "stop"), "jobs_done needs a job with work_target_gpu_hours"
    samples = s.horizon_days / s.simulation.timeseries_step_days
    if samples > MAX_TIMESERIES_SAMPLES:
        return ("simulation", "timeseries_step_days"), (
            f"gives {samples:,.0f} samples over {s.horizon_days:g} days; at most "
            f"{MAX_TIMESERIES_SAMPLES:,} per replication (take a larger step)")
    adaptive = s.simulation.adaptive
    if adaptive is not None:
        problem = _adaptive_metric(s, adaptive.metric)
        if problem is not None:
            return ("simulation", "adaptive", "metric"), problem
    return None


def _adaptive_metric(s: Scenario, name: str) -> str | None:
    """What is wrong with `name` as the adaptive-stopping metric, or None. A metric with a key
    may be named without it (its first key is used); a job's or pool's key must exist."""
    found = resolve(name)
    if found is None or not found[0].adaptive:
        return f"unknown metric (one of: {', '.join(adaptive_names())})"
    metric, key = found
    names = {PER_JOB: [j.name for j in s.jobs], PER_POOL: [p.name for p in s.cluster.pools]}
    known = names.get(metric.per or "")
    if key is not None and known is not None and key not in known:
        return f"no {metric.per} {key!r} in the scenario (known: {', '.join(known) or 'none'})"
    return None


def _procurement(s: Scenario, cat: Catalog) -> Problem | None:  # noqa: C901 - a list of checks
    proc = s.procurement
    if proc is None:
        return None
    base = ("procurement",)
    skus = [p.sku for p in s.cluster.pools]
    for i, c in enumerate(proc.candidates):
        if c.sku not in cat.skus:
            return (*base, "candidates", i, "sku"), f"unknown SKU {c.sku!r}"
        skus.append(c.sku)
    for name in ("budget_usd_per_quarter", "power_cap_mw", "racks"):
        value = getattr(proc, name)
        if isinstance(value, list) and len(value) != proc.quarters:
            return (*base, name), f"has {len(value)} values for {proc.quarters} quarters"
    if proc.demand.pflops is not None and len(proc.demand.pflops) != proc.quarters:
        return (*base, "demand", "pflops"), (
            f"has {len(proc.demand.pflops)} values for {proc.quarters} quarters")
    platforms = {cat.skus[k].platform for k in skus}
    adopted = {cat.skus[p.sku].platform for p in s.cluster.pools}
    for sku in proc.utilization:
        if sku not in skus and sku != proc.rental.gpu_sku:
            return (*base, "utilization", sku), (
                f"SKU {sku!r} is neither installed, a candidate nor the rental SKU")
    for sku in dict.fromkeys([*skus, proc.rental.gpu_sku]):
        if sku in cat.skus and sku not in proc.utilization and proc.workload not in cat.skus[sku].mfu:
            return (*base, "utilization", sku), (
                f"no {proc.workload} utilization for SKU {sku!r}: give it here or as "
                f"catalog.skus.{sku}.mfu.{proc.workload}")
    for platform in sorted(platforms):
        if platform not in adopted and platform not in proc.porting_cost_usd:
            return (*base, "porting_cost_usd"), f"no porting cost for platform {platform!r}"
    vendors = {cat.skus[k].vendor for k in skus}
    for field in ("vendor_caps_nodes_per_quarter", "vendor_share_caps"):
        for vendor in getattr(proc, field):
            if vendor not in vendors:
                return (*base, field, vendor), f"unknown vendor {vendor!r} (known: {sorted(vendors)})"
    if proc.rental.gpu_sku not in cat.skus:
        return (*base, "rental", "gpu_sku"), f"unknown SKU {proc.rental.gpu_sku!r}"
    for i, part in enumerate(proc.stockpile_parts or []):
        if part not in cat.parts:
            return (*base, "stockpile_parts", i), f"unknown part {part!r}"
    labels = quarter_labels(proc.start_quarter, proc.quarters)
    if proc.largest_job_from_quarter is not None and proc.largest_job_from_quarter not in labels:
        return (*base, "largest_job_from_quarter"), "is outside the planned quarters"
    for i, sc in enumerate(proc.scenarios or []):
        for j, block in enumerate(sc.blocks):
            if block.vendor not in vendors:
                return (*base, "scenarios", i, "blocks", j, "vendor"), f"unknown vendor {block.vendor!r}"
            if block.until_quarter is not None and block.until_quarter <= block.from_quarter:
                return (*base, "scenarios", i, "blocks", j, "until_quarter"), "is not after from_quarter"
        for j, vol in enumerate(sc.volumes):
            if vol.vendor not in vendors:
                return (*base, "scenarios", i, "volumes", j, "vendor"), f"unknown vendor {vol.vendor!r}"
        for name in ("volumes", "prices"):
            for j, item in enumerate(getattr(sc, name)):
                if name == "prices" and item.vendor not in vendors:
                    return (*base, "scenarios", i, name, j, "vendor"), (
                        f"unknown vendor {item.vendor!r}")
                if item.until_quarter is not None and item.until_quarter <= item.from_quarter:
                    return (*base, "scenarios", i, name, j, "until_quarter"), (
                        "is not after from_quarter")
    for i, event in enumerate(s.sanctions.events if s.sanctions else []):
        for j, vendor in enumerate(event.vendors):
            if vendor not in vendors:
                return ("sanctions", "events", i, "vendors", j), (
                    f"unknown vendor {vendor!r} (known: {sorted(vendors)})")
    return None


def check_references(s: Scenario, cat: Catalog) -> Problem | None:
    """First cross-reference problem as (field path, message), or None."""
    checks = (lambda: _pools(s, cat), lambda: _jobs(s), lambda: _repair(s, cat),
              lambda: _spares(s, cat),
              lambda: _shocks(s, cat), lambda: _simulation(s), lambda: _procurement(s, cat))
    for check in checks:  # in order: a later check may rely on what an earlier one checked
        problem = check()
        if problem is not None:
            return problem
    return None
