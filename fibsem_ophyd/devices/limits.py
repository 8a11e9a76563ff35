"""Allowed values the devices enforce, built from the configuration by `connect`.

Kept as small frozen dataclasses so a device does not depend on the layout of the
configuration file, only on the ranges it must check (SI units, angles in degrees).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BeamLimits:
    voltages_v: tuple[float, ...]
    currents_a: tuple[float, ...]
    resolutions: tuple[tuple[int, int], ...]
    hfw_min_m: float
    hfw_max_m: float
    dwell_time_min_s: float = 25e-9
    dwell_time_max_s: float = 1e-3
    working_distance_min_m: float = 0.5e-3
    working_distance_max_m: float = 50e-3
    beam_shift_max_m: float = 50e-6
    stigmation_max: float = 1.0
    detector_types: tuple[str, ...] = ("ETD", "TLD", "ICE")
    detector_modes: tuple[str, ...] = ("SecondaryElectrons", "BackscatterElectrons")
    max_integration: int = 255


@dataclass(frozen=True)
class AxisLimits:
    minimum: float
    maximum: float
    unit: str


@dataclass(frozen=True)
class StageLimits:
    x_m: AxisLimits = AxisLimits(-5e-3, 5e-3, "m")
    y_m: AxisLimits = AxisLimits(-5e-3, 5e-3, "m")
    z_m: AxisLimits = AxisLimits(0.0, 8e-3, "m")
    r_deg: AxisLimits = AxisLimits(-360.0, 360.0, "deg")
    t_deg: AxisLimits = AxisLimits(-10.0, 60.0, "deg")


@dataclass(frozen=True)
class ManipulatorLimits:
    x_m: AxisLimits = AxisLimits(-10e-3, 10e-3, "m")
    y_m: AxisLimits = AxisLimits(-10e-3, 10e-3, "m")
    z_m: AxisLimits = AxisLimits(-10e-3, 10e-3, "m")
    r_deg: AxisLimits = AxisLimits(-360.0, 360.0, "deg")
    # Stage envelope inside which inserting the needle is safe.
    safe_tilt_deg: tuple[float, float] = (-1.0, 40.0)
    safe_z_max_m: float = 6e-3


@dataclass(frozen=True)
class FluorescenceLimits:
    objective_min_m: float = -2e-3
    objective_max_m: float = 2e-3
    channels: tuple[str, ...] = ("reflection", "green", "red")
    exposure_min_s: float = 1e-4
    exposure_max_s: float = 10.0


@dataclass(frozen=True)
class MicroscopeLimits:
    electron: BeamLimits
    ion: BeamLimits
    stage: StageLimits = field(default_factory=StageLimits)
    manipulator: ManipulatorLimits = field(default_factory=ManipulatorLimits)
    fluorescence: FluorescenceLimits = field(default_factory=FluorescenceLimits)
    gis_max_open_s: float = 600.0
    sputter_max_s: float = 600.0
