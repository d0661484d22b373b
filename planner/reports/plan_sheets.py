"""The rows of the sheets Buy, Contingent, Cash and Prices, from the optimizer's plan tables
(plan_buy, plan_contingent, plan_cash, plan_shadow_prices, plan_limit_prices) and
optimization.json. Each builder returns row dicts keyed by the sheet's columns
(planner.reports.tables.SHEET_COLUMNS types and orders them); a sheet with nothing to show gets
one row whose `note` says why, so that an empty sheet never looks like a lost one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from planner.reports.folder import Plan

BUY_NOTE = "first-stage order: placed whatever the sanction outcome"
NOTHING_TO_BUY = "The plan orders no node: nothing to buy."
CONTINGENT_NOTE = ("placed only if the condition holds; never add rows of different "
                   "conditions")
NO_CONTINGENT = ("No contingent order: under no condition does the plan order more nodes once "
                 "it knows what happened.")
# plan_cash columns (without _usd) in the order of the sheet, and what each row adds
CASH_PARTS = ("capex", "recourse", "stockpile", "porting", "power", "rental")
EXPECTED_CASH = "probability-weighted mean over the scenarios"
NO_BUDGET = "no budget in this quarter"
NO_CASH = "No cash plan: plan_cash has no row."
CONVENTION = ("shadow_price: change of the objective (USD) per unit increase of the limit; "
              "negative = one more unit saves that much.")
NOT_COMPUTED = ("Shadow prices were not computed (planner optimize --analyses none); "
                "--analyses prices computes them.")
NO_LIMIT_ROWS = "No budget, power, space or supply limit to price: plan_shadow_prices is empty."
NONE_BINDS = ("No limit binds: no budget, power, space or supply limit holds the plan back "
              "(every shadow price is 0).")
NOT_REOPTIMIZED = ("Re-optimized prices were not computed: planner optimize --reoptimize-prices "
                   "re-solves the whole problem with each limit shared by the scenarios moved "
                   "up and down.")
NOTHING_TIGHT = "Re-optimized prices: no limit shared by the scenarios is tight in the plan."
REOPTIMIZED_NOTE = ("the whole problem re-solved with the limit moved up and down by `step` in "
                    "every scenario: change of the objective per unit increase of the limit, "
                    "above (up) and below (down) it")
DEGENERATE_LISTED = 10  # degenerate zero-price limits named in their note row


def _text(value: Any) -> str | None:
    """A table's text cell; None when missing or empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value) or None


def _finite(value: Any) -> float | None:
    """A number, None when missing or infinite (an empty cell: Excel holds no infinity)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return number + 0.0 if math.isfinite(number) else None  # + 0.0: no -0 in the sheet


# --- Buy and Contingent -------------------------------------------------------------------------


def buy_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per plan_buy row (the first-stage orders in whole nodes), in its order; the
    nodes add up to the first-stage orders, so no total row is mixed in."""
    rows = [{"sku": r["sku"], "vendor": r["vendor"], "order_quarter": r["order_quarter"],
             "delivery_quarter": r["delivery_quarter"], "nodes": r["nodes"],
             "unit_price [USD]": r["unit_price_usd"], "cost [USD]": r["cost_usd"],
             "note": BUY_NOTE} for r in plan.buy.to_dict("records")]
    return rows or [{"note": NOTHING_TO_BUY}]


def contingent_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per plan_contingent row: a recourse order, the condition under which it is
    placed and that condition's probability. Rows of different conditions are alternatives,
    never to be added up."""
    rows = [{"if": r["if"], "quarter": r["quarter"], "sku": r["sku"], "vendor": r["vendor"],
             "nodes": r["nodes"], "unit_price [USD]": r["unit_price_usd"],
             "cost [USD]": r["cost_usd"], "probability": r["probability"],
             "scenarios": r["scenarios"], "note": CONTINGENT_NOTE}
            for r in plan.contingent.to_dict("records")]
    return rows or [{"note": NO_CONTINGENT}]


# --- Cash ---------------------------------------------------------------------------------------

# sheet column -> plan_cash column, for every number of a Cash row but the probability
CASH_COLUMNS: dict[str, str] = {
    **{f"{part} [USD]": f"{part}_usd" for part in CASH_PARTS},
    "cash_out [USD]": "cash_out_usd",
    "discount_factor": "discount_factor",
    "cash_out_discounted [USD]": "cash_out_discounted_usd",
    "budget [USD]": "budget_usd",
    "budgeted_spend [USD]": "budgeted_spend_usd",
    "headroom [USD]": "headroom_usd",
}


def _cash_row(quarter: str, kind: str, scenario: str | None, probability: float,
              values: dict[str, float], note: str | None) -> dict[str, Any]:
    """A Cash row; an infinite budget (no budget) and its headroom as empty cells."""
    row: dict[str, Any] = {"quarter": quarter, "kind": kind, "scenario": scenario,
                           "probability": probability}
    row.update({column: _finite(value) for column, value in values.items()})
    if not math.isfinite(values["budget [USD]"]):
        note = f"{note}; {NO_BUDGET}" if note else NO_BUDGET
    row["note"] = note
    return row


def cash_rows(plan: Plan) -> list[dict[str, Any]]:
    """Per quarter (in plan order): the probability-weighted mean of every plan_cash figure
    (kind `expected`, probability = the sum), then one row per scenario (kind `scenario`)."""
    cash = plan.cash
    rows: list[dict[str, Any]] = []
    for quarter in dict.fromkeys(cash["quarter"].astype(str)):
        block = cash[cash["quarter"].astype(str) == quarter]
        p = block["probability"].to_numpy(dtype=float)
        mean = {column: float(np.average(block[source].to_numpy(dtype=float), weights=p))
                for column, source in CASH_COLUMNS.items()}
        rows.append(_cash_row(quarter, "expected", None, float(p.sum()), mean, EXPECTED_CASH))
        for r in block.to_dict("records"):
            values = {column: float(r[source]) for column, source in CASH_COLUMNS.items()}
            rows.append(_cash_row(quarter, "scenario", str(r["scenario"]),
                                  float(r["probability"]), values, None))
    return rows or [{"note": NO_CASH}]


# --- Prices -------------------------------------------------------------------------------------


def _index(row: dict[str, Any]) -> str | None:
    """index_1 and index_2 of a limit (quarter; vendor, quarter), joined."""
    return ", ".join(i for i in (_text(row["index_1"]), _text(row["index_2"])) if i) or None


def _dual_note(row: dict[str, Any]) -> str:
    """What a binding row's price and interval mean beyond the convention."""
    parts = ["binding"]
    if bool(row["degenerate"]):
        parts.append("degenerate: the price may differ each way")
    if float(row["valid_from"]) == -math.inf:
        parts.append("valid_from empty: holds for any smaller limit")
    if float(row["valid_to"]) == math.inf:
        parts.append("valid_to empty: holds for any larger limit")
    return "; ".join(parts)


