"""Shared building blocks of the configuration models: strict numbers, ranges, issues."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, model_validator
from pydantic_core import PydanticCustomError

# A real number: int or float. Strings ("fast", "1 nA") and booleans are refused,
# so a typo in a YAML value is reported instead of silently coerced.
Number = StrictFloat
PositiveNumber = Annotated[StrictFloat, Field(gt=0.0)]
NonNegativeNumber = Annotated[StrictFloat, Field(ge=0.0)]


class Section(BaseModel):
    """Base of every configuration section: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def raise_issues(issues: list[tuple[str, str]]) -> None:
    """Raise one validation error carrying every (relative key, message) issue.

    Cross-field checks of a section use this so that the error formatter can put
    the issue under the exact dotted key (e.g. ``ion.imaging.current_a``) instead
    of under the section.
    """
    if issues:
        raise PydanticCustomError(
            "config_issues",
            "; ".join(f"{key}: {msg}" for key, msg in issues),
            {"issues": issues},
        )


def fmt(value: Any) -> str:
    """A compact, readable rendering of a value for error messages."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(fmt(v) for v in value)
        return f"[{inner}]"
    return repr(value)


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
