"""Allowed values the devices enforce, and the configured defaults plans use, built
from the configuration by `connect` (`fibsem_ophyd.limits_from_config`).

Kept as small frozen dataclasses so a device does not depend on the layout of the
configuration file, only on the ranges it must check (SI units, angles in degrees).
Values that come from the configuration have no defaults here: the configuration is
their one source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backend import ManipulatorPosition


@dataclass(frozen=True)
class BeamLimits:
    voltages_v: tuple[float, ...]
    currents_a: tuple[float, ...]
    resolutions: tuple[tuple[int, int], ...]
    hfw_min_m: float
    hfw_max_m: float
    dwell_time_min_s: float
    dwell_time_max_s: float
    beam_shift_max_m: float
    detector_types: tuple[str, ...]
    detector_modes: tuple[str, ...]
    working_distance_min_m: float
    working_distance_max_m: float
    stigmation_max: float
    max_integration: int


@dataclass(frozen=True)
class AxisLimits:
    minimum: float
    maximum: float
    unit: str


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
    safe_tilt_deg: tuple[float, float]
    safe_z_max_m: float
    # Configured raw poses: park (inserted, high), eucentric (tip at the eucentric point,
    # until a calibration replaces it), exchange (retracted, where the needle is swapped).
    park: ManipulatorPosition
    eucentric: ManipulatorPosition
    exchange: ManipulatorPosition
    calibration_file: str | None  # where calibrations are kept (None: this session only)


@dataclass(frozen=True)
class FluorescenceLimits:
    objective_min_m: float
    objective_max_m: float
    channels: tuple[str, ...]
    exposure_min_s: float
    exposure_max_s: float


@dataclass(frozen=True)
class GisLimits:
    enabled: bool
    gases: tuple[str, ...]
    default_gas: str
    heater_temperature_k: float  # reservoir setpoint of a heated deposition
    deposition_time_s: float  # default deposition time
    max_open_time_s: float


@dataclass(frozen=True)
class SputterLimits:
    enabled: bool
    default_current_a: float
    default_time_s: float
    max_current_a: float
    max_time_s: float


@dataclass(frozen=True)
class ChamberLimits:
    pumped_pressure_pa: float  # above it the chamber is not regarded as pumped
    cryo_enabled: bool
    cryo_temperature_k: float  # cool_down's default target
    cryo_min_k: float
    cryo_max_k: float  # warm_up's default target
    max_cryo_rate_k_per_min: float


@dataclass(frozen=True)
class MicroscopeLimits:
    electron: BeamLimits
    ion: BeamLimits
    stage: StageLimits
    manipulator: ManipulatorLimits
    fluorescence: FluorescenceLimits
    gis: GisLimits
    sputter_coater: SputterLimits
    chamber: ChamberLimits
