"""The files of a `planner run` output folder."""

from __future__ import annotations

from pathlib import Path

from planner.montecarlo import MonteCarloResult
from planner.outputs import write_json, write_table, write_text
from planner.summary import build_summary, events_table, metrics_table, timeseries_table


def write_run(mc: MonteCarloResult, folder: Path) -> dict:
    """summary.json, replications, timeseries and events tables, and the scenario as run."""
    summary = build_summary(mc)
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder, "replications", metrics_table(mc))
    write_table(folder, "timeseries", timeseries_table(mc))
    if mc.loaded.scenario.simulation.record_events:
        write_table(folder, "events", events_table(mc))
    write_text(folder / "scenario.yaml", mc.loaded.text)
    write_json(folder / "summary.json", summary)  # last: its presence means the run is complete
    return summary
