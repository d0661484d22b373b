"""Load a study, expand and validate its cases, run what is missing, write the tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from planner import __version__
from planner.errors import InputError
from planner.outputs.atomic import write_json, write_table, write_text
from planner.outputs.layout import StudyFolder
from planner.scenario.loader import clean_location, pydantic_message, read_input
from planner.scenario.yaml_lines import dotted, line_of, load_yaml_with_lines
from planner.study import analysis
from planner.study.cases import Case, expand, resolve
from planner.study.execute import run_dask, run_local
from planner.study.schema import Study
from planner.study.store import CaseStore

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LoadedStudy:
    study: Study
    source: str
    text: str
    base_text: str
    base_source: str
    lines: dict


def load_study(path: str | Path) -> LoadedStudy:
    """Read and validate a study file and its base scenario; every problem is one InputError."""
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
        raise InputError(source, pydantic_message(first), line_of(lines, loc),
                         dotted(loc) or None) from None
    base_path = Path(path).parent / study.base
    try:
        base_text = base_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(source, f"base scenario {base_path} not found", line_of(lines, ("base",)),
                         "base") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(source, f"cannot read the base scenario {base_path}: {err}",
                         line_of(lines, ("base",)), "base") from None
    loaded = LoadedStudy(study, source, text, base_text, str(base_path), lines)
    return loaded


def _varied_paths(ls: LoadedStudy) -> list[tuple[tuple, str]]:
    s = ls.study
    checks: list[tuple[tuple, str]] = [(("set", k), k) for k in s.set]
    checks += [(("grid", k), k) for k in s.grid]
    checks += [(("cases", i, "set", k), k) for i, c in enumerate(s.cases) for k in c.set]
    if s.samples is not None:
        checks += [(("samples", "parameters", i, "path"), p.path)
                   for i, p in enumerate(s.samples.parameters)]
    return checks


def check_cases(ls: LoadedStudy, cases: list[Case], resolved: list) -> None:
    """A varied field whose every case is invalid is a mistake in the study file (a misspelt
    path, or only bad values): one line naming the study's own field. Cases that are invalid
    only for some values are recorded as failed cases instead."""
    for where, path in _varied_paths(ls):
        using = [r for c, r in zip(cases, resolved, strict=True)
                 if where[0] == "set" or any(p == path for p, _ in c.params)]
        if using and all(isinstance(r, Exception) for r in using):
            err = using[0]
            if isinstance(err, InputError):
                detail = err.message if err.field in (None, path) else f"{err.field}: {err.message}"
            else:
                detail = str(err)
            raise InputError(ls.source, detail, line_of(ls.lines, where), dotted(where))


@dataclass(frozen=True)
class StudyResult:
    folder: Path
    cases: int
    ran: int
    failures: list[tuple[str, str]]
    records: list[dict]


def run_study(ls: LoadedStudy, folder: Path, workers: int = 1, scheduler: str | None = None,
              progress: Progress | None = None) -> StudyResult:
    """Run every case not yet stored under `folder`, then write the study tables."""
    study = ls.study
    cases = expand(study)
    resolved = resolve(study, ls.base_text, ls.base_source, cases)
    check_cases(ls, cases, resolved)
    store = CaseStore(folder)
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
                "overrides": list(item.overrides), "seed": item.seed, "command": study.command,
                "replications": study.replications,
                "adaptive": study.adaptive.model_dump() if study.adaptive else None,
                "metrics": list(study.metrics)}
    meta = {key: case for case, key in records_order}
    total = len(payloads)
    if progress is not None:
        progress(0, total)
    start = time.perf_counter()
    stream = (run_local(payloads, workers) if scheduler is None
              else run_dask(payloads, scheduler, workers))
    for finished, (key, result) in enumerate(stream, start=1):
        case = meta[key]
        store.put(key, {"name": case.name, "key": key, "seed": case.seed,
                        "params": [[p, analysis.param_value(v)] for p, v in case.params],
                        "overrides": list(case.overrides), **result})
        if progress is not None:
            progress(finished, total)
    elapsed = time.perf_counter() - start
    return _write_tables(ls, folder, store, records_order, invalid, total, elapsed)


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
    write_table(folder, StudyFolder.table(StudyFolder.FAILURES),
                pd.DataFrame(failures, columns=["case", "error"]))
    write_text(folder / StudyFolder.STUDY_FILE, ls.text)
    write_json(folder / StudyFolder.STUDY, {
        "study": ls.study.name, "source": ls.source, "base": ls.base_source,
        "seed": ls.study.seed, "command": ls.study.command, "cases": len(order) + len(invalid),
        "succeeded": len(records), "failed": len(failures), "ran_now": ran,
        "sensitivity_metric": metric, "elapsed_s": elapsed, "version": __version__})
    return StudyResult(folder, len(order) + len(invalid), ran, failures, records)
