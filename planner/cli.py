"""The `planner` command line: run, optimize, study, report, validate, schema, catalog.

Every refusal is one line on stderr and an exit code of planner.exit_codes.ExitCode
(docs/errors.md): 2 bad input, 3 infeasible, 4 no plan within the time limit, 1 the solver
failed otherwise, 5 a study with failed cases, 6 a fault outside the input (a worker died, the
disk is full, the Dask scheduler does not answer), 7 another planner process writes the folder.
Output folders are written whole or not at all (planner/outputs/publish.py).
"""

from __future__ import annotations

import atexit
import errno
import gc
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table
from typer.core import TyperGroup, TyperOption

from planner.errors import InputError
from planner.exit_codes import ExitCode
from planner.outputs.layout import COMPLETE, FOLDER_MARKERS, is_report_file

if TYPE_CHECKING:
    from planner.reports.drawing import FigureProcess

out = Console()
err = Console(stderr=True)


def _say(text: str) -> None:
    """One line on stderr, as written (no markup, no wrapping)."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


VERBOSE_FLAGS = ("--verbose", "-v", "-vv", "-vvv")


def _verbosity_first(args: list[str]) -> list[str]:
    """-v/--verbose is an option of `planner` itself; written after the command (planner run
    S -v), it is moved before it. Nothing after `--` moves."""
    end = args.index("--") if "--" in args else len(args)
    moved = [a for a in args[:end] if a in VERBOSE_FLAGS]
    return moved + [a for a in args[:end] if a not in VERBOSE_FLAGS] + args[end:]


class _OneLineErrors(TyperGroup):
    """Usage errors (an unknown option, a value that is not a number, a missing argument) as
    one line and exit code 2, like every other refusal."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        args = _verbosity_first(list(sys.argv[1:] if args is None else args))
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except typer.TyperException as e:
            if not standalone_mode:
                raise
            ctx = getattr(e, "ctx", None)
            if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:
                out.print(ctx.get_help(), markup=False, highlight=False)
            else:
                where = ctx.command_path if ctx is not None else "planner"
                _say(f"{where}: {' '.join(e.format_message().split())}")
            sys.exit(e.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            _say("planner: aborted")
            sys.exit(ExitCode.FAULT)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else ExitCode.OK)
        return result


def _flags_without_type(option: TyperOption, ctx: Any) -> str | None:
    """A flag (--sources, --help) takes no value: its help shows no `<bool>`."""
    return None if option.is_flag or option.count else _TYPE_IN_HELP(option, ctx)


_TYPE_IN_HELP = TyperOption.display_type_rich
TyperOption.display_type_rich = _flags_without_type  # typer 0.29 labels flags <bool>

app = typer.Typer(
    cls=_OneLineErrors,
    no_args_is_help=True,
    help="Plan very large AI-training clusters under supply risk.",
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring lines rewrap to the terminal (not kept as written)
)

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("cluster-planner")
        except PackageNotFoundError:  # run from a source tree that is not installed
            number = "unknown (not installed)"
        out.print(f"planner {number}", highlight=False)
        raise typer.Exit()


def _logging(verbose: int) -> None:
    """-v: the phases and their times on stderr; -vv: details (solver timings, files)."""
    import logging

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("planner: %(message)s"))
    for name in ("planner", "solvers"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, show_default=False,
                                         help="Say what planner does, on stderr: -v the phases "
                                         "and their times, -vv details (also after the "
                                         "command).")] = 0,
) -> None:
    """Plan very large AI-training clusters under supply risk."""
    _logging(verbose)


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field: --set cluster.pools[0].nodes=1024 (repeatable)."),
]
OverridesOption = Annotated[
    list[Path] | None,
    typer.Option("--overrides", help="A scenario fragment merged in before --set (maps merge, "
                 "lists are replaced), e.g. planner calibrate's overrides.yaml (repeatable)."),
]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")]
RepsOption = Annotated[
    int | None, typer.Option("--replications", "-r", help="Override simulation.replications.")
]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", "-w", help="Local processes (default: all cores).")
]


def _fail(error: InputError) -> NoReturn:
    _stop(str(error), ExitCode.BAD_INPUT)


def _stop(line: str, code: ExitCode) -> NoReturn:
    _say(line)
    raise typer.Exit(code)


def _at_least(value: int | None, least: int, option: str, source: str) -> None:
    """A count option below its least value is bad input (never silently raised to it)."""
    if value is not None and value < least:
        _fail(InputError(source, f"must be at least {least}", option=f"{option} {value}"))


def _target(out_dir: Path | None, name: str) -> Path:
    return out_dir if out_dir is not None else Path("runs") / name


@contextmanager
def _folder_errors(target: Path) -> Iterator[None]:
    """What can go wrong with an output folder, as one line: busy (7), not a planner folder or
    not writable (2), no space or another I/O fault (6; the folder is left as it was)."""
    from planner.outputs.publish import FolderBusy, NotAnOutputFolder

    try:
        yield
    except FolderBusy as e:
        _stop(f"{target} {e}", ExitCode.FOLDER_BUSY)
    except NotAnOutputFolder as e:
        _fail(InputError(str(target), str(e), option="--out"))
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            _stop(f"{target}: no space left on the device; the folder was left as it was",
                  ExitCode.FAULT)
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                       errno.ENAMETOOLONG, errno.EEXIST):
            _fail(InputError(str(target), f"cannot write the output folder here "
                             f"({e.strerror or e})", option="--out"))
        _stop(f"{target}: {e.strerror or e} ({e.filename}); the folder was left as it was",
              ExitCode.FAULT)


# what a damaged or hand-edited output folder makes report building raise: its files are not of
# the shape planner writes (a folder planner just wrote raising one of these is a bug instead)
_DAMAGED = (ValueError, FileNotFoundError, KeyError, TypeError, IndexError, AttributeError)


class _Abandon(Exception):
    """Leave the new folder unpublished and the old one as it was."""


@contextmanager
def _publishing(target: Path, command: str,
                keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """A new folder to write `target`'s files into, published whole at the end (locked,
    repaired after an earlier crash, never over a folder planner did not write)."""
    from planner.outputs.publish import FolderLock, check_replaceable, recover, staged

    with _folder_errors(target), FolderLock(target):
        recover(target, _say)
        check_replaceable(target)
        try:
            with staged(target, keep=keep, marker_text=f"{command}\n") as staging:
                yield staging
        except _Abandon:
            pass


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
    overrides: OverridesOption = None,
) -> None:
    """Check a scenario file without running it."""
    loaded = _load(scenario, set_, fragments=overrides)
    _warn(loaded)
    s = loaded.scenario
    out.print(f"{scenario}: ok ({len(s.cluster.pools)} pools, {len(s.jobs)} jobs, "
              f"{len(s.supply_shocks)} supply shocks, {s.horizon_days:g} days)", highlight=False,
              soft_wrap=True)


