"""From sampled sanction paths to the optimizer's scenarios: reduce the paths to a scenario tree
(solvers/scenario_tree.py) and write each leaf as a SanctionScenario (blocks, volume cuts and
price premiums by quarter). Leaves that share their first quarters share the tree's nodes: the
optimizer derives its non-anticipativity from the shared histories.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from planner.quarters import quarter_labels
from planner.sanctions.generator import (
    NEUTRAL,
    ResolvedEvent,
    SanctionPaths,
    resolve_events,
    sample_paths,
)
from planner.scenario.schema import (
    Sanctions,
    SanctionScenario,
    Scenario,
    VendorBlock,
    VendorPrice,
    VendorVolume,
)
from solvers.scenario_tree import ScenarioTree, forward_tree

MAX_NAME = 80
NO_EVENT = "no-event"


@dataclass(frozen=True)
class SanctionTree:
    """The generated scenarios and how they were made."""

    scenarios: tuple[SanctionScenario, ...]
    tree: ScenarioTree
    paths: SanctionPaths
    events: tuple[ResolvedEvent, ...]
    seed: int


def _runs(series: list, neutral) -> list[tuple[int, int | None, object]]:
    """Maximal runs of equal non-neutral values: (first index, index after the run or None at
    the end, value)."""
    runs = []
    start = None
    for t, value in enumerate([*series, None]):
        if start is not None and (t == len(series) or value != series[start]):
            runs.append((start, t if t < len(series) else None, series[start]))
            start = None
        if t < len(series) and value != neutral and start is None:
            start = t
    return runs


def scenario_of(values: np.ndarray, probability: float, paths: SanctionPaths
                 ) -> SanctionScenario:
    """A leaf path as a SanctionScenario, named after what happens in it: one label per run of
    an effect, vendors with the same run named together (e.g. `Nvidia-block-2027Q3`,
    `Cambricon-Huawei-cap0p6-2027Q4-2028Q4`)."""
    quarters = list(paths.quarters)
    column = {f: i for i, f in enumerate(paths.features)}
    vendors = sorted({v for _, v in paths.features})
    blocks, volumes, prices = [], [], []
    runs: dict[tuple[str, int, int | None], list[str]] = {}  # (what, from, until) -> vendors

    def until(end: int | None) -> str | None:
        return quarters[end] if end is not None else None

    def series(kind: str, v: str) -> list:
        if (kind, v) not in column:
            return [NEUTRAL[kind]] * len(quarters)
        return [round(float(values[t, column[kind, v]]), 6) for t in range(len(quarters))]

    for v in vendors:
        cut = list(zip(series("nodes", v), series("parts", v), strict=True))
        for start, end, (n, p) in _runs(cut, (0.0, 0.0)):
            blocks.append(VendorBlock(vendor=v, from_quarter=quarters[start],
                                      until_quarter=until(end), nodes=bool(n), parts=bool(p)))
            what = "block" if n and p else "nodes" if n else "parts"
            runs.setdefault((what, start, end), []).append(v)
        for kind, cls, items, word in (("volume", VendorVolume, volumes, "cap"),
                                       ("price", VendorPrice, prices, "price")):
            for start, end, factor in _runs(series(kind, v), NEUTRAL[kind]):
                items.append(cls(vendor=v, factor=factor, from_quarter=quarters[start],
                                 until_quarter=until(end)))
                text = f"{factor:g}".replace(".", "p")
                runs.setdefault((f"{word}{text}", start, end), []).append(v)
    labels = ["-".join(vs) + f"-{what}-{quarters[start]}" + (f"-{until(end)}" if end else "")
              for (what, start, end), vs in sorted(runs.items(), key=lambda kv: (kv[0][1],
                                                                                  kv[0][0]))]
    name = "_".join(labels) or NO_EVENT
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        name = f"{name[:MAX_NAME - 11]}-{digest}"
    return SanctionScenario(name=name, probability=float(probability), blocks=blocks,
                            volumes=volumes, prices=prices)


@lru_cache(maxsize=8)
def _reduce(sanctions_json: str, start_quarter: str, count: int, seed: int
            ) -> tuple[tuple[SanctionScenario, ...], ScenarioTree, SanctionPaths]:
    """The sampled paths, their tree (most likely leaf first) and its leaves as scenarios;
    cached on the section, the quarters and the seed (the rates do not depend on the file the
    section came from, which only names the sources)."""
    s = Sanctions.model_validate_json(sanctions_json)
    quarters = quarter_labels(start_quarter, count)
    paths = sample_paths(resolve_events(s), quarters, s.paths, seed)
    tree = forward_tree(paths.values, np.full(s.paths, 1.0 / s.paths), s.leaves)
    order = np.argsort(-tree.probabilities, kind="stable")  # most likely leaf first
    tree = ScenarioTree(values=tree.values[order], probabilities=tree.probabilities[order],
                        leaf_of=np.argsort(order)[tree.leaf_of],
                        nodes_per_stage=tree.nodes_per_stage, distance=tree.distance,
                        distance_single=tree.distance_single, distinct_paths=tree.distinct_paths)
    total = float(tree.probabilities.sum())
    scenarios = tuple(scenario_of(v, p / total, paths)
                      for v, p in zip(tree.values, tree.probabilities, strict=True))
    return scenarios, tree, paths


def _generate(sanctions_json: str, start_quarter: str, count: int, seed: int,
              source: str) -> SanctionTree:
    events = resolve_events(Sanctions.model_validate_json(sanctions_json), source)
    scenarios, tree, paths = _reduce(sanctions_json, start_quarter, count, seed)
    return SanctionTree(scenarios, tree, paths, events, seed)


def sanction_tree(scenario: Scenario, source: str = "scenario") -> SanctionTree:
    """The scenario tree of the scenario's `sanctions:` section (cached: the same section gives
    the same tree without sampling again)."""
    s, proc = scenario.sanctions, scenario.procurement
    if s is None or proc is None:
        raise ValueError("the scenario has no sanctions and procurement sections")
    seed = s.seed if s.seed is not None else scenario.seed
    return _generate(s.model_dump_json(), proc.start_quarter, proc.quarters, seed, source)
