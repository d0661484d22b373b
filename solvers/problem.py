"""The optimizer's input: frozen dataclasses holding pandas tables, validated once.

Units are in column names. Periods are ordered labels (e.g. quarters "2027Q1"); scenarios are
sanction outcomes with probabilities that sum to one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SKU_COLUMNS = (
    "vendor", "platform", "domestic", "pflops_per_node", "price_usd", "power_kw", "nodes_per_rack",
    "lead_periods", "existing_nodes", "orderable",
)
PERIOD_COLUMNS = (
    "hours", "demand_pflops", "largest_job_pflops", "budget_usd", "power_cap_mw", "racks",
    "rental_cap_gpus",
)
VENDOR_SCENARIO_COLUMNS = ("delivered_fraction", "orderable", "volume_factor", "blocked")


# Largest magnitude of a finite input number. HiGHS refuses matrix entries above 1e15 and reads
# 1e20 as infinity; every planning quantity (USD, PFLOP/s, GPUs, kW) is far below this.
MAX_MAGNITUDE = 1e15
# Beyond this weight the expected cost vanishes next to the CVaR term in floating point: a cap
# (cvar_cap) is the way to say "only the tail matters".
MAX_RISK_WEIGHT = 1e4
# (table, column) where +infinity is a valid input: the limit does not apply
UNLIMITED_COLUMNS = frozenset({
    ("periods", "budget_usd"), ("periods", "power_cap_mw"), ("periods", "racks"),
    ("periods", "rental_cap_gpus"), ("supply_caps", "supply_cap_nodes"),
})


@dataclass(frozen=True)
class RiskSettings:
    """Risk in the objective: E[cost] + weight x CVaR_alpha(measure), or CVaR capped."""

    measure: str = "cost"  # "cost" (USD) or "shortfall" (PFLOP/s-hours of unmet demand)
    alpha: float = 0.9
    weight: float = 0.0
    cvar_cap: float | None = None  # hard cap on CVaR in the measure's unit

    def __post_init__(self) -> None:
        if self.measure not in ("cost", "shortfall"):
            raise ValueError(f"risk measure must be 'cost' or 'shortfall', not {self.measure!r}")
        if not 0 <= self.alpha < 1:
            raise ValueError("risk alpha must be in [0, 1)")
        if not 0 <= self.weight <= MAX_RISK_WEIGHT:
            raise ValueError(f"risk weight must be in [0, {MAX_RISK_WEIGHT:g}], not {self.weight:g}")


@dataclass(frozen=True)
class SolverSettings:
    """HiGHS settings; `profile` names a file solvers/profiles/<profile>.json read first."""

    time_limit_s: float | None = None
    mip_rel_gap: float | None = None
    threads: int | None = None
    options: dict = field(default_factory=dict)  # any other HiGHS option


@dataclass(frozen=True)
class ProcurementInput:
    """Everything the model needs, as tables.

    skus: index `sku`; columns SKU_COLUMNS (pflops_per_node = effective PFLOP/s after the
      platform's achievable utilization; lead_periods = whole periods from order to delivery).
    periods: index `period` in time order; columns PERIOD_COLUMNS (use inf for no cap).
    scenarios: index `scenario`; column `probability`.
    vendor_scenarios: index (vendor, period, scenario); columns VENDOR_SCENARIO_COLUMNS:
      delivered_fraction of node deliveries arriving that period, orderable (recourse orders
      may be placed), volume_factor on the supply cap, blocked (vendor parts and RMA cut off);
      optional price_factor, the price multiple of recourse orders placed then (default 1).
    supply_caps: index (vendor, period); column `supply_cap_nodes` (nodes per period).
    availability: index (sku, period, scenario); column `availability`: share of installed
      nodes available without a stockpile (decays in blocked periods).
    stockpile_pieces: columns sku, part, period, scenario, piece, intercept, slope: in those
      cells available nodes <= intercept x installed + slope x stockpiled parts (a concave
      piecewise-linear availability in parts per node, written in perspective form).
    parts: index (sku, part); column `price_usd`, optional `existing_units` (already on the shelf).
    platforms: index `platform`; columns porting_cost_usd, adopted (already in use).
    scheduled_deliveries: index (sku, period); column `nodes`: nodes already ordered that arrive
      in that period (subject to the vendor's deliveries in each scenario).
    """

    skus: pd.DataFrame
    periods: pd.DataFrame
    scenarios: pd.DataFrame
    vendor_scenarios: pd.DataFrame
    supply_caps: pd.DataFrame
    availability: pd.DataFrame
    stockpile_pieces: pd.DataFrame
    parts: pd.DataFrame
    platforms: pd.DataFrame
    pue: float = 1.3
    electricity_usd_per_kwh: float = 0.08
    recourse_premium: float = 0.2
    refund_share: float = 0.0
    rental_usd_per_gpu_hour: float = 2.0
    rental_pflops_per_gpu: float = 0.4
    unmet_penalty_usd_per_pflops_hour: float = 20.0
    total_budget_usd: float = math.inf
    vendor_share_caps: dict[str, float] = field(default_factory=dict)
    min_domestic_share: float = 0.0
    integer_orders: bool = True
    integer_recourse: bool = True  # whole nodes; False is the fast option
    allow_unmet: bool = True
    risk: RiskSettings = field(default_factory=RiskSettings)
    rental_blocked: frozenset = frozenset()  # (period, scenario) cells where rental is cut off
    hindsight: bool = False  # recourse sees each scenario's whole future (no shared nodes)
    # recourse orders may be placed in every period, even where the tree has one node (the
    # rolling-horizon re-solves: what was planned at the root is fixed, what happened since is
    # known, and an order placed now reacts to it)
    recourse_from_start: bool = False
    # in a rolling re-solve, the first period it decides: the recourse before it is what was
    # done, an order the vendor took whether or not it arrives (solvers/evaluate.rolling_step)
    recourse_decided_from: str | None = None
    asset_life_hours: float = math.inf  # straight-line life: residual value at the horizon
    discount_rate: float = 0.0  # per year, on every cash flow by the quarter it falls in
    scheduled_deliveries: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"nodes": pd.Series(dtype=float)},
        index=pd.MultiIndex.from_tuples([], names=["sku", "period"])))

    def __post_init__(self) -> None:
        missing = [c for c in SKU_COLUMNS if c not in self.skus.columns]
        if missing:
            raise ValueError(f"skus table lacks columns {missing}")
        missing = [c for c in PERIOD_COLUMNS if c not in self.periods.columns]
        if missing:
            raise ValueError(f"periods table lacks columns {missing}")
        total = float(self.scenarios["probability"].sum())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"scenario probabilities sum to {total}, not 1")
        if (self.scenarios["probability"] < 0).any():
            raise ValueError("scenario probabilities must be >= 0")
        if not self.scenarios.index.is_unique:
            raise ValueError("scenario names must be unique")
        if not 0.0 <= self.discount_rate <= 1.0:
            raise ValueError(f"discount rate must be in [0, 1] per year, not {self.discount_rate:g}")
        self._check_magnitudes()

    def _check_magnitudes(self) -> None:
        """No NaN; every finite number within +-MAX_MAGNITUDE; +infinity only where it means
        'no limit' (UNLIMITED_COLUMNS)."""
        for name, value in vars(self).items():
            if isinstance(value, pd.DataFrame):
                numbers = value.select_dtypes("number")
                for column in numbers.columns:
                    col = numbers[column].to_numpy(dtype=float)
                    finite = col[np.isfinite(col)]
                    unlimited_ok = (name, column) in UNLIMITED_COLUMNS
                    if np.isnan(col).any() or np.isneginf(col).any() or (
                            np.isposinf(col).any() and not unlimited_ok):
                        raise ValueError(f"{name} table, column {column}: not a finite number "
                                         "(overflow or missing value)")
                    if finite.size and np.abs(finite).max() > MAX_MAGNITUDE:
                        raise ValueError(f"{name} table, column {column}: "
                                         f"{np.abs(finite).max():g} is beyond {MAX_MAGNITUDE:g}")
            elif isinstance(value, float | int) and not isinstance(value, bool) \
                    and math.isfinite(value) and abs(value) > MAX_MAGNITUDE:
                raise ValueError(f"{name} = {value:g} is beyond {MAX_MAGNITUDE:g}")

    @property
    def period_labels(self) -> list[str]:
        return [str(p) for p in self.periods.index]

    @property
    def scenario_labels(self) -> list[str]:
        return [str(s) for s in self.scenarios.index]

    def with_risk(self, risk: RiskSettings) -> ProcurementInput:
        """The same problem with other risk settings."""
        from dataclasses import replace

        return replace(self, risk=risk)
