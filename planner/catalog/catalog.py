"""Load the shipped catalog (package data) and apply a scenario's overrides.

The catalog is data, not code: `data/skus.yaml` and `data/components.yaml` hold every figure as
`{value, source}`. A scenario can override any value or add SKUs, categories and parts; those
values carry the source `scenario <file>`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import yaml

from planner.units import HOURS_PER_DAY

SKU_NUMBERS = (
    "accelerators_per_node",
    "bf16_dense_tflops",
    "memory_gb",
    "node_power_kw",
    "node_price_usd",
    "failure_rate_multiplier",
)
SKU_TEXTS = ("vendor", "platform", "accelerator", "export_status", "estimate")
CATEGORY_NUMBERS = (
    "failure_rate_per_1000_node_days",
    "hard_fraction",
    "repair_hours_median",
    "repair_hours_sigma",
)
SHARED_NUMBERS = (
    "nodes_per_unit",
    "failure_rate_per_1000_unit_days",
    "hard_fraction",
    "repair_hours_median",
    "repair_hours_sigma",
)


@dataclass(frozen=True)
class Sourced:
    """A number and where it comes from."""

    value: float
    source: str


@dataclass(frozen=True)
class Mfu:
    """Model-FLOPs utilization of one workload on a SKU: a central figure and the range the
    sources span, with where they come from."""

    value: float
    low: float
    high: float
    source: str


WORKLOADS = ("dense", "moe")


@dataclass(frozen=True)
class Sku:
    """A node type: accelerators, performance, power, price and part prices."""

    name: str
    vendor: str
    platform: str
    accelerator: str
    export_status: str
    estimate: bool
    accelerators_per_node: Sourced
    bf16_dense_tflops: Sourced
    memory_gb: Sourced
    node_power_kw: Sourced
    node_price_usd: Sourced
    failure_rate_multiplier: Sourced
    part_prices_usd: dict[str, Sourced] = field(default_factory=dict)
    mfu: dict[str, Mfu] = field(default_factory=dict)  # workload -> utilization

    @property
    def gpus(self) -> int:
        """Accelerators per node as an int."""
        return int(self.accelerators_per_node.value)


@dataclass(frozen=True)
class Category:
    """A failure category of one node: rate, share needing a part, hands-on repair time."""

    name: str
    label: str
    failure_rate_per_1000_node_days: Sourced
    hard_fraction: Sourced
    part: str | None
    repair_hours_median: Sourced | None  # the lognormal shorthand (None: `repair_hours` given)
    repair_hours_sigma: Sourced | None
    lifetime_weibull_shape: float | None = None
    repair_hours: Any = None  # a scenario duration of any kind: replaces the shorthand
    listed_only: bool = False  # fails only on pools that list it (a fitted category)

    @property
    def rate_per_hour(self) -> float:
        """Failures per node-hour at the baseline."""
        return self.failure_rate_per_1000_node_days.value / 1000.0 / HOURS_PER_DAY

    def repair_distribution(self) -> Any:
        """Hands-on repair hours: `repair_hours`, else the lognormal of median and sigma."""
        if self.repair_hours is not None:
            return self.repair_hours
        assert self.repair_hours_median is not None and self.repair_hours_sigma is not None
        from planner.scenario.distributions import Lognormal

        return Lognormal(dist="lognormal", median=self.repair_hours_median.value,
                         sigma=self.repair_hours_sigma.value)


@dataclass(frozen=True)
class SharedComponent:
    """A component several nodes hang on (leaf switch, rack, PDU): its failure takes all its
    nodes down, and it is repaired once."""

    name: str
    label: str
    nodes_per_unit: Sourced
    failure_rate_per_1000_unit_days: Sourced
    hard_fraction: Sourced
    part: str | None
    repair_hours_median: Sourced
    repair_hours_sigma: Sourced

    @property
    def rate_per_hour(self) -> float:
        """Failures per unit-hour at the baseline."""
        return self.failure_rate_per_1000_unit_days.value / 1000.0 / HOURS_PER_DAY


@dataclass(frozen=True)
class Part:
    """A spare-part type."""

    name: str
    description: str
    supplier: str
    price_usd: Sourced


@dataclass(frozen=True)
class Catalog:
    """SKUs, failure categories and part types after scenario overrides."""

    skus: dict[str, Sku]
    categories: dict[str, Category]
    parts: dict[str, Part]
    shared_components: dict[str, SharedComponent] = field(default_factory=dict)

    def part_price_usd(self, sku: str, part: str) -> float:
        """Price of `part` for nodes of `sku` (SKU-specific if given, else the part's default)."""
        own = self.skus[sku].part_prices_usd.get(part)
        return own.value if own is not None else self.parts[part].price_usd.value

    def failure_rates_per_hour(self, sku: str, multipliers: Mapping[str, float] | None = None,
                               sku_multiplier: float | None = None,
                               only: Collection[str] | None = None) -> dict[str, float]:
        """Failures per node-hour of every category on a node of `sku`: the category's baseline
        rate x the SKU's multiplier (or `sku_multiplier`, a pool's own) x the category's entry
        in `multipliers` (a pool's own, 1 when absent); 0 for a category not in `only` when it
        is given, and for a `listed_only` category (fitted to one fleet) when it is not. The
        one place rates are composed: simulator, checks and optimizer read it."""
        scale = self.skus[sku].failure_rate_multiplier.value if sku_multiplier is None \
            else sku_multiplier
        own = multipliers or {}
        return {name: (0.0 if (name not in only if only is not None else c.listed_only)
                       else c.rate_per_hour * (scale * own.get(name, 1.0)))
                for name, c in self.categories.items()}

    def part_supplier(self, sku: str, part: str) -> str:
        """Vendor who supplies `part` for nodes of `sku`."""
        supplier = self.parts[part].supplier
        return self.skus[sku].vendor if supplier == "sku_vendor" else supplier


class CatalogError(ValueError):
    """A catalog or override problem at a dotted path (relative to the scenario's `catalog`)."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def _sourced(raw: Any, where: str) -> Sourced:
    if not isinstance(raw, dict) or "value" not in raw or not raw.get("source"):
        raise ValueError(f"shipped catalog {where}: expected {{value, source}}, got {raw!r}")
    return Sourced(float(raw["value"]), str(raw["source"]))


def _mfu(raw: Any, where: str) -> Mfu:
    if not isinstance(raw, dict) or not raw.get("source") or not {"value", "low", "high"} <= set(raw):
        raise ValueError(f"shipped catalog {where}: expected {{value, low, high, source}}")
    value, low, high = float(raw["value"]), float(raw["low"]), float(raw["high"])
    if not 0 < low <= value <= high <= 1:
        raise ValueError(f"shipped catalog {where}: needs 0 < low <= value <= high <= 1")
    return Mfu(value, low, high, str(raw["source"]))


# the C parser when PyYAML has it (the shipped files are ours: no line numbers needed); the
# pure-Python one took 0.3 s of every command's start
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_data(name: str) -> dict:
    text = resources.files("planner.catalog").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def _shipped() -> Catalog:
    skus_raw = _read_data("skus.yaml")["skus"]
    comp_raw = _read_data("components.yaml")
    skus = {}
    for name, raw in skus_raw.items():
        skus[name] = Sku(
            name=name,
            **{k: raw[k] for k in SKU_TEXTS},
            **{k: _sourced(raw[k], f"{name}.{k}") for k in SKU_NUMBERS},
            part_prices_usd={
                p: _sourced(v, f"{name}.part_prices_usd.{p}")
                for p, v in (raw.get("part_prices_usd") or {}).items()
            },
            mfu={w: _mfu(v, f"{name}.mfu.{w}") for w, v in (raw.get("mfu") or {}).items()},
        )
    parts = {
        name: Part(
            name=name,
            description=raw["description"],
            supplier=raw["supplier"],
            price_usd=_sourced(raw["price_usd"], f"parts.{name}.price_usd"),
        )
        for name, raw in comp_raw["parts"].items()
    }
    categories = {
        name: Category(
            name=name,
            label=raw["label"],
            part=raw.get("part"),
            lifetime_weibull_shape=raw.get("lifetime_weibull_shape"),
            **{k: _sourced(raw[k], f"categories.{name}.{k}") for k in CATEGORY_NUMBERS},
        )
        for name, raw in comp_raw["categories"].items()
    }
    shared = {
        name: SharedComponent(
            name=name, label=raw["label"], part=raw.get("part"),
            **{k: _sourced(raw[k], f"shared_components.{name}.{k}") for k in SHARED_NUMBERS},
        )
        for name, raw in (comp_raw.get("shared_components") or {}).items()
    }
    return Catalog(skus=skus, categories=categories, parts=parts, shared_components=shared)


_SHIPPED: Catalog | None = None


def shipped_catalog() -> Catalog:
    """The catalog as shipped in the package (read once per process)."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = _shipped()
    return _SHIPPED


def _patched(base: Any, patch: Any, numbers: tuple[str, ...], source: str) -> dict[str, Any]:
    """Field updates from a pydantic patch: numbers become Sourced(value, source)."""
    updates: dict[str, Any] = {}
    for key, value in patch.model_dump(exclude_none=True).items():
        if key in numbers:
            updates[key] = Sourced(float(value), source)
        elif key == "part_prices_usd":
            merged = dict(getattr(base, key, {}) or {})
            merged.update({p: Sourced(float(v), source) for p, v in value.items()})
            updates[key] = merged
        elif key == "mfu":
            merged = dict(getattr(base, key, {}) or {})
            for workload, figure in value.items():
                v = float(figure["value"])
                merged[workload] = Mfu(v, float(figure.get("low") or v),
                                       float(figure.get("high") or v), source)
            updates[key] = merged
        else:
            updates[key] = value
    return updates


def _new(cls: type, name: str, updates: dict[str, Any], required: tuple[str, ...], path: tuple):
    missing = [f for f in required if f not in updates]
    if missing:
        raise CatalogError((*path, name), f"new entry needs {', '.join(missing)}")
    return cls(name=name, **updates)


def load_catalog(patch: Any = None, source: str = "scenario") -> Catalog:
    """The shipped catalog with a scenario's `catalog` overrides applied."""
    cat = shipped_catalog()
    if patch is None:
        return cat
    src = f"scenario {source}"
    skus = dict(cat.skus)
    for name, p in patch.skus.items():
        upd = _patched(skus.get(name), p, SKU_NUMBERS, src)
        if name in skus:
            skus[name] = replace(skus[name], **upd)
        else:
            upd.setdefault("part_prices_usd", {})
            upd.setdefault("mfu", {})
            skus[name] = _new(Sku, name, upd, SKU_TEXTS + SKU_NUMBERS, ("skus",))
    parts = dict(cat.parts)
    for name, p in patch.parts.items():
        upd = _patched(parts.get(name), p, ("price_usd",), src)
        if name in parts:
            parts[name] = replace(parts[name], **upd)
        else:
            parts[name] = _new(Part, name, upd, ("description", "supplier", "price_usd"), ("parts",))
    categories = dict(cat.categories)
    for name, p in patch.categories.items():
        upd = _patched(categories.get(name), p, CATEGORY_NUMBERS, src)
        if p.repair_hours is not None:
            upd["repair_hours"] = p.repair_hours  # the validated duration, not its dump
        if name in categories:
            categories[name] = replace(categories[name], **upd)
        else:
            upd.setdefault("part", None)
            shorthand = ("repair_hours_median", "repair_hours_sigma")
            required = ("label", *(n for n in CATEGORY_NUMBERS
                                   if n not in shorthand or "repair_hours" not in upd))
            missing = [f for f in required if f not in upd]
            if missing:  # checked before the shorthand is filled in with None
                raise CatalogError(("categories", name),
                                   f"new entry needs {', '.join(missing)} (or repair_hours)"
                                   if set(missing) & set(shorthand) else
                                   f"new entry needs {', '.join(missing)}")
            for key in shorthand:
                upd.setdefault(key, None)
            categories[name] = _new(Category, name, upd, required, ("categories",))
    shared = dict(cat.shared_components)
    for name, p in patch.shared_components.items():
        upd = _patched(shared.get(name), p, SHARED_NUMBERS, src)
        if name in shared:
            shared[name] = replace(shared[name], **upd)
        else:
            upd.setdefault("part", None)
            required = ("label", *SHARED_NUMBERS)
            shared[name] = _new(SharedComponent, name, upd, required, ("shared_components",))
    for kind, entries in (("categories", categories), ("shared_components", shared)):
        for name, c in entries.items():
            if c.part is not None and c.part not in parts:
                raise CatalogError((kind, name, "part"), f"unknown part {c.part!r}")
            if c.hard_fraction.value > 0 and c.part is None:
                raise CatalogError((kind, name, "part"), "hard_fraction > 0 needs a part")
    return Catalog(skus=skus, categories=categories, parts=parts, shared_components=shared)
