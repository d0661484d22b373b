"""Load a study, expand and validate its cases, run what is missing, write the tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from planner import __version__
from planner.errors import InputError
from planner.metrics import collectable, study_metrics
from planner.metrics import resolve as resolve_metric
from planner.outputs.atomic import write_json, write_table, write_text
from planner.outputs.layout import StudyFolder
from planner.outputs.publish import FolderLock, check_replaceable, recover, staged
from planner.pipeline import NO_PROCUREMENT
from planner.scenario.loader import (
    Fragment,
    clean_location,
    pydantic_message,
    read_fragment,
    read_input,
)
from planner.scenario.yaml_lines import dotted, line_of, load_yaml, load_yaml_with_lines
from planner.studies import analysis
from planner.studies.cases import MAX_CASES, Case, count_cases, expand, resolve_cases
from planner.studies.execute import WorkerLost, run_dask, run_local
from planner.studies.schema import Study
from planner.studies.store import CaseStore

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LoadedStudy:
    study: Study
    source: str
    text: str
    base_text: str
    base_source: str
    lines: dict
    fragments: tuple[Fragment, ...] = ()  # --overrides files merged into the base scenario


def _field_error(source: str, lines: dict, where: tuple, message: str) -> InputError:
    return InputError(source, message, line_of(lines, where), dotted(where) or None)


def load_study(path: str | Path, fragment_files: Sequence[str | Path] = ()) -> LoadedStudy:
    """Read and validate a study file and its base scenario (with the --overrides fragments
    merged into the base); every problem is one InputError."""
    source = str(path)
    text = read_input(path)
    data, lines = load_yaml_with_lines(text, source)
    if not isinstance(data, dict):
        raise InputError(source, "a study must be a YAML mapping", line=1)
    try:
        study = Study.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = clean_location(first["loc"])
        raise _field_error(source, lines, loc, pydantic_message(first)) from None
    base_path = Path(path).parent / study.base
    try:
        base_text = read_input(base_path)
        base_data = load_yaml(base_text, str(base_path))
    except InputError as err:
        raise _field_error(source, lines, ("base",), f"base scenario {err}") from None
    if not isinstance(base_data, dict):
        raise _field_error(source, lines, ("base",), f"base scenario {base_path} is not a "
                           "scenario (a YAML mapping)")
    fragments = tuple(read_fragment(f) for f in fragment_files)
    loaded = LoadedStudy(study, source, text, base_text, str(base_path), lines, fragments)
    _check_metrics(loaded)
    return loaded


def _check_metrics(ls: LoadedStudy) -> None:
    """Every collected metric, and the sensitivity metric, is one a case of the study's
    command reports (planner.metrics)."""
    study = ls.study
    for i, name in enumerate(study.metrics):
        if not collectable(name, study.command):
            raise _field_error(ls.source, ls.lines, ("metrics", i),
                               f"no {study.command} case reports {name!r} (known: "
                               f"{', '.join(m.name for m in study_metrics(study.command))})")
    if study.sensitivity is None:
        return
    name = study.sensitivity.metric
    found = resolve_metric(name)
    where = ("sensitivity", "metric")
    if found is None or not collectable(name, study.command):
        raise _field_error(ls.source, ls.lines, where, f"no {study.command} case reports "
                           f"{name!r}")
    metric, key = found
    if metric.per is not None and key is None:
        raise _field_error(ls.source, ls.lines, where, f"{name} has one value per {metric.per}: "
                           f"name one, e.g. {name}.<{metric.per}>")
    if study.metrics and not any(name == w or name.startswith(w + ".") for w in study.metrics):
        raise _field_error(ls.source, ls.lines, where, f"{name!r} is not among the collected "
                           "metrics")


def _varied_paths(ls: LoadedStudy) -> list[tuple[tuple, str]]:
    s = ls.study
    checks: list[tuple[tuple, str]] = [(("set", k), k) for k in s.set]
    checks += [(("grid", k), k) for k in s.grid]
    checks += [(("cases", i, "set", k), k) for i, c in enumerate(s.cases) for k in c.set]
    if s.samples is not None:
        checks += [(("samples", "parameters", i, "path"), p.path)
                   for i, p in enumerate(s.samples.parameters)]
    return checks


def _set_by(err: Exception, path: str) -> bool:
    """Whether the error is about the value the study sets at `path` (its --set)."""
    return isinstance(err, InputError) and (err.option or "").startswith(f"--set {path}=")


def check_cases(ls: LoadedStudy, cases: list[Case], resolved: list) -> None:
    """A varied field whose every case is invalid because of it is a mistake in the study file
    (a misspelt path, or only bad values): one line naming the study's own field. If every
    case is invalid for another reason, the base scenario (or the command it cannot serve) is
    named. Cases that are invalid only for some values are recorded as failed cases instead."""
    for where, path in _varied_paths(ls):
        using = [r for c, r in zip(cases, resolved, strict=True)
                 if where[0] == "set" or any(p == path for p, _ in c.params)]
        if using and all(_set_by(r, path) for r in using):
            err = using[0]
            detail = err.message if err.field in (None, path) else f"{err.field}: {err.message}"
            raise _field_error(ls.source, ls.lines, where, detail)
    if resolved and all(isinstance(r, Exception) for r in resolved):
        err = resolved[0]
        if isinstance(err, InputError) and err.message == NO_PROCUREMENT:
            raise _field_error(ls.source, ls.lines, ("command",), (
                f"{ls.study.command} needs a procurement section, and the base scenario "
                f"{ls.base_source} has none"))
        raise _field_error(ls.source, ls.lines, ("base",), f"every case is invalid: {err}")


@dataclass(frozen=True)
class StudyResult:
    folder: Path
    cases: int
    ran: int
    failures: list[tuple[str, str]]
    records: list[dict]


def run_study(ls: LoadedStudy, folder: Path, workers: int = 1, scheduler: str | None = None,
              progress: Progress | None = None, max_cases: int = MAX_CASES,
              finish: Callable[[Path], None] | None = None,
              notice: Callable[[str], None] | None = None) -> StudyResult:
    """Run every case not yet stored under `folder`, then publish the study tables (and what
    `finish` writes into the new folder, the reports) as a whole new folder
    (planner/outputs/publish.py). The folder is locked meanwhile; `notice` hears of repairs
    made to it and of stored cases that cannot be trusted."""
    say = notice if notice is not None else (lambda _message: None)
    study = ls.study
    count = count_cases(study)
    if count > max_cases:
        where = next((k for k in ("grid", "samples", "cases") if getattr(study, k)), "grid")
        raise _field_error(ls.source, ls.lines, (where,), f"the study has {count:,} cases; at "
                           f"most {max_cases:,} (planner study --max-cases N raises the limit)")
    cases = expand(study)
    resolved = resolve_cases(study, ls.base_text, ls.base_source, cases, ls.fragments)
    check_cases(ls, cases, resolved)
    with FolderLock(folder):
        recover(folder, say)
        check_replaceable(folder)
        store = CaseStore(folder, warn=say)
        done = store.done()
        records_order: list[tuple[Case, str]] = []
        payloads: dict[str, dict] = {}
        invalid: list[tuple[Case, str]] = []
        for case, item in zip(cases, resolved, strict=True):
            if isinstance(item, Exception):
                invalid.append((case, str(item)))
                continue
            records_order.append((item, item.key))
            if item.key not in done and item.key not in payloads:
                payloads[item.key] = {
                    "base_text": ls.base_text, "base_source": ls.base_source,
                    "fragments": [list(f) for f in ls.fragments],
                    "overrides": list(item.overrides), "seed": item.seed,
                    "command": study.command, "replications": study.replications,
                    "adaptive": study.adaptive.model_dump() if study.adaptive else None,
                    "metrics": list(study.metrics)}
        meta = {key: case for case, key in records_order}
        total = len(payloads)
        if progress is not None:
            progress(0, total)
        start = time.perf_counter()
        stream = (run_local(payloads, workers) if scheduler is None
                  else run_dask(payloads, scheduler, workers))
        finished = 0
        try:
            for finished, (key, result) in enumerate(stream, start=1):  # noqa: B007
                case = meta[key]
                store.put(key, {"name": case.name, "key": key, "seed": case.seed,
                                "params": [[p, analysis.param_value(v)] for p, v in case.params],
                                "overrides": list(case.overrides), **result})
                if progress is not None:
                    progress(finished, total)
        except WorkerLost as err:
            lost = [meta[key].name for key in err.keys]
            raise WorkerLost(err.keys, f"{err}; case {', '.join(lost[:3])}"
                             + (f" and {len(lost) - 3} more" if len(lost) > 3 else "")
                             + f" lost, the {finished + len(done)} finished cases are kept: run "
                             "the study again to finish it") from None
        elapsed = time.perf_counter() - start
        with staged(folder, keep=_is_case_file, marker_text="study\n") as new:
            result = _write_tables(ls, new, store, records_order, invalid, total, elapsed)
            if finish is not None:
                finish(new)
        return replace(result, folder=folder)


def _is_case_file(relative: Path) -> bool:
    """The case store is carried into the new folder; the tables and reports are rewritten."""
    return relative.parts[0] == StudyFolder.CASE_STORE


def _write_tables(ls: LoadedStudy, folder: Path, store: CaseStore, order: list[tuple[Case, str]],
                  invalid: list[tuple[Case, str]], ran: int, elapsed: float) -> StudyResult:
    records, failures = [], []
    for case, key in order:
        stored = store.get(key)
        record = {**stored, "name": case.name, "params": list(case.params)}
        if stored.get("error"):
            failures.append((case.name, stored["error"]))
        else:
            records.append(record)
    failures += [(case.name, message) for case, message in invalid]
    table = analysis.tidy(records)
    summary = analysis.case_summary(table)
    metric = (ls.study.sensitivity.metric if ls.study.sensitivity is not None
              else (table["metric"].iloc[0] if len(table) else None))
    write_table(folder, StudyFolder.table(StudyFolder.RESULTS), table)
    write_table(folder, StudyFolder.table(StudyFolder.CASES), summary)
    if metric is not None and len(summary):
        sampled = frozenset(p.path for p in ls.study.samples.parameters) \
            if ls.study.samples is not None else frozenset()
        write_table(folder, StudyFolder.table(StudyFolder.TORNADO),
                    analysis.tornado(summary, metric, sampled))
        if ls.study.samples is not None:
            write_table(folder, StudyFolder.table(StudyFolder.SENSITIVITY),
                        analysis.global_ranking(summary, metric))
    curve = analysis.runway_curve(table)
    if len(curve):
        write_table(folder, StudyFolder.table(StudyFolder.RUNWAY), curve)
    write_table(folder, StudyFolder.table(StudyFolder.FAILURES),
                pd.DataFrame(failures, columns=["case", "error"]))
    write_text(folder / StudyFolder.STUDY_FILE, ls.text)
    write_json(folder / StudyFolder.STUDY, {
        "study": ls.study.name, "source": ls.source, "base": ls.base_source,
        "seed": ls.study.seed, "command": ls.study.command, "cases": len(order) + len(invalid),
        "succeeded": len(records), "failed": len(failures), "ran_now": ran,
        "sensitivity_metric": metric, "elapsed_s": elapsed, "version": __version__})
    return StudyResult(folder, len(order) + len(invalid), ran, failures, records)
