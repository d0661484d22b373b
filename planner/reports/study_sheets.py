"""The sheets of a study folder's report.xlsx (`planner study`), from study.json, study.yaml,
study_cases, study_tornado, study_sensitivity, study_failures and the cases/<key>.json of failed
cases.

The eleven standard sheets keep their columns (SHEET_COLUMNS): Summary holds one row per case and
metric (the case's name in `key`), Plan, Buy, Contingent, Cash, Prices, Risk, Capacity and Parts
one placeholder row each, Runway the runway curve (one row per case, pool and threshold of
study_runway, or a placeholder row when the cases have no runway), Assumptions the study.json
facts and the study file's lines. Then two study sheets:

- Cases: one row per case: the fixed columns `case`, `key`, `status`, `error`, then one
  `param.<path>` column per varied parameter (sorted by path, as in study_cases), then one
  `<metric> mean` column per collected metric (in the order of study_cases). Succeeded cases in
  study order, then the failed ones in study_failures order.
- Sensitivity: the tornado (study_tornado) and, for a sampled study, the global ranking
  (study_sensitivity), with a `section` column telling which.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.outputs.layout import RunFolder, StudyFolder
from planner.reports import runway
from planner.reports.assumptions import cell, flatten
from planner.reports.folder import OutputFolder, StudyFiles
from planner.reports.tables import (
    CASES_FIXED_COLUMNS,
    STUDY_SHEETS,
    number_cell,
    text_cell,
    typed_frame,
)
from planner.reports.units import metric_label, study_metric_unit

NO_PLAN_STUDY = ("No procurement plan: this folder is a study (planner study) whose cases ran "
                 "the simulator only.")
NO_RISK_STUDY = ("No risk measures: this folder is a study (planner study) whose cases ran the "
                 "simulator only.")
PLAN_IN_CASES = ("No single plan: this folder is a study (planner study) whose cases ran the "
                 "optimizer; each case's plan metrics are the `plan.* mean` columns of the "
                 "Cases sheet (the plans themselves are not stored).")
RISK_IN_CASES = ("No single risk measure: this folder is a study (planner study) whose cases ran "
                 "the optimizer; each case's risk metrics (e.g. `plan.cvar_cost_usd mean`) are "
                 "in the Cases sheet.")
# Buy, Contingent, Cash, Prices of a study: what the sheet would hold, then why it does not
PLAN_SHEET_STUDY = ("No {what}: this folder is a study (planner study) whose cases ran the "
                    "simulator only.")
PLAN_SHEET_IN_CASES = ("No {what}: this folder is a study (planner study) whose cases ran the "
                       "optimizer; each case's plan metrics are the `plan.* mean` columns of the "
                       "Cases sheet (the plans themselves are not stored).")
PLAN_SHEET_WHAT = {"Buy": "orders to place", "Contingent": "contingent orders",
                   "Cash": "cash plan", "Prices": "prices of limits"}
NO_CAPACITY_STUDY = ("No capacity series: this folder is a study (planner study); per-case "
                     "figures are in the Cases sheet (and per case and metric in Summary).")
NO_PARTS_STUDY = ("No parts table: this folder is a study (planner study); per-case figures "
                  "are in the Cases sheet (and per case and metric in Summary).")
NO_BASE_SCENARIO = ("No scenario.yaml or inputs.json in a study folder: the base scenario is "
                    "{base}; each case's overrides are in cases/<key>.json and its varied "
                    "parameters in the Cases sheet.")
TORNADO_NOTE = ("main effect: mean of the case means of the metric over the cases at each value "
                "of the parameter (the others averaged out); swing = metric_max - metric_min; "
                "metric_mean = mean over every case that sets the parameter")
RANKING_NOTE = ("global ranking (sampled study): Spearman rank correlation and standardized "
                "regression coefficient of the parameter with the case means; ranked by |src|")
NO_TORNADO = ("No tornado: no varied parameter takes two values among the succeeded cases "
              "(or no case succeeded).")
NO_RANKING = ("No global ranking: it needs at least 3 succeeded cases and a numeric parameter "
              "that varies.")

_STATUS_OK = "ok"


def _study(run: OutputFolder) -> StudyFiles:
    if run.study is None:
        raise ValueError(f"{run.path}: not a study folder (no study.json)")
    return run.study


def summary_sheet(study: StudyFiles) -> pd.DataFrame:
    """One row per case and metric of study_cases (in its order): `metric` the flat metric
    name, `key` the case's name, the statistics over the case's replications."""
    rows = []
    for r in study.cases.to_dict("records"):
        metric = str(r["metric"])
        rows.append({"metric": metric, "label": metric_label(metric), "key": r["case"],
                     "unit": study_metric_unit(metric),
                     "n": r["n"], **{s: number_cell(_value(r.get(s)))
                                     for s in ("mean", "std", "p10", "p50", "p90",
                                               "ci95_low", "ci95_high")}})
    return typed_frame(rows, "Summary")


def _value(value: Any) -> Any:
    """None for a missing cell (NaN, NA, None), else the value."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def assumption_rows(study: StudyFiles) -> list[dict[str, Any]]:
    """study.json facts (`run` rows), one row saying the base scenario is not in the folder,
    then the study file's lines (`study.yaml` rows)."""
    rows: list[dict[str, Any]] = []
    for field, value in study.info.items():
        for path, leaf in flatten(value, field):
            number, text = cell(leaf)
            rows.append({"section": "run", "path": path, "value": number, "value_text": text,
                         "source": StudyFolder.STUDY})
    rows.append({"section": RunFolder.SCENARIO, "path": RunFolder.SCENARIO,
                 "value_text": NO_BASE_SCENARIO.format(base=study.info.get("base") or "unknown")})
    for number, line in enumerate(study.text.splitlines(), start=1):
        rows.append({"section": StudyFolder.STUDY_FILE, "path": f"{StudyFolder.STUDY_FILE}:{number}",
                     "value_text": line or None})
    return rows


