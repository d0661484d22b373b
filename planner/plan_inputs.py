"""Every input of the optimizer as one table, each number with where it comes from: the
catalog's source line, the scenario field that set it (or the default it took), or how it was
derived. Written as plan_inputs and listed in the Assumptions sheet, so that a planner can
check each price, cap, budget, probability and utilization the plan rests on.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pydantic import BaseModel

from planner.catalog.catalog import Catalog
from planner.procurement import (
    nominal_availability,
    rental_pflops_per_gpu,
    utilization,
)
from planner.scenario.loader import LoadedScenario
from solvers.problem import ProcurementInput, SolverSettings

INPUT_COLUMNS = ["section", "parameter", "index", "value", "value_text", "unit", "source"]
DEFAULT = "default"  # source of a field the scenario left at its default


class _Rows:
    """Collects rows; a number goes to `value`, anything else to `value_text`."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, section: str, parameter: str, value: Any, unit: str, source: str,
            index: str = "") -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        self.rows.append({
            "section": section, "parameter": parameter, "index": index,
            "value": float(value) if number else math.nan,
            "value_text": "" if number else ("true" if value is True else "false"
                                             if value is False else str(value)),
            "unit": unit, "source": source})


def _field_source(model: BaseModel, name: str, path: str, file: str) -> str:
    """`<file>: <path>` when the scenario set the field, else `default: <description>`."""
    if name in model.model_fields_set:
        return f"{file}: {path}"
    description = type(model).model_fields[name].description or ""
    return f"{DEFAULT}: {description}".rstrip(": ")


def input_table(loaded: LoadedScenario, inp: ProcurementInput,
                settings: SolverSettings) -> pd.DataFrame:
    """One row per input of `inp` (and the solver settings), with its source."""
    scenario, catalog, file = loaded.scenario, loaded.catalog, loaded.source
    proc = scenario.procurement
    rows = _Rows()
    _sku_rows(rows, catalog, inp, proc, file)
    _part_rows(rows, catalog, inp, file)
    _period_rows(rows, inp, proc, file)
    _scenario_rows(rows, inp, proc, file, sanctioned=scenario.sanctions is not None)
    if scenario.sanctions is not None:
        _sanction_rows(rows, scenario, file)
    _vendor_rows(rows, inp, proc, file)
    _economics_rows(rows, catalog, inp, proc, file)
    _solver_rows(rows, settings, proc, file)
    return pd.DataFrame(rows.rows, columns=INPUT_COLUMNS)


def _sku_rows(rows: _Rows, catalog: Catalog, inp: ProcurementInput, proc, file: str) -> None:
    candidates = {c.sku: (i, c) for i, c in enumerate(proc.candidates)}
    for k, r in inp.skus.iterrows():
        s = catalog.skus[str(k)]
        k = str(k)
        rows.add("sku", "vendor", s.vendor, "", "catalog", k)
        rows.add("sku", "platform", s.platform, "", "catalog", k)
        rows.add("sku", "domestic", bool(r["domestic"]), "",
                 _field_source(proc, "domestic_vendors", "procurement.domestic_vendors", file), k)
        rows.add("sku", "node_price", s.node_price_usd.value, "USD", s.node_price_usd.source, k)
        rows.add("sku", "node_power", s.node_power_kw.value, "kW", s.node_power_kw.source, k)
        rows.add("sku", "accelerators_per_node", s.accelerators_per_node.value, "accelerators",
                 s.accelerators_per_node.source, k)
        rows.add("sku", "bf16_dense_tflops", s.bf16_dense_tflops.value, "TFLOPS per accelerator",
                 s.bf16_dense_tflops.source, k)
        value, source = utilization(catalog, k, proc)
        rows.add("sku", f"utilization ({proc.workload})", value, "fraction", source, k)
        rows.add("sku", "effective_pflops_per_node", float(r["pflops_per_node"]), "PFLOP/s",
                 "derived: accelerators x BF16 dense TFLOPS x utilization / 1000", k)
        rows.add("sku", "nominal_availability", nominal_availability(catalog, k), "fraction",
                 "derived: 1 / (1 + sum over failure categories of rate x mean repair hours), "
                 "catalog components.yaml and the SKU's failure_rate_multiplier", k)
        rows.add("sku", "installed_nodes", float(r["existing_nodes"]), "nodes",
                 f"{file}: cluster.pools (nodes, and deliveries before the first quarter)", k)
        if k in candidates:
            i, c = candidates[k]
            where = f"procurement.candidates[{i}]"
            rows.add("sku", "lead_time", int(r["lead_periods"]), "quarters",
                     _field_source(c, "lead_time_quarters", f"{where}.lead_time_quarters", file), k)
            rows.add("sku", "nodes_per_rack", float(r["nodes_per_rack"]), "nodes",
                     _field_source(c, "nodes_per_rack", f"{where}.nodes_per_rack", file), k)
        else:
            rows.add("sku", "orderable", False, "", f"{file}: not among procurement.candidates", k)
    for (k, t), r in inp.scheduled_deliveries.iterrows():
        rows.add("sku", "scheduled_delivery", float(r["nodes"]), "nodes",
                 f"{file}: cluster.pools deliveries", f"{k} {t}")