@app.command()
def schema(
    study: Annotated[bool, typer.Option("--study", help="The schema of study files instead.")
                     ] = False,
) -> None:
    """Print the JSON Schema of scenario files (field docs included), for editors; the same as
    schemas/scenario.schema.json (schemas/study.schema.json with --study)."""
    from planner.scenario.reference import scenario_schema, schema_text, study_schema

    sys.stdout.write(schema_text(study_schema() if study else scenario_schema()))


@app.command()
def catalog(
    sources: Annotated[bool, typer.Option("--sources", help="Show every figure's source.")] = False,
    categories: Annotated[
        bool, typer.Option("--categories", help="List failure categories instead of SKUs.")
    ] = False,
    parts: Annotated[bool, typer.Option("--parts", help="List spare-part types.")] = False,
    events: Annotated[bool, typer.Option(
        "--events", help="List the policy-event library and the hazard rates it implies.")] = False,
) -> None:
    """List the shipped hardware catalog: SKUs, failure categories or parts; or the policy
    events behind the sanction hazards."""
    if events:
        _print_policy_events(sources)
        return
    from planner.catalog.catalog import shipped_catalog

    cat = shipped_catalog()
    if categories:
        table = Table("category", "label", "per 1000 node-days", "hard fraction", "part",
                      "repair h (median)", title="Failure categories")
        for c in cat.categories.values():
            table.add_row(c.name, c.label, f"{c.failure_rate_per_1000_node_days.value:.3f}",
                          f"{c.hard_fraction.value:.2f}", c.part or "-",
                          f"{c.repair_hours_median.value:g}")
            if sources:
                table.add_row("", f"[dim]{c.failure_rate_per_1000_node_days.source}[/dim]")
        out.print(table)
        table = Table("component", "label", "nodes per unit", "per 1000 unit-days",
                      "hard fraction", "part", "repair h (median)",
                      title="Shared components (a failure takes the unit's nodes down)")
        for u in cat.shared_components.values():
            table.add_row(u.name, u.label, f"{u.nodes_per_unit.value:g}",
                          f"{u.failure_rate_per_1000_unit_days.value:.3f}",
                          f"{u.hard_fraction.value:.2f}", u.part or "-",
                          f"{u.repair_hours_median.value:g}")
            if sources:
                table.add_row("", f"[dim]{u.failure_rate_per_1000_unit_days.source}[/dim]")
    elif parts:
        table = Table("part", "supplier", "price USD", "description", title="Spare parts")
        for p in cat.parts.values():
            table.add_row(p.name, p.supplier, f"{p.price_usd.value:,.0f}", p.description)
            if sources:
                table.add_row("", "", "", f"[dim]{p.price_usd.source}[/dim]")
    else:
        table = Table("sku", "vendor", "platform", "accel/node", "BF16 TFLOPS/accel", "mem GB",
                      "node kW", "node USD", "estimate", "export status", title="Node SKUs")
        for s in cat.skus.values():
            table.add_row(s.name, s.vendor, s.platform, str(s.gpus),
                          f"{s.bf16_dense_tflops.value:g}", f"{s.memory_gb.value:g}",
                          f"{s.node_power_kw.value:g}", f"{s.node_price_usd.value:,.0f}",
                          "yes" if s.estimate else "", s.export_status)
            if sources:
                for field in ("bf16_dense_tflops", "node_power_kw", "node_price_usd",
                              "failure_rate_multiplier"):
                    table.add_row("", "", "", "", f"[dim]{field}[/dim]",
                                  f"[dim]{getattr(s, field).source}[/dim]")
    out.print(table)


BRIEF_CHARS = 110  # an event's first sentence in the terminal, cut to about three lines