def _param_dtype(values: list[Any]) -> str:
    """`Int64` when every present value is a whole number type, `float64` when every one is a
    number, else `object` (text)."""
    present = [v for v in values if _value(v) is not None]
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in present):
        return "Int64"
    if all(isinstance(v, int | float | np.integer | np.floating)
           and not isinstance(v, bool | np.bool_) for v in present):
        return "float64"
    return "object"


def cases_sheet(study: StudyFiles) -> pd.DataFrame:
    """One row per case: the fixed columns, `param.<path>` per varied parameter, `<metric>
    mean` per collected metric; succeeded cases (status `ok`) in study order, then failed
    (`failed`: it ran and raised; `invalid`: its scenario did not validate, it never ran)."""
    params = study.param_columns
    metrics = study.metrics
    means = [f"{m} mean" for m in metrics]
    rows: list[dict[str, Any]] = []
    cases = study.cases
    if len(cases):
        for name, block in cases.groupby("case", sort=False):
            first = block.iloc[0]
            row: dict[str, Any] = {"case": name, "key": first["key"], "status": _STATUS_OK,
                                   **{p: _value(first[p]) if p in block.columns else None
                                      for p in params}}
            for metric, mean in zip(block["metric"], block["mean"], strict=True):
                row[f"{metric} mean"] = _value(mean)
            rows.append(row)
    for failed in study.failures:
        row = {"case": failed.name, "key": failed.key, "status": failed.status,
               "error": failed.error}
        for path, value in failed.params or []:
            row[f"param.{path}"] = value
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=[*CASES_FIXED_COLUMNS, *params, *means])
    for col in CASES_FIXED_COLUMNS:
        frame[col] = frame[col].map(text_cell).astype(object)
    for col in params:
        dtype = _param_dtype([row.get(col) for row in rows])  # before missing cells made NaN
        if dtype == "object":
            frame[col] = frame[col].map(text_cell).astype(object)
        elif dtype == "Int64":
            frame[col] = frame[col].map(_value).astype("Float64").astype("Int64")
        else:
            frame[col] = frame[col].map(_value).astype("float64")
    for col in means:
        frame[col] = frame[col].astype("float64")
    return frame


def _metric_mean(study: StudyFiles, metric: str, parameter: str) -> float:
    """Mean of the case means of `metric` over the succeeded cases in which `parameter` is set
    (those its tornado row averages): the centre its main effects spread around."""
    cases = study.cases
    column = f"param.{parameter}"
    if "metric" not in cases.columns or column not in cases.columns:
        return float("nan")
    rows = cases[(cases["metric"] == metric) & cases[column].notna()]
    values = rows["mean"].map(_value).dropna().astype(float)
    return float(values.mean()) if len(values) else float("nan")


def sensitivity_sheet(study: StudyFiles) -> pd.DataFrame:
    """The tornado rows (study_tornado, largest swing first), then the global ranking rows of
    a sampled study (study_sensitivity); a note row where either is empty."""
    rows: list[dict[str, Any]] = []
    tornado = study.tornado
    if tornado is not None and len(tornado):
        for r in tornado.to_dict("records"):
            rows.append({"section": "tornado", **{k: r[k] for k in (
                "parameter", "metric", "value_at_min", "metric_min", "value_at_max",
                "metric_max", "swing")},
                "metric_mean": _metric_mean(study, str(r["metric"]), str(r["parameter"])),
                "note": TORNADO_NOTE})
    else:
        rows.append({"section": "tornado", "metric": study.info.get("sensitivity_metric"),
                     "note": NO_TORNADO})
    ranking = study.sensitivity
    if ranking is not None:
        for r in ranking.to_dict("records"):
            rows.append({"section": "ranking", **{k: r[k] for k in (
                "parameter", "metric", "spearman_rho", "src", "rank")}, "note": RANKING_NOTE})
        if not len(ranking):
            rows.append({"section": "ranking", "metric": study.info.get("sensitivity_metric"),
                         "note": NO_RANKING})
    return typed_frame(rows, "Sensitivity")


def build_study_sheets(run: OutputFolder) -> dict[str, pd.DataFrame]:
    """Every sheet of a study folder, in workbook order (STUDY_SHEETS)."""
    study = _study(run)
    optimizer = study.optimizer_metrics
    plan_note = PLAN_SHEET_IN_CASES if optimizer else PLAN_SHEET_STUDY
    sheets = {
        "Summary": summary_sheet(study),
        "Plan": typed_frame([{"note": PLAN_IN_CASES if optimizer else NO_PLAN_STUDY}], "Plan"),
        **{sheet: typed_frame([{"note": plan_note.format(what=what)}], sheet)
           for sheet, what in PLAN_SHEET_WHAT.items()},
        "Risk": typed_frame([{"note": RISK_IN_CASES if optimizer else NO_RISK_STUDY}], "Risk"),
        "Capacity": typed_frame([{"pool": NO_CAPACITY_STUDY}], "Capacity"),
        "Parts": typed_frame([{"sku": NO_PARTS_STUDY}], "Parts"),
        "Runway": typed_frame(runway.study_rows(study), "Runway"),
        "Assumptions": typed_frame(assumption_rows(study), "Assumptions"),
        "Cases": cases_sheet(study),
        "Sensitivity": sensitivity_sheet(study),
    }
    return {name: sheets[name] for name in STUDY_SHEETS}
