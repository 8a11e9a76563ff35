"""Stage configuration: reference rotations, shuttle pre-tilt, eucentric z, soft limits."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, model_validator

from fibsem_ophyd.backend._types import StagePosition

from ._base import AxisRange, Number, PositiveNumber, Section, fmt, raise_issues

_AXIS_UNITS = {"x_m": "m", "y_m": "m", "z_m": "m", "r_deg": "deg", "t_deg": "deg"}


class StageLimits(Section):
    """Soft limits per raw stage axis, inclusive ``{min, max}``."""

    x_m: AxisRange = Field(
        default=AxisRange(min=-5.0e-3, max=5.0e-3), description="Raw x range, metres (m)."
    )
    y_m: AxisRange = Field(
        default=AxisRange(min=-5.0e-3, max=5.0e-3), description="Raw y range, metres (m)."
    )
    z_m: AxisRange = Field(
        default=AxisRange(min=0.0, max=8.0e-3), description="Raw z range, metres (m)."
    )
    r_deg: AxisRange = Field(
        default=AxisRange(min=0.0, max=360.0), description="Rotation range, degrees (deg)."
    )
    t_deg: AxisRange = Field(
        default=AxisRange(min=-10.0, max=60.0), description="Tilt range, degrees (deg)."
    )


class StageConfig(Section):
    """The specimen stage and the shuttle it carries (see docs/coordinates.md)."""

    enabled: StrictBool = Field(True, description="Whether the stage is used.")
    rotation_reference_deg: Number = Field(
        0.0, description="Raw rotation at which the pre-tilt faces the electron column, degrees."
    )
    rotation_180_deg: Number = Field(
        180.0,
        description="Raw rotation facing the ion column, degrees; "
        "default (rotation_reference_deg + 180) mod 360.",
    )
    shuttle_pre_tilt_deg: Number = Field(
        35.0, ge=-90.0, le=90.0, description="Shuttle pre-tilt about the shuttle x axis, degrees."
    )
    eucentric_z_m: Number = Field(
        4.0e-3, description="Raw z at which the shuttle origin is at the eucentric point, metres."
    )
    limits: StageLimits = Field(default_factory=StageLimits, description="Soft limits per axis.")
    repeatability_m: PositiveNumber = Field(
        3.0e-6,
        description="1-sigma position error of a move to a saved position, metres (m); "
        "plans treat a correction far larger than this as implausible (a wrong detection).",
    )
    max_speed_m_per_s: PositiveNumber = Field(
        1.0e-3, description="Largest translation speed, metres per second (m/s)."
    )
    max_rotation_speed_deg_per_s: PositiveNumber = Field(
        20.0, description="Largest rotation speed, degrees per second (deg/s)."
    )
    max_tilt_speed_deg_per_s: PositiveNumber = Field(
        5.0, description="Largest tilt speed, degrees per second (deg/s)."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_rotation_180(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("rotation_180_deg") is None:
            ref = data.get("rotation_reference_deg", 0.0)
            if isinstance(ref, (int, float)) and not isinstance(ref, bool):
                data = {**data, "rotation_180_deg": (ref + 180.0) % 360.0}
        return data

    @model_validator(mode="after")
    def _rotations_within_limits(self) -> StageConfig:
        r = self.limits.r_deg
        issues = [
            (key, f"got {fmt(val)} deg; outside limits.r_deg [{fmt(r.min)}, {fmt(r.max)}] deg")
            for key, val in (
                ("rotation_reference_deg", self.rotation_reference_deg),
                ("rotation_180_deg", self.rotation_180_deg),
            )
            if not r.contains(val)
        ]
        z = self.limits.z_m
        if not z.contains(self.eucentric_z_m):
            issues.append(
                (
                    "eucentric_z_m",
                    f"got {fmt(self.eucentric_z_m)} m; outside limits.z_m "
                    f"[{fmt(z.min)}, {fmt(z.max)}] m",
                )
            )
        raise_issues(issues)
        return self

    def check_position(self, position: StagePosition) -> StagePosition:
        """Return ``position`` if every given (non-None) axis is within its soft limit.

        Raises ValueError naming every axis out of range, with the range and unit.
        """
        problems = []
        for axis, unit in _AXIS_UNITS.items():
            value = getattr(position, axis)
            rng: AxisRange = getattr(self.limits, axis)
            if value is not None and not rng.contains(value):
                problems.append(
                    f"stage.{axis}: {fmt(value)} {unit} outside soft limits "
                    f"[{fmt(rng.min)}, {fmt(rng.max)}] {unit}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return position
