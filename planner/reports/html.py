"""report.html: one self-contained page (inline CSS, PNG figures as base64 data URIs, no link
to anything outside the file)."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import pandas as pd

from planner.reports.folder import OutputFolder
from planner.reports.plan_sheets import REOPTIMIZED_NOTE
from planner.reports.runway import percentile_text
from planner.reports.study_labels import parameter_labeler
from planner.reports.units import (
    counted,
    metric_label,
    nearly_whole,
    shadow_price_unit,
    show,
    study_metric_label,
    study_metric_unit,
)
from planner.reports.warnings import report_warnings
from planner.reports.workbook import workbook_sheets

# Summary rows shown in their own figure or table rather than among the headline figures
_NOT_HEADLINE = {"interruptions.by_category", "stockout_days", "parts_consumed",
                 "parts_cannibalized", "runway.days", "runway.censored"}

_CSS = """
.warnings { border: 2px solid #D62728; background: #FFF1F0; padding: 0.5em 1em; margin: 1em 0; }
.warnings ul { margin: 0.3em 0 0 0; }
nav.toc { background: #F6F8FA; padding: 0.5em 1em; margin: 1em 0; font-size: 0.95em; }
nav.toc ol { margin: 0.3em 0 0 0; columns: 2; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1060px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.02em; margin-top: 1.3em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f3f6fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
div.wide { overflow-x: auto; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
footer { margin-top: 2.5em; font-size: 0.8em; color: #777; }
"""


def text(value: Any) -> str:
    """Escaped text; `://` is written as an entity so the page never holds a literal URL."""
    return html.escape("" if value is None else str(value)).replace("://", ":&#47;&#47;")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def data_uri(image: bytes) -> str:
    """An SVG or PNG image as a data: URI (an <img> isolates each SVG's ids from the page's)."""
    kind = "png" if image.startswith(PNG_SIGNATURE) else "svg+xml"
    return f"data:image/{kind};base64," + base64.b64encode(image).decode("ascii")


def _table(head: list[str], rows: list[list[tuple[str, bool]]]) -> str:
    """A table; each cell is (already escaped html, is_number)."""
    out = ['<div class="wide"><table><thead><tr>', *(f"<th>{text(h)}</th>" for h in head),
           "</tr></thead><tbody>"]
    for row in rows:
        cells = (f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in row)
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def headline_table(summary: pd.DataFrame) -> str:
    """Headline metrics: mean, P10, P50, P90 and the 95 % CI, each in its unit."""
    rows = []
    for r in summary.itertuples(index=False):
        if r.metric in _NOT_HEADLINE:
            continue
        unit = "" if _missing(r.unit) else r.unit
        ci = ("–" if _missing(r.ci95_low) else
              f"{show(r.ci95_low, unit)} to {show(r.ci95_high, unit)}")
        rows.append([(text(metric_label(r.metric, None if _missing(r.key) else r.key)), False),
                     (text("" if _missing(r.key) else r.key), False),
                     (text(unit), False),
                     *((text(show(getattr(r, s), unit)), True) for s in ("mean", "p10", "p50", "p90")),
                     (text(ci), True), (text(r.n), True)])
    return _table(["metric", "key", "unit", "mean", "P10", "P50", "P90", "95 % CI of the mean", "n"],
                  rows)


def parts_table(parts: pd.DataFrame) -> str:
    """Parts that stocked out or were consumed: stock-out days, consumption and final stock."""
    columns = [("unit_price [USD]", "USD"), ("stockout_mean [days]", "days"),
               ("stockout_p50 [days]", "days"), ("stockout_p90 [days]", "days"),
               ("consumed_mean [parts]", "parts"), ("final_stock_p50 [parts]", "parts")]
    rows = []
    for r in parts.to_dict("records"):
        if not (r["consumed_mean [parts]"] or r["stockout_mean [days]"]):
            continue
        rows.append([(text(r["sku"]), False), (text(r["part"]), False),
                     *((text(show(r[c], unit)), True) for c, unit in columns)])
    return _table(["sku", "part", "unit price", "stock-out days mean", "P50", "P90",
                   "parts consumed mean", "final stock P50"], rows)


def shocks_table(run: OutputFolder) -> str:
    """Per supply shock: how many replications it hit within the horizon, and its start dates
    across them."""
    shocks = run.shocks_within_horizon()
    if shocks.empty:
        return "<p>No supply shock started within the horizon in any replication.</p>"
    total = run.replications
    rows = []
    for name, group in shocks.groupby("shock", sort=False):
        starts = group["start_day"].astype(float)

        def date(day: float) -> str:
            return f"{run.start_date + pd.Timedelta(days=day):%Y-%m-%d}"

        permanent = int(group["permanent"].astype(bool).sum())
        rows.append([(text(name), False), (text(group["vendor"].iloc[0]), False),
                     (text(f"{len(group)} of {total}"), True), (text(date(starts.min())), True),
                     (text(date(starts.median())), True), (text(date(starts.max())), True),
                     (text(f"{permanent} of {len(group)}"), True)])
    return _table(["shock", "vendor", "replications hit (within the horizon)", "earliest start",
                   "median start",
                   "latest start", "permanent"], rows)


def runway_table(runway: pd.DataFrame, study: bool = False) -> str:
    """The Runway sheet's rows: per pool (and case, in a study) and threshold, the replications
    with a block, the share censored and the runway's P10/P50/P90 (`> N` where censored); the
    sheet's note when it has no runway row."""
    rows = runway[runway["pool"].notna()]
    if rows.empty:
        return _note_rows(runway)
    out = []
    for r in rows.to_dict("records"):
        cells = [_cell(r["case"]), _cell(r["parameters"])] if study else []
        cells += [_cell(r["pool"]), _cell(r["threshold"], "fraction"), _cell(r["n"], "integer"),
                  _cell(r["censored_share"], "fraction")]
        cells += [("", False) if _missing(r[f"{q} [days]"]) else
                  (text(percentile_text(r[f"{q} [days]"], r[f"{q}_censored"] == "true")), True)
                  for q in ("p10", "p50", "p90")]
        out.append(cells)
    head = ["case", "parameters"] if study else []
    head += ["pool", "availability below", "replications with a block", "censored", "P10 days",
             "P50 days", "P90 days"]
    return _table(head, out)


RUNWAY_TEXT = ("Days from the start of a block of the pool's spare parts (orders, deliveries and "
               "RMA of the parts' vendor) until the pool's node availability (healthy / "
               "installed nodes, sampled every timeseries step) is first below the threshold. "
               "Percentiles over the replications in which the block began within the run, "
               "by Kaplan-Meier: a replication that did not see the threshold crossed by the "
               "end of the run (or of the block) is censored (its runway is more than the days "
               'watched), and a percentile not reached is shown as "> N", N the '
               "longest time watched.")


def _replications_text(count: object) -> str:
    return counted(count, "replication") if isinstance(count, int) else f"{text(count)} replications"


def _figure(image: bytes, alt: str, caption: str) -> str:
    return (f'<figure><img alt="{text(alt)}" src="{data_uri(image)}">'
            f"<figcaption>{text(caption)}</figcaption></figure>")


def _cell(value: Any, unit: str = "") -> tuple[str, bool]:
    """A table cell: numbers shown in their unit (right-aligned), text escaped, missing empty."""
    if _missing(value) or value is pd.NA:
        return "", False
    if isinstance(value, str):
        return text(value), False
    return text(show(float(value), unit)), True


def plan_table(plan: pd.DataFrame) -> str:
    """Stockpile and platform rows of the Plan sheet (orders are in the Buy table, recourse in
    the contingent one); empty when the plan buys neither."""
    rows = []
    for r in plan[plan["item"].isin(["stockpile", "platform"])].to_dict("records"):
        quantity_unit = "integer" if nearly_whole(r["quantity"]) else ""
        rows.append([_cell(r["item"]), _cell(r["sku"]), _cell(r["platform"]), _cell(r["part"]),
                     _cell(r["quantity"], quantity_unit), _cell(r["unit_price [USD]"], "USD"),
                     _cell(r["cost [USD]"], "USD"), _cell(r["note"])])
    if not rows:
        return ""
    return _table(["item", "sku", "platform", "part", "quantity", "unit price", "cost", "note"],
                  rows)


def _note_rows(frame: pd.DataFrame) -> str:
    """The notes of a sheet's note rows (no number, only a note) as paragraphs."""
    return "".join(f"<p>{text(n)}</p>" for n in frame["note"].dropna())


def buy_table(buy: pd.DataFrame) -> str:
    """What to order now: the Buy sheet's orders, and their total (nodes and cost)."""
    orders = buy[buy["nodes"].notna()]
    if orders.empty:
        return _note_rows(buy)
    rows = [[_cell(r["order_quarter"]), _cell(r["delivery_quarter"]), _cell(r["sku"]),
             _cell(r["vendor"]), _cell(r["nodes"], "integer"), _cell(r["unit_price [USD]"], "USD"),
             _cell(r["cost [USD]"], "USD")] for r in orders.to_dict("records")]
    rows.append([("<b>total</b>", False), _cell(None), _cell(None), _cell(None),
                 _cell(orders["nodes"].sum(), "integer"), _cell(None),
                 _cell(orders["cost [USD]"].sum(), "USD")])
    return ("<p>First-stage orders in whole nodes: placed whatever the sanction outcome.</p>"
            + _table(["order in", "delivered in", "sku", "vendor", "nodes", "unit price",
                      "cost"], rows))


def contingent_table(contingent: pd.DataFrame) -> str:
    """Contingent orders grouped by their condition (its probability beside it), with the cost
    of each group: the groups are alternatives, never added together."""
    orders = contingent[contingent["nodes"].notna()]
    if orders.empty:
        return _note_rows(contingent)
    head = ["if", "probability", "quarter", "sku", "vendor", "nodes", "unit price", "cost"]
    out = ['<div class="wide"><table><thead><tr>', *(f"<th>{text(h)}</th>" for h in head),
           "</tr></thead><tbody>"]
    for condition, group in orders.groupby("if", sort=False):
        records = group.to_dict("records")
        span = len(records) + (len(records) > 1)
        for i, r in enumerate(records):
            first = (f'<td rowspan="{span}">{text(condition)}</td>'
                     f'<td class="num" rowspan="{span}">'
                     f'{text(show(r["probability"], "fraction"))}</td>') if i == 0 else ""
            cells = [_cell(r["quarter"]), _cell(r["sku"]), _cell(r["vendor"]),
                     _cell(r["nodes"], "integer"), _cell(r["unit_price [USD]"], "USD"),
                     _cell(r["cost [USD]"], "USD")]
            out.append("<tr>" + first + "".join(_td(c) for c in cells) + "</tr>")
        if len(records) > 1:
            out.append('<tr><td colspan="5">all of it, if this holds</td>'
                       + _td(_cell(group["cost [USD]"].sum(), "USD")) + "</tr>")
    out.append("</tbody></table></div>")
    return ("<p>Recourse orders, at the recourse premium, placed only if their condition holds "
            "by that quarter. The conditions are alternatives: never add orders of different "
            "conditions.</p>" + "".join(out))


def _td(cell: tuple[str, bool]) -> str:
    html_text, number = cell
    return f'<td class="num">{html_text}</td>' if number else f"<td>{html_text}</td>"


def cash_table(cash: pd.DataFrame) -> str:
    """Per quarter: expected cash out and budgeted spend, the budget, the expected headroom and
    the lowest headroom of any scenario (and which)."""
    expected = cash[cash["kind"] == "expected"]
    if expected.empty:
        return _note_rows(cash)
    scenarios = cash[cash["kind"] == "scenario"]
    rows = []
    for r in expected.to_dict("records"):
        block = scenarios[scenarios["quarter"] == r["quarter"]]
        lowest = block.loc[block["headroom [USD]"].idxmin()] if block["headroom [USD]"].notna(
            ).any() else None
        worst = "–" if lowest is None else show(lowest["headroom [USD]"], "USD millions")
        if lowest is not None and block["headroom [USD]"].nunique() > 1:
            worst += f" ({lowest['scenario']})"  # named only where the scenarios differ
        rows.append([_cell(r["quarter"]), _cell(r["cash_out [USD]"], "USD millions"),
                     _cell(r["budgeted_spend [USD]"], "USD millions"),
                     (text("no budget"), False) if _missing(r["budget [USD]"])
                     else _cell(r["budget [USD]"], "USD millions"),
                     _cell(r["headroom [USD]"], "USD millions"), (text(worst), True)])
    return ("<p>USD millions, nominal. Cash out: orders, recourse, stockpile, porting, power and "
            "rental; the budget limits the budgeted spend. Expected: probability-weighted mean "
            "over the scenarios; every scenario is in report.xlsx, sheet Cash.</p>"
            + _table(["quarter", "expected cash out", "expected budgeted spend", "budget",
                      "expected headroom", "lowest headroom (scenario, where they differ)"],
                     rows))


def _interval(r: dict[str, Any]) -> str:
    """[valid_from, valid_to] of a dual row in the limit's unit; an empty end is unbounded."""
    unit = "" if _missing(r["unit"]) else str(r["unit"])
    low = "–∞" if _missing(r["valid_from"]) else show(r["valid_from"], unit)
    high = "+∞" if _missing(r["valid_to"]) else show(r["valid_to"], unit)
    return f"{low} to {high}"


def prices_table(prices: pd.DataFrame) -> str:
    """The sign convention, then the binding shadow prices with the interval of the limit over
    which each holds and a degenerate mark; the Prices sheet's notes of the duals."""
    convention = prices.loc[prices["kind"] == "convention", "note"].dropna()
    duals = prices[prices["kind"] == "dual"]
    rows = []
    for r in duals[duals["family"].notna()].to_dict("records"):
        unit = "" if _missing(r["unit"]) else str(r["unit"])
        per = shadow_price_unit(unit)
        rows.append([_cell(r["family"]), _cell(r["index"]), _cell(r["scenario"]),
                     _cell(r["limit_value"], unit), _cell(unit),
                     _cell(r["shadow_price [USD per unit]"], per), _cell(per),
                     (text(_interval(r)), True),
                     _cell("degenerate" if r["degenerate"] == "true" else "")])
    parts = [f'<p class="meta">{text(convention.iloc[0])}</p>' if len(convention) else ""]
    if rows:
        parts.append(_table(["limit", "index", "scenario", "limit value", "unit",
                             "shadow price", "per", "valid for the limit from", "degenerate?"],
                            rows))
    parts.append(_note_rows(duals[duals["family"].isna()]))
    return "".join(parts)


def reoptimized_table(prices: pd.DataFrame) -> str:
    """Re-optimized prices of the limits shared by the scenarios: the change of the objective
    per unit, above and below the limit; or the note saying why there are none."""
    rows = prices[prices["kind"] == "re-optimized"]
    priced = rows[rows["family"].notna()]
    if priced.empty:
        return _note_rows(rows)
    out = []
    for r in priced.to_dict("records"):
        unit = "" if _missing(r["unit"]) else str(r["unit"])
        per = shadow_price_unit(unit)
        noise = str(r["note"] or "").removeprefix(REOPTIMIZED_NOTE).removeprefix("; ")
        out.append([_cell(r["family"]), _cell(r["index"]), _cell(r["limit_value"], unit),
                    _cell(r["step"], unit), _cell(unit),
                    _cell(r["change_per_unit_up [USD per unit]"], per),
                    _cell(r["change_per_unit_down [USD per unit]"], per), _cell(noise)])
    return ("<p>Each limit shared by the scenarios moved up and down by the step in every "
            "scenario and the whole problem re-solved: the change of the objective per unit "
            "increase of the limit, above it and below it (same sign convention).</p>"
            + _table(["limit", "index", "limit value", "step", "unit", "up: per unit",
                      "down: per unit", "note"], out))


def risk_headline_table(risk: pd.DataFrame) -> str:
    """The headline rows of Risk: each measure with its value (or text) and what it means."""
    rows = []
    for r in risk[risk["section"] == "headline"].to_dict("records"):
        unit = "" if _missing(r["unit"]) else r["unit"]
        value = r["value_text"] if not _missing(r["value_text"]) else r["value"]
        rows.append([_cell(metric_label(f"plan.{r['measure']}")), _cell(value, unit),
                     _cell(unit), _cell(r["limit"], unit), _cell(r["note"])])
    return _table(["measure", "value", "unit", "limit", "what"], rows)


def scenario_cost_table(risk: pd.DataFrame) -> str:
    """Cost components and shortfall per scenario, and their probability-weighted mean."""
    columns = [c for c in risk.columns if c.endswith(" [USD]") and c != "expected_cost [USD]"]
    rows = []
    for r in risk[risk["section"] == "scenario"].to_dict("records"):
        name = r["scenario"] if not _missing(r["scenario"]) else "expected (mean)"
        rows.append([_cell(name), _cell(r["probability"], "fraction"),
                     *(_cell(r[c], "USD millions") for c in columns),
                     _cell(r["shortfall [PFLOP/s-hours]"], "PFLOP/s-hours")])
    return _table(["scenario", "probability", *(c.removesuffix(" [USD]").replace("_", " ")
                                                for c in columns),
                   "shortfall PFLOP/s-h"], rows)


def pareto_table(risk: pd.DataFrame) -> str:
    """The points of the Pareto front."""
    rows = [[_cell(r["index"]), _cell(r["limit"], r["unit"]), _cell(r["value"], r["unit"]),
             _cell(r["expected_cost [USD]"], "USD"), _cell(r["value_text"]), _cell(r["note"])]
            for r in risk[risk["section"] == "pareto"].to_dict("records")]
    return _table(["point", "CVaR cap", "CVaR", "expected cost", "status", "note"], rows)


def _plan_sections(run: OutputFolder, sheets: dict[str, pd.DataFrame],
                   images: dict[str, bytes]) -> list[str]:
    """The optimizer's part of the page: what to buy now, stockpile and platforms, what to
    buy if a block happens, planned capacity (optimize-only), cash, cost and risk, prices."""
    plan, risk = sheets["Plan"], sheets["Risk"]
    opt = run.plan.optimization
    parts = ["<h2>Procurement plan</h2>"]
    if run.simulated:
        parts.append("<p>The optimizer chose this plan over its sanction scenarios; the simulation "
                     "above runs its first-stage orders (as deliveries) and stockpile. Recourse "
                     "orders depend on the scenario and are not simulated. The optimizer's "
                     "effective compute (report.xlsx, sheet Plan) is BF16 dense x the SKU's "
                     "utilization; the simulated capacity above is BF16 dense.</p>")
    parts += [_figure(images["orders"], "orders per quarter by vendor",
                      "Nodes ordered now, per order quarter, stacked by vendor; above each bar: "
                      "nodes and capital expenditure."),
              "<h3>What to buy now</h3>", buy_table(sheets["Buy"])]
    extras = plan_table(plan)
    if extras:
        parts += ["<h3>Stockpile and platforms</h3>", extras]
    parts += ["<h3>If a block happens</h3>", contingent_table(sheets["Contingent"])]
    if "plan_capacity" in images:
        parts += ["<h2>Planned capacity</h2>",
                  _figure(images["plan_capacity"], "planned effective compute by quarter",
                          "Own and rented effective compute per quarter against demand, unmet "
                          "demand in red: one panel per sanction scenario (up to eight), else a "
                          "probability-weighted fan.")]
    parts += ["<h2>Cash</h2>", cash_table(sheets["Cash"]),
              "<h2>Cost and risk</h2>",
              f"<p>Solver status {text(opt.get('status'))}, relative gap "
              f"{text(show(opt.get('gap'), 'fraction'))}.</p>",
              risk_headline_table(risk), "<h3>Cost per scenario</h3>",
              "<p>USD millions; salvage is the residual value of the fleet at the horizon "
              "(negative cost). Shortfall: unmet demand over the horizon.</p>",
              scenario_cost_table(risk),
              "<h3>Prices of the limits</h3>", prices_table(sheets["Prices"])]
    if run.plan.limit_prices is not None:  # planner optimize --reoptimize-prices
        parts += ["<h3>Re-optimized prices</h3>", reoptimized_table(sheets["Prices"])]
    if "pareto" in images:
        parts += ["<h3>Cost-risk Pareto front</h3>",
                  _figure(images["pareto"], "Pareto front of expected cost against CVaR",
                          "Least expected cost for each cap on CVaR (numbered points), and the "
                          "chosen plan."),
                  pareto_table(risk)]
    if "out_of_sample" in images:
        parts += ["<h3>Out of sample</h3>",
                  "<p>The plan's first stage fixed, evaluated on fresh sanction paths drawn from "
                  "the same events under two policies: each path's recourse chosen with "
                  "hindsight (an optimistic bound on the plan's cost), and the rolling horizon "
                  "a planner can run (each quarter, the rest re-solved on the reduced tree "
                  "given what has happened: what the plan can be expected to cost). "
                  "Independent reduced trees give a lower bound on the optimum and, on common "
                  "random numbers, the Mak-Morton-Wood optimality gap.</p>",
                  oos_table(run.plan.oos_summary),
                  _figure(images["out_of_sample"], "cost and unmet demand over fresh paths",
                          "Share of the fresh paths by the plan's cost and by unmet demand, "
                          "per policy; vertical lines: the in-sample expected cost and each "
                          "policy's mean.")]
    return parts


def oos_table(summary: pd.DataFrame) -> str:
    """plan_oos_summary: each measure, its policy, estimate and 95 % interval."""
    rows = []
    for r in summary.to_dict("records"):
        money = "PFLOP" not in r["measure"]
        unit = "USD" if money else "PFLOP/s-hours"
        rows.append([(text(r["measure"]), False), (text(r["policy"]), False),
                     _cell(r["estimate_usd"], unit), _cell(r["ci_low_usd"], unit),
                     _cell(r["ci_high_usd"], unit), (f"{int(r['n']):,}", True),
                     (text(r["note"]), False)])
    return _table(["measure", "policy", "estimate", "95 % CI low", "95 % CI high", "n", "note"],
                  rows)


def _simulation_sections(run: OutputFolder, sheets: dict[str, pd.DataFrame],
                         images: dict[str, bytes]) -> list[str]:
    s, scen = run.summary, run.scenario
    pools = ", ".join(f"{p['name']} ({p['sku']}, {p['nodes']:,} nodes"
                      + (f" + {sum(d['nodes'] for d in p.get('deliveries', [])):,} delivered)"
                         if p.get("deliveries") else ")")
                      for p in scen["cluster"]["pools"])
    facts = (f"Start {text(scen.get('start_date'))}, horizon {run.horizon_days:g} days, "
             f"{_replications_text(s.get('replications'))}, seed {text(s.get('seed'))}, "
             f"planner {text(s.get('version'))}. Pools: {text(pools)}.")
    if s.get("overrides"):
        facts += f" Overrides: {text(', '.join(s['overrides']))}."
    return [
        f'<p class="meta">{text(scen.get("description") or "")}</p><p>{facts}</p>',
        "<h2>Headline figures</h2>", headline_table(sheets["Summary"]),
        "<h2>Capacity</h2>",
        *([_figure(images["simulated_demand"], "simulated compute against demand",
                   "The plan's fleet as simulated: healthy nodes x the optimizer's effective "
                   "PFLOP/s per node (BF16 dense x utilization), summed over the pools, "
                   "P10-P90 across replications with the P50 line, against the demand per "
                   "quarter (dashed) and the optimizer's own compute (dash-dot, P50 over its "
                   "scenarios by probability); red where the simulated P50 is below demand. "
                   "Rented compute (the plan's, not simulated) may cover part of the red.")]
          if "simulated_demand" in images else []),
        _figure(images["capacity"], "effective compute band per pool",
                "Effective compute = healthy nodes x accelerators per node x BF16 dense TFLOPS / "
                "1000, P10-P90 across replications with the P50 line; dash-dot: installed nodes "
                "(P50) at full compute. Each supply shock: a shaded band from the P10 to the P90 "
                "of its start dates over the replications it hit, and its median start dashed."),
        "<h2>Availability and supply shocks</h2>",
        _figure(images["availability"], "node availability band per pool",
                "Healthy / installed nodes per pool, P10-P90 and P50 across replications."),
        shocks_table(run),
        *_runway_section(sheets, images),
        "<h2>Spare parts</h2>",
        _figure(images["stock"], "spare stock per part",
                "Parts on hand per SKU and part (those whose stock moves), P10-P90 and P50."),
        parts_table(sheets["Parts"]),
        "<h2>Interruptions and lost GPU-hours</h2>",
        _figure(images["interruptions"], "interruptions by category",
                "Job interruptions per run by failure category, preemption and misdiagnosis."),
        _figure(images["lost_gpu_hours"], "lost GPU-hours by cause", "GPU-hours lost per run by cause."),
    ]


def _runway_section(sheets: dict[str, pd.DataFrame], images: dict[str, bytes]) -> list[str]:
    """How long the fleet lasts under a parts block: the survival figure and the Runway rows;
    nothing when no pool is exposed to a block."""
    if "runway" not in images:
        return []
    return ["<h2>Runway under a parts block</h2>", f"<p>{text(RUNWAY_TEXT)}</p>",
            _figure(images["runway"], "runway survival curves per pool",
                    "Share of the replications with a block whose pool availability is still at "
                    "or above each threshold, against the days since the block began "
                    "(Kaplan-Meier; ticks: censored replications). Where a curve crosses the "
                    "dotted 90 %, 50 % and 10 % levels are the runway's P10, P50 and P90."),
            runway_table(sheets["Runway"])]


def _slug(title: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _with_contents(parts: list[str], box: str) -> list[str]:
    """The page with a table of contents (every h2, linked) and the warnings box after its h1."""
    taken: set[str] = set()
    entries, out = [], []
    for part in parts:
        found = re.fullmatch(r"<h2>(.*)</h2>", part)
        if found:
            slug = _slug(re.sub(r"<[^>]+>", "", found.group(1)), taken)
            entries.append(f'<li><a href="#{slug}">{found.group(1)}</a></li>')
            part = f'<h2 id="{slug}">{found.group(1)}</h2>'
        out.append(part)
    nav = f'<nav class="toc"><b>Contents</b><ol>{"".join(entries)}</ol></nav>' if entries else ""
    first = next(i for i, p in enumerate(out) if p.startswith("<h1>")) + 1
    return out[:first] + [box, nav] + out[first:]


def warnings_box(warnings: list[str]) -> str:
    """The warnings a planner must not miss, in a box (empty when there are none)."""
    if not warnings:
        return ""
    items = "".join(f"<li>{text(w)}</li>" for w in warnings)
    return f'<div class="warnings" role="alert"><b>Check before you rely on this</b><ul>{items}</ul></div>'


def page(run: OutputFolder, sheets: dict[str, pd.DataFrame], images: dict[str, bytes]) -> str:
    """The whole report page: the simulation's sections for a run, the optimizer's sections
    when its files are there (both for `planner run` of a scenario with a procurement section)."""
    name = run.name
    title = "Planning report" if run.simulated else "Procurement plan"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}: {text(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{title}: {text(name)}</h1>",
    ]
    if run.simulated:
        parts += _simulation_sections(run, sheets, images)
    else:
        opt = run.plan.optimization
        parts.append(f'<p class="meta">Optimized by planner {text(opt.get("version"))} from '
                     f'{text(opt.get("source"))}. This folder holds the optimizer\'s files only '
                     "(no simulation).</p>")
    if run.plan is not None:
        parts += _plan_sections(run, sheets, images)
    parts = _with_contents(parts, warnings_box(report_warnings(run)))
    parts += [
        "<footer>Written from the files of this output folder. report.xlsx holds every figure "
        f"and input (sheets {text(', '.join(workbook_sheets(sheets)))}); docs/outputs.md "
        "describes them.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- study folders ------------------------------------------------------------------------------

STUDY_CASES_SHOWN = 50


def tornado_table(sensitivity: pd.DataFrame, label_of=str) -> str:
    """The tornado rows: each parameter's value and metric at both ends, and the swing."""
    rows = sensitivity[(sensitivity["section"] == "tornado") & sensitivity["swing"].notna()]
    if rows.empty:
        notes = sensitivity[sensitivity["section"] == "tornado"]["note"].dropna()
        return f"<p>{text(notes.iloc[0] if len(notes) else 'No tornado.')}</p>"
    out = []
    for r in rows.to_dict("records"):
        unit = study_metric_unit(str(r["metric"]))
        out.append([_cell(label_of(str(r["parameter"]))), _cell(r["value_at_min"]),
                    _cell(r["metric_min"], unit),
                    _cell(r["value_at_max"]), _cell(r["metric_max"], unit),
                    _cell(r["swing"], unit)])
    metric = study_metric_label(str(rows["metric"].iloc[0]))
    return _table(["parameter", "value at the lowest", f"{metric} there",
                   "value at the highest", f"{metric} there", "swing"], out)


def ranking_table(sensitivity: pd.DataFrame, label_of=str) -> str:
    """The global ranking rows of a sampled study."""
    rows = sensitivity[sensitivity["section"] == "ranking"]
    ranked = rows[rows["parameter"].notna()]
    if ranked.empty:
        notes = rows["note"].dropna()
        return f"<p>{text(notes.iloc[0] if len(notes) else 'No global ranking.')}</p>"
    out = [[_cell(r["rank"], "integer"), _cell(label_of(str(r["parameter"]))),
            _cell(study_metric_label(str(r["metric"]))),
            _cell(r["spearman_rho"], "coefficient"), _cell(r["src"], "coefficient")]
           for r in ranked.to_dict("records")]
    return _table(["rank", "parameter", "metric", "Spearman rho", "SRC"], out)


def cases_table(cases: pd.DataFrame, tidy: pd.DataFrame, metric: str | None,
                label_of=str, limit: int = STUDY_CASES_SHOWN) -> str:
    """The first `limit` cases: case, status, varied parameters (labelled), and the study's
    sensitivity metric (else goodput, else the first metric) with its 95 % CI over the case's
    replications; every metric of every case is in report.xlsx, sheet Cases."""
    params = [c for c in cases.columns if c.startswith("param.")]
    metrics = list(dict.fromkeys(tidy["metric"])) if "metric" in tidy else []
    shown_metric = next((m for m in (metric, "goodput_gpu_hours") if m in metrics),
                        metrics[0] if metrics else None)
    stats = (tidy[tidy["metric"] == shown_metric].set_index("case")
             if shown_metric is not None else pd.DataFrame())
    unit = study_metric_unit(shown_metric) if shown_metric else ""
    rows = []
    for r in cases.head(limit).to_dict("records"):
        row = [_cell(r["case"]), _cell(r["status"]), *(_param_cell(r[p]) for p in params)]
        if shown_metric is not None:
            got = stats.loc[r["case"]] if r["case"] in stats.index else None
            if isinstance(got, pd.DataFrame):
                got = got.iloc[0]
            row += [_cell(got["mean"] if got is not None else None, unit),
                    (text("–" if got is None or _missing(got["ci95_low"]) else
                          f"{show(got['ci95_low'], unit)} to {show(got['ci95_high'], unit)}"),
                     True),
                    _cell(got["n"] if got is not None else None, "integer")]
        rows.append(row)
    shown = (f"<p>The first {limit} of {len(cases)} cases. " if len(cases) > limit
             else "<p>") + ("Every metric of every case is in report.xlsx, sheet Cases.</p>")
    headers = ["case", "status", *(label_of(p) for p in params)]
    if shown_metric is not None:
        headers += [f"{study_metric_label(shown_metric)} mean", "95 % CI", "replications"]
    return shown + _table(headers, rows)


def _param_cell(value: Any) -> tuple[str, bool]:
    return _cell(value) if isinstance(value, str) or _missing(value) or value is pd.NA \
        else (text(f"{value:,.10g}" if isinstance(value, int | float) else value), True)


def failures_table(cases: pd.DataFrame) -> str:
    """The failed cases: status and error."""
    failed = cases[cases["status"] != "ok"]
    if failed.empty:
        return "<p>No case failed.</p>"
    rows = [[_cell(r["case"]), _cell(r["status"]), _cell(r["error"])]
            for r in failed.to_dict("records")]
    return ("<p>failed: the case ran and raised; invalid: its scenario did not validate, so it "
            "never ran.</p>" + _table(["case", "status", "error"], rows))


def study_page(run: OutputFolder, sheets: dict[str, pd.DataFrame], images: dict[str, bytes]) -> str:
    """A study folder's page: its facts, the tornado (chart and table), the global ranking of a
    sampled study, the cases (the first 50) and the failures."""
    study = run.study
    info, data = study.info, study.file_data
    sensitivity, cases = sheets["Sensitivity"], sheets["Cases"]
    name = run.name
    facts = (f"Base scenario {text(info.get('base'))}; each case runs "
             f"{text(info.get('command'))} with {text(data.get('replications', '–'))} "
             f"replication(s); study seed {text(info.get('seed'))}. "
             f"{text(info.get('cases'))} cases: {text(info.get('succeeded'))} succeeded, "
             f"{text(info.get('failed'))} failed ({text(info.get('ran_now'))} run by the last "
             f"invocation, in {text(show(info.get('elapsed_s'), 'seconds'))} s). "
             f"Study file {text(info.get('source'))}; planner {text(info.get('version'))}.")
    metric = info.get("sensitivity_metric")
    label_of = parameter_labeler(study)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Study report: {text(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Study report: {text(name)}</h1>",
        (f'<p class="meta">{text(data.get("description"))}</p>' if data.get("description")
         else "") + f"<p>{facts}</p>",
        "<h2>Sensitivity</h2>",
        "<p>Main effect of each varied parameter on "
        f"{text(study_metric_label(metric) if metric else 'the metric')}: the mean "
        "of the case means over the cases at each of its values (the other parameters "
        "averaged out); the swing is the highest minus the lowest.</p>",
    ]
    if "tornado" in images:
        parts.append(_figure(images["tornado"], "tornado chart of the main effects",
                             "Per parameter, largest swing on top: the bar spans the lowest to "
                             "the highest main effect, split at the mean of the case means "
                             "(dashed); the parameter's value at each end is written beside it."))
    parts.append(tornado_table(sensitivity, label_of))
    if "interaction" in images:
        parts += ["<h3>Interaction of the two most important parameters</h3>",
                  _figure(images["interaction"], "two-way heatmap of the metric",
                          "The metric's mean over the cases at each pair of values of the two "
                          "parameters with the largest swings: where the main effects average "
                          "an interaction away (stock that matters only for an early block), "
                          "it shows here.")]
    if (sensitivity["section"] == "ranking").any():
        parts += ["<h3>Global ranking</h3>",
                  "<p>Sampled study: Spearman rank correlation and standardized regression "
                  "coefficient (SRC) of each numeric parameter with the case means, ranked by "
                  "|SRC|.</p>", ranking_table(sensitivity, label_of)]
    if "runway_curve" in images:
        parts += ["<h2>Runway curve</h2>",
                  f"<p>The runway of each case (e.g. each stockpile level). {text(RUNWAY_TEXT)}"
                  "</p>",
                  _figure(images["runway_curve"], "runway percentiles per case",
                          "Per pool and threshold: the runway's P50 per case (an open triangle "
                          "where it is censored: more than the value drawn) and its P10-P90 as "
                          "a band (a censored end drawn at its lower bound)."),
                  runway_table(sheets["Runway"], study=True)]
    parts += ["<h2>Cases</h2>", cases_table(cases, study.cases, metric, label_of),
              "<h2>Failed cases</h2>", failures_table(cases)]
    parts = _with_contents(parts, "")
    parts += ["<footer>Written from the files of this study folder. report.xlsx holds every "
              f"figure (sheets {text(', '.join(workbook_sheets(sheets)))}); docs/outputs.md "
              "describes them.</footer>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
