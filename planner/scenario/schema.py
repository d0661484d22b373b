"""The scenario file: pydantic v2 models, unknown keys forbidden, every field documented.

Units are in field names (`_days`, `_hours`, `_usd`, `_kw`, `_tflops`). Dates are ISO dates
(`2027-07-01`); the simulator counts hours from `start_date`.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.scenario.distributions import AnyDist, Fixed, as_distribution
from planner.units import HOURS_PER_DAY

# a bare number stands for a fixed value: the JSON Schema says so too (editors accept `30`)
Duration = Annotated[AnyDist, BeforeValidator(as_distribution,
                                              json_schema_input_type=float | AnyDist)]
Probability = Annotated[float, Field(ge=0, le=1)]
# Sanity bounds: 100x the largest clusters on record; the simulator keeps a few bytes per node
# and one pending event per ordered part, so a typo of a few extra zeros fails here, not in memory.
MAX_NODES = 10_000_000
MAX_PARTS = 1_000_000
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")]
Quarter = Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$", description="A quarter, e.g. 2027Q3.")]


# Largest magnitude of any decimal number in a scenario: the optimizer's limit
# (solvers.problem.MAX_MAGNITUDE; HiGHS reads 1e20 as infinity). USD, PFLOP/s, GPUs, hours and
# rates of any real plan are far below it, so a larger one is a typo, named here with its line.
MAX_MAGNITUDE = 1e15


def _admits_bool(tp: Any) -> bool:
    """Whether a field of type `tp` may hold true/false (numbers never do)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _admits_bool(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(_admits_bool(member) for member in get_args(tp))
    if origin is Literal:
        return any(isinstance(a, bool) for a in get_args(tp))
    return tp in (bool, Any, object)


def _misplaced_bool(value: Any, tp: Any) -> bool:
    """A true/false where `tp` wants a number, at the top or inside a list or mapping."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _misplaced_bool(value, get_args(tp)[0])
    if isinstance(value, bool):
        return not _admits_bool(tp)
    if origin in (Union, types.UnionType):
        fitting = [m for m in get_args(tp) if _container_kind(m) is type(value)]
        return bool(fitting) and all(_misplaced_bool(value, m) for m in fitting)
    if isinstance(value, dict) and origin in (dict, typing.Mapping):
        item = get_args(tp)[1] if get_args(tp) else Any
        return any(_misplaced_bool(v, item) for v in value.values())
    if isinstance(value, list) and origin in (list, tuple, typing.Sequence):
        item = get_args(tp)[0] if get_args(tp) else Any
        return any(_misplaced_bool(v, item) for v in value)
    return False


def _container_kind(tp: Any) -> type | None:
    origin = get_origin(tp)
    if origin is Annotated:
        return _container_kind(get_args(tp)[0])
    return {dict: dict, list: list, typing.Mapping: dict, typing.Sequence: list}.get(origin)


def _too_large(value: Any) -> float | None:
    """A decimal number beyond MAX_MAGNITUDE in a field's value (lists and maps included)."""
    if isinstance(value, float) and abs(value) > MAX_MAGNITUDE:
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    return next((v for v in map(_too_large, items) if v is not None), None)


class Strict(BaseModel):
    """Base: unknown keys are errors, models are immutable once validated; true/false is never
    taken for a number, and no decimal number exceeds MAX_MAGNITUDE."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool | list | dict) and info.field_name in cls.model_fields \
                and _misplaced_bool(value, cls.model_fields[info.field_name].annotation):
            raise ValueError("must be a number, not true/false")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _sane_magnitude(cls, value: Any) -> Any:
        big = _too_large(value)
        if big is not None:
            raise ValueError(f"{big:g} is beyond {MAX_MAGNITUDE:g}, the largest number "
                             "planner takes")
        return value


# --- simulation settings -------------------------------------------------------------------------


class Adaptive(Strict):
    """Add replications in batches until the 95 % CI half-width of `metric` is small enough."""

    metric: str = Field(
        description="Dotted path of a summary metric, e.g. `goodput_gpu_hours`, "
        "`ettr.pretrain`, `interruptions.total`, `node_availability.h800`."
    )
    target_rel_half_width: float = Field(
        gt=0, lt=1, description="Stop when the CI half-width is at most this fraction of the mean."
    )
    min_replications: int = Field(10, ge=2, description="Replications before the first check.")
    max_replications: int = Field(200, ge=2, description="Hard upper bound on replications.")
    batch_replications: int = Field(10, ge=1, description="Replications added per step.")

    @model_validator(mode="after")
    def _bounds(self) -> Adaptive:
        if self.max_replications < self.min_replications:
            raise ValueError("max_replications must be >= min_replications")
        return self


class Simulation(Strict):
    """Monte-Carlo settings."""

    replications: int = Field(10, ge=1, le=100_000, description="Independent replications.")
    adaptive: Adaptive | None = Field(
        None, description="Adaptive replications; when set, `replications` is ignored."
    )
    timeseries_step_days: float = Field(
        1.0, gt=0, le=365, description="Sampling step of timeseries.parquet, in days."
    )
    record_events: bool = Field(True, description="Write every failure to events.parquet.")
    stop: Literal["horizon", "jobs_done"] = Field(
        "horizon", description="`horizon`: every replication runs to the horizon; `jobs_done`: "
        "a replication stops once every job with a work target has ended (reached it, or its "
        "window closed), so replications have different lengths (each metric's time integrals "
        "cover its own replication's length).")


# --- catalog overrides ---------------------------------------------------------------------------


class MfuPatch(Strict):
    """A SKU's model-FLOPs utilization for one workload, with an optional range."""

    value: float = Field(gt=0, le=1, description="Central figure.")
    low: float | None = Field(None, gt=0, le=1, description="Low end (default: value).")
    high: float | None = Field(None, gt=0, le=1, description="High end (default: value).")

    @model_validator(mode="after")
    def _ordered(self) -> MfuPatch:
        low = self.low if self.low is not None else self.value
        high = self.high if self.high is not None else self.value
        if not low <= self.value <= high:
            raise ValueError("needs low <= value <= high")
        return self


class SkuPatch(Strict):
    """Override fields of a catalog SKU, or define a new SKU (then every field is required)."""

    vendor: str | None = Field(None, description="Vendor: Nvidia, Huawei, Cambricon or another.")
    platform: str | None = Field(None, description="Software platform: CUDA, CANN, Neuware.")
    accelerator: str | None = Field(None, description="Accelerator model name.")
    export_status: str | None = Field(None, description="Export-control status, free text.")
    estimate: bool | None = Field(None, description="True when the specs are estimates.")
    accelerators_per_node: int | None = Field(None, gt=0, description="Accelerators per node.")
    bf16_dense_tflops: float | None = Field(
        None, gt=0, description="Dense BF16 TFLOPS per accelerator."
    )
    memory_gb: float | None = Field(None, gt=0, description="Accelerator memory, GB.")
    node_power_kw: float | None = Field(None, gt=0, description="Node wall power, kW.")
    node_price_usd: float | None = Field(None, gt=0, description="Node price, USD.")
    failure_rate_multiplier: float | None = Field(
        None, ge=0, description="Multiplies every component failure rate of this SKU."
    )
    part_prices_usd: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Part prices for this SKU, USD, by part name."
    )
    mfu: dict[Literal["dense", "moe"], MfuPatch] = Field(
        default_factory=dict, description="Model-FLOPs utilization by workload (dense, moe).")


