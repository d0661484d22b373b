"""Expand a study into cases: each a name, its varied parameters and its `--set` overrides,
keyed by a hash of the fully resolved scenario (so reruns find finished cases)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import yaml

from planner.errors import InputError
from planner.pipeline import NO_PROCUREMENT, PROCUREMENT
from planner.scenario.loader import Fragment, load_scenario_text
from planner.studies.schema import Study


@dataclass(frozen=True)
class Case:
    """One variant of the base scenario."""

    name: str
    params: tuple[tuple[str, object], ...]  # varied parameters, for the results' columns
    overrides: tuple[str, ...]  # --set expressions (study-wide first)
    key: str = ""  # hash of the resolved scenario + command + replications
    seed: int = 0


def _set_expr(path: str, value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        text = value.isoformat()
    else:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
        text = text.removesuffix("\n...").strip()
    return f"{path}={text}"


def _fmt(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _sampled(study: Study) -> list[Case]:
    from scipy.stats import qmc  # scipy.stats: 1 s of every study process; sampled studies only

    spec = study.samples
    d = len(spec.parameters)
    if spec.method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(study.seed)).random(spec.n)
    else:
        unit = qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(study.seed)).random(spec.n)
    cases = []
    for i, row in enumerate(unit):
        params = []
        for p, u in zip(spec.parameters, row, strict=True):
            if p.distribution == "uniform":
                value = p.low + float(u) * (p.high - p.low)
            else:
                value = math.exp(math.log(p.low) + float(u) * (math.log(p.high) - math.log(p.low)))
            value = int(round(value)) if p.integer else float(value)
            params.append((p.path, value))
        cases.append(Case(f"sample-{i:04d}", tuple(params),
                          tuple(_set_expr(k, v) for k, v in params)))
    return cases


MAX_CASES = 10_000  # cases a study may have unless `planner study --max-cases` raises it


def count_cases(study: Study) -> int:
    """How many cases `expand` would make, without making them (a grid of 10^12 is counted,
    not built)."""
    return len(study.cases) + (math.prod(len(v) for v in study.grid.values()) if study.grid
                               else 0) + (study.samples.n if study.samples is not None else 0)


def expand(study: Study) -> list[Case]:
    """Named cases, then the grid's combinations, then the samples."""
    cases = [Case(c.name, tuple(sorted(c.set.items())), tuple(_set_expr(k, v) for k, v in c.set.items()))
             for c in study.cases]
    if study.grid:
        paths = list(study.grid)
        for combo in itertools.product(*(study.grid[p] for p in paths)):
            params = tuple(zip(paths, combo, strict=True))
            name = "grid-" + "-".join(_fmt(v) for v in combo)
            cases.append(Case(name[:120], params, tuple(_set_expr(k, v) for k, v in params)))
    if study.samples is not None:
        cases += _sampled(study)
    common = tuple(_set_expr(k, v) for k, v in study.set.items())
    return [Case(c.name, c.params, common + c.overrides) for c in cases]


def case_key(scenario_json: str, study: Study) -> str:
    """sha256 of everything a case's result depends on: the resolved scenario (its own seed
    excluded: it derives from the key), the command, the replications, the metrics collected,
    the study seed and the package version."""
    from planner import __version__

    run = {"command": study.command, "replications": study.replications,
           "adaptive": study.adaptive.model_dump() if study.adaptive else None,
           "metrics": list(study.metrics), "study_seed": study.seed, "version": __version__}
    blob = scenario_json + json.dumps(run, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


SEED = "seed"  # the scenario's root seed field


def case_seed(study_seed: int, key: str) -> int:
    """A case's seed from the study seed and the case key only (never from execution order)."""
    return int(hashlib.sha256(f"{study_seed}/{key}".encode()).hexdigest()[:12], 16)


def resolve_cases(study: Study, base_text: str, base_source: str, cases: list[Case],
                  fragments: Sequence[Fragment] = ()) -> list[Case | Exception]:
    """Validate each case's scenario (and that it can serve the study's command); return the
    case with key and seed, or the error."""
    out: list[Case | Exception] = []
    for case in cases:
        # the base file's seed does not matter (the case's seed replaces it) and is set to 0
        # for the key; a seed the study sets (a varied parameter, a case's or the study's `set`)
        # is part of the case: its value enters the key, so each value gets its own stream
        sets_seed = SEED in study.set or any(path == SEED for path, _ in case.params)
        try:
            loaded = load_scenario_text(base_text, base_source,
                                        case.overrides if sets_seed else (*case.overrides,
                                                                          f"{SEED}=0"),
                                        fragments=fragments)
        except Exception as err:  # noqa: BLE001 - recorded as the case's failure
            out.append(err)
            continue
        if study.command != "simulate" and loaded.scenario.procurement is None:
            out.append(InputError(base_source, NO_PROCUREMENT, field=PROCUREMENT))
            continue
        scenario_json = json.dumps(loaded.scenario.model_dump(mode="json"), sort_keys=True)
        key = case_key(scenario_json, study)
        out.append(Case(case.name, case.params, case.overrides, key, case_seed(study.seed, key)))
    return out
