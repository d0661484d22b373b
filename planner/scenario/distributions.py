"""Duration distributions used in scenario files (sampled by planner/sim/draws.py).

A duration field accepts a plain number (a fixed value) or a mapping such as
`{dist: lognormal, median: 20, sigma: 0.6}`, `{dist: empirical, values: [...]}` or
`{dist: mixture, components: [{weight: 0.8, value: 2}, {weight: 0.2, value: {...}}]}`. The unit
is in the parent field's name (`lead_time_days`, `diagnosis_hours`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

# Largest duration parameter, in the parent field's unit (hours or days): beyond a century either
# way, so a larger one is a typo, and its draws would overflow to infinity.
MAX_DURATION = 1e6


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"
    value: float = Field(ge=0, le=MAX_DURATION, description="The value, in the unit of the parent field.")

    @property
    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    """Exponential with the given mean (memoryless)."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, le=MAX_DURATION, description="Mean, in the unit of the parent field.")


class Lognormal(_Dist):
    """Lognormal given by its median and log-space standard deviation (heavy right tail)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0, le=MAX_DURATION, description="Median, in the unit of the parent field.")
    sigma: float = Field(ge=0, le=5, description="Standard deviation of the log of the value.")

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


class Gamma(_Dist):
    """Gamma given by its mean and shape (shape 1 = exponential, large shape = nearly fixed)."""

    dist: Literal["gamma"]
    mean: float = Field(gt=0, le=MAX_DURATION, description="Mean, in the unit of the parent field.")
    shape: float = Field(gt=0, description="Shape parameter k.")


class Uniform(_Dist):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, le=MAX_DURATION, description="Lower bound, in the unit of the parent field.")
    high: float = Field(ge=0, le=MAX_DURATION, description="Upper bound, in the unit of the parent field.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


class Weibull(_Dist):
    """Weibull given by scale and shape (shape < 1: infant mortality, > 1: wear-out)."""

    dist: Literal["weibull"]
    scale: float = Field(gt=0, le=MAX_DURATION, description="Scale, in the unit of the parent field.")
    shape: float = Field(ge=0.1, le=20, description="Shape parameter k (0.1 to 20).")

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)


MAX_EMPIRICAL_POINTS = 100_000


class Empirical(_Dist):
    """A distribution read off data: `values` drawn with equal chance (a log's repair hours) or
    with chance proportional to `weights` (Kaplan-Meier jumps), or `quantiles`, pairs
    [probability, value] from probability 0 to 1 with the inverse CDF interpolated linearly
    between them; or any of these from a CSV `file` (planner/scenario/empirical_file.py)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, le=MAX_DURATION)]] | None = Field(
        None, min_length=1, max_length=MAX_EMPIRICAL_POINTS,
        description="Observed values, each drawn with equal chance (or by `weights`).")
    weights: list[Annotated[float, Field(ge=0, le=MAX_DURATION)]] | None = Field(
        None, min_length=1, max_length=MAX_EMPIRICAL_POINTS,
        description="Relative chance of each of `values` (normalized); equal when absent.")
    quantiles: list[tuple[Annotated[float, Field(ge=0, le=1)],
                          Annotated[float, Field(ge=0, le=MAX_DURATION)]]] | None = Field(
        None, min_length=2, max_length=MAX_EMPIRICAL_POINTS,
        description="[probability, value] pairs, probabilities from 0 to 1, both increasing.")
    file: str | None = Field(
        None, description="A CSV file with a header `value`, `value,weight` or "
        "`probability,value`, read at load (relative to the file that names it) in place of "
        "the inline lists.")

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or data.get("file") is None:
            return data
        if any(data.get(key) is not None for key in ("values", "weights", "quantiles")):
            raise ValueError("give a file or inline values or quantiles, not both")
        from planner.scenario.empirical_file import read_points

        name = data["file"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError("file must be a path to a CSV file")
        path = Path(name).expanduser()
        base = (info.context or {}).get("base_dir")
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        rest = {key: value for key, value in data.items() if key != "file"}
        try:
            points = read_points(path, MAX_EMPIRICAL_POINTS)
        except ValueError as err:
            raise ValueError(f"file {err}") from None
        return {**rest, **points}

    @model_validator(mode="after")
    def _one_form(self) -> Empirical:
        if (self.values is None) == (self.quantiles is None):
            raise ValueError("give either values or quantiles")
        if self.weights is not None:
            if self.values is None or len(self.weights) != len(self.values):
                raise ValueError("weights need values, one weight for each value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be 0")
        if self.quantiles is not None:
            ps = [p for p, _ in self.quantiles]
            vs = [v for _, v in self.quantiles]
            if ps[0] != 0 or ps[-1] != 1:
                raise ValueError("quantiles must run from probability 0 to 1")
            if any(b <= a for a, b in zip(ps, ps[1:], strict=False)) \
                    or any(b < a for a, b in zip(vs, vs[1:], strict=False)):
                raise ValueError("quantile probabilities must increase and values not decrease")
        return self

    @property
    def mean(self) -> float:
        if self.values is not None:
            if self.weights is not None:
                return sum(w * v for w, v in zip(self.weights, self.values, strict=True)) \
                    / sum(self.weights)
            return sum(self.values) / len(self.values)
        assert self.quantiles is not None
        return sum((p1 - p0) * (v0 + v1) / 2 for (p0, v0), (p1, v1)
                   in zip(self.quantiles, self.quantiles[1:], strict=False))


class MixtureComponent(_Dist):
    """One part of a mixture: its weight and its distribution."""

    weight: float = Field(gt=0, description="Relative weight (the weights are normalized).")
    value: Annotated[Fixed | Exponential | Lognormal | Gamma | Uniform | Weibull | Empirical,
                     Field(discriminator="dist")] = Field(description="The distribution.")

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), int | float) \
                and not isinstance(data.get("value"), bool):
            return {**data, "value": {"dist": "fixed", "value": data["value"]}}
        return data


class Mixture(_Dist):
    """A draw from one of several distributions, chosen by weight (a quick fix or a part wait,
    say)."""

    dist: Literal["mixture"]
    components: list[MixtureComponent] = Field(min_length=1, max_length=32,
                                               description="The parts and their weights.")

    @property
    def weights(self) -> list[float]:
        total = sum(c.weight for c in self.components)
        return [c.weight / total for c in self.components]

    @property
    def mean(self) -> float:
        return sum(w * c.value.mean for w, c in zip(self.weights, self.components, strict=True))


AnyDist = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Uniform | Weibull | Empirical | Mixture,
    Field(discriminator="dist")
]


def as_distribution(value: Any) -> Any:
    """Let a bare number stand for a fixed value (used as a `mode='before'` validator)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    return value