class CategoryPatch(Strict):
    """Override a failure category of the catalog, or define a new one."""

    label: str | None = Field(None, description="Human-readable name.")
    failure_rate_per_1000_node_days: float | None = Field(
        None, ge=0, description="Failures per 1000 node-days (baseline SKU)."
    )
    hard_fraction: Probability | None = Field(
        None, description="Probability a failure needs a spare part."
    )
    part: str | None = Field(None, description="Part a hard failure consumes.")
    repair_hours_median: float | None = Field(
        None, gt=0, description="Median hands-on repair time, hours (lognormal)."
    )
    repair_hours_sigma: float | None = Field(
        None, ge=0, le=5, description="Lognormal shape of the repair time."
    )
    repair_hours: Duration | None = Field(
        None, description="Hands-on repair time of any kind (empirical, mixture, Weibull, ...); "
        "replaces repair_hours_median and repair_hours_sigma.")
    listed_only: bool | None = Field(
        None, description="Fails only on pools that list it in their `categories` (a category "
        "fitted to one fleet by planner calibrate); other pools and the optimizer ignore it.")
    lifetime_weibull_shape: float | None = Field(
        None, ge=0.1, le=20, description="Weibull shape of time between failures (0.1 to 20); "
        "absent = exponential."
    )


    @model_validator(mode="before")
    @classmethod
    def _blast_replaced(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"blast_radius_nodes", "blast_fraction"} & set(data)):
            raise ValueError("blast_radius_nodes and blast_fraction are replaced by "
                             "catalog.shared_components (a switch, rack or PDU that takes its "
                             "nodes down and is repaired once) and a pool's topology")
        return data


class SharedComponentPatch(Strict):
    """Override a shared component (leaf switch, rack, PDU) of the catalog, or define one."""

    label: str | None = Field(None, description="Human-readable name.")
    nodes_per_unit: int | None = Field(
        None, ge=1, le=MAX_NODES, description="Default nodes per unit (a pool's topology may "
        "say otherwise).")
    failure_rate_per_1000_unit_days: float | None = Field(
        None, ge=0, description="Failures per 1000 unit-days (baseline SKU); 0 = not modelled.")
    hard_fraction: Probability | None = Field(
        None, description="Probability a failure needs a spare part.")
    part: str | None = Field(None, description="Part a hard failure consumes (one per unit).")
    repair_hours_median: float | None = Field(
        None, gt=0, description="Median hands-on repair time, hours (lognormal).")
    repair_hours_sigma: float | None = Field(
        None, ge=0, le=5, description="Lognormal shape of the repair time.")


class PartPatch(Strict):
    """Override a spare-part type, or define a new one."""

    description: str | None = Field(None, description="What the part is.")
    supplier: str | None = Field(
        None, description="`sku_vendor` (the node's vendor supplies it) or a vendor name."
    )
    price_usd: float | None = Field(None, gt=0, description="Default price, USD.")


class CatalogPatch(Strict):
    """Scenario-level changes to the shipped hardware catalog."""

    skus: dict[str, SkuPatch] = Field(default_factory=dict, description="SKU overrides or new SKUs.")
    categories: dict[str, CategoryPatch] = Field(
        default_factory=dict, description="Failure-category overrides or new categories."
    )
    parts: dict[str, PartPatch] = Field(
        default_factory=dict, description="Part-type overrides or new parts."
    )
    shared_components: dict[str, SharedComponentPatch] = Field(
        default_factory=dict, description="Shared-component overrides (leaf switch, rack, PDU) "
        "or new ones.")


