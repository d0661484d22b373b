"""planner from Python (a notebook, a script): the same passes as the command line, with the
results as pandas tables instead of files (docs/api.md).

    import planner
    scenario = planner.load_scenario("scenarios/h800-10k.yaml",
                                     overrides={"simulation.replications": 20})
    result = planner.simulate(scenario)
    result.summary                      # one row per metric: label, unit, mean, P10/P50/P90, CI
    result.to_folder("runs/what-if")    # the files and reports `planner run` writes

Every function takes what the command line takes and raises planner.InputError (a one-line
message naming the file and the field) on bad input, like the command line refuses it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import InputError
from planner.scenario.loader import LoadedScenario

__all__ = ["CalibrationResult", "InputError", "OptimizationResult", "SimulationResult",
           "StudyResult", "calibrate", "load_scenario", "optimize", "simulate", "study"]

Overrides = Mapping[str, Any] | Sequence[str]
SUMMARY_COLUMNS = ["metric", "label", "unit", "mean", "p10", "p50", "p90", "ci95_low",
                   "ci95_high", "n"]


def _assignments(overrides: Overrides | None) -> list[str]:
    """{"a.b": 3} or ["a.b=3"] -> ["a.b=3"] (values written as JSON, which YAML reads)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{path}={json.dumps(value, default=str)}" for path, value in overrides.items()]
    return [str(item) for item in overrides]


def load_scenario(path: str | Path, overrides: Overrides | None = None, *,
                  fragments: Sequence[str | Path] = (), seed: int | None = None,
                  replications: int | None = None) -> LoadedScenario:
    """Read and validate a scenario file. `overrides` changes fields as `--set` does:
    {"cluster.pools[0].nodes": 1024} or ["cluster.pools[0].nodes=1024"]; `fragments` are
    scenario fragments merged in first (`--overrides`, e.g. calibrate's overrides.yaml)."""
    from planner import pipeline

    return pipeline.load(path, _assignments(overrides), seed, replications, fragments)


def _loaded(scenario: LoadedScenario | str | Path) -> LoadedScenario:
    return scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)


def _publish(target: str | Path, command: str, write) -> Path:
    """Write a whole output folder as the command line does: staged, then swapped in."""
    from planner.outputs.publish import FolderLock, check_replaceable, recover, staged

    target = Path(target)
    with FolderLock(target):
        recover(target, lambda _message: None)
        check_replaceable(target)
        with staged(target, marker_text=f"{command}\n") as folder:
            write(folder)
    return target


def _table_repr(kind: str, name: str, lines: list[str]) -> str:
    return f"<{kind} {name!r}: " + "; ".join(lines) + ">"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value / 1e6:,.1f}M"


