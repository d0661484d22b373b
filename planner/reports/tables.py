"""The sheets of report.xlsx as DataFrames, built from an output folder's files (a simulation
run, an optimization, or both).

SHEET_COLUMNS is the stable contract (docs/outputs.md): sheet names in order and each sheet's
columns. The CSV/Parquet twins and the workbook are written from these same frames. A study
folder's workbook has the same eleven sheets, then Cases and Sensitivity (STUDY_SHEET_COLUMNS;
Cases: the fixed columns, then the study's own, see planner.reports.study_sheets). The rows of
Buy, Contingent, Cash and Prices come from planner.reports.plan_sheets, those of Runway from
planner.reports.runway.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.reports import plan_sheets, runway, series
from planner.reports.assumptions import assumption_rows
from planner.reports.folder import OutputFolder, Plan, quarter_date
from planner.reports.units import metric_label, metric_unit, optimization_unit

COST_PARTS = ("capex", "stockpile", "recourse", "power", "rental", "unmet_penalty", "porting",
              "salvage")

SHEET_COLUMNS: dict[str, list[str]] = {
    "Summary": ["metric", "label", "key", "unit", "n", "mean", "std", "p10", "p50", "p90",
                "ci95_low", "ci95_high"],
    "Plan": ["item", "quarter", "scenario", "sku", "vendor", "platform", "part", "quantity",
             "unit_price [USD]", "cost [USD]", "effective_pflops [PFLOP/s]", "note"],
    "Buy": ["sku", "vendor", "order_quarter", "delivery_quarter", "nodes", "unit_price [USD]",
            "cost [USD]", "note"],
    "Contingent": ["if", "quarter", "sku", "vendor", "nodes", "unit_price [USD]", "cost [USD]",
                   "probability", "scenarios", "note"],
    "Cash": ["quarter", "kind", "scenario", "probability",
             *(f"{part} [USD]" for part in plan_sheets.CASH_PARTS), "cash_out [USD]",
             "discount_factor", "cash_out_discounted [USD]", "budget [USD]",
             "budgeted_spend [USD]", "headroom [USD]", "note"],
    "Prices": ["kind", "family", "limit", "index", "scenario", "unit", "limit_value",
               "shadow_price [USD per unit]", "valid_from", "valid_to", "degenerate", "step",
               "change_per_unit_up [USD per unit]", "change_per_unit_down [USD per unit]",
               "note"],
    "Risk": ["section", "measure", "scenario", "index", "unit", "value", "value_text", "limit",
             "probability", *(f"{part} [USD]" for part in COST_PARTS), "total_cost [USD]",
             "shortfall [PFLOP/s-hours]", "expected_cost [USD]", "note"],
    "Capacity": ["pool", "sku", "day", "date", "installed_nodes_p50 [nodes]",
                 "healthy_nodes_p10 [nodes]", "healthy_nodes_p50 [nodes]",
                 "healthy_nodes_p90 [nodes]", "effective_compute_p10 [PFLOP/s]",
                 "effective_compute_p50 [PFLOP/s]", "effective_compute_p90 [PFLOP/s]",
                 "effective_compute_p10_p90_width [PFLOP/s]", "quarter", "demand [PFLOP/s]",
                 "rented_compute_p50 [PFLOP/s]", "unmet_demand_p90 [PFLOP/s]"],
    "Parts": ["sku", "part", "unit_price [USD]", "stockout_mean [days]", "stockout_p10 [days]",
              "stockout_p50 [days]", "stockout_p90 [days]", "consumed_mean [parts]",
              "consumed_p10 [parts]", "consumed_p50 [parts]", "consumed_p90 [parts]",
              "cannibalized_mean [parts]", "final_stock_p50 [parts]", "stockpile_planned [parts]"],
    "Runway": ["case", "parameters", "pool", "sku", "threshold", "n", "censored_share",
               "p10 [days]", "p10_censored", "p50 [days]", "p50_censored", "p90 [days]",
               "p90_censored", "note"],
    "Assumptions": ["section", "path", "value", "value_text", "unit", "source"],
}
SHEETS: list[str] = list(SHEET_COLUMNS)

# a study folder: the eleven sheets, then these two. Cases starts with these fixed columns, then
# one `param.<path>` per varied parameter and one `<metric> mean` per collected metric.
CASES_FIXED_COLUMNS: list[str] = ["case", "key", "status", "error"]
SENSITIVITY_COLUMNS: list[str] = ["section", "parameter", "metric", "value_at_min", "metric_min",
                                  "value_at_max", "metric_max", "swing", "metric_mean",
                                  "spearman_rho", "src", "rank", "note"]
STUDY_SHEET_COLUMNS: dict[str, list[str]] = {**SHEET_COLUMNS, "Cases": CASES_FIXED_COLUMNS,
                                             "Sensitivity": SENSITIVITY_COLUMNS}
STUDY_SHEETS: list[str] = list(STUDY_SHEET_COLUMNS)

# column -> unit of its number format (the workbook's formats; Summary rows use their `unit`,
# Risk's value and limit and Prices' limit figures and prices use the row's `unit`, quantity is
# whole or not row by row)
COLUMN_UNITS: dict[str, str] = {
    "n": "integer",
    "rank": "integer",
    "nodes": "integer",
    "discount_factor": "factor",
    "spearman_rho": "coefficient",
    "src": "coefficient",
    "unit_price [USD]": "USD",
    "cost [USD]": "USD",
    "probability": "fraction",
    "date": "date",
    "day": "",
    "threshold": "fraction",
    "censored_share": "fraction",
}
TEXT_COLUMNS = {"metric", "key", "unit", "item", "pool", "sku", "part", "note", "measure",
                "section", "path", "value_text", "source", "quarter", "scenario", "vendor",
                "platform", "index", "case", "status", "error", "parameter", "value_at_min",
                "value_at_max", "order_quarter", "delivery_quarter", "if", "scenarios", "kind",
                "family", "degenerate", "parameters", "p10_censored", "p50_censored",
                "p90_censored"}
# text columns of one sheet whose name is a number column elsewhere (Risk's `limit` is a cap)
SHEET_TEXT_COLUMNS: dict[str, set[str]] = {"Prices": {"limit"}, "Summary": {"label"}}
DATE_COLUMNS = {"date"}
INTEGER_COLUMNS = {"n", "rank"}

NO_PLAN = ("No procurement plan: this folder is a simulation run (planner run) of a scenario "
           "without a procurement section. The optimizer fills this sheet.")
NO_RISK = ("No risk measures: this folder is a simulation run without a procurement plan. "
           "The optimizer fills this sheet.")
NO_PLAN_SHEET = ("No {what}: this folder is a simulation run (planner run) of a scenario "
                 "without a procurement section. The optimizer fills this sheet.")
NO_PLAN_WHAT = {"Buy": "order to place", "Contingent": "contingent order",
                "Cash": "cash plan", "Prices": "prices of limits"}
PLAN_CAPACITY_POOL = "fleet"
PLAN_CAPACITY_TOTAL = "all"
# optimization.json fields that describe the run rather than measure the plan (Assumptions)
OPTIMIZATION_FACTS = ("scenario", "source", "version")

_STATS = ("mean", "std", "p10", "p50", "p90")


def is_text_column(sheet: str, column: str) -> bool:
    """Whether `column` of `sheet` holds text."""
    return column in TEXT_COLUMNS or column in SHEET_TEXT_COLUMNS.get(sheet, ())


def typed_frame(rows: list[dict[str, Any]] | pd.DataFrame, sheet: str) -> pd.DataFrame:
    """The rows of `sheet` with its columns in order and stable dtypes: text as str, dates as
    datetime64, `n` and `rank` as Int64 (nullable: empty for the optimizer's figures), every
    other column float64."""
    frame = pd.DataFrame(rows).reindex(columns=STUDY_SHEET_COLUMNS[sheet])
    for col in frame.columns:
        if is_text_column(sheet, col):
            frame[col] = frame[col].map(text_cell).astype(object)
        elif col in DATE_COLUMNS:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        elif col in INTEGER_COLUMNS:
            frame[col] = frame[col].astype("Float64").astype("Int64")
        else:
            frame[col] = frame[col].astype("float64")
    return frame


def text_cell(value: Any) -> str | None:
    """A text cell: None when missing or empty (never the string "None" or "nan")."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) \
            or value == "":
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def _is_stats(node: Any) -> bool:
    return isinstance(node, dict) and {"n", "mean", "p50"} <= set(node)


def summary_metrics(summary: dict[str, Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(metric, key, stats) for every metric of summary.json, in file order. The key is the
    last level (a job, pool, category or sku/part); None for a one-level metric."""
    found: list[tuple[str, str | None, dict[str, Any]]] = []

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for name, child in node.items():
            if _is_stats(child):
                if path:
                    found.append((".".join(path), name, child))
                else:
                    found.append((name, None, child))
            elif isinstance(child, dict):
                walk(child, [*path, name])

    walk(summary, [])
    return found


def optimization_figures(optimization: dict[str, Any]) -> list[tuple[str, str | None, str, Any]]:
    """(metric, key, unit, value) for every leaf of optimization.json but the run facts, in
    file order. A number (or null) is named like a summary metric: a one-level field is its own
    metric with no key (`expected_cost_usd`), a nested one has its parent's path as metric and
    its name as key (`value_of_information`, `vss_usd`). Text and true/false: the metric is the
    whole path, the key holds the text (`status`, `optimal`), no unit and no value; a list
    (`notes`) is its items joined by `; `, left out when empty."""
    found: list[tuple[str, str | None, str, Any]] = []

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for name, child in node.items():
            if not path and name in OPTIMIZATION_FACTS:
                continue
            full = ".".join([*path, name])
            if isinstance(child, dict):
                walk(child, [*path, name])
            elif isinstance(child, list):
                if child:
                    found.append((full, list_text(child), "", None))
            elif child is None or (isinstance(child, int | float) and not isinstance(child, bool)):
                unit = optimization_unit(full)
                found.append((".".join(path), name, unit, child) if path
                             else (name, None, unit, child))
            else:
                found.append((full, text_cell(child), "", None))

    walk(optimization, [])
    return found


def list_text(items: list[Any]) -> str:
    """A list of optimization.json (`notes`) as one text cell."""
    return "; ".join(str(i) for i in items)


def number_cell(value: Any) -> float:
    """A number cell: NaN when missing."""
    return float(value) if value is not None else np.nan


def summary_sheet(run: OutputFolder) -> pd.DataFrame:
    """Simulation runs: one row per metric and key of summary.json: n, mean, std, P10/P50/P90
    and the 95 % CI, with the unit. Optimize-only folders: the figures of optimization.json,
    each value in `mean`, the other statistics empty."""
    rows = []
    if run.summary is not None:
        for metric, key, stats in summary_metrics(run.summary):
            ci = stats.get("ci95") or [None, None]
            rows.append({"metric": metric, "label": metric_label(metric, key), "key": key,
                         "unit": metric_unit(metric, key),
                         "n": stats["n"], **{s: number_cell(stats.get(s)) for s in _STATS},
                         "ci95_low": number_cell(ci[0]), "ci95_high": number_cell(ci[1])})
    elif run.plan is not None:
        for metric, key, unit, value in optimization_figures(run.plan.optimization):
            rows.append({"metric": metric, "label": metric_label(metric), "key": key,
                         "unit": unit, "mean": number_cell(value)})
    return typed_frame(rows, "Summary")


# --- Plan ---------------------------------------------------------------------------------------


def plan_sheet(run: OutputFolder) -> pd.DataFrame:
    """The optimizer's plan: first-stage orders (SKU x quarter), the stockpile, adopted
    platforms and the recourse orders of each scenario. Without a plan: one row saying so."""
    plan = run.plan
    if plan is None:
        return typed_frame([{"note": NO_PLAN}], "Plan")
    vendor, platform = plan.vendors(), plan.platforms_of()
    per_node = plan.pflops_per_node()
    first = plan.quarters[0] if plan.quarters else None
    rows: list[dict[str, Any]] = []
    orders = plan.orders[plan.orders["nodes"] > 0]
    for r in orders.itertuples(index=False):
        rows.append({"item": "order", "quarter": r.period, "sku": r.sku, "vendor": r.vendor,
                     "platform": r.platform, "quantity": r.nodes,
                     "unit_price [USD]": r.capex_usd / r.nodes, "cost [USD]": r.capex_usd,
                     "effective_pflops [PFLOP/s]": r.effective_pflops,
                     "note": "first-stage order: placed in every scenario"})
    stock = plan.stockpile[plan.stockpile["units"] > 0]
    for r in stock.itertuples(index=False):
        rows.append({"item": "stockpile", "quarter": first, "sku": r.sku,
                     "vendor": vendor.get(str(r.sku)), "platform": platform.get(str(r.sku)),
                     "part": r.part, "quantity": r.units, "unit_price [USD]": r.price_usd,
                     "cost [USD]": r.cost_usd,
                     "note": "spare parts bought now, before the sanction outcome is known"})
    for r in plan.platforms[plan.platforms["adopted"].astype(bool)].itertuples(index=False):
        cost = float(r.porting_cost_usd)
        note = "adopted: porting cost" if cost > 0 else "adopted: already in use, no porting cost"
        if bool(r.primary):
            note += "; primary training platform"
        rows.append({"item": "platform", "platform": r.platform, "cost [USD]": cost, "note": note})
    for r in plan.recourse[plan.recourse["nodes"] > 0].itertuples(index=False):
        g = per_node.get(str(r.sku))
        rows.append({"item": "recourse", "quarter": r.period, "scenario": r.scenario, "sku": r.sku,
                     "vendor": vendor.get(str(r.sku)), "platform": platform.get(str(r.sku)),
                     "quantity": r.nodes,
                     "effective_pflops [PFLOP/s]": r.nodes * g if g is not None else None,
                     "note": "recourse: ordered in this scenario only, once it is known; its "
                             "cost (with the recourse premium) is in Risk recourse [USD]"})
    if not rows:
        rows.append({"note": "The plan orders nothing: no node, part or platform is bought."})
    return typed_frame(rows, "Plan")


# --- Risk ---------------------------------------------------------------------------------------

# headline rows of Risk: optimization.json path -> description (rows in this order; any other
# top-level number or text of optimization.json follows, so nothing is left out)
_HEADLINES: dict[str, str] = {
    "status": "solver status (HiGHS)",
    "message": "solver message",
    "gap": "relative MIP gap between objective and bound",
    "objective": "objective: expected cost + weight x CVaR term",
    "bound": "best bound on the objective",
    "discount_rate": "yearly rate at which each quarter's cash flows are discounted",
    "expected_cost_usd": "expected cost over scenarios (probability-weighted)",
    "cvar_alpha": "CVaR level alpha",
    "cvar_term_usd": "the CVaR of cost as the objective holds it (discounted)",
    "cvar_term_pflops_hours": "the CVaR of unmet demand as the objective holds it",
    "cvar_cost_usd": "CVaR of scenario cost: mean over the worst 1 - alpha of probability",
    "cvar_shortfall_pflops_hours": "CVaR of unmet demand (PFLOP/s-hours over the horizon)",
    "expected_shortfall_pflops_hours": "expected unmet demand over the horizon",
    "worst_case_shortfall_pflops_hours": "largest unmet demand of any scenario over the horizon",
    "worst_case_shortfall_pflops": "largest unmet demand of any scenario in any quarter",
    "primary_platform": "primary training platform",
    "value_of_information.rp_expected_cost_usd": "RP: expected cost of the risk-neutral "
                                                  "stochastic plan",
    "value_of_information.eev_expected_cost_usd": "EEV: expected cost of the expected-value plan",
    "value_of_information.ws_expected_cost_usd": "WS: expected cost with perfect foresight",
    "value_of_information.vss_usd": "VSS = EEV - RP: value of the stochastic solution",
    "value_of_information.evpi_usd": "EVPI = RP - WS: expected value of perfect information",
    "value_of_information.ev_plan_feasible": "whether the expected-value plan is feasible in "
                                             "every scenario",
    "analyses": "what was worked out beyond the plan: none, prices, or all (prices, VSS, EVPI)",
    "notes": "the optimizer's notes on this plan",
}
# optimization.json fields shown elsewhere than among Risk's headlines (the first row of Prices)
_NOT_IN_RISK = {"shadow_price_convention"}
_NOT_FINITE = {"value_of_information.eev_expected_cost_usd", "value_of_information.vss_usd",
               "value_of_information.evpi_usd"}


def _leaf(data: dict[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = data
    for step in path.split("."):
        if not isinstance(node, dict) or step not in node:
            return False, None
        node = node[step]
    return True, node


def _cvar_cap(run: OutputFolder) -> tuple[str | None, float | None]:
    """(measure, cap) of `procurement.risk` when inputs.json holds one (run folders)."""
    risk = ((run.scenario.get("procurement") or {}).get("risk") or {})
    cap = risk.get("cvar_cap")
    return risk.get("measure"), (float(cap) if isinstance(cap, int | float) else None)


def _headline_rows(run: OutputFolder) -> list[dict[str, Any]]:
    opt = run.plan.optimization
    alpha = opt.get("cvar_alpha")
    measure, cap = _cvar_cap(run)
    paths = [p for p in _HEADLINES if p not in _NOT_IN_RISK]
    paths += [k for k, v in opt.items() if k not in paths and k not in OPTIMIZATION_FACTS
              and k not in _NOT_IN_RISK and not isinstance(v, dict)]
    rows = []
    for path in paths:
        found, value = _leaf(opt, path)
        if not found or (path == "message" and not value):
            continue
        note = _HEADLINES.get(path)
        if path.startswith("cvar_") and path != "cvar_alpha" and isinstance(alpha, int | float):
            note = f"{note} (alpha = {alpha:g})"
        row: dict[str, Any] = {"section": "headline", "measure": path, "note": note}
        if isinstance(value, list):
            if not value:
                continue
            row.update(unit="", value_text=list_text(value))
        elif isinstance(value, str | bool):
            row.update(unit="", value_text=value)
        else:
            row.update(unit=optimization_unit(path), value=number_cell(value))
            if value is None and path in _NOT_FINITE:
                why = (opt.get("value_of_information") or {}).get("note")
                row["value_text"] = "not finite"
                row["note"] = f"{note}: not finite" + (f" ({why})" if why else "")
        if cap is not None and path == f"cvar_{measure}" + ("_usd" if measure == "cost"
                                                           else "_pflops_hours"):
            row["limit"] = cap
        rows.append(row)
    return rows


def _scenario_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per scenario of plan_costs, then the probability-weighted mean."""
    costs = plan.costs
    known = [f"{part}_usd" for part in COST_PARTS]
    other = [c for c in costs.columns if str(c).endswith("_usd") and c not in known
             and c != "total_usd"]
    rows = []
    for r in costs.to_dict("records"):
        rows.append({"section": "scenario", "measure": "scenario_cost", "scenario": r["scenario"],
                     "unit": "USD", "value": r["total_usd"], "probability": r["probability"],
                     **{f"{part} [USD]": r.get(f"{part}_usd") for part in COST_PARTS},
                     "total_cost [USD]": r["total_usd"],
                     "shortfall [PFLOP/s-hours]": r["shortfall_pflops_hours"],
                     "note": ("also in the total: " + ", ".join(f"{c} {r[c]:,.0f}" for c in other))
                     if other else None})
    p = costs["probability"].to_numpy(dtype=float)
    mean = {c: float(p @ costs[c].to_numpy(dtype=float))
            for c in [*known, "total_usd", "shortfall_pflops_hours"] if c in costs}
    rows.append({"section": "scenario", "measure": "expected_cost", "unit": "USD",
                 "value": mean["total_usd"], "probability": float(p.sum()),
                 **{f"{part} [USD]": mean.get(f"{part}_usd") for part in COST_PARTS},
                 "total_cost [USD]": mean["total_usd"],
                 "shortfall [PFLOP/s-hours]": mean["shortfall_pflops_hours"],
                 "note": "probability-weighted mean over the scenarios"})
    return rows


def _pareto_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per point of plan_pareto: CVaR reached (value), its cap (limit), expected cost."""
    front, measure = plan.pareto, plan.risk_measure
    if front is None or measure is None:
        return []
    unit = "USD" if measure == "cost" else "PFLOP/s-hours"
    vendors = [c for c in front.columns if str(c).startswith("nodes_")]
    rows = []
    for r in front.to_dict("records"):
        nodes = ", ".join(f"{c.removeprefix('nodes_')} {r[c]:,.0f}" for c in vendors)
        rows.append({"section": "pareto", "measure": f"cvar_{measure}", "index": str(r["point"]),
                     "unit": unit, "value": r[f"cvar_{measure}"], "value_text": r.get("status"),
                     "limit": r["cvar_cap"], "expected_cost [USD]": r["expected_cost_usd"],
                     "note": f"min expected cost s.t. CVaR <= limit; nodes ordered: {nodes}"})
    return rows


def _out_of_sample_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per measure of plan_oos_summary (optimize --out-of-sample): the estimate as value,
    its 95 % interval in value_text, the policy and the note in note."""
    if plan.oos_summary is None:
        return []
    rows = []
    for r in plan.oos_summary.to_dict("records"):
        unit = "PFLOP/s-hours" if "PFLOP" in r["measure"] else "USD"
        interval = ("" if pd.isna(r["ci_low_usd"]) else
                    f"95 % CI {r['ci_low_usd']:,.0f} to {r['ci_high_usd']:,.0f}")
        rows.append({"section": "out_of_sample", "measure": r["measure"], "unit": unit,
                     "value": r["estimate_usd"], "value_text": interval,
                     "note": f"{r['policy']}; n = {int(r['n']):,}; {r['note']}"})
    return rows


def risk_sheet(run: OutputFolder) -> pd.DataFrame:
    """Headline figures of optimization.json, cost and shortfall per scenario, the Pareto
    front and the out-of-sample evaluation (the prices of limits are on Prices). Without a
    plan: one row saying so."""
    if run.plan is None:
        return typed_frame([{"note": NO_RISK}], "Risk")
    rows = [*_headline_rows(run), *_scenario_rows(run.plan), *_pareto_rows(run.plan),
            *_out_of_sample_rows(run.plan)]
    return typed_frame(rows, "Risk")


# --- Buy, Contingent, Cash, Prices --------------------------------------------------------------


def _plan_rows_sheet(run: OutputFolder, sheet: str, rows_of) -> pd.DataFrame:
    """A sheet whose rows plan_sheets builds from the plan; without a plan one row saying so."""
    if run.plan is None:
        return typed_frame([{"note": NO_PLAN_SHEET.format(what=NO_PLAN_WHAT[sheet])}], sheet)
    return typed_frame(rows_of(run.plan), sheet)


def buy_sheet(run: OutputFolder) -> pd.DataFrame:
    """What to order now: one row per plan_buy row (see plan_sheets.buy_rows)."""
    return _plan_rows_sheet(run, "Buy", plan_sheets.buy_rows)


def contingent_sheet(run: OutputFolder) -> pd.DataFrame:
    """Orders placed only if a block comes: one row per plan_contingent row."""
    return _plan_rows_sheet(run, "Contingent", plan_sheets.contingent_rows)


def cash_sheet(run: OutputFolder) -> pd.DataFrame:
    """Cash out per quarter: the expected row, then one row per scenario (plan_cash)."""
    return _plan_rows_sheet(run, "Cash", plan_sheets.cash_rows)


def prices_sheet(run: OutputFolder) -> pd.DataFrame:
    """Prices of the limits: the sign convention, binding duals, re-optimized prices."""
    return _plan_rows_sheet(run, "Prices", plan_sheets.price_rows)


# --- Capacity -----------------------------------------------------------------------------------


def capacity_sheet(run: OutputFolder) -> pd.DataFrame:
    """Simulation runs: per pool and sampled day (see _simulated_capacity). Optimize-only
    folders: per quarter, the optimizer's capacity across scenarios (see _planned_capacity)."""
    if run.simulated:
        return _simulated_capacity(run)
    return _planned_capacity(run.plan) if run.plan is not None else typed_frame([], "Capacity")


def _simulated_capacity(run: OutputFolder) -> pd.DataFrame:
    """Per pool and sampled day: installed nodes P50, healthy nodes and effective compute
    (healthy nodes x accelerators per node x BF16 dense TFLOPS / 1000) P10/P50/P90, and the
    P10-P90 width (what the chart's band stacks on P10)."""
    ts = run.timeseries
    frames = []
    for pool in run.pools:
        healthy = series.healthy_nodes(ts, pool.name)
        installed = series.installed_nodes(ts, pool.name)
        dates = run.dates(healthy["day"])
        frame = pd.DataFrame({"pool": pool.name, "sku": pool.sku, "day": healthy["day"],
                              "date": dates, "installed_nodes_p50 [nodes]": installed["p50"]})
        for q in series.QUANTILES:
            frame[f"healthy_nodes_{q} [nodes]"] = healthy[q]
        for q in series.QUANTILES:
            frame[f"effective_compute_{q} [PFLOP/s]"] = healthy[q] * pool.pflops_per_node
        frame["effective_compute_p10_p90_width [PFLOP/s]"] = (
            frame["effective_compute_p90 [PFLOP/s]"] - frame["effective_compute_p10 [PFLOP/s]"])
        frame["quarter"] = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in dates]
        frames.append(frame)
    return typed_frame(pd.concat(frames, ignore_index=True) if frames else [], "Capacity")


def _quantiles(frame: pd.DataFrame, column: str, prob: dict[str, float]) -> dict[str, float]:
    weights = frame["scenario"].map(prob).to_numpy(dtype=float)
    return {q: series.weighted_quantile(frame[column].to_numpy(dtype=float), weights, level)
            for q, level in series.QUANTILES.items()}


def _planned_capacity(plan: Plan) -> pd.DataFrame:
    """Per quarter, across the optimizer's scenarios (probability-weighted quantiles, see
    series.weighted_quantile): the fleet's effective compute (plan_capacity own_pflops), its
    available and installed nodes (plan_fleet summed over SKUs), demand, rented compute P50
    and unmet demand P90; then the same per SKU that ever has nodes (demand etc. empty)."""
    prob = plan.probabilities
    fleet = plan.fleet.copy()
    fleet["scenario"] = fleet["scenario"].astype(str)
    capacity = plan.capacity.copy()
    capacity["scenario"] = capacity["scenario"].astype(str)
    totals = fleet.groupby(["period", "scenario"], sort=False)[
        ["installed_nodes", "available_nodes"]].sum().reset_index()
    rows = []

    def row(sku: str, quarter: str, nodes: pd.DataFrame, pflops: pd.DataFrame,
            column: str) -> dict[str, Any]:
        available = _quantiles(nodes, "available_nodes", prob)
        compute = _quantiles(pflops, column, prob)
        out = {"pool": PLAN_CAPACITY_POOL, "sku": sku, "quarter": quarter,
               "date": quarter_date(quarter),
               "installed_nodes_p50 [nodes]": _quantiles(nodes, "installed_nodes", prob)["p50"]}
        for q in series.QUANTILES:
            out[f"healthy_nodes_{q} [nodes]"] = available[q]
            out[f"effective_compute_{q} [PFLOP/s]"] = compute[q]
        out["effective_compute_p10_p90_width [PFLOP/s]"] = compute["p90"] - compute["p10"]
        return out

    for quarter in plan.quarters:
        cap = capacity[capacity["period"] == quarter]
        total = row(PLAN_CAPACITY_TOTAL, quarter, totals[totals["period"] == quarter], cap,
                    "own_pflops")
        total["demand [PFLOP/s]"] = float(cap["demand_pflops"].max())
        total["rented_compute_p50 [PFLOP/s]"] = _quantiles(cap, "rented_pflops", prob)["p50"]
        total["unmet_demand_p90 [PFLOP/s]"] = _quantiles(cap, "unmet_pflops", prob)["p90"]
        rows.append(total)
    for sku, block in fleet.groupby("sku", sort=False):
        if not (block["installed_nodes"] > 0).any():
            continue
        for quarter in plan.quarters:
            cells = block[block["period"] == quarter]
            rows.append(row(str(sku), quarter, cells, cells, "effective_pflops"))
    return typed_frame(rows, "Capacity")


# --- Parts --------------------------------------------------------------------------------------


def _part_price(run: OutputFolder, sku: str, part: str) -> float:
    """The SKU's price for the part, else the part's default price (catalog in inputs.json)."""
    catalog = (run.inputs or {}).get("catalog", {})
    entry = catalog.get("skus", {}).get(sku, {}).get("part_prices_usd", {}).get(part)
    entry = entry or catalog.get("parts", {}).get(part, {}).get("price_usd")
    if isinstance(entry, dict):
        entry = entry.get("value")
    return number_cell(entry)


def parts_sheet(run: OutputFolder) -> pd.DataFrame:
    """Simulation runs: per SKU and part, stock-out days, parts consumed and cannibalized
    (summary.json),
    final stock P50 (last sampled day of timeseries), unit price (catalog), and the planned
    stockpile when the optimizer ran. Optimize-only folders: the stockpile plan, one row per
    SKU and part the optimizer could stockpile."""
    planned: dict[str, tuple[float, float]] = {}
    if run.plan is not None:
        for r in run.plan.stockpile.itertuples(index=False):
            planned[f"{r.sku}/{r.part}"] = (float(r.units), float(r.price_usd))
    if not run.simulated:
        return typed_frame([{"sku": name.partition("/")[0], "part": name.partition("/")[2],
                        "unit_price [USD]": price, "stockpile_planned [parts]": units}
                       for name, (units, price) in planned.items()], "Parts")
    stockouts = run.summary.get("stockout_days", {})
    consumed = run.summary.get("parts_consumed", {})
    cannibalized = run.summary.get("parts_cannibalized", {})
    names = list(dict.fromkeys([*stockouts, *consumed]))
    names += [c.removeprefix("stock.") for c in series.stock_columns(run.timeseries)
              if c.removeprefix("stock.") not in names]
    names += [name for name, (units, _) in planned.items() if units > 0 and name not in names]
    rows = []
    for name in names:
        sku, _, part = name.partition("/")
        price = _part_price(run, sku, part)
        if np.isnan(price) and name in planned:
            price = planned[name][1]
        row: dict[str, Any] = {"sku": sku, "part": part, "unit_price [USD]": price}
        for label, source, unit in (("stockout", stockouts, "days"), ("consumed", consumed, "parts")):
            stats = source.get(name, {})
            for s in ("mean", "p10", "p50", "p90"):
                row[f"{label}_{s} [{unit}]"] = number_cell(stats.get(s))
        row["cannibalized_mean [parts]"] = number_cell(cannibalized.get(name, {}).get("mean"))
        column = f"stock.{name}"
        if column in run.timeseries:
            row["final_stock_p50 [parts]"] = float(np.median(series.final_values(run.timeseries,
                                                                                column)))
        if name in planned:
            row["stockpile_planned [parts]"] = planned[name][0]
        rows.append(row)
    return typed_frame(rows, "Parts")


def runway_sheet(run: OutputFolder) -> pd.DataFrame:
    """The runway of each pool exposed to a parts block, per threshold (planner.reports.runway)."""
    return typed_frame(runway.run_rows(run), "Runway")


def assumptions_sheet(run: OutputFolder) -> pd.DataFrame:
    """Every input used, see planner.reports.assumptions."""
    return typed_frame([dict(zip(SHEET_COLUMNS["Assumptions"], row, strict=True))
                   for row in assumption_rows(run)], "Assumptions")


def build_sheets(run: OutputFolder, capacity: pd.DataFrame | None = None
                 ) -> dict[str, pd.DataFrame]:
    """Every sheet, in workbook order (a run or optimize folder; a study folder's sheets:
    planner.reports.study_sheets.build_study_sheets); `capacity`: the Capacity sheet, when
    already built (capacity_sheet)."""
    builders = {"Summary": summary_sheet, "Plan": plan_sheet, "Buy": buy_sheet,
                "Contingent": contingent_sheet, "Cash": cash_sheet, "Prices": prices_sheet,
                "Risk": risk_sheet,
                "Capacity": capacity_sheet if capacity is None else lambda _: capacity,
                "Parts": parts_sheet,
                "Runway": runway_sheet, "Assumptions": assumptions_sheet}
    return {name: builders[name](run) for name in SHEETS}
