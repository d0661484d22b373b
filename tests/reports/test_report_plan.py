"""Reports of the optimizer's files: an optimize-only folder (`planner optimize --pareto 3
--reoptimize-prices --analyses all`, no simulation) and a run folder of a scenario with a procurement section
(`planner run`: plan files and run files together). Golden sheet and column names, values read
back through LibreOffice and openpyxl equal optimization.json and the plan tables, twins equal
sheets, probability-weighted capacity quantiles, Buy, Contingent, Cash and Prices equal
plan_buy, plan_contingent, plan_cash, plan_shadow_prices and plan_limit_prices, Assumptions
list plan_inputs, native charts, a self-contained page."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from report_helpers import (
    GOLDEN,
    SIMULATION_PLOTS,
    assert_golden_columns,
    assert_libreoffice_sheets,
    assert_self_contained_page,
    assert_twins_equal_sheets,
    close,
    libreoffice_export,
    lo_number,
    norm,
    planner_optimize,
    planner_run,
    read_csv_dicts,
    sheet_dicts,
)

from planner.reports import write_reports

# every test here reads folders the command line writes in a subprocess
pytestmark = pytest.mark.slow

SCENARIO = "scenarios/procurement-2027.yaml"
OPT_PLOTS = ("plan_capacity", "orders", "pareto")
RUN_PLOTS = ("simulated_demand", *SIMULATION_PLOTS, "plan_capacity", "orders")  # against demand
COST_PARTS = ("capex", "stockpile", "recourse", "power", "rental", "unmet_penalty", "porting",
              "salvage")


@pytest.fixture(scope="module")
def opt_dir(tmp_path_factory) -> Path:
    out = planner_optimize(SCENARIO, tmp_path_factory.mktemp("plan") / "opt", "--pareto", "3",
                           "--reoptimize-prices", "--analyses", "all")
    write_reports(out)
    return out


@pytest.fixture(scope="module")
def both_dir(tmp_path_factory) -> Path:
    """`planner run` optimizes, simulates the plan and writes the reports itself."""
    return planner_run(SCENARIO, tmp_path_factory.mktemp("plan") / "both",
                       "--set", "horizon_days=120", "-r", "2")


@pytest.fixture(scope="module")
def folders(opt_dir, both_dir) -> dict[str, Path]:
    return {"opt": opt_dir, "both": both_dir}


@pytest.fixture(scope="module")
def values(folders) -> dict[str, openpyxl.Workbook]:
    return {name: openpyxl.load_workbook(folder / "report.xlsx", read_only=True, data_only=True)
            for name, folder in folders.items()}


@pytest.fixture(scope="module")
def exported(folders, tmp_path_factory) -> Path:
    """Every sheet of both workbooks, exported by one LibreOffice call as <name>-<Sheet>.csv."""
    return libreoffice_export({name: folder / "report.xlsx" for name, folder in folders.items()},
                              tmp_path_factory.mktemp("libreoffice-plan"))


def optimization(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "optimization.json").read_text())


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"plan_{name}.parquet")


def number(value: Any) -> float | None:
    """A cell as a float: openpyxl's numbers, LibreOffice's text (percent cells end in %)."""
    if isinstance(value, str):
        return lo_number(value)
    return None if value is None else float(value)


def check_values(folder: Path, sheets: Callable[[str], list[dict[str, Any]]]) -> None:
    """Risk, Plan (and Summary of an optimize-only folder) as read back equal
    optimization.json, plan_costs, plan_orders and plan_pareto, within 1e-9 relative."""
    opt, costs = optimization(folder), table(folder, "costs")
    risk = sheets("Risk")
    headline = {r["measure"]: r for r in risk if r["section"] == "headline"}
    for key in ("expected_cost_usd", "cvar_cost_usd", "cvar_shortfall_pflops_hours",
                "expected_shortfall_pflops_hours", "worst_case_shortfall_pflops_hours",
                "worst_case_shortfall_pflops", "objective", "gap", "cvar_alpha"):
        assert close(number(headline[key]["value"]), opt[key]), (key, headline[key]["value"])
    # VSS and EVPI with --analyses all only (planner run: prices)
    assert bool(opt["value_of_information"]) == (opt["analyses"] == "all")
    for key in ("rp_expected_cost_usd", "ws_expected_cost_usd", "evpi_usd", "vss_usd"):
        if opt["analyses"] != "all":
            break
        row, expected = headline[f"value_of_information.{key}"], opt["value_of_information"][key]
        assert close(number(row["value"]), expected), key
        assert (row["value_text"] == "not finite") == (expected is None), key
    assert headline["status"]["value_text"] == opt["status"]
    assert headline["primary_platform"]["value_text"] == opt["primary_platform"]
    scenarios = {r["scenario"]: r for r in risk if r["measure"] == "scenario_cost"}
    assert list(scenarios) == list(costs["scenario"])
    for c in costs.to_dict("records"):
        row = scenarios[c["scenario"]]
        assert close(number(row["probability"]), c["probability"])
        assert close(number(row["total_cost [USD]"]), c["total_usd"]), c["scenario"]
        assert close(number(row["value"]), c["total_usd"])
        assert close(number(row["shortfall [PFLOP/s-hours]"]), c["shortfall_pflops_hours"])
        for part in COST_PARTS:
            assert close(number(row[f"{part} [USD]"]), c[f"{part}_usd"]), (c["scenario"], part)
    (mean,) = [r for r in risk if r["measure"] == "expected_cost"]
    assert close(number(mean["total_cost [USD]"]), opt["expected_cost_usd"])
    front = [r for r in risk if r["section"] == "pareto"]
    if (folder / "plan_pareto.parquet").exists():
        pareto = table(folder, "pareto")
        assert len(front) == len(pareto) > 0
        for row, p in zip(front, pareto.to_dict("records"), strict=True):
            assert close(number(row["value"]), p["cvar_cost"])
            assert close(number(row["limit"]), p["cvar_cap"])
            assert close(number(row["expected_cost [USD]"]), p["expected_cost_usd"])
    else:
        assert not front
    orders = table(folder, "orders")
    orders = orders[orders["nodes"] > 0]
    plan = [r for r in sheets("Plan") if r["item"] == "order"]
    assert [(r["sku"], r["quarter"]) for r in plan] == list(zip(orders["sku"], orders["period"],
                                                               strict=True))
    for row, o in zip(plan, orders.to_dict("records"), strict=True):
        assert close(number(row["cost [USD]"]), o["capex_usd"])
        assert close(number(row["quantity"]), o["nodes"])
        assert close(number(row["effective_pflops [PFLOP/s]"]), o["effective_pflops"])
    if not (folder / "summary.json").exists():
        summary = {(r["metric"], r["key"] or None): r for r in sheets("Summary")}
        for key in ("expected_cost_usd", "cvar_cost_usd", "worst_case_shortfall_pflops"):
            assert close(number(summary[(key, None)]["mean"]), opt[key])
        assert close(number(summary[("value_of_information", "evpi_usd")]["mean"]),
                     opt["value_of_information"]["evpi_usd"])  # the opt folder: --analyses all


def test_every_report_file_is_written_and_only_the_plots_of_the_folder(folders):
    for name, plots in (("opt", OPT_PLOTS), ("both", RUN_PLOTS)):
        names = {p.name for p in folders[name].iterdir()}
        expected = {"report.xlsx", "report.html", *(f"plot_{p}.svg" for p in plots)}
        expected |= {f"report_{s}.{ext}" for s in GOLDEN for ext in ("csv", "parquet")}
        assert expected <= names, name
        assert {n for n in names if n.startswith("plot_")} == {f"plot_{p}.svg" for p in plots}
        assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]
    assert not (folders["opt"] / "summary.json").exists()
    assert (folders["both"] / "summary.json").exists()


def test_sheet_names_and_columns_equal_the_golden_list(folders, values):
    for name, folder in folders.items():
        assert_golden_columns(folder, values[name])


def test_workbooks_open_in_libreoffice_and_values_equal_the_optimizer_files(exported, folders):
    for name, folder in folders.items():
        assert_libreoffice_sheets(exported, name, folder)
        check_values(folder, lambda sheet, name=name: read_csv_dicts(exported / f"{name}-{sheet}.csv"))


def test_values_read_by_openpyxl_equal_the_optimizer_files(folders, values):
    for name, folder in folders.items():
        check_values(folder, lambda sheet, name=name: sheet_dicts(values[name], sheet))


def test_csv_and_parquet_twins_equal_the_sheets(folders, values):
    for name, folder in folders.items():
        assert_twins_equal_sheets(folder, values[name])


def _quantile(values: np.ndarray, probabilities: np.ndarray, q: float) -> float:
    """By the definition in docs/outputs.md: the least v with P(X <= v) >= q."""
    return min(v for v in values if probabilities[values <= v].sum() >= q - 1e-12)


def test_capacity_of_an_optimize_folder_is_probability_weighted_quantiles(opt_dir):
    capacity = pd.read_parquet(opt_dir / "report_Capacity.parquet")
    plan_capacity, fleet = table(opt_dir, "capacity"), table(opt_dir, "fleet")
    prob = dict(zip(plan_capacity["scenario"], plan_capacity["probability"], strict=False))
    total = capacity[capacity["sku"] == "all"].set_index("quarter")
    assert list(total.index) == list(dict.fromkeys(plan_capacity["period"]))
    assert (capacity["pool"] == "fleet").all() and capacity["day"].isna().all()
    for quarter, cells in plan_capacity.groupby("period"):
        row = total.loc[quarter]
        p = cells["scenario"].map(prob).to_numpy()
        own = cells["own_pflops"].to_numpy()
        for q, level in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
            assert row[f"effective_compute_{q} [PFLOP/s]"] == _quantile(own, p, level)
        assert row["demand [PFLOP/s]"] == cells["demand_pflops"].max()
        assert row["unmet_demand_p90 [PFLOP/s]"] == _quantile(cells["unmet_pflops"].to_numpy(), p, 0.9)
        assert row["date"] == pd.Timestamp(f"{quarter[:4]}-{3 * int(quarter[5]) - 2:02d}-01")
    # per SKU: the quantiles of that SKU's effective compute in plan_fleet
    h800 = capacity[capacity["sku"] == "H800"].set_index("quarter")
    for quarter, cells in fleet[fleet["sku"] == "H800"].groupby("period"):
        p = cells["scenario"].map(prob).to_numpy()
        values = cells["effective_pflops"].to_numpy()
        assert h800.loc[quarter, "effective_compute_p10 [PFLOP/s]"] == _quantile(values, p, 0.1)
        assert h800.loc[quarter, "healthy_nodes_p90 [nodes]"] == _quantile(
            cells["available_nodes"].to_numpy(), p, 0.9)
    # the block scenario (40 %) is the P10 once it bites, the no-block one (60 %) the P50
    late = total.loc["2028Q4"]
    assert late["effective_compute_p10 [PFLOP/s]"] < late["effective_compute_p50 [PFLOP/s]"]


def test_capacity_of_a_run_with_a_plan_is_the_simulation_only(both_dir):
    capacity = pd.read_parquet(both_dir / "report_Capacity.parquet")
    inputs = json.loads((both_dir / "inputs.json").read_text())
    pools = [p["name"] for p in inputs["scenario"]["cluster"]["pools"]]
    assert list(dict.fromkeys(capacity["pool"])) == pools and len(pools) == 2  # + ascend-910c
    assert capacity["demand [PFLOP/s]"].isna().all() and capacity["day"].notna().all()
    assert set(capacity["quarter"]) == {"2027Q1", "2027Q2"}  # 120 days


def test_plan_sheet_holds_orders_stockpile_platforms_and_recourse(opt_dir):
    plan = pd.read_parquet(opt_dir / "report_Plan.parquet")
    assert list(dict.fromkeys(plan["item"])) == ["order", "stockpile", "platform", "recourse"]
    stock = table(opt_dir, "stockpile")
    stock = stock[stock["units"] > 0]
    rows = plan[plan["item"] == "stockpile"]
    assert list(zip(rows["sku"], rows["part"], strict=True)) == list(zip(stock["sku"], stock["part"],
                                                                         strict=True))
    assert np.allclose(rows["cost [USD]"], stock["cost_usd"], rtol=1e-12)
    assert np.allclose(rows["unit_price [USD]"], stock["price_usd"], rtol=1e-12)
    platforms = table(opt_dir, "platforms")
    adopted = platforms[platforms["adopted"]]
    assert list(plan[plan["item"] == "platform"]["platform"]) == list(adopted["platform"])
    recourse = table(opt_dir, "recourse")
    rows = plan[plan["item"] == "recourse"]
    assert rows.groupby("scenario")["quantity"].sum().to_dict() == pytest.approx(
        recourse.groupby("scenario")["nodes"].sum().to_dict(), rel=1e-12)
    assert rows["cost [USD]"].isna().all()  # its cost is per scenario, in Risk
    orders = plan[plan["item"] == "order"]
    assert (orders["unit_price [USD]"] * orders["quantity"]).to_numpy() == pytest.approx(
        orders["cost [USD]"].to_numpy(), rel=1e-12)


def test_summary_of_an_optimize_folder_lists_every_figure_of_optimization_json(opt_dir, both_dir):
    opt = optimization(opt_dir)
    summary = pd.read_parquet(opt_dir / "report_Summary.parquet")
    assert summary["n"].isna().all()
    assert summary[["std", "p10", "p50", "p90", "ci95_low", "ci95_high"]].isna().all(axis=None)
    rows = {(m, k if isinstance(k, str) else None): v
            for m, k, v in zip(summary["metric"], summary["key"], summary["mean"], strict=True)}
    expected = {}
    for name, value in opt.items():
        if name in ("scenario", "source", "version"):
            continue
        if isinstance(value, list):  # notes: one text row, none when empty
            if value:
                expected[(name, "; ".join(str(v) for v in value))] = None
            continue
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, leaf in items:
            if isinstance(leaf, str | bool):
                path = f"{name}.{key}" if key else name
                expected[(path, (json.dumps(leaf) if isinstance(leaf, bool) else leaf) or None)] = None
            else:
                expected[(name, key)] = leaf
    assert list(rows) == list(expected)
    for key, value in expected.items():
        assert norm(rows[key]) == (None if value is None else float(value)), key
    units = {(m, k if isinstance(k, str) else None): u
             for m, k, u in zip(summary["metric"], summary["key"], summary["unit"], strict=True)}
    assert units[("expected_cost_usd", None)] == "USD"
    assert units[("cvar_shortfall_pflops_hours", None)] == "PFLOP/s-hours"
    assert units[("gap", None)] == "fraction"
    assert units[("timings_s", "total")] == "seconds"
    # a run folder keeps the simulation's summary
    run = pd.read_parquet(both_dir / "report_Summary.parquet")
    assert "ettr" in set(run["metric"]) and "expected_cost_usd" not in set(run["metric"])
    assert run["n"].notna().all()


def test_parts_show_the_stockpile_plan(opt_dir, both_dir):
    parts = pd.read_parquet(opt_dir / "report_Parts.parquet")
    stock = table(opt_dir, "stockpile")
    assert list(zip(parts["sku"], parts["part"], strict=True)) == list(zip(stock["sku"], stock["part"],
                                                                           strict=True))
    assert parts["stockpile_planned [parts]"].tolist() == stock["units"].tolist()
    assert parts["unit_price [USD]"].tolist() == stock["price_usd"].tolist()
    assert parts["stockout_mean [days]"].isna().all()
    run_parts = pd.read_parquet(both_dir / "report_Parts.parquet")
    run_parts = run_parts.set_index(run_parts["sku"] + "/" + run_parts["part"])
    planned = table(both_dir, "stockpile")
    bought = planned[planned["units"] > 0].iloc[0]  # the plan's choice of part may change
    assert run_parts.loc[f"{bought['sku']}/{bought['part']}",
                         "stockpile_planned [parts]"] == bought["units"] > 0
    assert run_parts["consumed_mean [parts]"].notna().all()


def _input_path(row: dict[str, Any]) -> str:
    index = row["index"] if isinstance(row["index"], str) else ""
    return f"{row['parameter']}[{index}]" if index else str(row["parameter"])


def test_assumptions_list_every_input_of_the_optimizer_with_its_source(folders):
    for name, folder in folders.items():
        frame = pd.read_parquet(folder / "report_Assumptions.parquet")
        inputs = table(folder, "inputs")
        rows = frame[frame["section"].str.startswith("optimizer ")]
        assert len(rows) == len(inputs) > 0, name
        assert rows.index[0] == len(frame) - len(rows), name  # after the run's own rows
        for got, want in zip(rows.to_dict("records"), inputs.to_dict("records"), strict=True):
            assert got["section"] == f"optimizer {want['section']}"
            assert got["path"] == _input_path(want)
            assert got["source"] == want["source"]
            if np.isfinite(want["value"]):
                assert got["value"] == want["value"], got["path"]
            else:
                assert np.isnan(got["value"]) and norm(got["value_text"]) == norm(want["value_text"])
    frame = pd.read_parquet(folders["opt"] / "report_Assumptions.parquet")
    assert list(frame["section"][:3]) == ["run"] * 3
    assert "scenario.yaml" not in set(frame["section"])  # the inputs replace the note
    by_path = frame.set_index("path")
    assert by_path.loc["node_price[H800]", "value"] == 278400
    assert by_path.loc["probability[nvidia-block-from-2027Q3]", "value"] == pytest.approx(0.4)


def test_assumptions_of_a_folder_without_plan_inputs_say_the_scenario_is_absent(opt_dir,
                                                                                tmp_path):
    for path in opt_dir.iterdir():
        if path.name.startswith(("plan_", "optimization")) and "plan_inputs" not in path.name:
            shutil.copy(path, tmp_path / path.name)
    write_reports(tmp_path, require_complete=False)  # a folder written before plan_inputs
    frame = pd.read_parquet(tmp_path / "report_Assumptions.parquet")
    assert list(frame["section"]) == ["run", "run", "run", "scenario.yaml"]
    assert list(frame["source"][:3]) == ["optimization.json"] * 3
    assert frame["value_text"].iloc[0] == "procurement-2027"
    note = frame["value_text"].iloc[-1]
    assert "No scenario.yaml" in note and "procurement-2027.yaml" in note


def _charts(folder: Path) -> list[str]:
    with zipfile.ZipFile(folder / "report.xlsx") as z:
        return [z.read(n).decode() for n in sorted(z.namelist())
                if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]


def test_native_charts_pareto_front_on_risk_and_capacity_band(folders):
    opt = _charts(folders["opt"])
    scatter = [c for c in opt if "<c:scatterChart>" in c]
    assert len(opt) == 2 and len(scatter) == 1
    pareto = table(folders["opt"], "pareto")
    risk = pd.read_parquet(folders["opt"] / "report_Risk.parquet")
    rows = risk.index[risk["section"] == "pareto"] + 2
    assert f"Risk!$F${rows.min()}:$F${rows.max()}" in scatter[0]  # CVaR on x
    assert f"Risk!$T${rows.min()}:$T${rows.max()}" in scatter[0]  # expected cost on y
    assert len(rows) == len(pareto)
    (band,) = [c for c in opt if c not in scatter]
    assert "<c:areaChart>" in band and "<c:dateAx>" in band and "demand" in band
    with zipfile.ZipFile(folders["opt"] / "report.xlsx") as z:
        assert "drawing" in z.read("xl/worksheets/_rels/sheet7.xml.rels").decode()  # Risk
    both = _charts(folders["both"])
    assert len(both) == 2  # one per simulated pool, no Pareto front without --pareto
    assert not [c for c in both if "<c:scatterChart>" in c]


def test_html_pages_are_self_contained_with_the_plan(folders):
    page = assert_self_contained_page(folders["opt"], OPT_PLOTS)
    for words in ("Procurement plan", "Cost-risk Pareto front", "Prices of the limits",
                  "What to buy now", "If a block happens", "Cash", "Re-optimized prices",
                  "shadow_price: change of the objective", "nvidia-block-from-2027Q3",
                  "Planned capacity"):
        assert words in page, words
    assert "Headline figures" not in page and "Spare parts" not in page  # no simulation
    page = assert_self_contained_page(folders["both"], RUN_PLOTS)
    for words in ("Headline figures", "Procurement plan", "Cost per scenario", "nvidia-block",
                  "What to buy now", "Prices of the limits"):
        assert words in page, words
    assert "Pareto" not in page and "Re-optimized prices" not in page


def test_without_a_pareto_front_its_rows_chart_and_stale_plot_go(opt_dir, tmp_path):
    for path in opt_dir.iterdir():
        if path.name.startswith(("plan_", "optimization", "plot_pareto")) \
                and not path.name.startswith("plan_pareto"):
            shutil.copy(path, tmp_path / path.name)
    assert (tmp_path / "plot_pareto.svg").exists()  # left by an earlier report
    write_reports(tmp_path, require_complete=False)  # a folder built by hand
    assert not (tmp_path / "plot_pareto.svg").exists()
    assert (tmp_path / "plot_orders.svg").exists()
    risk = pd.read_parquet(tmp_path / "report_Risk.parquet")
    assert "pareto" not in set(risk["section"])
    assert not [c for c in _charts(tmp_path) if "<c:scatterChart>" in c]


def test_buy_sheet_is_plan_buy_and_adds_up_to_the_first_stage_orders(folders):
    for name, folder in folders.items():
        sheet = pd.read_parquet(folder / "report_Buy.parquet")
        buy, orders = table(folder, "buy"), table(folder, "orders")
        assert len(sheet) == len(buy) > 0, name
        assert sheet["nodes"].sum() == buy["nodes"].sum()
        assert sheet["nodes"].sum() == pytest.approx(orders["nodes"].sum(), abs=1e-6)
        for column, source in (("sku", "sku"), ("vendor", "vendor"),
                               ("order_quarter", "order_quarter"),
                               ("delivery_quarter", "delivery_quarter"), ("nodes", "nodes"),
                               ("unit_price [USD]", "unit_price_usd"), ("cost [USD]", "cost_usd")):
            assert sheet[column].tolist() == buy[source].tolist(), (name, column)
        assert sheet["cost [USD]"].sum() == pytest.approx(
            orders["capex_usd"].sum(), rel=1e-9)  # whole nodes: the same capex


def test_contingent_sheet_has_one_row_per_plan_contingent_row(folders):
    for name, folder in folders.items():
        sheet = pd.read_parquet(folder / "report_Contingent.parquet")
        contingent = table(folder, "contingent")
        assert len(sheet) == len(contingent) > 0, name
        for column, source in (("if", "if"), ("quarter", "quarter"), ("sku", "sku"),
                               ("vendor", "vendor"), ("nodes", "nodes"),
                               ("unit_price [USD]", "unit_price_usd"), ("cost [USD]", "cost_usd"),
                               ("probability", "probability"), ("scenarios", "scenarios")):
            assert sheet[column].tolist() == contingent[source].tolist(), (name, column)
        assert sheet["note"].str.contains("never add rows of different conditions").all()


CASH = {"capex [USD]": "capex_usd", "recourse [USD]": "recourse_usd",
        "stockpile [USD]": "stockpile_usd", "porting [USD]": "porting_usd",
        "power [USD]": "power_usd", "rental [USD]": "rental_usd",
        "cash_out [USD]": "cash_out_usd", "discount_factor": "discount_factor",
        "cash_out_discounted [USD]": "cash_out_discounted_usd", "budget [USD]": "budget_usd",
        "budgeted_spend [USD]": "budgeted_spend_usd", "headroom [USD]": "headroom_usd"}


def test_cash_expected_rows_are_the_probability_weighted_mean(folders):
    for name, folder in folders.items():
        sheet = pd.read_parquet(folder / "report_Cash.parquet")
        cash = table(folder, "cash")
        quarters = list(dict.fromkeys(cash["quarter"]))
        assert list(sheet.loc[sheet["kind"] == "expected", "quarter"]) == quarters, name
        scenarios = sheet[sheet["kind"] == "scenario"]
        assert len(scenarios) == len(cash)
        for quarter in quarters:
            block = cash[cash["quarter"] == quarter]
            rows = sheet[sheet["quarter"] == quarter]
            assert list(rows["kind"]) == ["expected"] + ["scenario"] * len(block)
            expected = rows.iloc[0]
            p = block["probability"].to_numpy()
            assert expected["probability"] == pytest.approx(p.sum(), rel=1e-12)
            for column, source in CASH.items():
                values = block[source].to_numpy(dtype=float)
                if np.isinf(values).any():  # no budget: empty
                    assert np.isnan(expected[column]), (quarter, column)
                else:
                    assert expected[column] == pytest.approx(float(p @ values) / p.sum(),
                                                             rel=1e-12, abs=1e-6), (quarter, column)
            for got, want in zip(rows.iloc[1:].to_dict("records"), block.to_dict("records"),
                                 strict=True):
                assert got["scenario"] == want["scenario"]
                assert got["cash_out [USD]"] == pytest.approx(want["cash_out_usd"], abs=1e-9)


def _same(got: float, want: float) -> bool:
    """A sheet number against its plan table's: an infinite one is an empty cell."""
    return np.isnan(got) if not np.isfinite(want) else got == pytest.approx(want, rel=1e-12)


