"""Duration distributions used in scenario files (sampled by planner/sim/draws.py).

A duration field accepts a plain number (a fixed value) or a mapping such as
`{dist: lognormal, median: 20, sigma: 0.6}`, `{dist: empirical, values: [...]}` or
`{dist: mixture, components: [{weight: 0.8, value: 2}, {weight: 0.2, value: {...}}]}`. The unit
is in the parent field's name (`lead_time_days`, `diagnosis_hours`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    """A distribution read off data: `values` drawn with equal chance (a log's repair hours), or
    `quantiles`, pairs [probability, value] from probability 0 to 1 with the inverse CDF
    interpolated linearly between them."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, le=MAX_DURATION)]] | None = Field(
        None, min_length=1, max_length=MAX_EMPIRICAL_POINTS,
        description="Observed values, each drawn with equal chance.")
    quantiles: list[tuple[Annotated[float, Field(ge=0, le=1)],
                          Annotated[float, Field(ge=0, le=MAX_DURATION)]]] | None = Field(
        None, min_length=2, max_length=MAX_EMPIRICAL_POINTS,
        description="[probability, value] pairs, probabilities from 0 to 1, both increasing.")

    @model_validator(mode="after")
    def _one_form(self) -> Empirical:
        if (self.values is None) == (self.quantiles is None):
            raise ValueError("give either values or quantiles")
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
