"""`connect_microscope(config)`: build and connect the Microscope device.

The manufacturer in the configuration picks the backend; "Demo" (the default) is
the digital twin. This is the only module outside `sim/` that knows the twin exists.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bluesky.run_engine import call_in_bluesky_event_loop
from ophyd_async.core import PathProvider, StaticPathProvider, UUIDFilenameProvider

from .backend import MicroscopeBackend, StagePosition
from .config import MicroscopeConfig, load_config
from .config._beam import BeamConfig
from .devices.limits import (
    AxisLimits,
    BeamLimits,
    FluorescenceLimits,
    ManipulatorLimits,
    MicroscopeLimits,
    StageLimits,
)
from .devices.microscope import Microscope
from .geometry import StageGeometry, flat_to_beam, specimen_to_raw


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
    )


def _axis(rng: Any, unit: str) -> AxisLimits:
    return AxisLimits(float(rng.min), float(rng.max), unit)


def limits_from_config(config: MicroscopeConfig) -> MicroscopeLimits:
    """The ranges the devices enforce, from the configuration."""
    sl, ml = config.stage.limits, config.manipulator.limits
    fm = config.fluorescence
    return MicroscopeLimits(
        electron=_beam_limits(config.electron),
        ion=_beam_limits(config.ion),
        stage=StageLimits(
            x_m=_axis(sl.x_m, "m"),
            y_m=_axis(sl.y_m, "m"),
            z_m=_axis(sl.z_m, "m"),
            r_deg=_axis(sl.r_deg, "deg"),
            t_deg=_axis(sl.t_deg, "deg"),
            repeatability_m=config.stage.repeatability_m,
        ),
        manipulator=ManipulatorLimits(
            x_m=_axis(ml.x_m, "m"),
            y_m=_axis(ml.y_m, "m"),
            z_m=_axis(ml.z_m, "m"),
            r_deg=_axis(ml.r_deg, "deg"),
        ),
        fluorescence=FluorescenceLimits(
            objective_min_m=float(fm.objective_range_m.min),
            objective_max_m=float(fm.objective_range_m.max),
            channels=tuple(c.name for c in fm.channels),
        ),
    )


def _twin_backend(config: MicroscopeConfig, overrides: dict[str, Any]) -> MicroscopeBackend:
    from .sim import TwinBackend, TwinParameters, TwinWorld

    params = TwinParameters(
        electron_column_tilt_deg=config.electron.column_tilt_deg,
        ion_column_tilt_deg=config.ion.column_tilt_deg,
        shuttle_pre_tilt_deg=config.stage.shuttle_pre_tilt_deg,
        rotation_reference_deg=config.stage.rotation_reference_deg,
        rotation_180_deg=config.stage.rotation_180_deg,
        eucentric_z_m=config.stage.eucentric_z_m,
        electron_eucentric_working_distance_m=config.electron.eucentric_height_m,
        ion_eucentric_working_distance_m=config.ion.eucentric_height_m,
        fluorescence=config.fluorescence.enabled,
        **overrides,
    )
    return TwinBackend(TwinWorld(params))


def _apply_imaging_defaults(backend: MicroscopeBackend, config: MicroscopeConfig) -> None:
    for name in ("electron", "ion"):
        beam, im = getattr(backend, name), config.beam(name).imaging  # type: ignore[arg-type]
        beam.voltage_v = im.voltage_v
        beam.current_a = im.current_a
        beam.hfw_m = im.hfw_m
        beam.resolution_x_px, beam.resolution_y_px = (int(v) for v in im.resolution_px)
        beam.dwell_time_s = im.dwell_time_s
        beam.working_distance_m = im.working_distance_m
        beam.scan_rotation_deg = im.scan_rotation_deg
        beam.detector_type = im.detector_type
        beam.detector_mode = im.detector_mode


def _twin_sites(backend: MicroscopeBackend, geometry: StageGeometry) -> dict[str, StagePosition]:
    """The twin sample's lamella sites as raw stage poses, electron-flat, each site at
    the eucentric point (as a user would save them after choosing sites)."""
    world = backend.world  # type: ignore[attr-defined]
    flat = flat_to_beam("electron", geometry)
    return {
        site.name: specimen_to_raw(
            site.u_m,
            site.v_m,
            flat.r_deg,
            flat.t_deg,
            geometry,
            h_m=world.specimen.surface_height_m(site),
        )
        for site in world.specimen.sites
    }


def _twin_positions(
    backend: MicroscopeBackend, geometry: StageGeometry
) -> dict[str, StagePosition]:
    """Named positions of the twin sample: "landing_post", the post's landing point (the
    middle of its +u side, where a lifted-out lamella is welded) at the eucentric point,
    electron-flat."""
    specimen = backend.world.specimen  # type: ignore[attr-defined]
    u, v = specimen.landing_point()
    flat = flat_to_beam("electron", geometry)
    h = specimen.reference_height_m(u, v)
    return {"landing_post": specimen_to_raw(u, v, flat.r_deg, flat.t_deg, geometry, h_m=h)}


def build_microscope(
    config: MicroscopeConfig | str | Path | None = None,
    *,
    path_provider: PathProvider | None = None,
    twin: dict[str, Any] | None = None,
) -> Microscope:
    """Build (not connect) the Microscope for `config` (default: the shipped twin config)."""
    cfg = config if isinstance(config, MicroscopeConfig) else load_config(config)
    manufacturer = cfg.info.manufacturer
    if manufacturer != "Demo":
        raise ValueError(
            f"info.manufacturer={manufacturer!r}: no hardware backend is installed in this "
            "build; use 'Demo' (the digital twin)"
        )
    backend = _twin_backend(cfg, twin or {})
    _apply_imaging_defaults(backend, cfg)
    if path_provider is None:
        folder = Path(tempfile.mkdtemp(prefix="fibsem-ophyd-frames-"))
        path_provider = StaticPathProvider(UUIDFilenameProvider(), folder)
    geometry = StageGeometry.from_config(cfg)
    microscope = Microscope(backend, limits_from_config(cfg), path_provider, geometry)
    microscope.sites.update(_twin_sites(backend, geometry))
    microscope.positions.update(_twin_positions(backend, geometry))
    return microscope


def connect_microscope(
    config: MicroscopeConfig | str | Path | None = None,
    *,
    path_provider: PathProvider | None = None,
    twin: dict[str, Any] | None = None,
) -> Microscope:
    """Build the Microscope and connect it in the RunEngine's event loop
    (create the RunEngine first)."""
    microscope = build_microscope(config, path_provider=path_provider, twin=twin)
    call_in_bluesky_event_loop(microscope.connect())
    return microscope


async def async_connect_microscope(
    config: MicroscopeConfig | str | Path | None = None,
    **kwargs: Any,
) -> Microscope:
    """`connect_microscope` for code already inside an event loop (tests, notebooks)."""
    microscope = build_microscope(config, **kwargs)
    await microscope.connect()
    return microscope


def twin_lamella_report(microscope: Microscope, site: str) -> dict[str, Any]:
    """Ground truth from the twin's material model: what remains at `site` (centre,
    centre error, width, thickness; metres). Only the twin can say this; on hardware
    the lamella is measured from images."""
    world = getattr(microscope.backend, "world", None)
    if world is None:
        raise RuntimeError("lamella ground truth exists only on the digital twin (Demo)")
    return world.lamella_report(site).model_dump()