@dataclass(frozen=True, repr=False)
class OptimizationResult:
    """A plan: `.summary` (one row per figure: cost, risk, status), `.plan` (a dict of the plan's
    tables: orders, buy, contingent, recourse, stockpile, platforms, fleet, capacity, costs,
    cash, shadow_prices, inputs) and `.to_folder(path)`."""

    scenario: LoadedScenario
    plan_result: Any = field(repr=False)  # planner.pipeline.PlanResult

    @property
    def summary(self) -> pd.DataFrame:
        figures = self.plan_result.optimization.result.summary
        return pd.DataFrame([(k, v) for k, v in figures.items()
                             if isinstance(v, int | float | str | bool) or v is None],
                            columns=["figure", "value"])

    @property
    def plan(self) -> dict[str, pd.DataFrame]:
        r = self.plan_result.optimization.result
        tables = {name: getattr(r, name) for name in (
            "orders", "buy", "contingent", "recourse", "stockpile", "platforms", "fleet",
            "capacity", "costs", "cash")}
        tables["shadow_prices"] = self.plan_result.optimization.shadow_prices
        tables["inputs"] = self.plan_result.inputs
        if self.plan_result.oos is not None:
            tables["out_of_sample"] = self.plan_result.oos.summary
        return tables

    def write_into(self, folder: Path) -> None:
        """The optimizer's files into an open folder (with or without a run's)."""
        from planner.outputs.optimize import write_optimization
        from planner.pipeline import plan_notes

        p = self.plan_result
        write_optimization(p.optimization, p.inputs, folder, self.scenario.scenario.name,
                           self.scenario.source, p.pareto,
                           notes=plan_notes(self.scenario.scenario, p),
                           sensitivity=p.sensitivity, loop=p.loop, oos=p.oos)

    def to_folder(self, path: str | Path) -> Path:
        """The files and reports `planner optimize` writes, published whole at `path`."""
        from planner.reports import write_reports

        def write(folder: Path) -> None:
            self.write_into(folder)
            write_reports(folder, require_complete=False)
        return _publish(path, "optimize", write)

    def __repr__(self) -> str:
        s = self.plan_result.optimization.result.summary
        r = self.plan_result.optimization.result
        return _table_repr("OptimizationResult", self.scenario.scenario.name, [
            f"{r.status}", f"expected cost {_money(s.get('expected_cost_usd'))}",
            f"{int(r.orders['nodes'].sum()) if len(r.orders) else 0:,} nodes ordered",
            f"{r.capacity['scenario'].nunique()} scenarios"])

    def _repr_html_(self) -> str:
        return f"<p>{_escape(repr(self))}</p>" + self.summary.to_html(index=False, max_rows=30)


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Monte-Carlo replications of a scenario (the plan applied first when the scenario has a
    procurement section): `.summary` (one row per metric), `.timeseries` (long: replication,
    date, series, value), `.events` (every failure), `.replications` (one row per replication,
    one column per metric), `.plan` (the OptimizationResult, or None) and `.to_folder(path)`."""

    scenario: LoadedScenario
    monte_carlo: Any = field(repr=False)  # planner.montecarlo.MonteCarloResult
    plan: OptimizationResult | None = None

    @property
    def summary(self) -> pd.DataFrame:
        from planner.metrics import bounds_of, resolve
        from planner.stats import describe

        rows = []
        table = self.replications
        for column in table.columns.drop("replication"):
            stats = describe(table[column].to_numpy(dtype=float), bounds_of(column))
            found = resolve(column)
            label, unit = (found[0].label + (f" ({found[1]})" if found[1] else ""),
                           found[0].unit) if found else (column, "")
            ci = stats["ci95"] or [None, None]
            rows.append((column, label, unit, stats["mean"], stats["p10"], stats["p50"],
                         stats["p90"], ci[0], ci[1], stats["n"]))
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    @property
    def replications(self) -> pd.DataFrame:
        from planner.outputs.summary import metrics_table

        return metrics_table(self.monte_carlo)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Long format with real dates: replication, date, day, series, value."""
        from planner.outputs.summary import timeseries_table

        wide = timeseries_table(self.monte_carlo)
        long = wide.melt(id_vars=["replication", "day"], var_name="series", value_name="value")
        start = pd.Timestamp(self.scenario.scenario.start_date)
        long.insert(1, "date", start + pd.to_timedelta(long["day"], unit="D"))
        return long.sort_values(["replication", "series", "day"], kind="stable",
                                ignore_index=True)

    @property
    def events(self) -> pd.DataFrame:
        from planner.outputs.summary import events_table

        return events_table(self.monte_carlo)

    def to_folder(self, path: str | Path) -> Path:
        """The files and reports `planner run` writes, published whole at `path`."""
        from planner.outputs.run import write_run
        from planner.reports import write_reports

        def write(folder: Path) -> None:
            if self.plan is not None:
                self.plan.write_into(folder)
            write_run(self.monte_carlo, folder)
            write_reports(folder, require_complete=False)
        return _publish(path, "run", write)

    def __repr__(self) -> str:
        mc = self.monte_carlo
        table = self.replications
        parts = [f"{len(mc.results)} replications",
                 f"{self.scenario.scenario.horizon_days:g} days"]
        if "goodput_gpu_hours" in table:
            parts.append(f"goodput P50 {table['goodput_gpu_hours'].median():,.0f} GPU-hours")
        if self.plan is not None:
            parts.append("plan applied")
        return _table_repr("SimulationResult", self.scenario.scenario.name, parts)

    def _repr_html_(self) -> str:
        shown = self.summary[["label", "unit", "mean", "p10", "p50", "p90"]]
        return f"<p>{_escape(repr(self))}</p>" + shown.to_html(index=False, max_rows=30,
                                                                float_format="{:,.4g}".format)