def _print_policy_events(sources: bool) -> None:
    """The policy-event library as a table (with its citations when `sources`), then each event
    type's hazard estimate with its exact 95 % interval."""
    from planner.catalog.policy_events import (
        EVENT_TYPES,
        hazard_estimates,
        library_path,
        load_policy_events,
    )

    try:
        library = load_policy_events()
    except ValueError as e:
        _stop(str(e), ExitCode.BAD_INPUT)
    short = {"vendor_node_block": "node block", "parts_rma_block": "parts/RMA block",
             "domestic_output_cap": "domestic cap", "price_premium": "price premium",
             "block_lifted": "block lifted"}
    table = Table(title=f"Policy events ({library_path().name}, {len(library.events)} events; "
                        "--sources for the full text and citations)")
    table.add_column("date", no_wrap=True)
    table.add_column("event (by)", max_width=16)
    table.add_column("touches", max_width=12)
    table.add_column("what happened", ratio=1)
    for e in sorted(library.events, key=lambda e: e.date):
        touched = ", ".join([*e.touches.skus] or [v.capitalize() for v in e.touches.vendors]
                            or ["-"])
        brief = e.summary.split(". ")[0].rstrip(".")
        if len(brief) > BRIEF_CHARS:
            brief = brief[:BRIEF_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
        table.add_row(str(e.date), f"{short[e.type]} ({e.jurisdiction})", touched,
                      e.summary if sources else brief)
        if sources:
            table.add_row("", "", "", "", f"[dim]{e.source.publisher}, \"{e.source.title}\", "
                          f"{e.source.date}, {e.source.url}[/dim]")
    out.print(table)
    estimates = hazard_estimates(library)
    table = Table(title=f"Hazards, {library.window.from_} to {library.window.to} "
                        f"({library.quarters:.1f} quarters)")
    table.add_column("event type", no_wrap=True)
    for name in ("events", "per quarter", "95 % CI", "P(quarter)"):
        table.add_column(name, justify="right", no_wrap=True)
    for event_type in EVENT_TYPES:
        h = estimates[event_type]
        table.add_row(event_type, str(h.events), f"{h.rate_per_quarter:.3f}",
                      f"{h.ci95[0]:.3f}-{h.ci95[1]:.3f}", f"{h.probability_per_quarter:.3f}")
    out.print(table)


# how the headline table shows a number of each unit, and the unit after a metric's label
_HEADLINE_FORMATS = {"fraction": "{:.1%}", "count": "{:,.0f}", "days": "{:,.1f}",
                     "hours": "{:,.2f}"}
_HEADLINE_UNITS = {"GPU-hours": " (GPU-h)", "days": " (days)", "hours": " (h)"}


def _compact(value: float) -> str:
    """A large number in a few characters (59.2M); summary.json keeps every digit."""
    from planner.reports.units import compact_value

    return compact_value(value, "", 0.0)


def _headline(summary: dict, runway=None) -> Table:
    """The run's headline metrics: goodput, per job ETTR, time to train and MTTF, interruptions
    (planned ones and shared-component failures apart, when there are any), per pool
    availability, the part with the most stock-out days, the runway under a parts block (the
    `runway` table, planner/runway.py; "> N" where censored), and the simulated length when
    replications stopped before the horizon."""
    from planner.metrics import (
        ETTR,
        GOODPUT_GPU_HOURS,
        INTERRUPTIONS_TOTAL,
        JOB_MTTF_HOURS,
        NODE_AVAILABILITY,
        PLANNED_INTERRUPTIONS,
        SHARED_FAILURES,
        SIMULATED_DAYS,
        STOCKOUT_DAYS,
        TIME_TO_TRAIN_DAYS,
        Metric,
        summary_path,
    )

    # numbers never wrap; the labels take what the terminal has left
    table = Table(Column("metric", ratio=1, overflow="fold"),
                  *(Column(name, justify="right", no_wrap=True)
                    for name in ("mean", "P10", "P50", "P90")),
                  title=f"{summary['scenario']}: {summary['replications']} replications, "
                  f"seed {summary['seed']}", expand=False)

    def stats_of(metric: Metric, key: str | None = None) -> dict | None:
        node = summary
        for step in summary_path(metric.flat(key)):
            node = node.get(step) if isinstance(node, dict) else None
        return node

    def keys_of(metric: Metric) -> list[str]:
        node = stats_of(metric)
        return list(node) if isinstance(node, dict) else []

    def row(metric: Metric, key: str | None = None, note: str = "") -> None:
        stats = stats_of(metric, key)
        unit = _HEADLINE_UNITS.get(metric.unit, "")
        label = metric.label + (f" {key}" if key else "") + note
        label += "" if unit.strip(" ()") in label else unit
        if not stats or stats.get("mean") is None:
            table.add_row(label, "-", "-", "-", "-")
            return
        fmt = _HEADLINE_FORMATS.get(metric.unit, "{:,.3f}").format
        if metric.unit == "GPU-hours":
            fmt = _compact
        table.add_row(label, *(fmt(stats[k]) for k in ("mean", "p10", "p50", "p90")))

    row(GOODPUT_GPU_HOURS)
    for metric in (ETTR, TIME_TO_TRAIN_DAYS, JOB_MTTF_HOURS):
        for job in keys_of(metric):
            row(metric, job)
    row(INTERRUPTIONS_TOTAL)

    def nonzero(metric: Metric, key: str | None = None) -> bool:
        return bool((stats_of(metric, key) or {}).get("mean"))

    if nonzero(PLANNED_INTERRUPTIONS):  # counted apart from failures
        row(PLANNED_INTERRUPTIONS)
    for pool in keys_of(SHARED_FAILURES):
        if nonzero(SHARED_FAILURES, pool):
            row(SHARED_FAILURES, pool)
    for pool in keys_of(NODE_AVAILABILITY):
        row(NODE_AVAILABILITY, pool)
    parts = keys_of(STOCKOUT_DAYS)
    if parts:
        worst = max(parts, key=lambda part: (stats_of(STOCKOUT_DAYS, part) or {}).get("mean") or 0)
        row(STOCKOUT_DAYS, worst, " (worst part)")
    for r in (runway.itertuples(index=False) if runway is not None else ()):
        if r.n:
            table.add_row(f"runway {r.pool} < {r.threshold:.0%} (days)", "-", *(
                ("> " if getattr(r, f"{q}_censored") else "") + f"{getattr(r, q):,.0f}"
                for q in ("p10", "p50", "p90")))
    days = stats_of(SIMULATED_DAYS) or {}
    if days.get("p10") is not None and days["p10"] < summary["horizon_days"]:
        row(SIMULATED_DAYS)  # stop: jobs_done ended some replications early
    return table


@contextmanager
def _phase(text: str, quiet: bool) -> Iterator[None]:
    """A spinner naming what planner is doing (loading, writing reports), on a terminal only."""
    if quiet or not err.is_terminal:
        yield
        return
    with err.status(text, spinner="dots"):
        yield


@contextmanager
def _drawing() -> Iterator[FigureProcess | None]:
    """The process that draws the reports' figures, importing matplotlib while the command
    works (planner/reports/drawing.py); a command takes it with ctx.with_resource, so that it
    ends with the command, whatever its end."""
    from planner.reports.drawing import FigureProcess

    drawer = _EARLY_DRAWER.pop() if _EARLY_DRAWER else FigureProcess.start()
    try:
        yield drawer
    finally:
        if drawer is not None:
            drawer.close()


def _print_outputs(target: Path) -> None:
    """Where to look next: the report's page and workbook, then the folder."""
    from planner.outputs.layout import ReportFiles

    for name in (ReportFiles.PAGE, ReportFiles.WORKBOOK):
        if (target / name).exists():
            out.print(f"{name.split('.')[-1]:>5}: {target / name}", highlight=False,
                      soft_wrap=True)
    out.print(f"outputs in {target}/", highlight=False, soft_wrap=True)


@contextmanager
def _solver_outcomes(source: str) -> Iterator[None]:
    """The pipeline's outcomes other than results, as one line and their exit codes."""
    from planner.parallel import WorkerLost
    from planner.studies.execute import SchedulerUnreachable
    from solvers.outcomes import Infeasible, NoPlanInTime, SolverFailed

    try:
        yield
    except InputError as e:
        _fail(e)
    except Infeasible as e:
        _stop(f"{source}: infeasible: {e}", ExitCode.INFEASIBLE)
    except NoPlanInTime as e:
        _stop(f"{source}: no plan: {e}", ExitCode.NO_PLAN_IN_TIME)
    except SolverFailed as e:
        _stop(f"{source}: no plan: {e}; nothing written", ExitCode.SOLVER_FAILED)
    except (WorkerLost, SchedulerUnreachable) as e:  # Dask: --out-of-sample --scheduler
        _stop(f"{source}: {e}", ExitCode.FAULT)


def _plan_table(opt, summary: dict) -> Table:
    r = opt.result
    quarters = sorted(r.orders["period"].unique())
    # quarters as two-line headers and SKU names unbroken: the table fits 80 columns
    table = Table(Column("SKU", no_wrap=True), *(f"{q[:4]}\n{q[4:]}" for q in quarters),
                  "total", title=f"order plan (nodes): {summary['status']}"
                  + (f", {summary['message']}" if summary.get("message") else ""))
    pivot = r.orders.pivot_table(index="sku", columns="period", values="nodes", aggfunc="sum")
    for sku, row in pivot.fillna(0).iterrows():
        if row.sum() > 0:
            table.add_row(sku, *(f"{v:,.0f}" for v in row), f"{row.sum():,.0f}")
    stock = r.stockpile[r.stockpile["units"] > 0]
    for item in stock.itertuples(index=False):
        table.add_row(f"{item.sku} {item.part}s", *[""] * len(pivot.columns),
                      f"{item.units:,.0f}")
    table.caption = ("last rows: spare parts stockpiled now; " if len(stock) else "") + (
                     f"expected cost ${summary['expected_cost_usd'] / 1e6:,.1f}M, CVaR "
                     f"{summary['cvar_alpha']:.0%} ${summary['cvar_cost_usd'] / 1e6:,.1f}M, worst "
                     f"shortfall {summary['worst_case_shortfall_pflops']:,.0f} PFLOP/s, primary "
                     f"platform {summary['primary_platform']}")
    return table


def _sensitivity_table(table) -> Table:
    """The utilization sensitivity: per SKU and end of its range, what the plan does."""
    out_table = Table("SKU", "end", "MFU", "expected cost", "first-stage orders",
                      title="plan at each SKU's low and high utilization")
    for row in table.to_dict("records"):
        cost = row.get("expected_cost_usd")
        money = _millions_usd(cost) if isinstance(cost, float) and cost == cost else "-"
        mfu = row.get("utilization")
        out_table.add_row(row["sku"] or "(base)", row["level"],
                          f"{mfu:.2f}" if isinstance(mfu, float) and mfu == mfu else "",
                          money, "the plan above" if row["level"] == "base"
                          else row["change"] or row["status"] or "")
    return out_table


ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="Solver profile: default, fast, exact.")]
ParetoOption = Annotated[
    int, typer.Option("--pareto", help="Also trace N points of the cost-risk Pareto front.")]


