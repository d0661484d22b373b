"""The validation table: published figures and closed forms against the simulator.

Each row runs a scenario for at least MIN_REPLICATIONS replications and compares the mean of one
metric (or, where the source states a median, its P50) with the source's figure under a stated
tolerance. docs/validation.md is `render(compute_rows())`; tests/validation/test_validation.py
fails when the committed file is stale. Regenerate with

    python -m tests.validation.rows --write

A row the model cannot meet stays in the table as a documented miss, with the reason.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from planner.scenario.loader import load_scenario, load_scenario_text
from planner.sim.model import simulate
from planner.sim.setup import build_setup
from planner.stats import describe

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "validation.md"
MIN_REPLICATIONS = 20
NODE_DAYS = 1000.0  # catalog rates are per 1000 node-days
HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    check: str
    source: str  # where the figure comes from
    source_figure: str
    ours: str  # our figure with its 95 % CI
    tolerance: str  # the band and why
    status: str  # pass | FAIL | miss (documented) | shown


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _stat(values: list[float]) -> tuple[float, str]:
    d = describe(values)
    lo, hi = d["ci95"]
    return d["mean"], f"{_fmt(d['mean'])} (95 % CI {_fmt(lo)} to {_fmt(hi)}, n = {d['n']})"


def _runs(loaded, replications: int = MIN_REPLICATIONS) -> list[dict[str, float]]:
    setup = build_setup(loaded.scenario, loaded.catalog)
    return [simulate(setup, i).metrics for i in range(replications)]


def _scenario(path: str, *sets: str):
    return load_scenario(ROOT / path, sets)


def _yaml(data: str, *sets: str):
    return load_scenario_text(data, "validation.yaml", sets)


# --- published figures ----------------------------------------------------------------------------

LLAMA = "scenarios/llama3-16k-h100.yaml"
LLAMA_SOURCE = "Llama 3 (arXiv 2407.21783) Sec 3.3.4, Table 5"


def llama3_rows() -> list[Row]:
    runs = _runs(_scenario(LLAMA))
    job = "llama3-405b"
    mean, ours = _stat([m[f"job_interruptions.{job}"] for m in runs])
    rows = [Row("Llama 3 405B, 16,384 H100, 54-day window: unexpected interruptions of the job",
                LLAMA_SOURCE, "419", ours,
                "±10 % (377 to 461): the catalog's rates are this table's, so this checks the "
                "model's counting (standbys, shared switches, misdiagnosis), not the rates",
                "pass" if 377.1 <= mean <= 460.9 else "FAIL")]
    mean, ours = _stat([m[f"job_planned_interruptions.{job}"] for m in runs])
    rows.append(Row("Llama 3: planned interruptions of the job (an input: the maintenance rate is "
                    "set from this figure)", LLAMA_SOURCE, "47", ours,
                    "±15 %: the rate is derived from the figure; batches that land on the other "
                    "work's nodes do not interrupt the job",
                    "pass" if 0.85 * 47 <= mean <= 1.15 * 47 else "FAIL"))
    mean, ours = _stat([m[f"ettr.{job}"] for m in runs])
    rows.append(Row("Llama 3: effective training time (ETTR) with the 47 planned interruptions",
                    LLAMA_SOURCE, "> 0.90", ours,
                    "mean above 0.90; depends on assumed stalls the paper does not give (18 s "
                    "per checkpoint, 6 min restart): with a 36 s stall it is about 0.88",
                    "pass" if mean > 0.90 else "FAIL"))
    return rows


RSC_SCENARIO = """
name: meta-rsc-projection
start_date: 2024-01-01
horizon_days: 30
seed: 16384
catalog:
  skus: {H100: {failure_rate_multiplier: %(multiplier)r}}
cluster:
  pools: [{name: a100, sku: H100, nodes: 2304}]
  spares: {default: {initial_stock: 100000, policy: base_stock, lead_time_days: 1}}
jobs:
  - {name: job-16k, pool: a100, nodes: 2048, warm_standby_nodes: 256,
     checkpoint_interval_hours: 1.0, checkpoint_write_hours: 0.0, restart_hours: 0.0,
     host_selection_hours: 0.0}
