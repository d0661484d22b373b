"""report.html: one self-contained page (inline CSS, PNG figures as base64 data URIs, no link
to anything outside the file)."""

from __future__ import annotations

import base64
import html
from typing import Any

import pandas as pd

from planner.reports.folder import RunFolder
from planner.reports.units import show

# Summary rows shown in their own figure or table rather than among the headline figures
_NOT_HEADLINE = {"interruptions.by_category", "stockout_days", "parts_consumed"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1060px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f3f6fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
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
    out = ["<table><thead><tr>", *(f"<th>{text(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        cells = (f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in row)
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
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


def shocks_table(run: RunFolder) -> str:
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


def page(run: RunFolder, sheets: dict[str, pd.DataFrame], pngs: dict[str, bytes]) -> str:
    """The whole report page."""
    s, scen = run.summary, run.scenario
    name = s.get("scenario") or scen.get("name", "")
    pools = ", ".join(f"{p['name']} ({p['sku']}, {p['nodes']:,} nodes"
                      + (f" + {sum(d['nodes'] for d in p.get('deliveries', [])):,} delivered)"
                         if p.get("deliveries") else ")")
                      for p in scen["cluster"]["pools"])
    facts = (f"Start {text(scen.get('start_date'))}, horizon {run.horizon_days:g} days, "
             f"{text(s.get('replications'))} replications, seed {text(s.get('seed'))}, "
             f"planner {text(s.get('version'))}. Pools: {text(pools)}.")
    if s.get("overrides"):
        facts += f" Overrides: {text(', '.join(s['overrides']))}."
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Planning report: {text(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Planning report: {text(name)}</h1>",
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
        "<footer>Written from the files of this run folder. report.xlsx holds every figure and "
        "input (sheets Summary, Plan, Risk, Capacity, Parts, Assumptions); docs/outputs.md "
        "describes them.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
