"""report.html: one self-contained page (inline CSS, PNG figures as base64 data URIs, no link
to anything outside the file)."""

from __future__ import annotations

import base64
import html
from typing import Any

import pandas as pd

from planner.reports.folder import OutputFolder
from planner.reports.units import nearly_whole, show, study_metric_unit

# Summary rows shown in their own figure or table rather than among the headline figures
_NOT_HEADLINE = {"interruptions.by_category", "stockout_days", "parts_consumed",
                 "parts_cannibalized"}

_CSS = """
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


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


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
        rows.append([(text(r.metric), False), (text("" if _missing(r.key) else r.key), False),
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


def _figure(png: bytes, alt: str, caption: str) -> str:
    return (f'<figure><img alt="{text(alt)}" src="{data_uri(png)}">'
            f"<figcaption>{text(caption)}</figcaption></figure>")


def _cell(value: Any, unit: str = "") -> tuple[str, bool]:
    """A table cell: numbers shown in their unit (right-aligned), text escaped, missing empty."""
    if _missing(value) or value is pd.NA:
        return "", False
    if isinstance(value, str):
        return text(value), False
    return text(show(float(value), unit)), True


def plan_table(plan: pd.DataFrame) -> str:
    """Orders, stockpile and platforms of the Plan sheet (recourse rows have their own table)."""
    rows = []
    for r in plan[plan["item"] != "recourse"].to_dict("records"):
        quantity_unit = "integer" if nearly_whole(r["quantity"]) else ""
        rows.append([_cell(r["item"]), _cell(r["quarter"]), _cell(r["sku"]), _cell(r["vendor"]),
                     _cell(r["platform"]), _cell(r["part"]), _cell(r["quantity"], quantity_unit),
                     _cell(r["unit_price [USD]"], "USD"), _cell(r["cost [USD]"], "USD"),
                     _cell(r["effective_pflops [PFLOP/s]"], "PFLOP/s"), _cell(r["note"])])
    return _table(["item", "quarter", "sku", "vendor", "platform", "part", "quantity", "unit price",
                   "cost", "PFLOP/s", "note"], rows)


def recourse_table(plan: pd.DataFrame) -> str:
    """Recourse orders per scenario and SKU: nodes in total and the quarters they are ordered."""
    recourse = plan[plan["item"] == "recourse"]
    if recourse.empty:
        return "<p>No recourse order in any scenario.</p>"
    rows = []
    for (scenario, sku), group in recourse.groupby(["scenario", "sku"], sort=False):
        quarters = ", ".join(f"{q} ({n:,.0f})" for q, n in zip(group["quarter"], group["quantity"],
                                                               strict=True))
        rows.append([_cell(scenario), _cell(sku), _cell(group["quantity"].sum(), "nodes"),
                     _cell(group["effective_pflops [PFLOP/s]"].sum(min_count=1), "PFLOP/s"),
                     _cell(quarters)])
    return _table(["scenario", "sku", "nodes", "PFLOP/s", "quarters (nodes)"], rows)


def risk_headline_table(risk: pd.DataFrame) -> str:
    """The headline rows of Risk: each measure with its value (or text) and what it means."""
    rows = []
    for r in risk[risk["section"] == "headline"].to_dict("records"):
        unit = "" if _missing(r["unit"]) else r["unit"]
        value = r["value_text"] if not _missing(r["value_text"]) else r["value"]
        rows.append([_cell(r["measure"]), _cell(value, unit), _cell(unit),
                     _cell(r["limit"], unit), _cell(r["note"])])
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


def shadow_price_table(risk: pd.DataFrame) -> str:
    """Binding shadow prices: family, index, scenario, price and unit."""
    prices = risk[(risk["section"] == "shadow_price") & risk["value"].notna()]
    if prices.empty:
        notes = risk[risk["section"] == "shadow_price"]["note"].dropna()
        return f"<p>{text(notes.iloc[0] if len(notes) else 'No shadow price.')}</p>"
    rows = [[_cell(r["measure"]), _cell(r["index"]), _cell(r["scenario"]),
             _cell(r["value"], r["unit"]), _cell(r["unit"])] for r in prices.to_dict("records")]
    return _table(["row family", "index", "scenario", "shadow price", "unit"], rows)


def pareto_table(risk: pd.DataFrame) -> str:
    """The points of the Pareto front."""
    rows = [[_cell(r["index"]), _cell(r["limit"], r["unit"]), _cell(r["value"], r["unit"]),
             _cell(r["expected_cost [USD]"], "USD"), _cell(r["value_text"]), _cell(r["note"])]
            for r in risk[risk["section"] == "pareto"].to_dict("records")]
    return _table(["point", "CVaR cap", "CVaR", "expected cost", "status", "note"], rows)


def _plan_sections(run: OutputFolder, sheets: dict[str, pd.DataFrame],
                   pngs: dict[str, bytes]) -> list[str]:
    """The optimizer's part of the page: plan, planned capacity (optimize-only), cost and risk."""
    plan, risk = sheets["Plan"], sheets["Risk"]
    opt = run.plan.optimization
    parts = ["<h2>Procurement plan</h2>"]
    if run.simulated:
        parts.append("<p>The optimizer chose this plan over its sanction scenarios; the simulation "
                     "above runs its first-stage orders (as deliveries) and stockpile. Recourse "
                     "orders depend on the scenario and are not simulated. The optimizer's "
                     "effective compute (PFLOP/s below) is BF16 dense x the platform's "
                     "utilization; the simulated capacity above is BF16 dense.</p>")
    parts += [_figure(pngs["orders"], "orders per quarter by vendor",
                      "Nodes ordered now, per order quarter, stacked by vendor; above each bar: "
                      "nodes and capital expenditure."),
              plan_table(plan), "<h3>Recourse orders</h3>", recourse_table(plan)]
    if "plan_capacity" in pngs:
        parts += ["<h2>Planned capacity</h2>",
                  _figure(pngs["plan_capacity"], "planned effective compute by quarter",
                          "Own effective compute of the fleet per quarter across the sanction "
                          "scenarios (probability-weighted P10/P50/P90), demand, and own P50 plus "
                          "rented P50.")]
    parts += ["<h2>Cost and risk</h2>",
              f"<p>Solver status {text(opt.get('status'))}, relative gap "
              f"{text(show(opt.get('gap'), 'fraction'))}.</p>",
              risk_headline_table(risk), "<h3>Cost per scenario</h3>",
              "<p>USD millions; salvage is the residual value of the fleet at the horizon "
              "(negative cost). Shortfall: unmet demand over the horizon.</p>",
              scenario_cost_table(risk),
              "<h3>Binding shadow prices</h3>", shadow_price_table(risk)]
    if "pareto" in pngs:
        parts += ["<h3>Cost-risk Pareto front</h3>",
                  _figure(pngs["pareto"], "Pareto front of expected cost against CVaR",
                          "Least expected cost for each cap on CVaR (numbered points), and the "
                          "chosen plan."),
                  pareto_table(risk)]
    return parts