"""


def meta_rsc_rows() -> list[Row]:
    """Kokolis et al. project a 16,384-GPU job's MTTF from RSC-1's node failure rate."""
    from planner.catalog.catalog import shipped_catalog

    cat = shipped_catalog()
    per_node = sum(c.failure_rate_per_1000_node_days.value for c in cat.categories.values()) + sum(
        u.failure_rate_per_1000_unit_days.value / u.nodes_per_unit.value
        for u in cat.shared_components.values())
    multiplier = 6.50 / per_node  # the catalog's mix, scaled to RSC-1's 6.50 per 1000 node-days
    runs = _runs(_yaml(RSC_SCENARIO % {"multiplier": multiplier}))
    mean, ours = _stat([m["job_mttf_hours.job-16k"] for m in runs])
    return [Row("Meta RSC-1 projection: MTTF of a 16,384-GPU job at 6.50 node failures per "
                "1,000 node-days", "Kokolis et al. (HPCA 2025, arXiv 2410.21680)", "1.8 h", ours,
                "±10 % (1.62 to 1.98 h): the projection is 24 / (2,048 x 0.0065) = 1.80 h; "
                "standbys keep the job on 2,048 nodes",
                "pass" if 1.62 <= mean <= 1.98 else "FAIL")]


DEEPSEEK = "scenarios/deepseek-v3-h800.yaml"


def deepseek_rows() -> list[Row]:
    source = "DeepSeek-V3 (arXiv 2412.19437) Table 1, Sec 3.1"
    runs = _runs(_scenario(DEEPSEEK))
    days = [m["time_to_train_days.deepseek-v3"] for m in runs]
    p50 = float(np.median(days))
    _, ours = _stat(days)
    rows = [Row("DeepSeek-V3: 2.788 M H800 GPU-hours on 2,048 H800, 8 warm standby nodes: time "
                "to train, P50", source, "< 60 days (\"under two months\")",
                f"P50 {_fmt(p50)}; mean {ours}",
                "P50 below 60 days; failure-free it takes 56.7 days",
                "pass" if p50 < 60 else "FAIL")]
    runs = _runs(_scenario(DEEPSEEK, "jobs[0].warm_standby_nodes=0",
                           "cluster.pools[0].nodes=256"))
    days = [m["time_to_train_days.deepseek-v3"] for m in runs]
    _, ours = _stat(days)
    rows.append(Row("The same job with 0 standby nodes (it waits out every repair)", "—", "—",
                    f"P50 {_fmt(float(np.median(days)))}; mean {ours}",
                    "shown for comparison: what no spare node costs", "shown"))
    return rows


# --- closed forms ---------------------------------------------------------------------------------

CLOSED = """
name: closed-form
start_date: 2027-01-01
horizon_days: %(days)r
seed: %(seed)r
catalog:
  categories: %(categories)s
  shared_components: {leaf_switch: {failure_rate_per_1000_unit_days: 0}}
cluster:
  pools: [{name: p, sku: H800, nodes: %(nodes)r, failure_clock: %(clock)s}]
  repair: {diagnosis_hours: 0, auto_repair_hours: %(repair)r, auto_repair_success_probability: 1.0,
           validation_hours: 0, hands_on_hours: 0, manual_fix_fail_probability: 0.0}
  spares: {default: {initial_stock: 1000, policy: base_stock, lead_time_days: 1}}
jobs:
  - {name: train, pool: p, nodes: %(job_nodes)r, checkpoint_interval_hours: %(interval)s,
     checkpoint_write_hours: %(write)r, restart_hours: %(restart)r, host_selection_hours: 0.0,
     borrow_hours_per_batch: 0.0}