# --- cluster -------------------------------------------------------------------------------------


class ShockOutcome(Strict):
    """How a supply shock turned out, by planning quarter (procurement.start_quarter on):
    blocking from `from_quarter` until `until_quarter`, or not blocking in the planned quarters
    (`from_quarter` none)."""

    shock: Name = Field(description="Name of a supply shock of the scenario.")
    from_quarter: Quarter | None = Field(
        None, description="First quarter blocked; none = no block in the planned quarters.")
    until_quarter: Quarter | None = Field(
        None, description="First quarter open again; none = blocked to the end.")


class Delivery(Strict):
    """New nodes that join a pool on a date (if the vendor is not blocked then); with `when`,
    only in replications where every listed shock turned out so (a contingent order of the
    optimizer's plan)."""

    date: dt.date = Field(description="Delivery date.")
    nodes: int = Field(gt=0, le=MAX_NODES, description="Nodes delivered.")
    when: list[ShockOutcome] = Field(
        default_factory=list, description="Outcomes of supply shocks this delivery depends on "
        "(none = always); needs a procurement section for its quarters.")


class Retirement(Strict):
    """Retire a node after too many hard or repeated failures in a window (lemon removal)."""

    failures: int = Field(ge=1, description="Failures within the window that retire a node.")
    window_days: float = Field(gt=0, description="Sliding window, days.")


class Maintenance(Strict):
    """Planned interruptions of a pool: batches of healthy nodes drained for a while, in rolling
    or random order, on a calendar or at random times."""

    name: Name = Field(description="Name, used in outputs.")
    every_days: float | None = Field(
        None, gt=0, le=36_500, description="Calendar: one batch every this many days.")
    first_date: dt.date | None = Field(
        None, description="Calendar: date of the first batch (default start_date + every_days).")
    per_day: float | None = Field(
        None, gt=0, le=10_000, description="At random: batches per day (a Poisson process).")
    batch_nodes: int = Field(1, ge=1, le=MAX_NODES, description="Nodes drained per batch.")
    duration_hours: Duration = Field(description="How long a batch stays drained, hours.")
    order: Literal["rolling", "random"] = Field(
        "rolling", description="`rolling`: each batch starts after the last one, walking the "
        "pool in node order (an upgrade of every node); `random`: each batch starts at a random "
        "node (maintenance that lands anywhere in the pool).")

    @model_validator(mode="after")
    def _one_timing(self) -> Maintenance:
        if (self.every_days is None) == (self.per_day is None):
            raise ValueError("give either every_days (a calendar) or per_day (at random)")
        if self.first_date is not None and self.every_days is None:
            raise ValueError("first_date goes with every_days")
        return self


class Pool(Strict):
    """Nodes of one SKU."""

    name: Name = Field(description="Pool name, used in outputs.")
    sku: str = Field(description="Catalog SKU (see `planner catalog`) or one defined in `catalog`.")
    nodes: int = Field(ge=0, le=MAX_NODES, description="Nodes installed at the start date.")
    deliveries: list[Delivery] = Field(
        default_factory=list, description="Dated deliveries of new nodes, in date order."
    )
    lemon_fraction: Probability = Field(
        0.0, description="Share of nodes that are lemons (fail `lemon_rate_multiplier` x faster)."
    )
    lemon_rate_multiplier: float = Field(
        1.0, ge=1, description="Failure-rate multiplier of a lemon node."
    )
    retirement: Retirement | None = Field(None, description="Lemon retirement rule; none = never.")
    failure_rate_multipliers: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Per-category rate multipliers for this pool."
    )
    categories: list[str] | None = Field(
        None, description="Only these failure categories and shared components fail on this "
        "pool (catalog or scenario-defined, e.g. fitted by planner calibrate); none = all.")
    sku_failure_rate_multiplier: float | None = Field(
        None, ge=0, description="This pool's SKU failure-rate multiplier instead of the "
        "catalog's (1 for rates fitted to this fleet's own log).")
    failure_clock: Literal["always", "busy", "idle_reduced"] = Field(
        "always", description="When node failures accrue: `always` (every healthy node, in "
        "service or not), `busy` (only while the node computes for a job), `idle_reduced` (idle "
        "and standby nodes at `idle_failure_rate_factor` of the rate). docs/simulator.md says "
        "when to use which.")
    idle_failure_rate_factor: float | None = Field(
        None, gt=0, lt=1, description="With `failure_clock: idle_reduced`: the share of the "
        "failure rate an idle or standby node keeps.")
    topology: dict[str, Annotated[int, Field(ge=1, le=MAX_NODES)]] = Field(
        default_factory=dict, description="Nodes per unit of a shared component (`leaf_switch`, "
        "`rack`, `pdu`, ... as in the catalog's `shared_components`); a component not listed "
        "uses the catalog's default. Units are consecutive nodes.")
    maintenance: list[Maintenance] = Field(
        default_factory=list, description="Planned interruptions (rolling upgrades, firmware).")

    @model_validator(mode="after")
    def _clock(self) -> Pool:
        if (self.failure_clock == "idle_reduced") != (self.idle_failure_rate_factor is not None):
            raise ValueError("idle_failure_rate_factor goes with failure_clock: idle_reduced, "
                             "and only with it")
        return self

    @model_validator(mode="after")
    def _has_nodes(self) -> Pool:
        if self.nodes + sum(d.nodes for d in self.deliveries) <= 0:
            raise ValueError("a pool needs nodes or deliveries")
        dates = [d.date for d in self.deliveries]
        if dates != sorted(dates):
            raise ValueError("deliveries must be in date order")
        return self


