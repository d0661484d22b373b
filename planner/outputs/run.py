"""The files of a `planner run` output folder."""

from __future__ import annotations

from pathlib import Path

from planner.montecarlo import MonteCarloResult
from planner.outputs.atomic import write_json, write_table, write_text
from planner.outputs.layout import RunFolder
from planner.outputs.summary import (
    build_summary,
    events_table,
    inputs_record,
    metrics_table,
    shocks_table,
    timeseries_table,
)


def write_run(mc: MonteCarloResult, folder: Path) -> dict:
    """summary.json, replications, timeseries, events and shocks tables, inputs.json (every
    input with its source) and the scenario file as run."""
    summary = build_summary(mc)
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder, RunFolder.REPLICATIONS, metrics_table(mc))
    write_table(folder, RunFolder.TIMESERIES, timeseries_table(mc))
    if mc.loaded.scenario.simulation.record_events:
        write_table(folder, RunFolder.EVENTS, events_table(mc))
    write_table(folder, RunFolder.SHOCKS, shocks_table(mc))
    write_json(folder / RunFolder.INPUTS, inputs_record(mc))
    write_text(folder / RunFolder.SCENARIO, mc.loaded.text)
    write_json(folder / RunFolder.SUMMARY, summary)  # last: its presence means the run is complete
    return summary