class AnalysesLevel(StrEnum):
    """How much to work out beyond the plan (planner.pipeline.Analyses)."""

    none = "none"
    prices = "prices"
    all = "all"


AnalysesOption = Annotated[
    AnalysesLevel, typer.Option(
        "--analyses", help="Beyond the plan: none; prices (shadow prices with their validity "
        "ranges); all (and the value of the stochastic solution and of perfect information).")]
ReoptimizeOption = Annotated[
    bool, typer.Option("--reoptimize-prices", help="Price each limit shared by the scenarios "
                       "(budget, power, racks, supply) by re-solving with it moved up and down.")]
PriceStepOption = Annotated[
    float, typer.Option("--price-step", help="How far --reoptimize-prices moves a limit, as a "
                        "share of its value.")]
MAX_PRICE_STEP = 0.5  # a larger move is no longer a price at the limit


class SensitivityKind(StrEnum):
    """What `--sensitivity` varies."""

    utilization = "utilization"


SensitivityOption = Annotated[
    SensitivityKind | None, typer.Option(
        "--sensitivity", help="utilization: re-plan with each SKU's utilization at the low and "
        "the high end of its range (catalog or scenario) and show how the plan changes.")]


def _analyses(level: AnalysesLevel, reoptimize: bool, step: float, pareto: int, source: str,
              sensitivity: SensitivityKind | None = None):
    """The pipeline's Analyses from the options, checked."""
    from planner.pipeline import Analyses

    _at_least(pareto, 0, "--pareto", source)
    if not 0 < step <= MAX_PRICE_STEP:
        _fail(InputError(source, f"must be above 0 and at most {MAX_PRICE_STEP:g}",
                         option=f"--price-step {step:g}"))
    if reoptimize and level == AnalysesLevel.none:
        _fail(InputError(source, "needs --analyses prices or all, not none",
                         option="--reoptimize-prices"))
    return Analyses(level=level.value, reoptimize_prices=reoptimize, price_step=step,
                    pareto_points=pareto,
                    sensitivity=sensitivity.value if sensitivity is not None else None)


class _Terminal:
    """A pass of the pipeline on the terminal: a spinner while optimizing (then the plan's files
    and its table), a progress bar while simulating; nothing on stderr unless it is a terminal."""

    def __init__(self, loaded, folder: Path, quiet: bool):
        self.loaded, self.folder, self.quiet = loaded, folder, quiet
        self.show = not quiet and err.is_terminal
        self._status = None
        self._bar: Progress | None = None
        self._task = None

    def optimizing(self) -> None:
        if self.show:
            self._status = err.status("optimizing", spinner="dots")
            self._status.start()

    def planned(self, plan) -> None:
        from planner.outputs.optimize import write_optimization
        from planner.pipeline import plan_notes

        self._stop_status()
        summary = write_optimization(plan.optimization, plan.inputs, self.folder,
                                     self.loaded.scenario.name, self.loaded.source, plan.pareto,
                                     notes=plan_notes(self.loaded.scenario, plan),
                                     sensitivity=plan.sensitivity, loop=plan.loop,
                                     oos=plan.oos)
        if not self.quiet:
            if plan.loop is not None:
                out.print(_loop_table(plan.loop))
            out.print(_plan_table(plan.optimization, summary))
            if plan.oos is not None:
                out.print(_oos_table(plan.oos))
            if plan.sensitivity is not None:
                out.print(_sensitivity_table(plan.sensitivity))

    def simulating(self) -> None:
        if self.show:
            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                                 transient=True)
            self._bar.start()
            sim = self.loaded.scenario.simulation
            planned = sim.adaptive.max_replications if sim.adaptive else sim.replications
            self._task = self._bar.add_task(f"simulating {self.loaded.scenario.name}",
                                            total=planned)

    def replicated(self, done: int, planned: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=planned)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop_status()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