class CategoryRepair(Strict):
    """Repair outcomes of one failure category (fields left out take the repair policy's)."""

    fix_fail_probability: float | None = Field(
        None, ge=0, lt=1, description="Chance a manual repair does not hold.")
    failed_fix: Literal["redo", "silent"] | None = Field(
        None, description="`redo` or `silent`, as the repair policy's `failed_fix`.")
    lemon_cure_probability: Probability | None = Field(
        None, description="Chance a manual repair that holds cures a lemon.")


class RepairPolicy(Strict):
    """The repair pipeline: diagnosis, automated repair, escalation to a technician crew."""

    diagnosis_hours: Duration = Field(
        default_factory=lambda: Fixed(value=0.5), description="Time to diagnose a failure."
    )
    misdiagnosis_probability: Probability = Field(
        0.0, description="Chance the wrong node is blamed: a healthy node goes to repair and the "
        "faulty one fails again soon."
    )
    misdiagnosis_refail_hours: float = Field(
        6.0, gt=0, description="Mean time until a misdiagnosed faulty node fails again, hours."
    )
    auto_repair_hours: Duration = Field(
        default_factory=lambda: Fixed(value=0.5),
        description="Automated remediation (reset, reboot, reimage) time.",
    )
    auto_repair_success_probability: Probability = Field(
        0.8, description="Chance automated remediation fixes a transient failure."
    )
    technicians: int = Field(8, ge=1, description="Technicians doing manual repairs (shared).")
    manual_fix_fail_probability: Probability = Field(
        0.1, description="Chance a manual repair did not hold and must be redone."
    )
    validation_hours: Duration = Field(
        default_factory=lambda: Fixed(value=2.0),
        description="Burn-in / validation after a manual repair.",
    )
    hands_on_hours: Duration | None = Field(
        None, description="If set, replaces every category's catalog repair-time distribution."
    )
    failed_fix: Literal["redo", "silent"] = Field(
        "redo", description="A manual repair that did not hold: `redo` (found at validation and "
        "done again) or `silent` (the node goes back to service unchanged and fails again at its "
        "own rate).")
    lemon_cure_probability: Probability = Field(
        0.0, description="Chance a manual repair that holds cures a lemon node (the faulty "
        "component was the cause): it fails at the normal rate from then on.")
    categories: dict[str, CategoryRepair] = Field(
        default_factory=dict, description="Per failure category: these outcomes instead of the "
        "ones above.")

    @model_validator(mode="after")
    def _not_certain_failure(self) -> RepairPolicy:
        if self.manual_fix_fail_probability >= 1:
            raise ValueError("manual_fix_fail_probability must be < 1 (repairs would never end)")
        return self


class SparePolicy(Strict):
    """Stock and reorder policy of one part type for one SKU. Fields left out take the default."""

    initial_stock: int | None = Field(None, ge=0, le=MAX_PARTS,
                                      description="Parts on the shelf at the start.")
    policy: Literal["base_stock", "s_S"] | None = Field(
        None, description="`base_stock`: order one for one; `s_S`: order up to S at or below s."
    )
    base_stock_level: int | None = Field(
        None, ge=0, le=MAX_PARTS,
        description="Target inventory position (base_stock); default initial_stock."
    )
    reorder_point: int | None = Field(None, ge=0, le=MAX_PARTS, description="s of the (s, S) policy.")
    order_up_to: int | None = Field(None, ge=1, le=MAX_PARTS, description="S of the (s, S) policy.")
    lead_time_days: Duration | None = Field(None, description="Supplier lead time, days.")
    rma_return_fraction: Probability | None = Field(
        None, description="Share of failed parts that come back from RMA as spares."
    )
    rma_turnaround_days: Duration | None = Field(None, description="RMA turnaround, days.")
    cannibalize: bool | None = Field(
        None, description="Take parts from retired nodes, then from nodes down for another part, "
        "when the shelf is empty."
    )


class SpareItem(SparePolicy):
    """Policy for one (SKU, part) pair."""

    sku: str = Field(description="Catalog SKU.")
    part: str = Field(description="Part type (see `planner catalog`).")


class Spares(Strict):
    """Spare-part stock: a default policy and per (SKU, part) exceptions."""

    default: SparePolicy = Field(description="Policy for every (SKU, part) not listed in items.")
    items: list[SpareItem] = Field(default_factory=list, description="Per (SKU, part) policies.")

    @model_validator(mode="after")
    def _complete_default(self) -> Spares:
        required = ("initial_stock", "policy", "lead_time_days")
        missing = [f for f in required if getattr(self.default, f) is None]
        if missing:
            raise ValueError(f"spares.default needs {', '.join(missing)}")
        return self


ALL_POOLS = "*"  # a calibrated_pools key that applies to every pool without an entry of its own


class PoolCalibration(Strict):
    """What planner calibrate fitted to a fleet's own log, for one pool: it replaces these
    fields of the pool of that name (a scenario fragment can merge it by name)."""

    categories: list[str] | None = Field(None, description="The pool's failure categories.")
    sku_failure_rate_multiplier: float | None = Field(
        None, ge=0, description="The pool's SKU failure-rate multiplier (1: fitted rates).")
    lemon_fraction: Probability | None = Field(None, description="Share of lemon nodes.")
    lemon_rate_multiplier: float | None = Field(None, ge=1, description="Their rate multiplier.")