def test_prices_dual_rows_are_the_binding_shadow_prices_with_their_intervals(folders):
    for name, folder in folders.items():
        sheet = pd.read_parquet(folder / "report_Prices.parquet")
        assert sheet["kind"].iloc[0] == "convention"
        assert sheet["note"].iloc[0] == optimization(folder)["shadow_price_convention"]
        prices = table(folder, "shadow_prices")
        binding = prices[prices["binding"]]
        duals = sheet[(sheet["kind"] == "dual") & sheet["family"].notna()]
        assert len(duals) == len(binding) > 0, name
        for got, want in zip(duals.to_dict("records"), binding.to_dict("records"), strict=True):
            for column in ("family", "limit", "unit"):
                assert got[column] == want[column], column
            assert norm(got["scenario"]) == norm(want["scenario"])
            assert norm(got["index"]) == norm(", ".join(
                i for i in (want["index_1"], want["index_2"]) if isinstance(i, str) and i))
            for column, source in (("limit_value", "limit_value"),
                                   ("shadow_price [USD per unit]", "shadow_price"),
                                   ("valid_from", "valid_from"), ("valid_to", "valid_to")):
                assert _same(got[column], want[source]), (column, got[column], want[source])
            assert got["degenerate"] == ("true" if want["degenerate"] else "false")
        kinds = list(dict.fromkeys(sheet["kind"]))
        assert kinds == ["convention", "dual", "re-optimized"]
    limits = table(folders["opt"], "limit_prices")
    sheet = pd.read_parquet(folders["opt"] / "report_Prices.parquet")
    again = sheet[sheet["kind"] == "re-optimized"]
    assert len(again) == len(limits) > 0
    for column, source in (("step", "step"), ("limit_value", "limit_value"),
                           ("change_per_unit_up [USD per unit]", "change_per_unit_up"),
                           ("change_per_unit_down [USD per unit]", "change_per_unit_down")):
        assert again[column].tolist() == pytest.approx(limits[source].tolist(), rel=1e-12)
    sheet = pd.read_parquet(folders["both"] / "report_Prices.parquet")
    (note,) = sheet.loc[sheet["kind"] == "re-optimized", "note"]
    assert "--reoptimize-prices" in note  # not computed by planner run


