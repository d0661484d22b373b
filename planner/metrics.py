"""The metric registry: every metric the simulator and a study case report, once.

A metric has a name, a unit, what its key is (`per`: a job, a pool, a cause, a part, or none),
whether it can drive adaptive stopping, a human label and one line of documentation. Its flat
name is `<name>` or `<name>.<key>` (`ettr.pretrain-8k`, `interruptions.by_category.gpu`,
`stockout_days.H800/gpu_board`); summary.json nests the key one level under the name's parts.
The simulator, summary.json, adaptive stopping, the study worker, the reports and
docs/outputs.md all read this list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# what the key after a metric's name is
PER_JOB, PER_POOL, PER_CAUSE, PER_LOSS, PER_PART, PER_VENDOR, PER_POOL_THRESHOLD = (
    "job", "pool", "cause", "loss", "sku/part", "vendor", "pool/threshold")
# the keys of lost_gpu_hours: where GPU-hours of a job go other than productive compute
LOSS_CAUSES = ("lost_work", "restart", "waiting_for_nodes", "checkpoint_writes")
# the availability thresholds of the runway metrics (issue 15): the days from a parts block
# until a pool's healthy / installed nodes fall below each
RUNWAY_THRESHOLDS = (0.9, 0.8, 0.5)
_PERCENT = 100


def runway_key(pool: str, threshold: float) -> str:
    """The key of a runway metric: `<pool>/<threshold in percent>` (`h800/90`)."""
    return f"{pool}/{round(threshold * _PERCENT)}"


def split_runway_key(key: str) -> tuple[str, float]:
    """(pool, threshold as a fraction) of a runway key (`h800/90` -> `h800`, 0.9)."""
    pool, _, percent = key.rpartition("/")
    return pool, int(percent) / _PERCENT


@dataclass(frozen=True)
class Metric:
    """One metric: `per` is None for a metric with no key."""

    name: str
    unit: str
    per: str | None
    label: str
    doc: str
    adaptive: bool = True  # may be simulation.adaptive.metric (simulation metrics only)
    # the values it can take: the interval of its mean is cut to them (planner.stats.describe);
    # None where the registry does not say (the optimizer's figures)
    bounds: tuple[float, float] | None = None

    def flat(self, key: str | None = None) -> str:
        """The flat name of this metric for `key` (a job, pool, ...), as in replications.parquet."""
        return self.name if key is None else f"{self.name}.{key}"


# every simulation metric counts or measures something (>= 0); a fraction is at most 1
NONNEGATIVE = (0.0, math.inf)
UNIT_INTERVAL = (0.0, 1.0)


def _sim(name: str, unit: str, per: str | None, label: str, doc: str) -> Metric:
    return Metric(name, unit, per, label, doc,
                  bounds=UNIT_INTERVAL if unit == "fraction" else NONNEGATIVE)


# --- simulation metrics (summary.json, replications, study cases), in the simulator's order ------

ETTR = _sim("ettr", "fraction", PER_JOB, "ETTR",
            "productive hours / wall hours since the job started (to its end, the end of its "
            "window, or the end of the replication)")
TIME_TO_TRAIN_DAYS = _sim("time_to_train_days", "days", PER_JOB, "time to train",
                          "submission to completion of `work_target_gpu_hours` (finished "
                          "replications only)")
JOB_COMPLETED = _sim("job_completed", "fraction", PER_JOB, "job completed",
                     "1 if the work target was reached within the horizon (and the job's "
                     "window), else 0")
JOB_MTTF_HOURS = _sim("job_mttf_hours", "hours", PER_JOB, "job MTTF",
                      "hours restarting or running / unplanned interruptions")
JOB_INTERRUPTIONS = _sim("job_interruptions", "count", PER_JOB, "job interruptions",
                         "unplanned interruptions of the job (every cause but maintenance)")
JOB_PLANNED_INTERRUPTIONS = _sim("job_planned_interruptions", "count", PER_JOB,
                                 "job planned interruptions",
                                 "interruptions of the job by planned maintenance")
GOODPUT_GPU_HOURS = _sim("goodput_gpu_hours", "GPU-hours", None, "goodput",
                         "sum over jobs of productive hours x job GPUs")
INTERRUPTIONS_TOTAL = _sim("interruptions.total", "count", None, "interruptions",
                           "unplanned job interruptions, every job and cause")
INTERRUPTIONS_BY_CATEGORY = _sim("interruptions.by_category", "count", PER_CAUSE,
                                 "interruptions by cause",
                                 "unplanned job interruptions by failure category, shared "
                                 "component, `preemption` or `misdiagnosis`")
PLANNED_INTERRUPTIONS = _sim("planned_interruptions", "count", None, "planned interruptions",
                             "job interruptions by planned maintenance, every job")
LOST_GPU_HOURS = _sim("lost_gpu_hours", "GPU-hours", PER_LOSS, "lost GPU-hours",
                      "GPU-hours lost, by cause: `lost_work`, `restart`, `waiting_for_nodes`, "
                      "`checkpoint_writes`")
NODE_AVAILABILITY = _sim("node_availability", "fraction", PER_POOL, "node availability",
                         "healthy node-hours / installed node-hours (retired nodes count as "
                         "installed)")
NODES_RETIRED = _sim("nodes_retired", "nodes", PER_POOL, "nodes retired",
                     "nodes retired by the retirement rule")
NODE_FAILURES = _sim("node_failures", "count", PER_POOL, "node failures",
                     "node failures recorded (misdiagnosed drains not counted)")
SHARED_FAILURES = _sim("shared_failures", "count", PER_POOL, "shared-component failures",
                       "failures of shared components (leaf switches, racks, PDUs), each "
                       "taking its unit's nodes down")
STOCKOUT_DAYS = _sim("stockout_days", "days", PER_PART, "stock-out days",
                     "days with at least one node waiting for the part")
PARTS_CONSUMED = _sim("parts_consumed", "parts", PER_PART, "parts consumed",
                      "parts that left the shelf or came from retired nodes: the demand on "
                      "supply")
PARTS_CANNIBALIZED = _sim("parts_cannibalized", "parts", PER_PART, "parts cannibalized",
                          "parts moved into a failed node from a retired node or from a node "
                          "waiting for another part")
PARTS_SPEND_USD = _sim("parts_spend_usd", "USD", None, "spend on parts",
                       "spend on spare-part orders")
REPAIR_BACKLOG_MAX = _sim("repair_backlog_max", "nodes", None, "most nodes in repair",
                          "most nodes in repair (any stage) at once")
SIMULATED_DAYS = _sim("simulated_days", "days", None, "simulated length",
                      "days the replication ran: the horizon, or less with `stop: jobs_done`")
# runway under a parts block: per pool whose parts a supply shock blocks, and per threshold of
# RUNWAY_THRESHOLDS. A replication that does not see the threshold crossed holds the days it
# watched (a lower bound) and runway.censored 1, so their plain statistics understate the
# runway: the Runway sheet's percentiles take the censoring into account (planner/runway.py).
# Not adaptive: the mean of a censored quantity is no target for a confidence interval.
RUNWAY_DAYS = Metric("runway.days", "days", PER_POOL_THRESHOLD, "runway",
                     "days from the start of a block of the pool's parts to the first sampled "
                     "day its node availability (healthy / installed nodes) is below the "
                     "threshold; not crossed while the block lasts within the run: the days "
                     "watched (a lower bound, `runway.censored` = 1); undefined without a block "
                     "in the run", adaptive=False, bounds=NONNEGATIVE)
RUNWAY_CENSORED = Metric("runway.censored", "fraction", PER_POOL_THRESHOLD, "runway censored",
                         "1 if the threshold was not crossed while the block lasted within the "
                         "run (`runway.days` is then a lower bound), else 0; the mean is the "
                         "share of blocked replications censored", adaptive=False,
                         bounds=UNIT_INTERVAL)

SIMULATION_METRICS: tuple[Metric, ...] = (
    ETTR, TIME_TO_TRAIN_DAYS, JOB_COMPLETED, JOB_MTTF_HOURS, JOB_INTERRUPTIONS,
    JOB_PLANNED_INTERRUPTIONS, GOODPUT_GPU_HOURS, INTERRUPTIONS_TOTAL,
    INTERRUPTIONS_BY_CATEGORY, PLANNED_INTERRUPTIONS, LOST_GPU_HOURS, NODE_AVAILABILITY,
    NODES_RETIRED, NODE_FAILURES, SHARED_FAILURES, STOCKOUT_DAYS, PARTS_CONSUMED,
    PARTS_CANNIBALIZED, PARTS_SPEND_USD, REPAIR_BACKLOG_MAX, SIMULATED_DAYS, RUNWAY_DAYS,
    RUNWAY_CENSORED,
)

# --- a study case's plan metrics (command optimize or both): `plan.` + the optimizer's figure -----

PLAN_PREFIX = "plan."


def _plan(name: str, unit: str, per: str | None, label: str, doc: str) -> Metric:
    return Metric(PLAN_PREFIX + name, unit, per, label, doc, adaptive=False)


# the optimizer's summary figures, in the order the solver reports them (solvers/results.py)
PLAN_SUMMARY_METRICS: tuple[Metric, ...] = (
    _plan("objective", "USD", None, "objective", "objective: expected cost + weight x CVaR term"),
    _plan("bound", "USD", None, "best bound", "best bound on the objective"),
    _plan("gap", "fraction", None, "MIP gap", "relative gap between objective and bound"),
    _plan("expected_cost_usd", "USD", None, "expected cost",
          "expected cost over the sanction scenarios"),
    _plan("cvar_alpha", "fraction", None, "CVaR level", "CVaR level alpha"),
    _plan("cvar_cost_usd", "USD", None, "CVaR of cost",
          "mean cost over the worst 1 - alpha of probability"),
    _plan("cvar_shortfall_pflops_hours", "PFLOP/s-hours", None, "CVaR of shortfall",
          "CVaR of unmet demand over the horizon"),
    _plan("expected_shortfall_pflops_hours", "PFLOP/s-hours", None, "expected shortfall",
          "expected unmet demand over the horizon"),
    _plan("worst_case_shortfall_pflops_hours", "PFLOP/s-hours", None, "worst shortfall",
          "largest unmet demand of any scenario over the horizon"),
    _plan("worst_case_shortfall_pflops", "PFLOP/s", None, "worst quarterly shortfall",
          "largest unmet demand of any scenario in any quarter"),
    _plan("cvar_term_usd", "USD", None, "CVaR term (cost)",
          "the CVaR of cost as the objective holds it (eta + sum p xi / (1 - alpha)), "
          "discounted; only with a risk weight or CVaR cap on cost"),
    _plan("cvar_term_pflops_hours", "PFLOP/s-hours", None, "CVaR term (shortfall)",
          "the CVaR of shortfall as the objective holds it (eta + sum p xi / (1 - alpha)); "
          "only with a risk weight or CVaR cap on shortfall"),
)
PLAN_ORDERED_PFLOPS = _plan("ordered_pflops", "PFLOP/s", PER_VENDOR, "compute ordered",
                            "effective compute of the first-stage orders of the vendor")
PLAN_SHARE = _plan("share", "fraction", PER_VENDOR, "share of compute ordered",
                   "the vendor's share of the effective compute ordered")
PLAN_STOCKPILE_UNITS = _plan("stockpile_units", "parts", None, "parts stockpiled",
                             "spare parts bought before the sanction outcome")
PLAN_ORDERED_NODES = _plan("ordered_nodes", "nodes", None, "nodes ordered",
                           "nodes of first-stage orders")

PLAN_METRICS: tuple[Metric, ...] = (*PLAN_SUMMARY_METRICS, PLAN_ORDERED_PFLOPS, PLAN_SHARE,
                                    PLAN_STOCKPILE_UNITS, PLAN_ORDERED_NODES)

METRICS: tuple[Metric, ...] = (*SIMULATION_METRICS, *PLAN_METRICS)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
# longest names first: `interruptions.by_category` is found before a shorter name could match
_BY_LENGTH = sorted(METRICS, key=lambda m: -len(m.name))


def resolve(flat_name: str) -> tuple[Metric, str | None] | None:
    """(metric, key) of a flat name (`ettr.pretrain-8k` -> ETTR, `pretrain-8k`); a keyed metric
    named without its key gives key None; None when no registered metric matches."""
    for metric in _BY_LENGTH:
        if flat_name == metric.name:
            return metric, None
        if metric.per is not None and flat_name.startswith(metric.name + "."):
            return metric, flat_name[len(metric.name) + 1:]
    return None


def bounds_of(flat_name: str) -> tuple[float, float] | None:
    """The values a flat metric name can take, or None when the registry does not say."""
    found = resolve(flat_name)
    return found[0].bounds if found is not None else None


def unit_of(flat_name: str) -> str | None:
    """The unit of a flat metric name, or None when it is not a registered metric."""
    found = resolve(flat_name)
    return found[0].unit if found is not None else None


def adaptive_names() -> list[str]:
    """Metric names that may drive adaptive stopping."""
    return [m.name for m in METRICS if m.adaptive]


def summary_path(flat_name: str) -> list[str]:
    """Where summary.json nests a flat metric: the name's dotted parts, then the key."""
    found = resolve(flat_name)
    if found is None:
        head, _, rest = flat_name.partition(".")
        return [head, rest] if rest else [head]
    metric, key = found
    return [*metric.name.split("."), *([key] if key is not None else [])]


def markdown_table() -> str:
    """The registry as the Markdown table of docs/outputs.md ("Metrics"), one row per metric."""
    lines = ["| metric | key | unit | adaptive stopping | label | what |",
             "|---|---|---|---|---|---|"]
    for m in METRICS:
        key = f"`<{m.per}>`" if m.per else ""
        lines.append(f"| `{m.name}` | {key} | {m.unit or 'as the risk measure'} | "
                     f"{'yes' if m.adaptive else 'no'} | {m.label} | {m.doc} |")
    return "\n".join(lines)


def study_metrics(command: str) -> tuple[Metric, ...]:
    """The metrics a study case of `command` (simulate, optimize, both) reports."""
    return {"simulate": SIMULATION_METRICS, "optimize": PLAN_METRICS}.get(command, METRICS)


def collectable(name: str, command: str) -> bool:
    """Whether `name` (a metric, a prefix of metrics such as `plan` or `interruptions`, or a
    flat name with its key) names something a study case of `command` reports."""
    for m in study_metrics(command):
        if name == m.name or m.name.startswith(name + ".") or (
                m.per is not None and name.startswith(m.name + ".")):
            return True
    return False