def _dual_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "dual", "family": row["family"], "limit": row["limit"],
            "index": _index(row), "scenario": _text(row["scenario"]), "unit": row["unit"],
            "limit_value": _finite(row["limit_value"]),
            "shadow_price [USD per unit]": _finite(row["shadow_price"]),
            "valid_from": _finite(row["valid_from"]), "valid_to": _finite(row["valid_to"]),
            "degenerate": bool(row["degenerate"]), "note": _dual_note(row)}


def _degenerate_note(rows: pd.DataFrame) -> str:
    """One note naming the limits that do not bind but whose zero price is degenerate."""
    names = []
    for r in rows.head(DEGENERATE_LISTED).to_dict("records"):
        scenario = _text(r["scenario"])
        names.append(" ".join(filter(None, [str(r["family"]), _index(r)]))
                     + (f" ({scenario})" if scenario else ""))
    more = len(rows) - DEGENERATE_LISTED
    listed = "; ".join(names) + (f"; and {more} more" if more > 0 else "")
    return (f"Not binding, but degenerate (price 0 here, it may differ each way; "
            f"plan_shadow_prices has them, --reoptimize-prices prices them): {listed}")


def _dual_rows(plan: Plan) -> list[dict[str, Any]]:
    """The binding rows of plan_shadow_prices, in its order; a note row when prices were not
    computed or none binds, and one naming the degenerate limits that do not bind."""
    prices = plan.shadow_prices
    if plan.optimization.get("analyses") == "none":
        return [{"kind": "dual", "note": NOT_COMPUTED}]
    if prices.empty:
        return [{"kind": "dual", "note": NO_LIMIT_ROWS}]
    binding = prices["binding"].astype(bool)
    rows = [_dual_row(r) for r in prices[binding].to_dict("records")]
    if not rows:
        rows.append({"kind": "dual", "note": NONE_BINDS})
    degenerate = prices[~binding & prices["degenerate"].astype(bool)]
    if len(degenerate):
        rows.append({"kind": "dual", "note": _degenerate_note(degenerate)})
    return rows


def _reoptimized_note(row: dict[str, Any]) -> str:
    """The re-solve's meaning, then plan_limit_prices' own note (how much of a change the MIP
    gap can hide, or infeasible one way)."""
    own = _text(row.get("note"))
    return f"{REOPTIMIZED_NOTE}; {own}" if own else REOPTIMIZED_NOTE


def _reoptimized_rows(plan: Plan) -> list[dict[str, Any]]:
    """Every plan_limit_prices row; one note row when they were not computed or none is tight."""
    limits = plan.limit_prices
    if limits is None:
        return [{"kind": "re-optimized", "note": NOT_REOPTIMIZED}]
    if limits.empty:
        return [{"kind": "re-optimized", "note": NOTHING_TIGHT}]
    return [{"kind": "re-optimized", "family": r["family"], "limit": r["limit"],
             "index": _index(r), "unit": r["unit"], "limit_value": _finite(r["limit_value"]),
             "step": _finite(r["step"]),
             "change_per_unit_up [USD per unit]": _finite(r["change_per_unit_up"]),
             "change_per_unit_down [USD per unit]": _finite(r["change_per_unit_down"]),
             "note": _reoptimized_note(r)} for r in limits.to_dict("records")]


def price_rows(plan: Plan) -> list[dict[str, Any]]:
    """The sign convention (kind `convention`, first), the binding duals (kind `dual`), then
    the re-optimized prices (kind `re-optimized`)."""
    convention = plan.optimization.get("shadow_price_convention") or CONVENTION
    return [{"kind": "convention", "note": convention}, *_dual_rows(plan),
            *_reoptimized_rows(plan)]