class Cluster(Strict):
    """The fleet, its repair organisation and spare parts."""

    pools: list[Pool] = Field(min_length=1, description="Node pools, one SKU each.")
    repair: RepairPolicy = Field(default_factory=RepairPolicy, description="Repair pipeline.")
    spares: Spares = Field(description="Spare-part stock and reorder policies.")
    calibrated_pools: dict[str, PoolCalibration] = Field(
        default_factory=dict, description="Per pool name (`*`: every pool without an entry of "
        "its own): settings fitted to the fleet's own incident log (planner calibrate's "
        "overrides.yaml), which replace the pool's own.")

    @model_validator(mode="before")
    @classmethod
    def _apply_calibration(cls, data: Any) -> Any:
        """Merge each calibrated pool's settings into the pool of that name (unknown names are
        reported after validation)."""
        if not isinstance(data, dict) or not isinstance(data.get("calibrated_pools"), dict) \
                or not isinstance(data.get("pools"), list):
            return data
        fitted = data["calibrated_pools"]

        def settings(pool: Any) -> dict:
            own = fitted.get(pool.get("name")) if isinstance(pool, dict) else None
            chosen = own if isinstance(own, dict) else fitted.get(ALL_POOLS)
            return {k: v for k, v in chosen.items() if v is not None} \
                if isinstance(chosen, dict) else {}

        pools = [dict(p, **settings(p)) if isinstance(p, dict) else p for p in data["pools"]]
        return {**data, "pools": pools}

    @model_validator(mode="after")
    def _calibrated_pools_exist(self) -> Cluster:
        names = {p.name for p in self.pools}
        unknown = [n for n in self.calibrated_pools if n not in names and n != ALL_POOLS]
        if unknown:
            raise ValueError(f"calibrated_pools names no pool {unknown[0]!r} (pools: "
                             f"{', '.join(sorted(names))})")
        return self

    @model_validator(mode="after")
    def _unique_pools(self) -> Cluster:
        names = [p.name for p in self.pools]
        if len(set(names)) != len(names):
            raise ValueError("pool names must be unique")
        return self


# --- jobs ----------------------------------------------------------------------------------------


DEFAULT_BORROW_HOURS_PER_BATCH = 0.25  # assumption: a quarter hour to reclaim and wipe nodes


class Job(Strict):
    """A synchronous training job on a fixed number of nodes of one pool."""

    name: Name = Field(description="Job name, used in outputs.")
    pool: str = Field(description="Pool the job runs on.")
    nodes: int = Field(gt=0, description="Nodes the job needs to run.")
    priority: int = Field(0, description="Higher priority may preempt lower-priority jobs' nodes.")
    start_date: dt.date | None = Field(None, description="Submission date; default start_date.")
    work_target_gpu_hours: float | None = Field(
        None, gt=0, description="Useful GPU-hours to finish; none = runs to the horizon."
    )
    checkpoint_interval_hours: float | Literal["auto"] = Field(
        "auto", description="Compute between checkpoints, hours, or `auto` (Daly's optimum from "
        "the job's expected MTBF)."
    )
    checkpoint_write_hours: float = Field(
        0.05, ge=0, description="Time the job is stalled writing one checkpoint, hours."
    )
    restart_hours: float = Field(
        0.25, ge=0, description="Restart time after an interruption (reload checkpoint), hours."
    )
    host_selection_hours: float = Field(
        0.1, ge=0, description="Extra time when replacement nodes come from the pool, hours."
    )
    warm_standby_nodes: int = Field(
        0, ge=0, description="Healthy nodes reserved to swap in at once after a failure."
    )
    preempt_lower_priority: bool = Field(
        True, description="Take nodes from lower-priority jobs when the pool has none idle."
    )
    borrow_hours_per_node: float = Field(
        0.0, ge=0, description="Extra restart time per node taken from a lower-priority job "
        "(a spare pool that runs low-priority work), hours.")
    borrow_hours_per_batch: float | None = Field(
        None, ge=0, description="Extra restart time, once per restart that takes any node from "
        "a lower-priority job, hours (default 0.25).")
    max_borrowed_nodes: int | None = Field(
        None, ge=0, le=MAX_NODES, description="Most nodes one restart may take from "
        "lower-priority jobs; none = no cap.")
    preemption_hours: float | None = Field(
        None, ge=0, description="Deprecated: the old name of `borrow_hours_per_batch`.")
    end_date: dt.date | None = Field(
        None, description="End of the job's window: it stops on this date, target met or not; "
        "none = it runs until its work target is met or the horizon.")

    @model_validator(mode="after")
    def _positive_interval(self) -> Job:
        if self.checkpoint_interval_hours != "auto" and self.checkpoint_interval_hours <= 0:
            raise ValueError("checkpoint_interval_hours must be > 0 or 'auto'")
        if self.preemption_hours is not None and self.borrow_hours_per_batch is not None:
            raise ValueError("give borrow_hours_per_batch, not also its old name "
                             "preemption_hours")
        return self

    @property
    def batch_borrow_hours(self) -> float:
        """Extra restart time of a restart that borrows nodes (the deprecated alias read)."""
        for value in (self.borrow_hours_per_batch, self.preemption_hours):
            if value is not None:
                return value
        return DEFAULT_BORROW_HOURS_PER_BATCH


# --- supply shocks -------------------------------------------------------------------------------