@dataclass(frozen=True, repr=False)
class StudyResult:
    """A what-if study: `.cases` (one row per case and metric: mean, P10/P50/P90 and 95 % CI,
    with the case's parameters as param.* columns), `.results` (one row per case, replication
    and metric), `.sensitivity` (parameters ranked by their effect on the study's sensitivity
    metric; empty without one), `.failures`, `.folder` and `.to_folder(path)`."""

    name: str
    folder: Path
    failures: list[tuple[str, str]]

    def _table(self, name: str) -> pd.DataFrame:
        from planner.outputs.layout import PARQUET, StudyFolder

        path = self.folder / (StudyFolder.table(name) + PARQUET)
        return pd.read_parquet(path) if path.exists() else pd.DataFrame()

    @property
    def cases(self) -> pd.DataFrame:
        return self._table("cases")

    @property
    def results(self) -> pd.DataFrame:
        return self._table("results")

    @property
    def sensitivity(self) -> pd.DataFrame:
        return self._table("sensitivity")

    def to_folder(self, path: str | Path) -> Path:
        """A copy of the study's folder (tables, case store and reports) at `path`."""
        if Path(path).resolve() == self.folder.resolve():
            return self.folder

        def write(folder: Path) -> None:
            shutil.copytree(self.folder, folder, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("complete", ".*"))
        return _publish(path, "study", write)

    def __repr__(self) -> str:
        return _table_repr("StudyResult", self.name, [
            f"{self.cases['case'].nunique() if len(self.cases) else 0} cases",
            f"{len(self.failures)} failed", f"in {self.folder}"])

    def _repr_html_(self) -> str:
        shown = self.sensitivity if len(self.sensitivity) else self.cases
        return f"<p>{_escape(repr(self))}</p>" + shown.to_html(index=False, max_rows=20)


@dataclass(frozen=True, repr=False)
class CalibrationResult:
    """Failure rates, lemon nodes and repair times fitted to an incident log: `.rates` (one row
    per category), `.overrides` (the scenario fragment's text, for load_scenario's fragments
    after .to_folder) and `.to_folder(path)`."""

    fit: Any = field(repr=False)  # planner.calibration.record result
    pool: str = "*"
    repair: str = "fitted"

    @property
    def record(self) -> dict:
        from planner.calibration.record import calibration_record

        return calibration_record(self.fit)

    @property
    def rates(self) -> pd.DataFrame:
        return pd.DataFrame([{"category": k, **{f: v for f, v in c.items()
                                                if not isinstance(v, dict | list)}}
                             for k, c in self.record["categories"].items()])

    @property
    def overrides(self) -> str:
        from planner.calibration.fragment import fragment_text

        return fragment_text(self.fit, self.pool, self.repair)

    def to_folder(self, path: str | Path) -> Path:
        """calibration.json, overrides.yaml and report.html, as `planner calibrate` writes."""
        from planner.outputs.atomic import write_json, write_text
        from planner.outputs.layout import CalibrationFolder
        from planner.reports.calibration import calibration_page

        def write(folder: Path) -> None:
            write_json(folder / CalibrationFolder.CALIBRATION, self.record)
            write_text(folder / CalibrationFolder.OVERRIDES, self.overrides)
            write_text(folder / CalibrationFolder.REPORT, calibration_page(self.fit))
        return _publish(path, "calibrate", write)

    def __repr__(self) -> str:
        return _table_repr("CalibrationResult", self.pool, [f"{len(self.rates)} categories",
                                                             f"repair {self.repair}"])


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def optimize(scenario: LoadedScenario | str | Path, *, profile: str | None = None,
             analyses: str = "prices", out_of_sample: int = 0, rolling: int = 1_000
             ) -> OptimizationResult:
    """Choose what to buy and when (`planner optimize`): `analyses` none | prices | all;
    `out_of_sample` > 0 evaluates the plan on that many fresh sanction paths (and the rolling
    horizon on `rolling` of them). Raises solvers.optimize.Infeasible (with the reason),
    NoPlanInTime or SolverFailed when there is no plan."""
    from planner import pipeline

    loaded = _loaded(scenario)
    settings = pipeline.solver_settings(loaded, profile)
    chosen = pipeline.Analyses(level=analyses, out_of_sample=out_of_sample, rolling=rolling)
    return OptimizationResult(loaded, pipeline.optimize(loaded, settings, chosen))


