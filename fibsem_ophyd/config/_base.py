"""Shared building blocks of the configuration models: strict numbers, ranges, issues
(`raise_issues` and `fmt` come from the one pydantic-error translator)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, model_validator
from pydantic_core import PydanticCustomError

from fibsem_ophyd.pydantic_errors import fmt, raise_issues

# A real number: int or float. Strings ("fast", "1 nA") and booleans are refused,
# so a typo in a YAML value is reported instead of silently coerced.
Number = StrictFloat
PositiveNumber = Annotated[StrictFloat, Field(gt=0.0)]
NonNegativeNumber = Annotated[StrictFloat, Field(ge=0.0)]


class Section(BaseModel):
    """Base of every configuration section: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class AxisRange(Section):
    """An inclusive range ``{min, max}``; the unit is the one named by the parent key."""

    min: Number = Field(description="Lower bound (inclusive), in the unit of the parent key.")
    max: Number = Field(description="Upper bound (inclusive), in the unit of the parent key.")

    @model_validator(mode="after")
    def _ordered(self) -> AxisRange:
        if self.min > self.max:
            raise PydanticCustomError(
                "range_reversed",
                "min ({lo}) is greater than max ({hi})",
                {"lo": fmt(self.min), "hi": fmt(self.max)},
            )
        return self

    def contains(self, value: float) -> bool:
        """Whether ``min <= value <= max``."""
        return self.min <= value <= self.max

    def as_tuple(self) -> tuple[float, float]:
        """``(min, max)``."""
        return (self.min, self.max)


__all__ = [
    "AxisRange",
    "NonNegativeNumber",
    "Number",
    "PositiveNumber",
    "Section",
    "fmt",
    "raise_issues",
]