def _simulation_sections(run: OutputFolder, sheets: dict[str, pd.DataFrame],
                         pngs: dict[str, bytes]) -> list[str]:
    s, scen = run.summary, run.scenario
    pools = ", ".join(f"{p['name']} ({p['sku']}, {p['nodes']:,} nodes"
                      + (f" + {sum(d['nodes'] for d in p.get('deliveries', [])):,} delivered)"
                         if p.get("deliveries") else ")")
                      for p in scen["cluster"]["pools"])
    facts = (f"Start {text(scen.get('start_date'))}, horizon {run.horizon_days:g} days, "
             f"{text(s.get('replications'))} replications, seed {text(s.get('seed'))}, "
             f"planner {text(s.get('version'))}. Pools: {text(pools)}.")
    if s.get("overrides"):
        facts += f" Overrides: {text(', '.join(s['overrides']))}."
    return [
        f'<p class="meta">{text(scen.get("description") or "")}</p><p>{facts}</p>',
        "<h2>Headline figures</h2>", headline_table(sheets["Summary"]),
        "<h2>Capacity</h2>",
        _figure(pngs["capacity"], "effective compute band per pool",
                "Effective compute = healthy nodes x accelerators per node x BF16 dense TFLOPS / "
                "1000, P10-P90 across replications with the P50 line; dash-dot: installed nodes "
                "(P50) at full compute. Vertical lines: supply-shock starts (light: each "
                "replication, dashed: median start; dotted: ends)."),
        "<h2>Availability and supply shocks</h2>",
        _figure(pngs["availability"], "node availability band per pool",
                "Healthy / installed nodes per pool, P10-P90 and P50 across replications."),
        shocks_table(run),
        "<h2>Spare parts</h2>",
        _figure(pngs["stock"], "spare stock per part",
                "Parts on hand per SKU and part (those whose stock moves), P10-P90 and P50."),
        parts_table(sheets["Parts"]),
        "<h2>Interruptions and lost GPU-hours</h2>",
        _figure(pngs["interruptions"], "interruptions by category",
                "Job interruptions per run by failure category, preemption and misdiagnosis."),
        _figure(pngs["lost_gpu_hours"], "lost GPU-hours by cause", "GPU-hours lost per run by cause."),
    ]


