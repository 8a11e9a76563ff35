"""Configuration of the smaller subsystems: manipulator, GIS, sputter coater, chamber,
fluorescence microscope, and the instrument identity (info)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from fibsem_ophyd.backend._types import ManipulatorPosition

from ._base import (
    AxisRange,
    NonNegativeNumber,
    Number,
    PositiveNumber,
    Section,
    fmt,
    raise_issues,
)

Manufacturer = Literal["Demo", "Thermo", "Tescan"]
MANUFACTURERS: tuple[str, ...] = ("Demo", "Thermo", "Tescan")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class InfoConfig(Section):
    """Which instrument this file describes and how to reach it."""

    name: str = Field("fibsem-twin", min_length=1, description="A name for this microscope.")
    manufacturer: Manufacturer = Field(
        "Demo", description="Backend to use: 'Demo' (the digital twin), 'Thermo' or 'Tescan'."
    )
    ip_address: str = Field(
        "localhost", description="IP address or hostname of the microscope control server."
    )

    @field_validator("ip_address")
    @classmethod
    def _ip_or_host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
            return value
        except ValueError:
            pass
        if not _HOSTNAME.match(value) or value.replace(".", "").isdigit():
            raise ValueError("expected an IPv4/IPv6 address or a hostname, e.g. '192.168.0.1'")
        return value


class ManipulatorPose(Section):
    """A manipulator pose in its raw axes."""

    x_m: Number = Field(0.0, description="x, metres (m).")
    y_m: Number = Field(0.0, description="y, metres (m).")
    z_m: Number = Field(0.0, description="z, metres (m).")
    r_deg: Number = Field(0.0, description="Rotation, degrees (deg).")

    def to_position(self) -> ManipulatorPosition:
        """As the backend value type."""
        return ManipulatorPosition(x_m=self.x_m, y_m=self.y_m, z_m=self.z_m, r_deg=self.r_deg)


class ManipulatorLimits(Section):
    """Soft limits of the manipulator raw axes."""

    x_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="x range, m.")
    y_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="y range, m.")
    z_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="z range, m.")
    r_deg: AxisRange = Field(AxisRange(min=0.0, max=360.0), description="Rotation range, deg.")


class ManipulatorConfig(Section):
    """The lift-out needle (e.g. EasyLift)."""

    enabled: StrictBool = Field(True, description="Whether a manipulator is installed.")
    park_position: ManipulatorPose = Field(
        ManipulatorPose(x_m=0.0, y_m=0.0, z_m=-4.0e-3, r_deg=0.0),
        description="Retracted-but-inserted park pose, raw axes (m, deg).",
    )
    eucentric_position: ManipulatorPose = Field(
        ManipulatorPose(), description="Pose that puts the tip at the eucentric point (m, deg)."
    )
    limits: ManipulatorLimits = Field(default_factory=ManipulatorLimits)

    @model_validator(mode="after")
    def _poses_within_limits(self) -> ManipulatorConfig:
        issues = []
        for pose_name in ("park_position", "eucentric_position"):
            pose = getattr(self, pose_name)
            for axis in ("x_m", "y_m", "z_m", "r_deg"):
                rng: AxisRange = getattr(self.limits, axis)
                val = getattr(pose, axis)
                if not rng.contains(val):
                    unit = axis.rsplit("_", 1)[1]
                    issues.append(
                        (
                            f"{pose_name}.{axis}",
                            f"got {fmt(val)} {unit}; outside limits.{axis} "
                            f"[{fmt(rng.min)}, {fmt(rng.max)}] {unit}",
                        )
                    )
        raise_issues(issues)
        return self


class GISConfig(Section):
    """Gas injection system (organometallic Pt for cryo protective layers)."""

    enabled: StrictBool = Field(True, description="Whether a GIS is installed.")
    gases: list[str] = Field(["Pt"], min_length=1, description="Gases available.")
    default_gas: str = Field("Pt", description="Gas used by default; one of gases.")
    heater_temperature_k: PositiveNumber = Field(
        301.0, description="Default reservoir heater temperature, kelvin (K)."
    )
    deposition_time_s: PositiveNumber = Field(
        30.0, description="Default (cryo) deposition time, seconds (s)."
    )

    @model_validator(mode="after")
    def _default_available(self) -> GISConfig:
        if self.default_gas not in self.gases:
            raise_issues([("default_gas", f"got {self.default_gas!r}; allowed: {self.gases}")])
        return self


class SputterCoaterConfig(Section):
    """Sputter coater (conductive metal coat)."""

    enabled: StrictBool = Field(True, description="Whether a sputter coater is installed.")
    default_current_a: PositiveNumber = Field(30.0e-3, description="Sputter current, amperes.")
    default_time_s: PositiveNumber = Field(15.0, description="Sputter time, seconds (s).")


class ChamberConfig(Section):
    """Vacuum chamber and cryo stage cooling."""

    cryo_enabled: StrictBool = Field(True, description="Whether the stage is cryo-cooled.")
    cryo_temperature_k: PositiveNumber = Field(
        90.0, description="Target stage temperature when cooled, kelvin (K)."
    )
    pumped_pressure_pa: PositiveNumber = Field(
        5.0e-4, description="Chamber pressure regarded as pumped, pascals (Pa)."
    )
    pump_time_s: NonNegativeNumber = Field(300.0, description="Time to pump down, seconds (s).")
    vent_time_s: NonNegativeNumber = Field(180.0, description="Time to vent, seconds (s).")


class FluorescenceChannel(Section):
    """One excitation/emission channel of the integrated fluorescence microscope."""

    name: str = Field(min_length=1, description="Channel name, e.g. 'green'.")
    excitation_wavelength_m: PositiveNumber = Field(description="Excitation, metres (m).")
    emission_wavelength_m: PositiveNumber | None = Field(
        description="Emission filter centre, metres (m); null for reflection."
    )


class Offset(Section):
    """A translation in the raw stage frame, metres."""

    x_m: Number = Field(0.0, description="x, metres (m).")
    y_m: Number = Field(0.0, description="y, metres (m).")
    z_m: Number = Field(0.0, description="z, metres (m).")


class FluorescenceConfig(Section):
    """Integrated fluorescence (light) microscope, if any."""

    enabled: StrictBool = Field(False, description="Whether an integrated FM is installed.")
    objective_range_m: AxisRange = Field(
        AxisRange(min=0.0, max=10.0e-3), description="Objective focus travel, metres (m)."
    )
    channels: list[FluorescenceChannel] = Field(
        default_factory=lambda: [
            FluorescenceChannel(
                name="reflection", excitation_wavelength_m=550e-9, emission_wavelength_m=None
            ),
            FluorescenceChannel(
                name="green", excitation_wavelength_m=488e-9, emission_wavelength_m=525e-9
            ),
            FluorescenceChannel(
                name="red", excitation_wavelength_m=561e-9, emission_wavelength_m=620e-9
            ),
        ],
        description="Available channels (wavelengths in metres).",
    )
    stage_offset: Offset | None = Field(
        None, description="Raw stage translation from the eucentric point to the FM view (m)."
    )