def _part_rows(rows: _Rows, catalog: Catalog, inp: ProcurementInput, file: str) -> None:
    for (k, j), r in inp.parts.iterrows():
        own = catalog.skus[str(k)].part_prices_usd.get(str(j))
        source = own.source if own is not None else catalog.parts[str(j)].price_usd.source
        rows.add("part", "price", float(r["price_usd"]), "USD", source, f"{k}/{j}")
        if "existing_units" in inp.parts.columns:
            rows.add("part", "on_the_shelf", float(r["existing_units"]), "parts",
                     f"{file}: cluster.spares (initial stock)", f"{k}/{j}")


def _period_rows(rows: _Rows, inp: ProcurementInput, proc, file: str) -> None:
    demand_src = _field_source(proc, "demand", "procurement.demand", file)
    job_src = _field_source(proc, "largest_job_pflops", "procurement.largest_job_pflops", file)
    if proc.largest_job_pflops == "from_jobs":
        job_src += " (the largest job's nodes x its SKU's effective PFLOP/s per node)"
    # column of the periods table -> (parameter, unit, source)
    sources = {
        "hours": ("hours", "hours", "calendar"),
        "demand_pflops": ("demand", "PFLOP/s", demand_src),
        "largest_job_pflops": ("largest_job", "PFLOP/s", job_src),
        "budget_usd": ("budget", "USD", _field_source(
            proc, "budget_usd_per_quarter", "procurement.budget_usd_per_quarter", file)),
        "power_cap_mw": ("power_cap", "MW", _field_source(
            proc, "power_cap_mw", "procurement.power_cap_mw", file)),
        "racks": ("racks", "racks", _field_source(proc, "racks", "procurement.racks", file)),
        "rental_cap_gpus": ("rental_cap", "GPUs", _field_source(
            proc.rental, "cap_gpus", "procurement.rental.cap_gpus", file)),
    }
    for t, r in inp.periods.iterrows():
        for column, (name, unit, source) in sources.items():
            value = float(r[column])
            rows.add("quarter", name, value if math.isfinite(value) else "no limit", unit, source,
                     str(t))


def _scenario_rows(rows: _Rows, inp: ProcurementInput, proc, file: str,
                   sanctioned: bool = False) -> None:
    if proc.scenarios is not None:
        source = f"{file}: procurement.scenarios"
    elif sanctioned:
        source = (f"generated from {file}: sanctions (sampled paths reduced to a scenario tree; "
                  "see the sanctions rows)")
    else:
        source = (f"derived from {file}: supply_shocks (each shock's probability, its window "
                  "split by quarter, shocks independent)")
    for s, r in inp.scenarios.iterrows():
        rows.add("scenario", "probability", float(r["probability"]), "fraction", source, str(s))
    for s in sorted({str(s) for _, s in inp.rental_blocked}):
        first = min(t for t, ss in inp.rental_blocked if ss == s)
        rows.add("scenario", "rental_cut_off_from", first, "", source, s)


def _sanction_rows(rows: _Rows, scenario, file: str) -> None:
    """The generator's inputs (each event kind's rate, duration, factor, with sources) and
    what the reduction lost."""
    from planner.sanctions.scenarios import sanction_tree

    s = scenario.sanctions
    made = sanction_tree(scenario, file)
    for name, unit in (("paths", "paths"), ("leaves", "leaves")):
        rows.add("sanctions", name, float(getattr(s, name)), unit,
                 _field_source(s, name, f"sanctions.{name}", file))
    rows.add("sanctions", "seed", float(made.seed), "",
             _field_source(s, "seed", "sanctions.seed", file) if s.seed is not None
             else f"{file}: seed (the scenario's)")
    for i, r in enumerate(made.events):
        kind = f"{r.event.type} {'/'.join(r.event.vendors)}"
        ci = f" (95 % CI {r.ci95[0]:.3f}-{r.ci95[1]:.3f})" if r.ci95 else ""
        rows.add("sanctions", "rate_per_quarter", r.rate_per_quarter, "events per quarter",
                 r.rate_source + ci, kind)
        if r.event.type != "block_lifted":
            d = r.event.duration_quarters
            rows.add("sanctions", "duration_quarters", float(d) if d else
                     ("until lifted" if r.event.type.endswith("block") else "to the horizon"),
                     "quarters", _field_source(r.event, "duration_quarters",
                                               f"sanctions.events[{i}].duration_quarters", file),
                     kind)
        if r.factor is not None:
            rows.add("sanctions", "volume_factor" if r.event.type == "domestic_output_cap"
                     else "price_factor", r.factor, "ratio", r.factor_source, kind)
    tree = made.tree
    rows.add("sanctions", "distinct_paths", float(tree.distinct_paths), "paths",
             "derived: distinct sampled paths")
    rows.add("sanctions", "tree_nodes_per_quarter", " ".join(map(str, tree.nodes_per_stage)),
             "nodes", "derived: forward tree construction (docs/sanctions.md)")
    rows.add("sanctions", "reduction_distance", tree.distance, "L1 per path",
             f"derived: sum of |path - tree| over quarters and features, probability-weighted; "
             f"{tree.relative_distance:.1%} of a one-leaf tree's")