class SupplyShock(Strict):
    """An export block or supply disruption, on a fixed date or at a random date in a window."""

    name: Name = Field(description="Shock name, used in outputs.")
    vendor: str = Field(description="Vendor hit (Nvidia, Huawei, Cambricon, generic, ...).")
    parts: list[str] | None = Field(
        None, description="Only these part types; none = every part and node of the vendor."
    )
    date: dt.date | None = Field(None, description="Fixed date of the shock.")
    probability: Probability = Field(1.0, description="Chance the shock happens at all.")
    window_start_date: dt.date | None = Field(None, description="Earliest random date.")
    window_end_date: dt.date | None = Field(None, description="Latest random date.")
    duration_days: float | None = Field(None, gt=0, description="How long; none = permanent.")
    block_orders: bool = Field(True, description="No new part orders can be placed.")
    block_deliveries: bool = Field(True, description="Part deliveries wait until the block ends.")
    block_rma: bool = Field(True, description="RMA returns wait until the block ends.")
    block_node_deliveries: bool = Field(True, description="New-node deliveries wait too.")
    lead_time_multiplier: float = Field(1.0, gt=0, description="Multiplies lead times of orders.")
    price_multiplier: float = Field(1.0, gt=0, description="Multiplies part prices.")

    @model_validator(mode="after")
    def _timing(self) -> SupplyShock:
        has_window = self.window_start_date is not None or self.window_end_date is not None
        if self.date is not None and has_window:
            raise ValueError("give either date or window_start_date/window_end_date, not both")
        if self.date is None and not has_window:
            raise ValueError("needs date or window_start_date and window_end_date")
        if has_window:
            if self.window_start_date is None or self.window_end_date is None:
                raise ValueError("needs both window_start_date and window_end_date")
            if self.window_end_date < self.window_start_date:
                raise ValueError("window_end_date is before window_start_date")
        return self


# --- procurement (the optimizer) ----------------------------------------------------------------



class Candidate(Strict):
    """A SKU the optimizer may buy."""

    sku: str = Field(description="Catalog SKU.")
    lead_time_quarters: int = Field(1, ge=0, le=8, description="Quarters from order to delivery.")
    nodes_per_rack: float = Field(
        4.0, gt=0, description="Nodes per rack (assumption default: 4 air-cooled 8-GPU servers).")


class VendorBlock(Strict):
    """A vendor cut off from a quarter on: node deliveries, orders, parts and RMA."""

    vendor: str = Field(description="Vendor blocked.")
    from_quarter: Quarter
    until_quarter: Quarter | None = Field(None, description="First quarter open again; none = never.")
    nodes: bool = Field(True, description="New-node deliveries and orders are cut off.")
    parts: bool = Field(True, description="Spare parts and RMA are cut off (installed nodes "
                        "decay unless parts were stockpiled).")


class VendorVolume(Strict):
    """A vendor delivering only a share of what was ordered, from a quarter on."""

    vendor: str = Field(description="Vendor.")
    factor: float = Field(ge=0, le=1, description="Share of ordered nodes delivered.")
    from_quarter: Quarter
    until_quarter: Quarter | None = Field(None, description="First quarter at full volume again; "
                                          "none = never.")


class VendorPrice(Strict):
    """A vendor's recourse orders costing a multiple of the list price (grey market, tariff,
    revenue share), over some quarters."""

    vendor: str = Field(description="Vendor.")
    factor: float = Field(ge=1, le=100, description="Price multiple of recourse orders placed "
                          "in these quarters.")
    from_quarter: Quarter
    until_quarter: Quarter | None = Field(None, description="First quarter at list price again; "
                                          "none = never.")


class SanctionScenario(Strict):
    """One sanction outcome with its probability."""

    name: Name = Field(description="Scenario name, used in outputs.")
    probability: Probability = Field(description="Probability of this outcome.")
    blocks: list[VendorBlock] = Field(default_factory=list, description="Vendor blocks.")
    volumes: list[VendorVolume] = Field(default_factory=list, description="Volume cuts.")
    prices: list[VendorPrice] = Field(default_factory=list, description="Price premiums.")
    rental_blocked_from: Quarter | None = Field(
        None, description="Overseas cloud rental unavailable from this quarter on.")


class Demand(Strict):
    """Effective compute needed per quarter: a list, or a multiple of today's fleet."""

    pflops: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Effective PFLOP/s needed in each quarter (one value per quarter).")
    fleet_multiple_start: float | None = Field(
        None, ge=0, description="Demand in the first quarter as a multiple of today's fleet.")
    fleet_multiple_end: float | None = Field(
        None, ge=0, description="Demand in the last quarter as a multiple of today's fleet "
        "(linear in between).")

    @model_validator(mode="after")
    def _one_form(self) -> Demand:
        multiple = self.fleet_multiple_start is not None or self.fleet_multiple_end is not None
        if (self.pflops is None) == (not multiple):
            raise ValueError("give either pflops or fleet_multiple_start and fleet_multiple_end")
        if multiple and (self.fleet_multiple_start is None or self.fleet_multiple_end is None):
            raise ValueError("needs both fleet_multiple_start and fleet_multiple_end")
        return self


class Rental(Strict):
    """Overseas cloud capacity that can be rented."""

    cap_gpus: float = Field(0.0, ge=0, description="GPUs one can rent at most, per quarter.")
    usd_per_gpu_hour: float = Field(2.0, gt=0, description="Price per GPU-hour, USD.")
    gpu_sku: str = Field("H100", description="Catalog SKU whose accelerator is rented.")


