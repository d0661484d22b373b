"""Duration distributions used in scenario files (sampled by planner/sim/draws.py).

A duration field accepts a plain number (a fixed value) or a mapping such as
`{dist: lognormal, median: 20, sigma: 0.6}`. The unit is in the parent field's name
(`lead_time_days`, `diagnosis_hours`).
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


AnyDist = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Uniform | Weibull, Field(discriminator="dist")
]


def as_distribution(value: Any) -> Any:
    """Let a bare number stand for a fixed value (used as a `mode='before'` validator)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "fixed", "value": value}
    return value