def page(run: OutputFolder, sheets: dict[str, pd.DataFrame], pngs: dict[str, bytes]) -> str:
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
        parts += _simulation_sections(run, sheets, pngs)
    else:
        opt = run.plan.optimization
        parts.append(f'<p class="meta">Optimized by planner {text(opt.get("version"))} from '
                     f'{text(opt.get("source"))}. This folder holds the optimizer\'s files only '
                     "(no simulation).</p>")
    if run.plan is not None:
        parts += _plan_sections(run, sheets, pngs)
    parts += [
        "<footer>Written from the files of this output folder. report.xlsx holds every figure "
        "and input (sheets Summary, Plan, Risk, Capacity, Parts, Assumptions); docs/outputs.md "
        "describes them.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- study folders ------------------------------------------------------------------------------

STUDY_CASES_SHOWN = 50


def tornado_table(sensitivity: pd.DataFrame) -> str:
    """The tornado rows: each parameter's value and metric at both ends, and the swing."""
    rows = sensitivity[(sensitivity["section"] == "tornado") & sensitivity["swing"].notna()]
    if rows.empty:
        notes = sensitivity[sensitivity["section"] == "tornado"]["note"].dropna()
        return f"<p>{text(notes.iloc[0] if len(notes) else 'No tornado.')}</p>"
    out = []
    for r in rows.to_dict("records"):
        unit = study_metric_unit(str(r["metric"]))
        out.append([_cell(r["parameter"]), _cell(r["value_at_min"]), _cell(r["metric_min"], unit),
                    _cell(r["value_at_max"]), _cell(r["metric_max"], unit),
                    _cell(r["swing"], unit)])
    metric = str(rows["metric"].iloc[0])
    return _table(["parameter", "value at the lowest", f"{metric} there",
                   "value at the highest", f"{metric} there", "swing"], out)


def ranking_table(sensitivity: pd.DataFrame) -> str:
    """The global ranking rows of a sampled study."""
    rows = sensitivity[sensitivity["section"] == "ranking"]
    ranked = rows[rows["parameter"].notna()]
    if ranked.empty:
        notes = rows["note"].dropna()
        return f"<p>{text(notes.iloc[0] if len(notes) else 'No global ranking.')}</p>"
    out = [[_cell(r["rank"], "integer"), _cell(r["parameter"]), _cell(r["metric"]),
            _cell(r["spearman_rho"], "coefficient"), _cell(r["src"], "coefficient")]
           for r in ranked.to_dict("records")]
    return _table(["rank", "parameter", "metric", "Spearman rho", "SRC"], out)


def cases_table(cases: pd.DataFrame, limit: int = STUDY_CASES_SHOWN) -> str:
    """The first `limit` rows of the Cases sheet: case, status, varied parameters and the mean
    of each metric in its unit."""
    params = [c for c in cases.columns if c.startswith("param.")]
    means = [c for c in cases.columns if c.endswith(" mean")]
    rows = []
    for r in cases.head(limit).to_dict("records"):
        rows.append([_cell(r["case"]), _cell(r["status"]),
                     *(_param_cell(r[p]) for p in params),
                     *(_cell(r[m], study_metric_unit(m.removesuffix(" mean"))) for m in means)])
    shown = (f"<p>The first {limit} of {len(cases)} cases; every case is in report.xlsx, sheet "
             "Cases.</p>" if len(cases) > limit else "")
    return shown + _table(["case", "status", *(p.removeprefix("param.") for p in params),
                           *means], rows)


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


def study_page(run: OutputFolder, sheets: dict[str, pd.DataFrame], pngs: dict[str, bytes]) -> str:
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
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Study report: {text(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Study report: {text(name)}</h1>",
        (f'<p class="meta">{text(data.get("description"))}</p>' if data.get("description")
         else "") + f"<p>{facts}</p>",
        "<h2>Sensitivity</h2>",
        f"<p>Main effect of each varied parameter on {text(metric or 'the metric')}: the mean "
        "of the case means over the cases at each of its values (the other parameters "
        "averaged out); the swing is the highest minus the lowest.</p>",
    ]
    if "tornado" in pngs:
        parts.append(_figure(pngs["tornado"], "tornado chart of the main effects",
                             "Per parameter, largest swing on top: the bar spans the lowest to "
                             "the highest main effect, split at the mean of the case means "
                             "(dashed); the parameter's value at each end is written beside it."))
    parts.append(tornado_table(sensitivity))
    if (sensitivity["section"] == "ranking").any():
        parts += ["<h3>Global ranking</h3>",
                  "<p>Sampled study: Spearman rank correlation and standardized regression "
                  "coefficient (SRC) of each numeric parameter with the case means, ranked by "
                  "|SRC|.</p>", ranking_table(sensitivity)]
    parts += ["<h2>Cases</h2>", cases_table(cases), "<h2>Failed cases</h2>", failures_table(cases),
              "<footer>Written from the files of this study folder. report.xlsx holds every "
              "figure (sheets Summary, Plan, Risk, Capacity, Parts, Assumptions, Cases, "
              "Sensitivity); docs/outputs.md describes them.</footer>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
