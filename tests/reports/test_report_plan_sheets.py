"""Buy, Contingent, Cash, Prices and the plan_inputs rows of Assumptions, built from small plan
tables written here (no solver, no subprocess): the quick loop's check of those sheets, of
their note rows, of infinite numbers (no budget, unbounded validity) becoming empty cells, and
of the workbook's number formats by row unit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planner.reports.folder import OutputFolder, Plan
from planner.reports.tables import (
    SHEET_COLUMNS,
    assumptions_sheet,
    buy_sheet,
    cash_sheet,
    contingent_sheet,
    prices_sheet,
)
from planner.reports.workbook import write_workbook

INF = math.inf
CONVENTION = "shadow_price: per unit increase of the limit (test)."
BUY = pd.DataFrame({
    "sku": ["H800", "Ascend-910C"], "vendor": ["Nvidia", "Huawei"],
    "order_quarter": ["2027Q1", "2027Q2"], "delivery_quarter": ["2027Q2", "2027Q4"],
    "nodes": [250, 63], "unit_price_usd": [278400.0, 301200.0],
    "cost_usd": [250 * 278400.0, 63 * 301200.0]})
ORDERS = pd.DataFrame({"sku": ["H800", "H800", "Ascend-910C"],
                       "period": ["2027Q1", "2027Q2", "2027Q2"], "nodes": [250.0, 0.0, 63.0]})
CONTINGENT = pd.DataFrame({
    "if": ["no block by 2027Q3", "Nvidia blocked (nodes, parts/RMA) from 2027Q3",
           "Nvidia blocked (nodes, parts/RMA) from 2027Q3"],
    "quarter": ["2027Q3", "2027Q3", "2028Q1"], "sku": ["H800", "Ascend-910C", "Ascend-910C"],
    "vendor": ["Nvidia", "Huawei", "Huawei"], "nodes": [3, 10, 4],
    "unit_price_usd": [348000.0, 376500.0, 376500.0],
    "cost_usd": [3 * 348000.0, 10 * 376500.0, 4 * 376500.0], "probability": [0.6, 0.4, 0.4],
    "scenarios": ["no-block", "block", "block"], "tree_node": ["no-block", "block", "block"]})
SHADOW = pd.DataFrame({
    "family": ["budget_period", "power_cap", "supply_cap", "budget_total"],
    "limit": ["budget_usd", "power_cap_mw", "supply_nodes", "total_budget_usd"],
    "unit": ["USD", "MW", "node", "USD"], "index_1": ["2027Q1", "2028Q3", "Nvidia", ""],
    "index_2": ["", "", "2027Q1", ""], "scenario": ["block", "block", None, "no-block"],
    "limit_value": [9e7, 24.0, 250.0, 6e8], "shadow_price": [-0.25, -9.6e6, 0.0, -0.01],
    "valid_from": [8.9e7, 18.5, 250.0, -INF], "valid_to": [INF, 24.003, INF, 7e8],
    "degenerate": [False, False, True, True], "binding": [True, True, False, True]})
LIMITS = pd.DataFrame({
    "family": ["power_cap"], "limit": ["power_cap_mw"], "unit": ["MW"], "index_1": ["2028Q3"],
    "index_2": [""], "limit_value": [24.0], "step": [0.24], "objective_usd": [3.0e8],
    "objective_up_usd": [2.99e8], "objective_down_usd": [3.05e8],
    "change_per_unit_up": [-1.2e5], "change_per_unit_down": [-1.2e7], "mip_rel_gap": [1e-6],
    "note": ["changes below 1,259 USD per MW are within the MIP gap"]})
INPUTS = pd.DataFrame({
    "section": ["sku", "quarter", "quarter", "economics", "economics"],
    "parameter": ["node_price", "budget", "racks", "workload", "pue"],
    "index": ["H800", "2027Q1", "2027Q1", "", ""],
    "value": [278400.0, 9e7, np.nan, np.nan, INF],
    "value_text": ["", "", "no limit", "dense", ""],
    "unit": ["USD", "USD", "racks", "", "ratio"],
    "source": ["Reuters 2024", "s.yaml: procurement.budget_usd_per_quarter",
               "default: Racks available.", "s.yaml: procurement.workload", "default: PUE"]})


def cash_table() -> pd.DataFrame:
    """Two quarters x two scenarios; the second quarter has no budget (inf)."""
    rows = []
    for quarter, budget, factor in (("2027Q1", 9e7, 1.0), ("2027Q2", INF, 0.98)):
        for scenario, probability, recourse in (("no-block", 0.6, 0.0), ("block", 0.4, 1.5e6)):
            capex = 7e7 if quarter == "2027Q1" else 1.9e7
            cash = capex + recourse + 2e6
            rows.append({"quarter": quarter, "scenario": scenario, "probability": probability,
                         "capex_usd": capex, "recourse_usd": recourse, "stockpile_usd": 0.0,
                         "porting_usd": 0.0, "power_usd": 1.5e6, "rental_usd": 5e5,
                         "cash_out_usd": cash, "discount_factor": factor,
                         "cash_out_discounted_usd": cash * factor, "budget_usd": budget,
                         "budgeted_spend_usd": capex + recourse,
                         "headroom_usd": budget - capex - recourse})
    return pd.DataFrame(rows)


def folder(**tables: Any) -> OutputFolder:
    """An optimize-only folder of the tables given (the others empty)."""
    optimization = tables.pop("optimization", {"status": "optimal", "analyses": "prices",
                                               "shadow_price_convention": CONVENTION,
                                               "scenario": "t", "source": "s.yaml",
                                               "version": "0"})
    empty = pd.DataFrame()
    defaults: dict[str, Any] = {
        name: empty for name in ("orders", "recourse", "stockpile", "platforms", "fleet",
                                 "capacity", "costs", "buy", "contingent", "cash",
                                 "shadow_prices")}
    defaults.update(inputs=None, pareto=None)
    defaults.update(tables)
    return OutputFolder(Path("."), None, None, None, None, None,
                        Plan(optimization=optimization, **defaults))


NO_PLAN = OutputFolder(Path("."), {"scenario": "t"}, None, None, None, None, None)


def test_buy_rows_are_plan_buy_and_add_up_to_the_orders():
    sheet = buy_sheet(folder(buy=BUY, orders=ORDERS))
    assert list(sheet.columns) == SHEET_COLUMNS["Buy"]
    assert sheet["nodes"].sum() == BUY["nodes"].sum() == ORDERS["nodes"].sum()
    assert sheet["cost [USD]"].tolist() == BUY["cost_usd"].tolist()
    assert sheet["delivery_quarter"].tolist() == ["2027Q2", "2027Q4"]
    nothing = buy_sheet(folder(buy=BUY.iloc[:0]))
    assert len(nothing) == 1 and "nothing to buy" in nothing["note"].iloc[0]
    assert nothing["nodes"].isna().all()


def test_contingent_rows_keep_each_condition_with_its_probability():
    sheet = contingent_sheet(folder(contingent=CONTINGENT))
    assert len(sheet) == len(CONTINGENT)
    assert sheet["if"].tolist() == CONTINGENT["if"].tolist()
    assert sheet["probability"].tolist() == [0.6, 0.4, 0.4]
    assert sheet["note"].str.contains("never add rows of different conditions").all()
    none = contingent_sheet(folder(contingent=CONTINGENT.iloc[:0]))
    assert len(none) == 1 and none["note"].iloc[0].startswith("No contingent order")


def test_cash_expected_row_is_the_probability_weighted_mean_and_no_budget_is_empty():
    cash = cash_table()
    sheet = cash_sheet(folder(cash=cash))
    assert sheet["kind"].tolist() == ["expected", "scenario", "scenario"] * 2
    first = sheet.iloc[0]
    assert first["probability"] == pytest.approx(1.0)
    assert first["recourse [USD]"] == pytest.approx(0.4 * 1.5e6)
    assert first["headroom [USD]"] == pytest.approx(9e7 - 7e7 - 0.4 * 1.5e6)
    assert first["cash_out_discounted [USD]"] == pytest.approx(7e7 + 0.4 * 1.5e6 + 2e6)
    late = sheet[sheet["quarter"] == "2027Q2"]
    assert late["budget [USD]"].isna().all() and late["headroom [USD]"].isna().all()
    assert late["note"].str.contains("no budget").all()
    assert late["discount_factor"].tolist() == [0.98] * 3
    assert sheet.iloc[1:3]["scenario"].tolist() == ["no-block", "block"]


def test_prices_dual_rows_are_the_binding_rows_with_unbounded_ends_empty():
    sheet = prices_sheet(folder(shadow_prices=SHADOW, limit_prices=LIMITS))
    assert sheet["kind"].iloc[0] == "convention" and sheet["note"].iloc[0] == CONVENTION
    duals = sheet[(sheet["kind"] == "dual") & sheet["family"].notna()]
    binding = SHADOW[SHADOW["binding"]]
    assert duals["family"].tolist() == binding["family"].tolist()
    assert duals["shadow_price [USD per unit]"].tolist() == binding["shadow_price"].tolist()
    budget, power, total = duals.to_dict("records")
    assert budget["valid_from"] == 8.9e7 and np.isnan(budget["valid_to"])
    assert "any larger limit" in budget["note"]
    assert power["valid_to"] == 24.003 and power["note"] == "binding"
    assert np.isnan(total["valid_from"]) and pd.isna(total["index"])
    assert total["degenerate"] == "true" and "degenerate" in total["note"]
    (degenerate,) = sheet.loc[(sheet["kind"] == "dual") & sheet["family"].isna(), "note"]
    assert "supply_cap Nvidia, 2027Q1" in degenerate  # tight, price 0, not binding
    again = sheet[sheet["kind"] == "re-optimized"]
    assert again["change_per_unit_down [USD per unit]"].tolist() == [-1.2e7]
    assert again["note"].iloc[0].endswith("within the MIP gap")


@pytest.mark.parametrize(("tables", "dual", "again"), [
    ({"optimization": {"analyses": "none"}}, "not computed", "not computed"),
    ({"shadow_prices": SHADOW.assign(binding=False, degenerate=False),
      "limit_prices": LIMITS.iloc[:0]}, "No limit binds", "no limit shared"),
])
def test_prices_note_rows_say_why_there_is_no_price(tables, dual, again):
    sheet = prices_sheet(folder(**tables))
    assert sheet["kind"].tolist() == ["convention", "dual", "re-optimized"]
    assert sheet["note"].iloc[0]  # a convention even when optimization.json has none
    assert dual in sheet["note"].iloc[1] and again in sheet["note"].iloc[2]
    assert sheet.drop(columns=["kind", "note"]).isna().all(axis=None)


def test_sheets_of_a_folder_without_a_plan_hold_one_note():
    for build in (buy_sheet, contingent_sheet, cash_sheet, prices_sheet):
        sheet = build(NO_PLAN)
        assert len(sheet) == 1 and "simulation run" in sheet["note"].iloc[0]
        assert sheet.drop(columns="note").isna().all(axis=None)


def test_assumptions_list_plan_inputs_with_their_source():
    frame = assumptions_sheet(folder(inputs=INPUTS))
    assert frame["section"].tolist() == ["run"] * 3 + [f"optimizer {s}" for s in INPUTS["section"]]
    rows = frame.iloc[3:].to_dict("records")
    assert [r["path"] for r in rows] == ["node_price[H800]", "budget[2027Q1]", "racks[2027Q1]",
                                         "workload", "pue"]
    assert [r["source"] for r in rows] == INPUTS["source"].tolist()
    assert rows[0]["value"] == 278400 and pd.isna(rows[0]["value_text"])
    assert np.isnan(rows[2]["value"]) and rows[2]["value_text"] == "no limit"
    assert np.isnan(rows[4]["value"]) and rows[4]["value_text"] == "inf"  # no infinity in Excel
    fallback = assumptions_sheet(folder())  # a folder written before plan_inputs
    assert fallback["section"].tolist() == ["run"] * 3 + ["scenario.yaml"]


def test_workbook_writes_infinite_inputs_as_empty_cells_and_formats_by_row_unit(tmp_path):
    run = folder(buy=BUY, contingent=CONTINGENT, cash=cash_table(), shadow_prices=SHADOW,
                 limit_prices=LIMITS, inputs=INPUTS)
    sheets = {"Buy": buy_sheet(run), "Contingent": contingent_sheet(run), "Cash": cash_sheet(run),
              "Prices": prices_sheet(run), "Assumptions": assumptions_sheet(run)}
    write_workbook(tmp_path / "t.xlsx", sheets, "test")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    prices = book["Prices"]
    header = [c.value for c in prices[1]]
    price = header.index("shadow_price [USD per unit]") + 1
    formats = {prices.cell(r, header.index("unit") + 1).value: prices.cell(r, price).number_format
               for r in range(2, prices.max_row + 1) if prices.cell(r, price).value is not None}
    assert formats == {"USD": "0.0000", "MW": '"$"#,##0.00'}  # USD per USD, USD per MW
    cash = book["Cash"]
    header = [c.value for c in cash[1]]
    assert cash.cell(2, header.index("discount_factor") + 1).number_format == "0.0000"
    assert cash.cell(5, header.index("budget [USD]") + 1).value is None  # 2027Q2: no budget
    buy = book["Buy"]
    assert buy.cell(2, SHEET_COLUMNS["Buy"].index("nodes") + 1).number_format == "#,##0"