OOS_SHORT = (("out-of-sample", "hindsight"), ("rolling-horizon", "rolling"),
             (" (PFLOP/s-hours)", ""), (" (risk-neutral optimum)", ""),
             ("(Mak-Morton-Wood)", "(MMW)"))


def _short_measure(measure: str) -> str:
    """A plan_oos_summary measure in fewer words (the file keeps the full name)."""
    for long, short in OOS_SHORT:
        measure = measure.replace(long, short)
    return measure


def _millions_usd(value: float) -> str:
    """USD in millions as the reports show them: -$0.4M, $374.2M."""
    from planner.reports.units import show

    return show(value, "USD millions")


def _oos_table(oos) -> Table:
    """The out-of-sample summary: each measure with its estimate and 95 % interval."""
    table = Table(title="out of sample (plan_oos_summary; policy and notes there)")
    table.add_column("measure", ratio=1)
    for name in ("estimate", "95 % CI", "n"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in oos.summary.itertuples(index=False):
        text = (_millions_usd if "PFLOP" not in r.measure
                else lambda value: f"{value / 1e6:,.2f}M PF-h")
        ci = "-" if r.ci_low_usd != r.ci_low_usd else (
            f"{text(r.ci_low_usd)} to {text(r.ci_high_usd)}")
        table.add_row(_short_measure(r.measure), text(r.estimate_usd), ci, f"{r.n:,}")
    return table


def _loop_table(loop) -> Table:
    """The closed loop's rounds: cost, first-stage plan size, the factors measured, time."""
    state = "converged" if loop.converged else "not converged (--loop N: more rounds)"
    met = loop.capacity["meets_plan"].mean()
    table = Table(title=f"closed loop: {len(loop.rounds)} rounds, {state}",
                  caption=f"simulated compute within 1 % of the plan's in {met:.0%} of "
                          "quarter x scenario cells (plan_loop_capacity)")
    for name in ("round", "expected cost", "nodes", "parts", "factors", "changed", "s"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in loop.rounds.itertuples(index=False):
        table.add_row(str(r.round), _millions_usd(r.expected_cost_usd),
                      f"{r.first_stage_nodes:,.0f}", f"{r.stockpile_parts:,.0f}",
                      f"{r.factor_min:.2f}-{r.factor_max:.2f}", "yes" if r.plan_changed else "no",
                      f"{r.optimize_s + r.simulate_s:.0f}")
    return table


def _pass(loaded, folder: Path, *, optimize_first: bool, simulate_after: bool,
          profile: str | None, analyses, workers: int | None, quiet: bool, loop: int = 0):
    """Run the pipeline with its outcomes as exit codes and its progress on the terminal."""
    from planner import pipeline

    terminal = _Terminal(loaded, folder, quiet)
    try:
        with _solver_outcomes(loaded.source):
            settings = pipeline.solver_settings(loaded, profile) if optimize_first else None
            return pipeline.run(loaded, optimize_first=optimize_first,
                                simulate_after=simulate_after, settings=settings,
                                analyses=analyses, workers=workers, observer=terminal,
                                loop=loop)
    finally:
        terminal.close()


def _warn(loaded) -> None:
    """One line on stderr per warning about the scenario (planner/scenario/advice.py)."""
    from planner.scenario.advice import scenario_warnings

    for field, message in scenario_warnings(loaded.scenario):
        err.print(f"warning: {loaded.source} {field}: {message}", highlight=False,
                  soft_wrap=True, markup=False)


def _load(scenario: Path, sets: list[str] | None, seed: int | None = None,
          replications: int | None = None, fragments: list[Path] | None = None):
    from planner import pipeline

    try:
        with _phase(f"loading {scenario}", quiet=False):
            return pipeline.load(scenario, sets or (), seed, replications, fragments or ())
    except InputError as e:
        _fail(e)


@app.command()
def optimize(
    ctx: typer.Context,
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with a procurement section.")],
    set_: SetOption = None,
    overrides: OverridesOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/SCENARIO-NAME/).")
    ] = None,
    profile: ProfileOption = None,
    pareto: ParetoOption = 0,
    analyses: AnalysesOption = AnalysesLevel.prices,
    reoptimize_prices: ReoptimizeOption = False,
    price_step: PriceStepOption = 0.01,
    sensitivity: SensitivityOption = None,
    out_of_sample: Annotated[int, typer.Option(
        "--out-of-sample", help="With a sanctions section: evaluate the plan on M fresh "
        "sanction paths (recourse with hindsight; 10,000 recommended) and on 5 independent "
        "trees (lower bound, Mak-Morton-Wood gap).")] = 0,
    rolling: Annotated[int, typer.Option(
        "--rolling", help="With --out-of-sample: also run the rolling-horizon policy (each "
        "quarter re-solved on the tree given the past) on the first R of the paths; 0: not.")
    ] = 1_000,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Run --out-of-sample on Dask: `local` or tcp://host:port of a "
        "running scheduler (default: local processes).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Choose what to buy and when: orders, stockpiles, platforms; cost, risk, shadow prices."""
    drawer = ctx.with_resource(_drawing())  # first: it imports while this process does
    from dataclasses import replace

    from planner.pipeline import NO_PROCUREMENT, PROCUREMENT
    from planner.reports import write_reports

    loaded = _load(scenario, set_, fragments=overrides)
    chosen = _analyses(analyses, reoptimize_prices, price_step, pareto, loaded.source,
                       sensitivity)
    _at_least(out_of_sample, 0, "--out-of-sample", loaded.source)
    if out_of_sample and loaded.scenario.sanctions is None:
        _fail(InputError(loaded.source, "needs a sanctions section in the scenario (the fresh "
                         "paths are drawn from its events)", option=f"--out-of-sample {out_of_sample}"))
    if scheduler is not None:
        from planner.studies.execute import check_scheduler

        problem = check_scheduler(scheduler)
        if problem is not None:
            _fail(InputError(loaded.source, problem, option=f"--scheduler {scheduler}"))
        if not out_of_sample:
            _fail(InputError(loaded.source, "applies to --out-of-sample only",
                             option=f"--scheduler {scheduler}"))
    _at_least(rolling, 0, "--rolling", loaded.source)
    chosen = replace(chosen, out_of_sample=out_of_sample, scheduler=scheduler, rolling=rolling)
    if loaded.scenario.procurement is None:
        _fail(InputError(loaded.source, NO_PROCUREMENT, field=PROCUREMENT))
    target = _target(out_dir, loaded.scenario.name)
    with _publishing(target, "optimize") as folder:
        _pass(loaded, folder, optimize_first=True, simulate_after=False, profile=profile,
              analyses=chosen, workers=None, quiet=quiet)
        with _phase("writing reports", quiet):
            write_reports(folder, require_complete=False, drawer=drawer)
    if not quiet:
        _print_outputs(target)


@app.command()
def run(
    ctx: typer.Context,
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
    overrides: OverridesOption = None,
    seed: SeedOption = None,
    replications: RepsOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/SCENARIO-NAME/).")
    ] = None,
    workers: WorkersOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    profile: ProfileOption = None,
    analyses: AnalysesOption = AnalysesLevel.prices,
    loop: Annotated[int, typer.Option(
        "--loop", help="With a procurement section: at most N rounds of optimize, simulate the "
        "plan in every scenario, correct the availability by what the simulator measured, "
        "re-optimize; stops when the plan repeats.")] = 0,
) -> None:
    """Simulate a scenario and write summary.json, timeseries and events (Parquet + CSV).
    With a procurement section, optimize first and simulate the chosen deliveries."""
    drawer = ctx.with_resource(_drawing())  # first: it imports while this process does
    from planner.outputs.run import write_run
    from planner.reports import write_reports

    loaded = _load(scenario, set_, seed, replications, overrides)
    _at_least(workers, 1, "--workers", loaded.source)
    _at_least(loop, 0, "--loop", loaded.source)
    if loop and loaded.scenario.procurement is None:
        _fail(InputError(loaded.source, "needs a procurement section in the scenario",
                         option=f"--loop {loop}"))
    _warn(loaded)
    chosen = _analyses(analyses, False, 0.01, 0, loaded.source)
    target = _target(out_dir, loaded.scenario.name)
    with _publishing(target, "run") as folder:
        result = _pass(loaded, folder, optimize_first=loaded.scenario.procurement is not None,
                       simulate_after=True, profile=profile, analyses=chosen, workers=workers,
                       quiet=quiet, loop=loop)
        summary = write_run(result.simulation, folder)
        with _phase("writing reports", quiet):
            write_reports(folder, require_complete=False, drawer=drawer)
    if not quiet:
        from planner.outputs.summary import metrics_table
        from planner.runway import runway_table

        out.print(_headline(summary, runway_table(metrics_table(result.simulation))))
        _print_outputs(target)