def simulate(scenario: LoadedScenario | str | Path, *, replications: int | None = None,
             workers: int | None = None, seed: int | None = None,
             profile: str | None = None) -> SimulationResult:
    """The scenario's Monte-Carlo replications (`planner run`): with a procurement section the
    plan is chosen first and its deliveries simulated. Same scenario and seed, same numbers,
    whatever `workers` (default: all cores)."""
    from dataclasses import replace

    from planner import pipeline

    loaded = _loaded(scenario)
    if replications is not None or seed is not None:
        sim = loaded.scenario.simulation
        updated = loaded.scenario.model_copy(update={
            "seed": loaded.scenario.seed if seed is None else seed,
            "simulation": sim if replications is None else sim.model_copy(
                update={"replications": replications, "adaptive": None})})
        loaded = replace(loaded, scenario=updated)
    optimize_first = loaded.scenario.procurement is not None
    settings = pipeline.solver_settings(loaded, profile) if optimize_first else None
    result = pipeline.run(loaded, optimize_first=optimize_first, settings=settings,
                          workers=workers)
    plan = OptimizationResult(loaded, result.plan) if result.plan is not None else None
    return SimulationResult(result.loaded, result.simulation, plan)


def study(study_file: str | Path, *, folder: str | Path | None = None,
          workers: int | None = None, fragments: Sequence[str | Path] = ()) -> StudyResult:
    """Run a what-if study (`planner study`) into `folder` (default: a new temporary folder;
    a folder that holds finished cases of the same study resumes it)."""
    from planner.parallel import default_workers
    from planner.reports import write_reports
    from planner.studies.run import load_study, run_study

    ls = load_study(study_file, fragments)
    target = Path(folder) if folder is not None else Path(tempfile.mkdtemp(
        prefix=f"planner-{ls.study.name}-")) / ls.study.name
    result = run_study(ls, target, workers or default_workers(),
                       finish=lambda new: write_reports(new, require_complete=False))
    return StudyResult(ls.study.name, target, list(result.failures))


def calibrate(log: str | Path, *, nodes: int, days: float | None = None,
              start: str | None = None, end: str | None = None, log_format: str | None = None,
              mapping: str | Path | None = None, pool: str = "*",
              repair: str = "fitted") -> CalibrationResult:
    """Fit failure rates, lemon nodes and repair times to a fleet's incident log (`planner
    calibrate`): `nodes` in the fleet, the window as `days` or `start`/`end`."""
    from planner.calibration.record import calibrate as fit
    from planner.calibration.run import read_fault_log

    if repair not in ("fitted", "empirical"):
        raise InputError(str(log), f"{repair!r} is neither fitted nor empirical",
                         option="repair")
    fault_log, catalog, likeness = read_fault_log(
        Path(log), nodes, days, start, end, log_format,
        Path(mapping) if mapping is not None else None)
    return CalibrationResult(fit(fault_log, catalog, likeness), pool, repair)