"""


def _closed(rates: dict[str, float], **fields) -> str:
    from planner.catalog.catalog import shipped_catalog

    categories = {name: {"failure_rate_per_1000_node_days": rates.get(name, 0.0),
                         "hard_fraction": 0.0} for name in shipped_catalog().categories}
    values = {"days": 400, "seed": 1, "nodes": 50, "clock": "always", "repair": 0.0,
              "job_nodes": 50, "interval": "auto", "write": 0.0, "restart": 0.0,
              "categories": categories, **fields}
    return CLOSED % values


def _closed_row(check: str, formula: str, expected: float, values: list[float],
                note: str) -> Row:
    """Passes when the closed form lies within 3 standard errors of the mean."""
    mean, ours = _stat(values)
    se = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    band = max(3 * se, 1e-9)
    return Row(check, formula, _fmt(expected), ours,
               f"within 3 standard errors ({_fmt(band)}): Monte-Carlo noise only; {note}",
               "pass" if abs(mean - expected) <= band else "FAIL")


def closed_form_rows() -> list[Row]:
    rows = []
    nodes, days, rate = 50, 400, 20.0  # gpu failures per 1000 node-days
    runs = _runs(_yaml(_closed({"gpu": rate}, days=days)))
    expected = rate / NODE_DAYS * nodes * days
    rows.append(_closed_row("Interruptions of a 50-node job, 400 days, one category",
                            "Poisson count n λ T", expected,
                            [m["interruptions.total"] for m in runs], "superposed streams"))

    lam, tau, write, restart = 0.1, 2.0, 0.2, 0.5  # job failures per hour
    per_1000 = lam / nodes * HOURS_PER_DAY * NODE_DAYS
    runs = _runs(_yaml(_closed({"software_bug": per_1000}, days=1000, interval=tau,
                               write=write, restart=restart)))
    tau_ettr = tau * lam * math.exp(-lam * restart) / math.expm1(lam * (tau + write))
    rows.append(_closed_row("ETTR with instant repairs (τ = 2 h, δ = 0.2 h, R = 0.5 h, "
                            "λ = 0.1/h)", "τ λ e^(−λR) / (e^(λ(τ+δ)) − 1)", tau_ettr,
                            [m["ettr.train"] for m in runs], "standbys refill at once"))

    runs = _runs(_yaml(_closed({"software_bug": per_1000}, days=1000, interval=tau,
                               write=write, restart=restart, repair=4.0, nodes=nodes + 20)
                       .replace("host_selection_hours: 0.0", "host_selection_hours: 0.0, "
                                "warm_standby_nodes: 20")))
    rows.append(_closed_row("ETTR with 4 h repairs and 20 warm standbys (same job)",
                            "as with instant repairs: standbys hide repairs", tau_ettr,
                            [m["ettr.train"] for m in runs],
                            "about 0.4 node in repair at a time, never 20"))

    repair = 4.0  # hours a failed node is away; no standby, no idle node, nodes fail only busy
    runs = _runs(_yaml(_closed({"software_bug": per_1000}, days=1000, repair=repair,
                               clock="busy")))
    renewal = 1.0 / (1.0 + lam * repair)
    rows.append(_closed_row("A job with no spare node waits out each repair (r = 4 h, "
                            "λ = 0.1/h, continuous checkpoints)", "renewal: 1 / (1 + λ r)",
                            renewal, [m["ettr.train"] for m in runs],
                            "failure_clock busy: idle nodes do not fail"))
    return rows


def checkpoint_interval_rows() -> list[Row]:
    """The checkpoint interval that maximizes simulated ETTR, against Daly's and Young's.

    ETTR is simulated at nine intervals with common random numbers (replication i sees the same
    failures at every interval), its mean over the replications fitted by a parabola in
    log(interval) (the curve is steep below the optimum, flat above); the 95 % interval of the
    optimum comes from refitting on 400 bootstrap resamples of the replications."""
    from planner.sim.checkpoint import daly_interval_hours, young_interval_hours

    nodes, lam, write = 20, 0.1, 0.1  # job failures per hour, checkpoint write hours
    per_1000 = lam / nodes * HOURS_PER_DAY * NODE_DAYS
    taus = np.linspace(0.7, 2.3, 9)
    ettr = np.empty((MIN_REPLICATIONS, len(taus)))
    for j, tau in enumerate(taus):
        loaded = _yaml(_closed({"software_bug": per_1000}, days=300, nodes=nodes,
                               job_nodes=nodes, interval=float(tau), write=write, restart=0.1))
        ettr[:, j] = [m["ettr.train"] for m in _runs(loaded)]

    def best(curve: np.ndarray) -> float:
        a, b, _ = np.polyfit(np.log(taus), curve, 2)
        return math.exp(-b / (2 * a)) if a < 0 else math.nan

    found = best(ettr.mean(axis=0))
    rng = np.random.default_rng(0)
    boot = [best(ettr[rng.integers(0, MIN_REPLICATIONS, MIN_REPLICATIONS)].mean(axis=0))
            for _ in range(400)]
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    ours = f"{_fmt(found)} h (95 % bootstrap interval {_fmt(lo)} to {_fmt(hi)}, n = 20 per interval)"
    rows = []
    for name, formula, value in (
            ("Daly", "Daly (2006) eq. 37", daly_interval_hours(write, 1 / lam)),
            ("Young", "Young (1974): √(2 δ M)", young_interval_hours(write, 1 / lam))):
        rows.append(Row(f"Checkpoint interval that maximizes simulated ETTR (δ = 0.1 h, M = 10 h) "
                        f"against {name}'s", formula, f"{_fmt(value)} h", ours,
                        "±10 %: the ETTR curve is flat near its top, so a fitted optimum moves "
                        "with noise; Daly and Young differ by 5 % here",
                        "pass" if abs(found - value) <= 0.10 * value else "FAIL"))
    return rows


def palm_row() -> Row:
    """Share of hard failures that wait for a part under base stock S: P(Poisson(λL) >= S)."""
    from planner.catalog.catalog import shipped_catalog

    nodes, demand_per_day, lead_days, base_stock = 1000, 1.0, 5.0, 7
    categories = {name: {"failure_rate_per_1000_node_days":
                         demand_per_day / nodes * NODE_DAYS if name == "gpu" else 0.0,
                         "hard_fraction": 1.0 if name == "gpu" else 0.0}
                  for name in shipped_catalog().categories}
    text = _closed({}, days=400, nodes=nodes, job_nodes=1) .replace(
        "spares: {default: {initial_stock: 1000, policy: base_stock, lead_time_days: 1}}",
        "spares: {default: {initial_stock: 1000, policy: base_stock, lead_time_days: 1}, "
        f"items: [{{sku: H800, part: gpu_board, initial_stock: {base_stock}, "
        f"base_stock_level: {base_stock}, lead_time_days: {{dist: exponential, "
        f"mean: {lead_days}}}}}]}}")
    import yaml

    data = yaml.safe_load(text)
    data["catalog"]["categories"] = categories
    loaded = _yaml(yaml.safe_dump(data))
    setup = build_setup(loaded.scenario, loaded.catalog)
    shares = []
    for i in range(MIN_REPLICATIONS):
        rows = simulate(setup, i).events
        hard = [r for r in rows if r[4] == "hard" and r[6] != "in_repair_at_end"]
        shares.append(sum(r[8] > 0 for r in hard) / len(hard))
    expected = float(stats.poisson.sf(base_stock - 1, demand_per_day * lead_days))
    return _closed_row("Share of part-needing failures that wait (S = 7, λL = 5)",
                       "Palm: P(Poisson(λL) ≥ S)", expected, shares,
                       "base stock, exponential lead times")


# --- calibration round trip on the StepFun trace ------------------------------------------------

TRACE = ROOT / "data" / "stepfun-fault-trace" / "fault_trace.json"
TRACE_NODES, TRACE_DAYS = 400, 348.0
TOLERANCE = ("failures within 10 % (or the count's Poisson 95 % band), repair p50 and p90 within "
             "25 % (or the log's Kaplan-Meier 95 % interval of that percentile)")
REPS = 100


def _subset(log, nodes: int, keep) -> object:
    from dataclasses import replace

    return replace(log, nodes=nodes, faults=tuple(f for f in log.faults if keep(f)))


def _round_trip(fit_log, test_log, days: float, name: str) -> list[dict]:
    """Fit `fit_log`, simulate its fleet for `days` with the fragment (empirical repairs), and
    compare the run with `test_log` (planner.calibration.compare rows as dicts)."""
    import yaml

    from planner.calibration.compare import compare
    from planner.calibration.fragment import fragment
    from planner.calibration.mapping import resolve, stepfun_map
    from planner.calibration.record import calibrate
    from planner.catalog.catalog import shipped_catalog
    from planner.outputs.summary import events_of

    catalog = shipped_catalog()
    likeness = resolve(sorted({f.category for f in (*fit_log.faults, *test_log.faults)}),
                       catalog, stepfun_map(), {}, "trace")
    fit = calibrate(fit_log, catalog, likeness)
    scenario = (f"name: {name}\nstart_date: 2024-03-30\nhorizon_days: {days}\nseed: 348\n"
                f"cluster:\n  pools: [{{name: p, sku: H800, nodes: {fit_log.nodes}}}]\n"
                "  spares: {default: {initial_stock: 100000, policy: base_stock, "
                "lead_time_days: 1}}\n")
    loaded = load_scenario_text(scenario, f"{name}.yaml", fragments=[
        ("overrides.yaml", yaml.safe_dump(fragment(fit, "*", "empirical")))])
    setup = build_setup(loaded.scenario, loaded.catalog)
    results = [simulate(setup, i) for i in range(REPS)]

    events = events_of(results)
    # classes the fit has not seen (none in the first half) have no category in the run
    seen = {f.category for f in fit_log.faults}
    test = _subset(test_log, test_log.nodes, lambda f: f.category in seen)
    lengths = {i: days for i in range(REPS)}
    return [r.as_dict() for r in compare(events, lengths, fit_log.nodes, test,
                                           likeness)]


def _verdict(rows: list[dict], min_faults: int) -> tuple[str, str, bool]:
    """(log figures, run figures, all pass) over the classes with at least `min_faults` faults
    in the test log, each judged by compare's own tolerance: failures within 10 % or the log
    count's Poisson band, repair p50/p90 within 25 % or the log's 95 % interval of it."""
    big = {r["category"] for r in rows if r["check"] == "failures" and r["log"] >= min_faults}
    parts_log, parts_run, ok = [], [], True
    for r in rows:
        if r["category"] not in big:
            continue
        name = r["category"].removeprefix("fit_")
        log, run = r["log"], r["simulated"]
        ok = ok and bool(r["pass"])
        short = {"failures": "n", "repair p50 h": "p50", "repair p90 h": "p90"}[r["check"]]
        parts_log.append(f"{name} {short} {_fmt(log)}")
        parts_run.append(f"{name} {short} {_fmt(run) if run is not None else '-'}"
                         f"{'' if r['pass'] else ' (out)'}")
    return "; ".join(parts_log), "; ".join(parts_run), ok


def _equal_rates_p(a_log, b_log, min_faults: int) -> tuple[float, str]:
    """The smallest two-sided p-value, over classes with `min_faults`+ faults in both logs
    together, of the exact conditional test that both logs share the class's rate per up
    node-day (a | a + b ~ binomial(a + b, e_a / (e_a + e_b))), and that class."""
    from planner.calibration.estimate import up_node_days

    e_a, e_b = up_node_days(a_log), up_node_days(b_log)
    worst, which = 1.0, ""
    for cls in sorted({f.category for f in (*a_log.faults, *b_log.faults)}):
        a = sum(f.category == cls for f in a_log.faults)
        b = sum(f.category == cls for f in b_log.faults)
        if a + b < min_faults:
            continue
        p = float(stats.binomtest(a, a + b, e_a / (e_a + e_b)).pvalue)
        if p < worst:
            worst, which = p, f"{cls} {a} against {b}"
    return worst, which


def _equal_repairs_p(a_log, b_log, min_faults: int) -> tuple[float, str]:
    """The smallest log-rank p-value, over classes with `min_faults`+ faults in each log, of
    the test that both logs share the class's repair-time distribution (open repairs
    censored), and that class with both medians."""
    def sample(log, cls):
        hours = np.array([f.downtime_hours for f in log.faults if f.category == cls])
        open_ = np.array([f.censored for f in log.faults if f.category == cls], dtype=bool)
        return stats.CensoredData(uncensored=hours[~open_], right=hours[open_]), hours

    worst, which = 1.0, ""
    for cls in sorted({f.category for f in (*a_log.faults, *b_log.faults)}):
        (a, a_hours), (b, b_hours) = sample(a_log, cls), sample(b_log, cls)
        if min(len(a_hours), len(b_hours)) < min_faults:
            continue
        p = float(stats.logrank(a, b).pvalue)
        if p < worst:
            worst, which = p, (f"{cls} median {_fmt(float(np.median(a_hours)))} h against "
                               f"{_fmt(float(np.median(b_hours)))} h")
    return worst, which


def stepfun_rows() -> list[Row]:
    """The StepFun trace fitted and checked on itself (the tool's round trip), then fitted on one
    part and checked on another: its first half against its second (as issue 14 asks), and half
    its nodes against the other half over the whole year (what the trace itself allows)."""
    import zlib

    from planner.calibration.log import Window, read_log

    whole = read_log(TRACE, "stepfun", TRACE_NODES, Window(TRACE_DAYS))
    rows = _round_trip(whole, whole, TRACE_DAYS, "stepfun-whole")
    log_text, run_text, ok = _verdict(rows, 20)
    out = [Row("StepFun trace, fitted on all 400 nodes and 348 days, simulated (empirical "
               "repairs) and checked on the same trace: classes with 20+ faults",
               "StepFun InfiniteHBD (arXiv 2502.03885)", log_text, run_text,
               f"{TOLERANCE}: calibrate, overrides, run and compare reproduce the log they "
               "were fitted to",
               "pass" if ok else "FAIL")]
    first = read_log(TRACE, "stepfun", TRACE_NODES, Window(TRACE_DAYS / 2))
    second = read_log(TRACE, "stepfun", TRACE_NODES, Window(TRACE_DAYS / 2,
                                                          first_day=TRACE_DAYS / 2))
    rows = _round_trip(first, second, TRACE_DAYS / 2, "stepfun-halves")
    log_text, run_text, ok = _verdict(rows, 20)
    p, which = _equal_rates_p(first, second, 20)
    p_repair, which_repair = _equal_repairs_p(first, second, 20)
    out.append(Row("StepFun trace, fitted on days 0-174, simulated (empirical repairs), checked on "
               "days 174-348: classes with 20+ faults", "StepFun InfiniteHBD (arXiv 2502.03885)",
               log_text, run_text,
               f"{TOLERANCE} (issue 14). Miss: the trace is not stationary, its halves share "
               f"neither their rates ({which}: exact test of equal rates p = {p:.1g}) nor their "
               f"repair times ({which_repair}: log-rank p = {p_repair:.1g}), so no fit of one "
               "half predicts the other; the first row shows the tool reproduces what it fits",
               "pass" if ok else "miss (documented)"))

    def even(f) -> bool:
        return zlib.crc32(f.node.encode()) % 2 == 0

    rows = _round_trip(_subset(whole, TRACE_NODES // 2, even),
                       _subset(whole, TRACE_NODES // 2, lambda f: not even(f)),
                       TRACE_DAYS, "stepfun-nodes")
    log_text, run_text, ok = _verdict(rows, 20)
    evens = _subset(whole, TRACE_NODES // 2, even)
    odds = _subset(whole, TRACE_NODES // 2, lambda f: not even(f))
    p, which = _equal_rates_p(evens, odds, 20)
    p_repair, which_repair = _equal_repairs_p(evens, odds, 20)
    out.append(Row("StepFun trace, fitted on half its nodes (by node id), checked on the other "
                   "half over the same 348 days: classes with 20+ faults",
                   "StepFun InfiniteHBD (arXiv 2502.03885)", log_text, run_text,
                   f"{TOLERANCE}. Miss: the halves of the fleet differ beyond their noise "
                   f"({which}: exact test of equal rates p = {p:.1g}"
                   + (f"; {which_repair}: log-rank p = {p_repair:.1g}" if p_repair < 0.05
                      else "") + "): this fleet's nodes do not share one rate per class, "
                   "which a fit of some nodes cannot reveal about the others",
                   "pass" if ok else "miss (documented)"))
    return out


CASES: tuple[Callable[[], list[Row]], ...] = (
    llama3_rows, meta_rsc_rows, deepseek_rows, closed_form_rows, checkpoint_interval_rows,
    lambda: [palm_row()], stepfun_rows)


def compute_rows() -> list[Row]:
    return [row for case in CASES for row in case()]


HEADER = """# Validation

The simulator against published figures and closed forms. This file is produced by
`tests/validation` (`python -m tests.validation.rows --write`); the test fails when it is stale.
Each figure is the mean over at least 20 replications with its 95 % confidence interval (where the
source states a median, the P50); a row passes when that figure lies in the tolerance band.

Not a node-rate effect: Kokolis et al. measured a 7.9 h MTTF for 1,024-GPU jobs, where the
node rate alone (24 / (128 x 0.0065)) gives 28.8 h. Jobs that size fail mostly for reasons the
node failure rate does not count (filesystem mounts, IB links flapping, software and user
errors, which the paper attributes per job, not per node), and a job of 128 nodes also pays
for every lemon node it lands on; the 16,384-GPU figure is a projection from the node rate
alone, which is what the row above checks. To match small-job MTTF, add job-level failure
categories (software_bug, dependency) at the rate the fleet's own job log shows.

"""


def render(rows: list[Row]) -> str:
    lines = [HEADER, "| check | source | source figure | ours | tolerance | status |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.check} | {r.source} | {r.source_figure} | {r.ours} | "
                     f"{r.tolerance} | {r.status} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/validation.md")
    args = parser.parse_args()
    text = render(compute_rows())
    if args.write:
        DOC.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
