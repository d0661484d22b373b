"""The `planner` command line: run, validate, schema, catalog."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from planner.errors import InputError
from planner.scenario.schema import Scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Plan very large AI-training clusters under supply risk.",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field: --set cluster.pools[0].nodes=1024 (repeatable)."),
]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")]
RepsOption = Annotated[
    int | None, typer.Option("--replications", "-r", help="Override simulation.replications.")
]


def _fail(error: InputError) -> None:
    err.print(str(error), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _output_folder(out_dir: Path | None, name: str) -> Path:
    """The output folder, created and checked writable before any work is done."""
    folder = out_dir if out_dir is not None else Path("runs") / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".planner-write-check"
        probe.touch()
        probe.unlink()
    except OSError as e:
        _fail(InputError(str(folder), f"--out: cannot write the output folder here "
                                      f"({e.strerror or e})"))
    return folder


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
) -> None:
    """Check a scenario file without running it."""
    from planner.scenario.loader import load_scenario

    try:
        loaded = load_scenario(scenario, set_ or ())
    except InputError as e:
        _fail(e)
    s = loaded.scenario
    out.print(f"{scenario}: ok ({len(s.cluster.pools)} pools, {len(s.jobs)} jobs, "
              f"{len(s.supply_shocks)} supply shocks, {s.horizon_days:g} days)", highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (field docs included), for editors."""
    sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")


@app.command()
def catalog(
    sources: Annotated[bool, typer.Option("--sources", help="Show every figure's source.")] = False,
    categories: Annotated[
        bool, typer.Option("--categories", help="List failure categories instead of SKUs.")
    ] = False,
    parts: Annotated[bool, typer.Option("--parts", help="List spare-part types.")] = False,
) -> None:
    """List the shipped hardware catalog: SKUs, failure categories or parts."""
    from planner.catalog.catalog import shipped_catalog

    cat = shipped_catalog()
    if categories:
        table = Table("category", "label", "per 1000 node-days", "hard fraction", "part",
                      "blast radius", "repair h (median)", title="Failure categories")
        for c in cat.categories.values():
            table.add_row(c.name, c.label, f"{c.failure_rate_per_1000_node_days.value:.3f}",
                          f"{c.hard_fraction.value:.2f}", c.part or "-", str(c.blast_radius_nodes),
                          f"{c.repair_hours_median.value:g}")
            if sources:
                table.add_row("", f"[dim]{c.failure_rate_per_1000_node_days.source}[/dim]")
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


def _headline(summary: dict) -> Table:
    table = Table("metric", "mean", "P10", "P50", "P90", title=f"{summary['scenario']}: "
                  f"{summary['replications']} replications, seed {summary['seed']}")

    def row(label: str, stats: dict | None, fmt: str = "{:,.3f}") -> None:
        if not stats or stats.get("mean") is None:
            table.add_row(label, "-", "-", "-", "-")
            return
        table.add_row(label, *(fmt.format(stats[k]) for k in ("mean", "p10", "p50", "p90")))

    row("goodput GPU-hours", summary.get("goodput_gpu_hours"), "{:,.0f}")
    for job, stats in summary.get("ettr", {}).items():
        row(f"ETTR {job}", stats)
    for job, stats in summary.get("time_to_train_days", {}).items():
        row(f"time to train {job} (days)", stats, "{:,.1f}")
    for job, stats in summary.get("job_mttf_hours", {}).items():
        row(f"job MTTF {job} (h)", stats, "{:,.2f}")
    row("interruptions", summary.get("interruptions", {}).get("total"), "{:,.0f}")
    for pool, stats in summary.get("node_availability", {}).items():
        row(f"node availability {pool}", stats, "{:.4f}")
    worst = max(summary.get("stockout_days", {}).items(),
                key=lambda kv: kv[1].get("mean") or 0, default=None)
    if worst is not None:
        row(f"stock-out days {worst[0]} (worst part)", worst[1], "{:,.1f}")
    return table


