"""The study file: a base scenario plus variations (grid, named cases, samples), validated like
scenarios (unknown keys rejected, every field documented)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from planner.scenario.schema import SCHEMA_KEY_DOC, Adaptive, Name, Strict


class NamedCase(Strict):
    """A case with a name and its own overrides."""

    name: Name = Field(description="Case name, used in outputs.")
    set: dict[str, Any] = Field(default_factory=dict, description="Field path -> value overrides.")


class SampledParameter(Strict):
    """A parameter drawn from a range by the sampler (Latin hypercube or Sobol)."""

    path: str = Field(description="Dotted field path, e.g. cluster.repair.technicians.")
    low: float = Field(description="Lower end of the range.")
    high: float = Field(description="Upper end of the range.")
    distribution: Literal["uniform", "loguniform"] = Field(
        "uniform", description="How the unit-cube sample maps to the range.")
    integer: bool = Field(False, description="Round to the nearest whole number.")

    @model_validator(mode="after")
    def _range(self) -> SampledParameter:
        if self.high <= self.low:
            raise ValueError("high must be > low")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("loguniform needs low > 0")
        return self


class Samples(Strict):
    """Random design over parameter ranges (scipy.stats.qmc)."""

    method: Literal["lhs", "sobol"] = Field("lhs", description="Latin hypercube or scrambled Sobol.")
    n: int = Field(ge=2, le=100_000, description="Number of sampled cases (Sobol: a power of 2).")
    parameters: list[SampledParameter] = Field(min_length=1, description="Sampled parameters.")

    @model_validator(mode="after")
    def _sobol_power_of_two(self) -> Samples:
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError("sobol needs n to be a power of 2")
        return self


class Sensitivity(Strict):
    """Which metric the tornado and the global ranking explain."""

    metric: str = Field(description="A collected metric, e.g. goodput_gpu_hours.")


class Study(Strict):
    """A base scenario and its variations."""

    schema_uri: str | None = Field(None, alias="$schema", exclude=True, description=SCHEMA_KEY_DOC)
    name: Name = Field(description="Study name; default output folder runs/<name>/.")
    description: str = Field("", description="Free text.")
    base: str = Field(min_length=1, description="Base scenario file, relative to the study file.")
    seed: int = Field(0, ge=0, description="Root seed; each case's seed derives from it and the case.")
    command: Literal["simulate", "optimize", "both"] = Field(
        "simulate", description="What each case runs: simulate, optimize, or optimize then simulate.")
    replications: int = Field(5, ge=1, le=10_000, description="Replications per case.")
    adaptive: Adaptive | None = Field(None, description="Adaptive replications per case.")
    metrics: list[str] = Field(
        default_factory=list, description="Metrics collected (a name or a prefix such as `ettr`); "
        "empty = all.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every case.")
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="Field path -> values; every combination is a case.")
    cases: list[NamedCase] = Field(default_factory=list, description="Named cases.")
    samples: Samples | None = Field(None, description="Sampled cases.")
    sensitivity: Sensitivity | None = Field(None, description="Metric for the tornado and ranking.")

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in grid.items():
            if not values:
                raise ValueError(f"{path!r} has no values")
        return grid

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: list[NamedCase]) -> list[NamedCase]:
        names = [c.name for c in cases]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"case names must be unique ({', '.join(duplicates)} twice)")
        return cases

    @model_validator(mode="after")
    def _has_cases(self) -> Study:
        if not (self.grid or self.cases or self.samples):
            raise ValueError("a study needs grid, cases or samples")
        return self


Overrides = Annotated[list[str], Field(description="--set expressions")]