class Risk(Strict):
    """Risk in the objective."""

    measure: Literal["cost", "shortfall"] = Field("cost", description="CVaR of total cost (USD) "
                                                  "or of unmet demand (PFLOP/s-hours).")
    alpha: float = Field(0.9, ge=0, lt=1, description="CVaR level: mean of the worst 1 - alpha.")
    weight: float = Field(0.0, ge=0, le=10_000, description="omega in E[cost] + omega x CVaR.")
    cvar_cap: float | None = Field(None, description="Instead of a weight: a hard cap on CVaR.")


class SolverChoice(Strict):
    """HiGHS settings: a named profile (solvers/profiles) with optional overrides."""

    profile: str = Field("default", description="Profile name: default, fast, exact.")
    time_limit_s: float | None = Field(None, gt=0, description="Time limit, seconds.")
    mip_rel_gap: float | None = Field(None, ge=0, lt=1, description="Relative MIP gap.")
    threads: int | None = Field(None, ge=1, description="Threads.")


QuarterValues = float | list[Annotated[float, Field(ge=0)]]


class Procurement(Strict):
    """What to buy and when: the optimizer's section."""

    start_quarter: Quarter = Field(description="First planning quarter.")
    quarters: int = Field(ge=1, le=40, description="Quarters planned.")
    candidates: list[Candidate] = Field(min_length=1, description="SKUs that may be bought.")
    demand: Demand = Field(description="Effective compute needed.")
    largest_job_pflops: float | Literal["from_jobs"] = Field(
        "from_jobs", description="Effective PFLOP/s of the largest synchronous job; `from_jobs` "
        "takes the largest job of the scenario.")
    largest_job_from_quarter: Quarter | None = Field(
        None, description="Quarter from which the largest job must fit on the primary platform; "
        "default: once the fastest candidate could be delivered.")
    workload: Literal["dense", "moe"] = Field(
        "dense", description="What the cluster trains: dense transformers or mixture-of-experts "
        "models; picks each SKU's model-FLOPs utilization (MFU) in the catalog.")
    utilization: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict, description="Model-FLOPs utilization per SKU for this workload, "
        "over the catalog's figure (`planner catalog` lists them with sources and ranges).")
    porting_cost_usd: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="One-off cost of adopting a platform not yet in use.")
    budget_usd_per_quarter: QuarterValues | None = Field(
        None, description="Capex budget per quarter (one value or one per quarter).")
    total_budget_usd: float | None = Field(None, gt=0, description="Capex budget in total.")
    power_cap_mw: QuarterValues | None = Field(None, description="Facility power cap, MW.")
    pue: float = Field(1.3, ge=1, description="Power usage effectiveness.")
    electricity_usd_per_kwh: float = Field(0.08, ge=0, description="Electricity price.")
    racks: QuarterValues | None = Field(None, description="Racks available.")
    vendor_caps_nodes_per_quarter: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Nodes one buyer can get from a vendor per quarter.")
    recourse_premium: float = Field(0.2, ge=0, description="Price premium of a recourse order.")
    discount_rate: float = Field(
        0.0, ge=0, le=1, description="Yearly rate every cash flow is discounted at, by the "
        "quarter it falls in (0 = none; docs/model.md recommends the firm's cost of capital, "
        "e.g. 0.08).")
    asset_life_years: float | None = Field(
        4.0, gt=0, description="Straight-line depreciation life of a node from its delivery: "
        "its book value left at the horizon is credited, discounted (assumption default: 4 "
        "years, a common server depreciation period); none = no residual value.")
    refund_share: float = Field(0.0, ge=0, le=1, description="Share refunded for blocked orders.")
    rental: Rental = Field(default_factory=Rental, description="Overseas cloud rental.")
    unmet_penalty_usd_per_pflops_hour: float = Field(
        20.0, ge=0, description="Penalty per effective PFLOP/s-hour of unmet demand.")
    allow_unmet: bool = Field(True, description="False: demand must be met (else infeasible).")
    vendor_share_caps: dict[str, Probability] = Field(
        default_factory=dict, description="Largest share of ordered compute per vendor.")
    min_domestic_share: Probability = Field(0.0, description="Least share of ordered compute "
                                            "from domestic vendors.")
    domestic_vendors: list[str] = Field(
        default_factory=lambda: ["Huawei", "Cambricon"], description="Vendors counted domestic.")
    stockpile_parts: list[str] | None = Field(
        None, description="Parts that may be stockpiled; default: every part the SKU's vendor "
        "supplies that a hard failure consumes.")
    scenarios: list[SanctionScenario] | None = Field(
        None, description="Sanction scenarios; default: built from supply_shocks.")
    availability: Literal["closed_form", "simulated"] = Field(
        "closed_form", description="How a stockpile's worth under a parts block is computed: "
        "`closed_form` (docs/model.md) or `simulated` (measured by the simulator per SKU, part, "
        "stock level and quarter since the block, and cached).")
    risk: Risk = Field(default_factory=Risk, description="Risk measure and weight.")
    solver: SolverChoice = Field(default_factory=SolverChoice, description="HiGHS settings.")
    integer_orders: bool = Field(True, description="Whole nodes and parts in the first stage.")
    integer_recourse: bool = Field(True, description="Whole nodes in recourse orders; false "
                                   "is faster (recourse in fractions of nodes).")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "platform_utilization" in data:
            raise ValueError("platform_utilization is replaced by `workload` (dense or moe) and "
                             "`utilization` per SKU; the catalog holds each SKU's MFU with its "
                             "source")
        return data

    @model_validator(mode="after")
    def _probabilities(self) -> Procurement:
        if self.scenarios is not None:
            total = sum(s.probability for s in self.scenarios)
            if abs(total - 1) > 1e-6:
                raise ValueError(f"scenario probabilities sum to {total:g}, not 1")
            names = [s.name for s in self.scenarios]
            if len(set(names)) != len(names):
                raise ValueError("scenario names must be unique")
        if self.risk.weight > 0 and self.risk.cvar_cap is not None:
            raise ValueError("risk: give a weight or a cvar_cap, not both")
        return self