def _vendor_rows(rows: _Rows, inp: ProcurementInput, proc, file: str) -> None:
    caps = inp.supply_caps["supply_cap_nodes"]
    cap_src = _field_source(proc, "vendor_caps_nodes_per_quarter",
                            "procurement.vendor_caps_nodes_per_quarter", file)
    for v in sorted({str(v) for v, _ in caps.index}):
        value = float(caps.loc[v].max())
        rows.add("vendor", "supply_cap", value if math.isfinite(value) else "no limit",
                 "nodes per quarter", cap_src, v)
    share_src = _field_source(proc, "vendor_share_caps", "procurement.vendor_share_caps", file)
    for v, cap in sorted(inp.vendor_share_caps.items()):
        rows.add("vendor", "share_cap", float(cap), "fraction of ordered compute", share_src, v)
    for p, r in inp.platforms.iterrows():
        source = ("the installed fleet runs on it" if bool(r["adopted"]) else
                  _field_source(proc, "porting_cost_usd", "procurement.porting_cost_usd", file))
        rows.add("platform", "porting_cost", float(r["porting_cost_usd"]), "USD", source, str(p))


def _economics_rows(rows: _Rows, catalog: Catalog, inp: ProcurementInput, proc, file: str) -> None:
    def field(name: str, value: Any, unit: str, model: BaseModel = proc,
              path: str | None = None) -> None:
        rows.add("economics", name, value, unit,
                 _field_source(model, name, path or f"procurement.{name}", file))

    field("pue", inp.pue, "ratio")
    field("electricity_usd_per_kwh", inp.electricity_usd_per_kwh, "USD per kWh")
    field("recourse_premium", inp.recourse_premium, "fraction of the price")
    field("refund_share", inp.refund_share, "fraction of the price")
    field("discount_rate", inp.discount_rate, "per year")
    field("asset_life_years", proc.asset_life_years if proc.asset_life_years is not None
          else "no residual value", "years")
    field("unmet_penalty_usd_per_pflops_hour", inp.unmet_penalty_usd_per_pflops_hour,
          "USD per PFLOP/s-hour")
    field("allow_unmet", inp.allow_unmet, "")
    field("total_budget_usd", inp.total_budget_usd if math.isfinite(inp.total_budget_usd)
          else "no limit", "USD")
    field("min_domestic_share", inp.min_domestic_share, "fraction of ordered compute")
    field("workload", proc.workload, "")
    field("availability", proc.availability, "")
    field("integer_orders", inp.integer_orders, "")
    field("integer_recourse", inp.integer_recourse, "")
    field("usd_per_gpu_hour", inp.rental_usd_per_gpu_hour, "USD per GPU-hour", proc.rental,
          "procurement.rental.usd_per_gpu_hour")
    field("gpu_sku", proc.rental.gpu_sku, "", proc.rental, "procurement.rental.gpu_sku")
    sku_src = utilization(catalog, proc.rental.gpu_sku, proc)[1]
    rows.add("economics", "rental_pflops_per_gpu", rental_pflops_per_gpu(catalog, proc),
             "PFLOP/s", f"derived: the rental SKU's BF16 dense TFLOPS x utilization ({sku_src})")
    risk = proc.risk
    for name, unit in (("measure", ""), ("alpha", "fraction"), ("weight", ""),
                       ("cvar_cap", "USD" if risk.measure == "cost" else "PFLOP/s-hours")):
        value = getattr(risk, name)
        rows.add("risk", name, value if value is not None else "none", unit,
                 _field_source(risk, name, f"procurement.risk.{name}", file))


def _solver_rows(rows: _Rows, settings: SolverSettings, proc, file: str) -> None:
    choice = proc.solver
    profile = "the solver profile (procurement.solver.profile or --profile; solvers/profiles)"
    for name, unit in (("time_limit_s", "seconds"), ("mip_rel_gap", "fraction"),
                       ("threads", "threads")):
        value = getattr(settings, name)
        source = (f"{file}: procurement.solver.{name}" if name in choice.model_fields_set
                  else profile)
        rows.add("solver", name, value if value is not None else "HiGHS default", unit, source)
    for key, value in sorted(settings.options.items()):
        rows.add("solver", key, value, "", profile)
