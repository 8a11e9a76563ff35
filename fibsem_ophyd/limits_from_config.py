"""`limits_from_config(config)`: the ranges and defaults the devices and plans use, taken
from the configuration (their one source) into the frozen records of
`fibsem_ophyd.devices.limits`."""

from __future__ import annotations

from .config import AxisRange, BeamConfig, MicroscopeConfig
from .devices.limits import (
    AxisLimits,
    BeamLimits,
    ChamberLimits,
    FluorescenceLimits,
    GisLimits,
    ManipulatorLimits,
    MicroscopeLimits,
    SputterLimits,
    StageLimits,
)


def _beam_limits(cfg: BeamConfig) -> BeamLimits:
    return BeamLimits(
        voltages_v=tuple(cfg.voltages_v),
        currents_a=tuple(cfg.currents_a),
        resolutions=tuple((int(w), int(h)) for w, h in cfg.resolutions_px),
        hfw_min_m=cfg.hfw_min_m,
        hfw_max_m=cfg.hfw_max_m,
        dwell_time_min_s=cfg.dwell_time_min_s,
        dwell_time_max_s=cfg.dwell_time_max_s,
        beam_shift_max_m=cfg.beam_shift_max_m,
        detector_types=tuple(cfg.detector_types),
        detector_modes=tuple(cfg.detector_modes),
        working_distance_min_m=cfg.working_distance_min_m,
        working_distance_max_m=cfg.working_distance_max_m,
        stigmation_max=cfg.stigmation_max,
        max_integration=cfg.integration_max,
    )


def _axis(rng: AxisRange, unit: str) -> AxisLimits:
    return AxisLimits(float(rng.min), float(rng.max), unit)


def _stage(config: MicroscopeConfig) -> StageLimits:
    sl = config.stage.limits
    return StageLimits(
        x_m=_axis(sl.x_m, "m"),
        y_m=_axis(sl.y_m, "m"),
        z_m=_axis(sl.z_m, "m"),
        r_deg=_axis(sl.r_deg, "deg"),
        t_deg=_axis(sl.t_deg, "deg"),
        repeatability_m=config.stage.repeatability_m,
    )


def _manipulator(config: MicroscopeConfig) -> ManipulatorLimits:
    mc = config.manipulator
    ml, env = mc.limits, mc.insertion_envelope
    return ManipulatorLimits(
        x_m=_axis(ml.x_m, "m"),
        y_m=_axis(ml.y_m, "m"),
        z_m=_axis(ml.z_m, "m"),
        r_deg=_axis(ml.r_deg, "deg"),
        safe_tilt_deg=(float(env.stage_tilt_deg.min), float(env.stage_tilt_deg.max)),
        safe_z_max_m=float(env.stage_z_max_m),
        park=mc.park_position.to_position(),
        eucentric=mc.eucentric_position.to_position(),
        exchange=mc.exchange_position.to_position(),
        calibration_file=mc.calibration_file,
    )


def _fluorescence(config: MicroscopeConfig) -> FluorescenceLimits:
    fm = config.fluorescence
    return FluorescenceLimits(
        objective_min_m=float(fm.objective_range_m.min),
        objective_max_m=float(fm.objective_range_m.max),
        channels=tuple(c.name for c in fm.channels),
        exposure_min_s=float(fm.exposure_range_s.min),
        exposure_max_s=float(fm.exposure_range_s.max),
    )


def _gis(config: MicroscopeConfig) -> GisLimits:
    gis = config.gis
    return GisLimits(
        enabled=gis.enabled,
        gases=tuple(gis.gases),
        default_gas=gis.default_gas,
        heater_temperature_k=gis.heater_temperature_k,
        deposition_time_s=gis.deposition_time_s,
        max_open_time_s=gis.max_open_time_s,
    )


def _sputter(config: MicroscopeConfig) -> SputterLimits:
    sc = config.sputter_coater
    return SputterLimits(
        enabled=sc.enabled,
        default_current_a=sc.default_current_a,
        default_time_s=sc.default_time_s,
        max_current_a=sc.max_current_a,
        max_time_s=sc.max_time_s,
    )


def _chamber(config: MicroscopeConfig) -> ChamberLimits:
    ch = config.chamber
    return ChamberLimits(
        pumped_pressure_pa=ch.pumped_pressure_pa,
        cryo_enabled=ch.cryo_enabled,
        cryo_temperature_k=ch.cryo_temperature_k,
        cryo_min_k=float(ch.cryo_target_range_k.min),
        cryo_max_k=float(ch.cryo_target_range_k.max),
        max_cryo_rate_k_per_min=ch.max_cryo_rate_k_per_min,
    )


def limits_from_config(config: MicroscopeConfig) -> MicroscopeLimits:
    """The ranges the devices enforce and the defaults plans use, from `config`."""
    return MicroscopeLimits(
        electron=_beam_limits(config.electron),
        ion=_beam_limits(config.ion),
        stage=_stage(config),
        manipulator=_manipulator(config),
        fluorescence=_fluorescence(config),
        gis=_gis(config),
        sputter_coater=_sputter(config),
        chamber=_chamber(config),
    )