# --- sanctions (the scenario generator) ----------------------------------------------------------

SanctionEventType = Literal["vendor_node_block", "parts_rma_block", "domestic_output_cap",
                            "price_premium", "block_lifted"]


class SanctionEvent(Strict):
    """A kind of policy event that may strike in any planning quarter (a Poisson process): its
    hazard, the vendors it touches and for how long (docs/sanctions.md)."""

    type: SanctionEventType = Field(description="vendor_node_block: new nodes cannot be bought "
                                    "or delivered; parts_rma_block: spare parts and RMA cut off; "
                                    "domestic_output_cap: domestic vendors deliver a share of "
                                    "orders; price_premium: recourse orders cost a multiple; "
                                    "block_lifted: the vendors' node and parts blocks end.")
    vendors: list[str] = Field(min_length=1, description="Vendors it touches (catalog names).")
    hazard_per_quarter: float | None = Field(
        None, ge=0, le=10, description="Events per quarter (a Poisson rate); none = the rate of "
        "this type in the policy-event library (planner catalog --events).")
    duration_quarters: int | None = Field(
        None, ge=1, le=40, description="Quarters the effect lasts; none = until lifted (blocks) "
        "or to the end of the horizon.")
    volume_factor: float | None = Field(
        None, ge=0, lt=1, description="domestic_output_cap: share of ordered nodes delivered.")
    price_factor: float | None = Field(
        None, gt=1, le=100, description="price_premium: price multiple of recourse orders; none "
        "= 1 + the median premium the library reports.")
    with_parts: bool | None = Field(
        None, description="vendor_node_block: the block also cuts the vendor's spare parts and "
        "RMA (default true: an export ban on a chip covers its spare boards).")

    @model_validator(mode="after")
    def _fields_of_type(self) -> SanctionEvent:
        if self.type == "domestic_output_cap" and self.volume_factor is None:
            raise ValueError("domestic_output_cap needs volume_factor (the share delivered)")
        if self.type != "domestic_output_cap" and self.volume_factor is not None:
            raise ValueError("volume_factor applies to domestic_output_cap only")
        if self.type != "price_premium" and self.price_factor is not None:
            raise ValueError("price_factor applies to price_premium only")
        if self.type != "vendor_node_block" and self.with_parts is not None:
            raise ValueError("with_parts applies to vendor_node_block only")
        if self.type == "block_lifted" and self.duration_quarters is not None:
            raise ValueError("block_lifted has no duration")
        return self


class Sanctions(Strict):
    """Sanction risk as sampled policy events: the generator draws `paths` quarterly paths of
    the events and reduces them to a scenario tree of at most `leaves` leaves, which the
    optimizer solves in place of procurement.scenarios (docs/sanctions.md)."""

    events: list[SanctionEvent] = Field(min_length=1, description="Event kinds and hazards.")
    paths: int = Field(2000, ge=1, le=100_000, description="Paths sampled.")
    leaves: int = Field(50, ge=1, le=500, description="Leaves of the reduced scenario tree.")
    seed: int | None = Field(None, ge=0, description="Seed of the paths; none = the scenario's.")


# --- the scenario --------------------------------------------------------------------------------


SCHEMA_KEY_DOC = ("The JSON Schema an editor checks this file against (schemas/ in the "
                  "repository); planner ignores it.")


class Scenario(Strict):
    """A cluster, its jobs, spares and supply risks over a horizon."""

    schema_uri: str | None = Field(None, alias="$schema", exclude=True, description=SCHEMA_KEY_DOC)
    name: Name = Field(description="Scenario name; default output folder runs/<name>/.")
    description: str = Field("", description="Free text.")
    start_date: dt.date = Field(description="First day simulated.")
    horizon_days: float = Field(gt=0, le=36_500, description="Days simulated.")
    seed: int = Field(0, ge=0, description="Root seed of every random stream.")
    simulation: Simulation = Field(default_factory=Simulation, description="Monte-Carlo settings.")
    catalog: CatalogPatch = Field(
        default_factory=CatalogPatch, description="Changes to the shipped hardware catalog."
    )
    cluster: Cluster = Field(description="Fleet, repair pipeline and spares.")
    jobs: list[Job] = Field(default_factory=list, description="Synchronous training jobs.")
    supply_shocks: list[SupplyShock] = Field(
        default_factory=list, description="Export blocks and supply disruptions."
    )
    procurement: Procurement | None = Field(
        None, description="What to buy and when (planner optimize); absent = simulate only."
    )
    sanctions: Sanctions | None = Field(
        None, description="Sampled sanction events whose scenario tree the optimizer solves."
    )

    @model_validator(mode="after")
    def _sanctions_need_procurement(self) -> Scenario:
        if self.sanctions is not None:
            if self.procurement is None:
                raise ValueError("sanctions: needs a procurement section (it drives the "
                                 "optimizer's scenarios)")
            if self.procurement.scenarios is not None:
                raise ValueError("sanctions: give either sanctions or procurement.scenarios, "
                                 "not both")
        return self

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.horizon_days)

    def hours_since_start(self, date: dt.date) -> float:
        """Hours from start_date to `date`."""
        return (date - self.start_date).days * HOURS_PER_DAY
