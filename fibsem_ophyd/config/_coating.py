"""Configuration of the coating subsystems: gas injection (GIS) and sputter coater."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from ._base import PositiveNumber, Section, fmt, raise_issues


class GISConfig(Section):
    """Gas injection system (organometallic Pt for cryo protective layers)."""

    enabled: StrictBool = Field(True, description="Whether a GIS is installed.")
    gases: list[str] = Field(["Pt"], min_length=1, description="Gases available.")
    default_gas: str = Field("Pt", description="Gas used by default; one of gases.")
    heater_temperature_k: PositiveNumber = Field(
        301.0, description="Reservoir heater setpoint for a heated deposition, kelvin (K)."
    )
    deposition_time_s: PositiveNumber = Field(
        30.0, description="Default deposition time, seconds (s)."
    )
    max_open_time_s: PositiveNumber = Field(
        600.0, description="Longest time the valve may be opened at once, seconds (s)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> GISConfig:
        issues = []
        if self.default_gas not in self.gases:
            issues.append(("default_gas", f"got {self.default_gas!r}; allowed: {self.gases}"))
        if len(set(self.gases)) != len(self.gases):
            issues.append(("gases", f"got {self.gases}; each gas may appear once"))
        if self.deposition_time_s > self.max_open_time_s:
            issues.append(
                (
                    "deposition_time_s",
                    f"got {fmt(self.deposition_time_s)} s; more than max_open_time_s "
                    f"({fmt(self.max_open_time_s)} s)",
                )
            )
        raise_issues(issues)
        return self


class SputterCoaterConfig(Section):
    """Sputter coater (conductive metal coat)."""

    enabled: StrictBool = Field(True, description="Whether a sputter coater is installed.")
    default_current_a: PositiveNumber = Field(30.0e-3, description="Sputter current, amperes.")
    default_time_s: PositiveNumber = Field(15.0, description="Sputter time, seconds (s).")
    max_current_a: PositiveNumber = Field(0.1, description="Largest sputter current, amperes.")
    max_time_s: PositiveNumber = Field(600.0, description="Longest sputter time, seconds (s).")

    @model_validator(mode="after")
    def _defaults_within_limits(self) -> SputterCoaterConfig:
        pairs = (("current_a", "A"), ("time_s", "s"))
        issues = [
            (
                f"default_{key}",
                f"got {fmt(getattr(self, f'default_{key}'))} {unit}; more than max_{key} "
                f"({fmt(getattr(self, f'max_{key}'))} {unit})",
            )
            for key, unit in pairs
            if getattr(self, f"default_{key}") > getattr(self, f"max_{key}")
        ]
        raise_issues(issues)
        return self
