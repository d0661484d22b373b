"""What a planner must not miss, read from an output folder's files: a job whose ETTR is below
ETTR_FLOOR, a part out of stock longer than STOCKOUT_DAYS_LIMIT, demand the plan leaves unmet.
The report page shows them in a box at its top (planner/reports/html.py)."""

from __future__ import annotations

from planner.metrics import ETTR, STOCKOUT_DAYS, summary_path
from planner.reports.folder import OutputFolder

ETTR_FLOOR = 0.5  # below half, a job spends more time failing and restarting than training
STOCKOUT_DAYS_LIMIT = 30.0  # a month without a part is a month of nodes waiting for it


def _stats(summary: dict, flat: str) -> dict | None:
    node = summary
    for step in summary_path(flat):
        node = node.get(step) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _per_key(summary: dict, name: str) -> dict[str, dict]:
    node = summary.get(name)
    return {k: v for k, v in node.items() if isinstance(v, dict) and "mean" in v} \
        if isinstance(node, dict) else {}


def report_warnings(run: OutputFolder) -> list[str]:
    """One sentence per warning, worst first within each kind."""
    out: list[str] = []
    summary = run.summary
    if summary is not None:
        ettr = sorted((stats["mean"], job) for job, stats in _per_key(summary, ETTR.name).items()
                      if stats.get("mean") is not None and stats["mean"] < ETTR_FLOOR)
        out += [f"Job {job}: ETTR {mean:.1%} (mean over replications), below "
                f"{ETTR_FLOOR:.0%}: it loses more time to failures and restarts than it trains."
                for mean, job in ettr]
        parts = sorted(((stats["mean"], part) for part, stats
                        in _per_key(summary, STOCKOUT_DAYS.name).items()
                        if stats.get("mean") is not None and stats["mean"] > STOCKOUT_DAYS_LIMIT),
                       reverse=True)
        out += [f"Part {part}: out of stock {days:,.0f} days on average (P90 "
                f"{(_stats(summary, STOCKOUT_DAYS.flat(part)) or {}).get('p90') or 0:,.0f}), "
                f"more than {STOCKOUT_DAYS_LIMIT:.0f}." for days, part in parts]
    plan = run.plan
    if plan is not None and len(plan.capacity):
        cap = plan.capacity
        short = cap[cap["unmet_pflops"] > 1e-9]
        if len(short):
            share = float(cap.groupby("scenario")["unmet_pflops"].max().gt(1e-9)
                          .mul(cap.groupby("scenario")["probability"].first()).sum())
            worst = short.sort_values("unmet_pflops").iloc[-1]
            out.append(f"Unmet demand: the plan leaves demand unmet in scenarios of total "
                       f"probability {share:.0%}; worst {worst['unmet_pflops']:,.0f} PFLOP/s "
                       f"in {worst['period']} ({worst['scenario']}).")
    return out