def _solver_settings(loaded, profile: str | None):
    """Profile (CLI beats scenario) with the scenario's explicit overrides on top."""
    from solvers.highs import load_profile, merge
    from solvers.problem import SolverSettings

    choice = loaded.scenario.procurement.solver
    name = profile or choice.profile
    try:
        base = load_profile(name)
    except ValueError as e:
        _fail(InputError(loaded.source, str(e), field="procurement.solver.profile"))
    return merge(base, SolverSettings(time_limit_s=choice.time_limit_s,
                                      mip_rel_gap=choice.mip_rel_gap, threads=choice.threads))


def _optimize(loaded, folder: Path, profile: str | None, pareto: int, quiet: bool):
    """Build, solve, analyse and write the plan; exit 3 with the reason when infeasible."""
    from planner.optimize_outputs import write_optimization
    from planner.procurement import build_input
    from solvers.optimize import Infeasible, NoPlanInTime, SolverFailed, optimize, pareto_front

    settings = _solver_settings(loaded, profile)
    try:
        inp = build_input(loaded.scenario, loaded.catalog)
    except ValueError as e:
        _fail(InputError(loaded.source, str(e), field="procurement"))
    try:
        with err.status("optimizing", spinner="dots") if (err.is_terminal and not quiet) \
                else nullcontext():
            opt = optimize(inp, settings, evpi=len(inp.scenarios) <= 50)
            front = pareto_front(inp, settings, pareto) if pareto > 0 else None
    except Infeasible as e:
        err.print(f"{loaded.source}: infeasible: {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    except NoPlanInTime as e:
        err.print(f"{loaded.source}: no plan: {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(4) from None
    except SolverFailed as e:
        err.print(f"{loaded.source}: no plan: {e}; nothing written", markup=False,
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    summary = write_optimization(opt, folder, loaded.scenario.name, loaded.source, front)
    if not quiet:
        out.print(_plan_table(opt, summary))
    return opt


def _plan_table(opt, summary: dict) -> Table:
    r = opt.result
    table = Table("SKU", *sorted(r.orders["period"].unique()), "total",
                  title=f"order plan (nodes): {summary['status']}"
                  + (f", {summary['message']}" if summary.get("message") else ""))
    pivot = r.orders.pivot_table(index="sku", columns="period", values="nodes", aggfunc="sum")
    for sku, row in pivot.fillna(0).iterrows():
        if row.sum() > 0:
            table.add_row(sku, *(f"{v:,.0f}" for v in row), f"{row.sum():,.0f}")
    stock = r.stockpile[r.stockpile["units"] > 0]
    for item in stock.itertuples(index=False):
        table.add_row(f"stockpile {item.sku}/{item.part}", *[""] * len(pivot.columns),
                      f"{item.units:,.0f}")
    table.caption = (f"expected cost ${summary['expected_cost_usd'] / 1e6:,.1f}M, CVaR "
                     f"{summary['cvar_alpha']:.0%} ${summary['cvar_cost_usd'] / 1e6:,.1f}M, worst "
                     f"shortfall {summary['worst_case_shortfall_pflops']:,.0f} PFLOP/s, primary "
                     f"platform {summary['primary_platform']}")
    return table


ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="Solver profile: default, fast, exact.")]
ParetoOption = Annotated[
    int, typer.Option("--pareto", help="Also trace N points of the cost-risk Pareto front.")]


@app.command()
def optimize(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with a procurement section.")],
    set_: SetOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/<scenario name>/).")
    ] = None,
    profile: ProfileOption = None,
    pareto: ParetoOption = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Choose what to buy and when: orders, stockpiles, platforms; cost, risk, shadow prices."""
    from planner.scenario.loader import load_scenario

    try:
        loaded = load_scenario(scenario, set_ or ())
    except InputError as e:
        _fail(e)
    if loaded.scenario.procurement is None:
        _fail(InputError(str(scenario), "the scenario has no procurement section",
                         field="procurement"))
    folder = _output_folder(out_dir, loaded.scenario.name)
    _optimize(loaded, folder, profile, pareto, quiet)
    _reports(folder)
    if not quiet:
        out.print(f"outputs in {folder}/", highlight=False)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
    seed: SeedOption = None,
    replications: RepsOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/<scenario name>/).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Local processes (default: all cores).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    profile: ProfileOption = None,
) -> None:
    """Simulate a scenario and write summary.json, timeseries and events (Parquet + CSV).
    With a procurement section, optimize first and simulate the chosen deliveries."""
    from planner.montecarlo import run_monte_carlo
    from planner.run_outputs import write_run
    from planner.scenario.loader import load_scenario

    try:
        loaded = load_scenario(scenario, set_ or (), seed, replications)
    except InputError as e:
        _fail(e)
    folder = _output_folder(out_dir, loaded.scenario.name)
    if loaded.scenario.procurement is None:
        from planner.optimize_outputs import remove_plan_files

        remove_plan_files(folder)  # a plan left by an earlier run is not this run's
    else:
        from dataclasses import replace as dc_replace

        from planner.bridge import apply_plan

        opt = _optimize(loaded, folder, profile, 0, quiet)
        planned = apply_plan(loaded.scenario, opt.result.orders, opt.result.stockpile)
        loaded = dc_replace(loaded, scenario=planned)
    show = not quiet and err.is_terminal
    if show:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as bar:
            task = bar.add_task(f"simulating {loaded.scenario.name}", total=None)
            result = run_monte_carlo(
                loaded, workers, lambda done, total: bar.update(task, completed=done, total=total))
    else:
        result = run_monte_carlo(loaded, workers)
    summary = write_run(result, folder)
    _reports(folder)
    if not quiet:
        out.print(_headline(summary))
        out.print(f"outputs in {folder}/", highlight=False)


@app.command()
def study(
    study_file: Annotated[Path, typer.Argument(help="Study YAML file.")],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Local processes (default: all cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask: `local` (start a LocalCluster) or "
                                 "the address of a running scheduler, tcp://host:port.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default runs/<study name>/).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Run a what-if study: every case of a grid, named cases or samples; resumable."""
    from planner.montecarlo import default_workers
    from planner.study.run import load_study, run_study

    try:
        ls = load_study(study_file)
    except InputError as e:
        _fail(e)
    folder = _output_folder(out_dir, ls.study.name)
    n = default_workers() if workers is None else max(1, workers)
    show = not quiet and err.is_terminal
    try:
        if show:
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=err, transient=True) as bar:
                task = bar.add_task(f"study {ls.study.name}", total=None)
                result = run_study(ls, folder, n, scheduler,
                                   lambda done, total: bar.update(task, completed=done, total=total))
        else:
            result = run_study(ls, folder, n, scheduler)
    except InputError as e:
        _fail(e)
    _reports(folder)
    if not quiet:
        out.print(f"{result.cases} cases ({result.ran} run now, the rest already stored), "
                  f"{len(result.failures)} failed; outputs in {folder}/", highlight=False)
        for name, message in result.failures:
            err.print(f"  failed: {name}: {message}", markup=False, highlight=False)


def _reports(folder: Path) -> None:
    from planner.reports import write_reports

    write_reports(folder)


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="An output folder of planner run/optimize.")],
) -> None:
    """Rebuild report.xlsx, report.html, the sheet twins and the plots of an output folder of
    planner run, optimize or study."""
    if not folder.is_dir():
        _fail(InputError(str(folder), "not a folder"))
    if not any((folder / name).exists()
               for name in ("summary.json", "optimization.json", "study.json")):
        _fail(InputError(str(folder), "holds no summary.json, optimization.json or study.json: "
                         "not an output folder of planner run, optimize or study"))
    try:
        _reports(folder)
    except (OSError, ValueError) as e:  # a damaged or incomplete folder (files named in e)
        message = " ".join(str(e).split())
        _fail(InputError(str(folder), f"cannot rebuild the reports: {message}"))
    out.print(f"reports rebuilt in {folder}/", highlight=False)


def main() -> None:  # pragma: no cover - console entry point alias
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
