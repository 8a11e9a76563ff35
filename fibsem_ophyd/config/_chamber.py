"""Configuration of the vacuum chamber and the cryo stage."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from ._base import AxisRange, NonNegativeNumber, PositiveNumber, Section, fmt, raise_issues


class ChamberConfig(Section):
    """Vacuum chamber and cryo stage cooling."""

    cryo_enabled: StrictBool = Field(True, description="Whether the stage is cryo-cooled.")
    cryo_temperature_k: PositiveNumber = Field(
        90.0,
        description="Stage temperature when cooled (cool_down's default target), kelvin (K).",
    )
    cryo_target_range_k: AxisRange = Field(
        AxisRange(min=80.0, max=293.0),
        description="Allowed stage temperature setpoints, kelvin (K); warm_up's default "
        "target is the maximum.",
    )
    max_cryo_rate_k_per_min: PositiveNumber = Field(
        10.0, description="Fastest allowed cooling or warming rate, kelvin per minute (K/min)."
    )
    pumped_pressure_pa: PositiveNumber = Field(
        5.0e-4, description="Highest chamber pressure regarded as pumped, pascals (Pa)."
    )
    pump_time_s: NonNegativeNumber = Field(300.0, description="Time to pump down, seconds (s).")
    vent_time_s: NonNegativeNumber = Field(180.0, description="Time to vent, seconds (s).")

    @model_validator(mode="after")
    def _cryo_temperature_allowed(self) -> ChamberConfig:
        rng = self.cryo_target_range_k
        if rng.min <= 0:
            raise_issues([("cryo_target_range_k.min", f"got {fmt(rng.min)} K; must be > 0 K")])
        if not rng.contains(self.cryo_temperature_k):
            raise_issues(
                [
                    (
                        "cryo_temperature_k",
                        f"got {fmt(self.cryo_temperature_k)} K; outside cryo_target_range_k "
                        f"[{fmt(rng.min)}, {fmt(rng.max)}] K",
                    )
                ]
            )
        return self