@app.command()
def study(
    study_file: Annotated[Path, typer.Argument(help="Study YAML file.")],
    overrides: OverridesOption = None,
    workers: WorkersOption = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask: `local` (start a LocalCluster) or "
                                 "the address of a running scheduler, tcp://host:port.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/STUDY-NAME/).")
    ] = None,
    max_cases: Annotated[
        int | None, typer.Option("--max-cases", help="Most cases a study may have "
                                 "(default 10,000).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table; failed "
                                        "cases are listed all the same.")] = False,
) -> None:
    """Run a what-if study: every case of a grid, named cases or samples; resumable. Exit code 5
    when a case failed (the others are written)."""
    from planner.parallel import default_workers
    from planner.reports import write_reports
    from planner.studies.cases import MAX_CASES
    from planner.studies.execute import SchedulerUnreachable, WorkerLost, check_scheduler
    from planner.studies.run import load_study, run_study

    try:
        ls = load_study(study_file, overrides or ())
    except InputError as e:
        _fail(e)
    _at_least(workers, 1, "--workers", ls.source)
    _at_least(max_cases, 1, "--max-cases", ls.source)
    if scheduler is not None and check_scheduler(scheduler) is not None:
        _fail(InputError(ls.source, check_scheduler(scheduler) or "",
                         option=f"--scheduler {scheduler}"))
    target = _target(out_dir, ls.study.name)
    n = default_workers() if workers is None else workers
    limit = MAX_CASES if max_cases is None else max_cases
    show = not quiet and err.is_terminal

    def go(progress=None):
        return run_study(ls, target, n, scheduler, progress, max_cases=limit,
                         finish=lambda folder: write_reports(folder, require_complete=False),
                         notice=_say)

    try:
        with _folder_errors(target):
            if show:
                with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                              MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                              transient=True) as bar:
                    task = bar.add_task(f"study {ls.study.name}", total=None)
                    result = go(lambda done, total: bar.update(task, completed=done, total=total))
            else:
                result = go()
    except InputError as e:
        _fail(e)
    except (WorkerLost, SchedulerUnreachable) as e:
        _stop(f"{ls.source}: {e}", ExitCode.FAULT)
    if not quiet:
        out.print(f"{result.cases} cases ({result.ran} run now, the rest already stored), "
                  f"{len(result.failures)} failed", highlight=False)
        effects = _top_effects(target, ls.base_text)
        if effects is not None:
            out.print(effects)
        _print_outputs(target)
    for name, message in result.failures:
        _say(f"{ls.source}: case {name} failed: {message}")
    if result.failures:
        raise typer.Exit(ExitCode.CASES_FAILED)


TOP_EFFECTS = 3


def _top_effects(folder: Path, base_text: str) -> Table | None:
    """The study's largest main effects (study_tornado), labelled from the schema and the base
    scenario's text."""
    import pandas as pd
    import yaml

    from planner.outputs.layout import PARQUET, StudyFolder
    from planner.reports.units import compact_value as _compact
    from planner.reports.units import parameter_text as _parameter_value
    from planner.reports.units import study_metric_label, study_metric_unit

    path = folder / (StudyFolder.table(StudyFolder.TORNADO) + PARQUET)
    if not path.exists():
        return None
    tornado = pd.read_parquet(path).dropna(subset=["swing"])
    if tornado.empty:
        return None
    top = tornado.sort_values("swing", ascending=False, kind="stable").head(TOP_EFFECTS)
    from planner.scenario.labels import field_labeler

    base = yaml.safe_load(base_text)
    label_of = field_labeler(base if isinstance(base, dict) else None)
    metric = str(top["metric"].iloc[0])
    unit = study_metric_unit(metric)
    span = float(top["swing"].max())
    table = Table(Column("parameter", ratio=1, overflow="fold"),
                  Column("swing", justify="right", no_wrap=True),
                  Column("lowest at", no_wrap=True), Column("highest at", no_wrap=True),
                  title=f"largest effects on {study_metric_label(metric)} (main effects; all "
                  "in report.html)")
    for r in top.itertuples(index=False):
        table.add_row(label_of(str(r.parameter)), _compact(float(r.swing), unit, span),
                      f"{_parameter_value(r.value_at_min)}: {_compact(r.metric_min, unit, span)}",
                      f"{_parameter_value(r.value_at_max)}: {_compact(r.metric_max, unit, span)}")
    return table