def test_prices_workbook_formats_follow_the_row_unit(opt_dir):
    ws = openpyxl.load_workbook(opt_dir / "report.xlsx")["Prices"]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in header}
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, col["unit"]).value == "MW":
            assert ws.cell(row, col["limit_value"]).number_format == "#,##0.0###"
            price = ws.cell(row, col["shadow_price [USD per unit]"])
            if price.value is not None:
                assert price.number_format == '"$"#,##0.00'


def test_a_run_of_a_plan_draws_its_simulated_compute_against_demand(folders):
    """The run's report draws the simulated fleet (healthy nodes x the optimizer's effective
    PFLOP/s per node, summed over pools) against each quarter's demand, from zero."""
    from planner.reports import plots
    from planner.reports.folder import read_folder

    run = read_folder(folders["both"])
    fig = plots.simulated_demand_figure(run, run.plan)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    capacity = run.plan.capacity
    demand = capacity.drop_duplicates("period")["demand_pflops"].to_numpy(dtype=float)
    assert list(lines["demand"].get_ydata()[:-1]) == pytest.approx(list(demand))
    per_node = run.plan.pflops_per_node()
    ts = run.timeseries
    total = sum(ts[f"{p.name}.healthy_nodes"] * per_node[p.sku] for p in run.pools
                if p.sku in per_node)
    median = total.groupby(ts["day"]).median().to_numpy()
    assert lines["simulated own compute P50"].get_ydata() == pytest.approx(median)
    assert ax.get_ylim()[0] == 0
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"demand", "planned own compute P50 (optimizer)",
            "demand above simulated P50"} <= labels
