"""Allowed values the devices enforce, built from the configuration by `connect`.

Kept as small frozen dataclasses so a device does not depend on the layout of the
configuration file, only on the ranges it must check (SI units, angles in degrees).
"""

from __future__ import annotations

from dataclasses import dataclass


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


# Axis ranges have no defaults here: the configuration is their one source
# (`fibsem_ophyd.connect.limits_from_config`).


@dataclass(frozen=True)
class StageLimits:
    x_m: AxisLimits
    y_m: AxisLimits
    z_m: AxisLimits
    r_deg: AxisLimits
    t_deg: AxisLimits
    # 1-sigma error of a move to a saved position (m): not a limit the device enforces,
    # but what plans judge a correction against (larger ones are implausible).
    repeatability_m: float


@dataclass(frozen=True)
class ManipulatorLimits:
    x_m: AxisLimits
    y_m: AxisLimits
    z_m: AxisLimits
    r_deg: AxisLimits
    # Stage envelope inside which inserting the needle is safe.
    safe_tilt_deg: tuple[float, float] = (-1.0, 40.0)
    safe_z_max_m: float = 6e-3


@dataclass(frozen=True)
class FluorescenceLimits:
    objective_min_m: float
    objective_max_m: float
    channels: tuple[str, ...]
    exposure_min_s: float = 1e-4
    exposure_max_s: float = 10.0


@dataclass(frozen=True)
class MicroscopeLimits:
    electron: BeamLimits
    ion: BeamLimits
    stage: StageLimits
    manipulator: ManipulatorLimits
    fluorescence: FluorescenceLimits
    gis_max_open_s: float = 600.0
    sputter_max_s: float = 600.0