LogArgument = Annotated[Path, typer.Argument(help="Incident log: one fault per row "
                                              "(docs/calibration.md).")]
NodesOption = Annotated[int, typer.Option("--nodes", help="Nodes in the fleet the log covers "
                                          "(those that never failed are not in it).")]
DaysOption = Annotated[float | None, typer.Option("--days", help="Days observed, from day 0 (or "
                                                  "from --from).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day observed: an ISO date "
                                                "(times in the log may then be dates) or a day "
                                                "number of the log's own count.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Day after the last observed, an ISO "
                                              "date (instead of --days).")]
FormatOption = Annotated[str | None, typer.Option("--format", help="csv, jsonl or stepfun "
                                                  "(default: from the file's extension).")]
MapOption = Annotated[Path | None, typer.Option("--map", help="YAML: log class -> catalog "
                                                "category it is like.")]


def _read_fault_log(log: Path, nodes: int, days: float | None, from_: str | None,
                    to: str | None, fmt: str | None, map_file: Path | None):
    """The log, its format and each class's catalog peer, or one error line and exit 2."""
    from planner.calibration.run import read_fault_log

    try:
        return read_fault_log(log, nodes, days, from_, to, fmt, map_file)
    except InputError as e:
        _fail(e)


@app.command()
def calibrate(
    log: LogArgument,
    nodes: NodesOption,
    days: DaysOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    fmt: FormatOption = None,
    map_file: MapOption = None,
    pool: Annotated[str, typer.Option("--pool", help="The scenario pool overrides.yaml "
                                      "calibrates (default: every pool).")] = "*",
    repair: Annotated[str, typer.Option("--repair", help="Repair times in overrides.yaml: "
                                        "fitted (AIC's choice) or empirical (the log's "
                                        "Kaplan-Meier quantiles).")] = "fitted",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                                 "runs/calibration-LOG-NAME/).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Fit failure rates, lemon nodes and repair times to a fleet's incident log; write
    calibration.json and overrides.yaml (apply with planner run S --overrides FILE)."""
    from planner.calibration.fragment import fragment_text
    from planner.calibration.record import calibrate as fit
    from planner.calibration.record import calibration_record
    from planner.outputs.atomic import write_json, write_text
    from planner.outputs.layout import CalibrationFolder
    from planner.reports.calibration import calibration_page

    if repair not in ("fitted", "empirical"):
        _fail(InputError(str(log), f"{repair!r} is neither fitted nor empirical",
                         option="--repair"))
    fault_log, catalog, likeness = _read_fault_log(log, nodes, days, from_, to, fmt, map_file)
    result = fit(fault_log, catalog, likeness)
    target = _target(out_dir, f"calibration-{log.stem}")
    with _publishing(target, "calibrate") as folder:
        write_json(folder / CalibrationFolder.CALIBRATION, calibration_record(result))
        write_text(folder / CalibrationFolder.OVERRIDES, fragment_text(result, pool, repair))
        write_text(folder / CalibrationFolder.REPORT, calibration_page(result))
    if not quiet:
        for table in _calibration_tables(result):
            out.print(table)
        out.print(f"outputs in {target}/", highlight=False)


@app.command()
def compare(
    run_dir: Annotated[Path, typer.Argument(help="An output folder of planner run (with "
                                            "events).")],
    log: LogArgument,
    nodes: NodesOption,
    days: DaysOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    fmt: FormatOption = None,
    map_file: MapOption = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                                 "runs/compare-RUN-FOLDER/).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Put a simulated run beside the incident log it should reproduce: failures per category,
    per-node dispersion, repair p50 and p90; each with a tolerance, in compare.json."""
    from planner.calibration.compare import compare as rows_of
    from planner.outputs.atomic import write_json
    from planner.outputs.layout import COMPLETE, CalibrationFolder, RunFolder, parquet

    where = str(run_dir)
    if not (run_dir / COMPLETE).exists() or not (run_dir / RunFolder.SUMMARY).exists():
        _fail(InputError(where, "is not a complete output folder of planner run"))
    events_path = run_dir / parquet(RunFolder.EVENTS)
    if not events_path.exists():
        _fail(InputError(where, "has no events (simulation.record_events was false)"))
    fault_log, _catalog, likeness = _read_fault_log(log, nodes, days, from_, to, fmt, map_file)
    try:
        import pandas as pd

        summary = json.loads((run_dir / RunFolder.SUMMARY).read_text(encoding="utf-8"))
        inputs = json.loads((run_dir / RunFolder.INPUTS).read_text(encoding="utf-8"))
        run_nodes = sum(p["nodes"] + sum(d["nodes"] for d in p.get("deliveries", []))
                        for p in inputs["scenario"]["cluster"]["pools"])
        replications = pd.read_parquet(run_dir / parquet(RunFolder.REPLICATIONS))
        if len(replications) < 1 or run_nodes < 1:
            raise ValueError("it holds no replication")
        # each replication's own length (stop: jobs_done ends them at different days)
        lengths = (dict(zip(replications["replication"], replications["simulated_days"],
                            strict=True)) if "simulated_days" in replications
                   else dict.fromkeys(replications["replication"],
                                      float(summary["horizon_days"])))
        rows = rows_of(pd.read_parquet(events_path), lengths, run_nodes, fault_log, likeness)
    except _DAMAGED as e:
        _fail(InputError(where, f"cannot read the run: {e}"))
    target = _target(out_dir, f"compare-{run_dir.name}")
    with _publishing(target, "compare") as folder:
        write_json(folder / CalibrationFolder.COMPARE, {
            "run": where, "log": fault_log.source, "nodes": fault_log.nodes,
            "window_days": fault_log.window_days, "run_nodes": run_nodes,
            "run_days": summary["horizon_days"], "replications": summary["replications"],
            "rows": [r.as_dict() for r in rows],
            "passed": sum(r.passed for r in rows), "failed": sum(not r.passed for r in rows)})
    if not quiet:
        table = Table(title=f"{run_dir.name} against {log.name}: failures scaled to the "
                      f"log's {fault_log.nodes} nodes x {fault_log.window_days:g} days")
        table.add_column("check", no_wrap=True)
        table.add_column("category", no_wrap=True, max_width=19, overflow="ellipsis")
        for name in ("log", "run", "tolerance"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("", no_wrap=True, min_width=4)

        def g(x: float) -> str:
            return "-" if not math.isfinite(x) else f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"

        for r in rows:
            table.add_row(r.check.replace("per-node dispersion (variance / mean)", "dispersion"),
                          r.category.removeprefix("fit_"), g(r.log), g(r.simulated),
                          f"{g(r.low)}-{g(r.high)}", "pass" if r.passed else "FAIL")
        out.print(table)
        out.print(f"{sum(r.passed for r in rows)} of {len(rows)} rows pass; outputs in "
                  f"{target}/", highlight=False)


def _calibration_tables(result) -> tuple[Table, Table]:
    """Rates per fitted category with their intervals (the lemon mixture in the caption), and
    the chosen repair fit's mean, p50 and p90 against the log's Kaplan-Meier p50 and p90."""
    lemon = result.lemon
    rates = Table("log class", "faults", "per 1000 node-days", "95 % interval",
                  title=f"Failure rates: {result.log.nodes} nodes, "
                  f"{result.log.window_days:g} days, {result.up_node_days:,.0f} up node-days",
                  caption=f"lemons: {lemon.fraction.estimate:.1%} of nodes "
                  f"({lemon.fraction.low:.1%}-{lemon.fraction.high:.1%}) fail "
                  f"{lemon.rate_multiplier.estimate:.1f}x as often "
                  f"({lemon.rate_multiplier.low:.1f}-{lemon.rate_multiplier.high:.1f}); "
                  f"over-dispersion p = {lemon.dispersion_p_value:.2g}")
    repairs = Table(title="Repair hours: the fit AIC chose, and the log (Kaplan-Meier, open "
                    "repairs censored)")
    repairs.add_column("log class", no_wrap=True, max_width=18, overflow="ellipsis")
    for name in ("fit", "mean", "p50", "(log)", "p90", "(log)"):
        repairs.add_column(name, no_wrap=True, justify="left" if name == "fit" else "right")

    def g(x: float) -> str:
        return "-" if not math.isfinite(x) else f"{x:.1f}" if x < 100 else f"{x:,.0f}"

    for c in result.categories:
        rates.add_row(c.log_class, str(c.faults), f"{c.rate.estimate:.3f}",
                      f"{c.rate.low:.3f} - {c.rate.high:.3f}")
        r = c.repair
        if r is None:
            repairs.add_row(c.log_class, "too few", "-", "-", "-", "-", "-")
        else:
            repairs.add_row(c.log_class, r.chosen.dist, g(r.chosen.mean), g(r.chosen.p50),
                            g(r.km_p50), g(r.chosen.p90), g(r.km_p90))
    return rates, repairs


@app.command()
def report(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="An output folder of planner run, optimize or "
                                           "study.")],
    png: Annotated[bool, typer.Option("--png", help="Also write each plot as PNG "
                                      "(plot_NAME.png), for slides and documents that take "
                                      "no SVG.")] = False,
) -> None:
    """Rebuild report.xlsx, report.html, the sheet twins and the plots (SVG; --png adds PNG) of
    an output folder of planner run, optimize or study."""
    drawer = ctx.with_resource(_drawing())  # first: it imports while this process does
    from planner.reports import write_reports

    if not folder.is_dir():
        _fail(InputError(str(folder), "not a folder"))
    if not any((folder / name).exists() for name in FOLDER_MARKERS):
        _fail(InputError(str(folder), f"holds no {', '.join(FOLDER_MARKERS[:-1])} or "
                         f"{FOLDER_MARKERS[-1]}: not an output folder of planner run, optimize "
                         "or study"))
    if not (folder / COMPLETE).exists():
        _fail(InputError(str(folder), f"is not complete (no `{COMPLETE}` file: the command that "
                         "wrote it did not finish, or an older version wrote it); run that "
                         "command again to rebuild it"))
    command = (folder / COMPLETE).read_text(encoding="utf-8").strip() or "report"
    damaged: Exception | None = None
    with _publishing(folder, command,
                     keep=lambda rel: rel.name != COMPLETE and not is_report_file(rel.name)) as new:
        try:
            write_reports(new, require_complete=False, png=png, drawer=drawer)
        except _DAMAGED as e:  # the folder's files, not the command: nothing is replaced
            damaged = e
            staging_name = str(new)
            raise _Abandon from None
    if damaged is not None:
        detail = " ".join(str(damaged).replace(staging_name, str(folder)).split()) \
            or type(damaged).__name__
        _fail(InputError(str(folder), f"cannot rebuild the reports: {detail}"))
    out.print(f"reports rebuilt in {folder}/", highlight=False)


def main() -> None:
    """The console script (and python -m planner.cli): the app, then an exit that does not walk
    every object. Python's shutdown collects garbage over all objects the libraries made: 0.25 s
    with pandas loaded, 0.39 s with matplotlib too, for output already written and closed.
    gc.freeze, run after every other exit handler (they run last-registered first), takes them
    out of those collections; objects are still released as their modules are cleared, and
    Python never promised __del__ of objects alive at exit."""
    atexit.register(gc.freeze)
    _start_drawing_early(sys.argv[1:])
    app()


DRAWING_COMMANDS = frozenset({"run", "optimize", "report"})
_EARLY_DRAWER: list[FigureProcess] = []  # started by main, taken by _drawing


def _start_drawing_early(args: list[str]) -> None:
    """For a command that draws figures, start the drawing process before Typer parses the
    command line (0.1 s sooner than the command could: its imports then end before the
    command needs it). Unless the command takes it (_drawing), it is ended at exit, after a
    usage error or --help."""
    words = args[:args.index("--")] if "--" in args else args
    command = next((a for a in words if not a.startswith("-")), None)
    if command not in DRAWING_COMMANDS or {"--help", "-h"} & set(words):
        return
    from planner.reports.drawing import FigureProcess

    drawer = FigureProcess.start()
    if drawer is not None:
        _EARLY_DRAWER.append(drawer)
        atexit.register(_close_untaken_drawers)


def _close_untaken_drawers() -> None:
    """At exit: end a drawing process no command took."""
    while _EARLY_DRAWER:
        _EARLY_DRAWER.pop().close()


if __name__ == "__main__":  # pragma: no cover
    main()
