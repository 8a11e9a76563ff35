"""`connect_microscope(config)`: build and connect the Microscope device.

The manufacturer in the configuration picks the backend; "Demo" (the default) is
the digital twin, every other one goes through the fibsem bridge (`hardware/`). This is
the only module outside `sim/` that knows the twin exists.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bluesky.run_engine import call_in_bluesky_event_loop
from ophyd_async.core import PathProvider, StaticPathProvider, UUIDFilenameProvider

from .backend import (
    BEAM_NAMES,
    MicroscopeBackend,
    StagePosition,
    format_resolution,
    write_beam_settings,
)
from .config import ConfigError, MicroscopeConfig, check_fingerprint, load_config
from .devices.microscope import Microscope
from .geometry import StageGeometry, flat_to_beam, specimen_to_raw
from .limits_from_config import limits_from_config
from .pydantic_errors import error_lines, summary

__all__ = [
    "async_connect_microscope",
    "build_microscope",
    "connect_microscope",
    "limits_from_config",
    "twin_lamella_report",
]


def _twin_parameters(config: MicroscopeConfig) -> dict[str, Any]:
    """The twin parameters the configuration sets (its one source for them)."""
    return {
        "electron_column_tilt_deg": config.electron.column_tilt_deg,
        "ion_column_tilt_deg": config.ion.column_tilt_deg,
        "shuttle_pre_tilt_deg": config.stage.shuttle_pre_tilt_deg,
        "rotation_reference_deg": config.stage.rotation_reference_deg,
        "rotation_180_deg": config.stage.rotation_180_deg,
        "eucentric_z_m": config.stage.eucentric_z_m,
        "electron_eucentric_working_distance_m": config.electron.eucentric_height_m,
        "ion_eucentric_working_distance_m": config.ion.eucentric_height_m,
        "stage_linear_speed_m_per_s": config.stage.max_speed_m_per_s,
        "stage_rotation_speed_deg_per_s": config.stage.max_rotation_speed_deg_per_s,
        "stage_tilt_speed_deg_per_s": config.stage.max_tilt_speed_deg_per_s,
        "pump_time_s": config.chamber.pump_time_s,
        "vent_time_s": config.chamber.vent_time_s,
        "pumped_pressure_pa": config.chamber.pumped_pressure_pa,
        "cryo": config.chamber.cryo_enabled,
        "cryo_temperature_k": config.chamber.cryo_temperature_k,
        "fluorescence": config.fluorescence.enabled,
    }


def _twin_backend(config: MicroscopeConfig, overrides: dict[str, Any]) -> MicroscopeBackend:
    """The twin, with the configuration's parameters, then `advanced.Demo` and `overrides`
    (the `twin=` argument) for the twin's own (seed, errors, drift...)."""
    from pydantic import ValidationError

    from .sim import TwinBackend, TwinParameters, TwinWorld

    derived = _twin_parameters(config)
    extra = {**config.backend_settings(), **overrides}
    problems = [
        f"advanced.Demo.{key}: set by the configuration's own sections; change it there"
        if key in derived
        else f"advanced.Demo.{key}: not a twin parameter (see fibsem_ophyd/sim/parameters.py)"
        for key in extra
        if key in derived or key not in TwinParameters.model_fields
    ]
    if problems:
        raise ConfigError(summary("invalid twin settings", problems))
    try:
        params = TwinParameters(**derived, **extra)
    except ValidationError as exc:
        lines = error_lines(exc, TwinParameters, prefix="advanced.Demo")
        raise ConfigError(summary("invalid twin settings", lines)) from None
    return TwinBackend(TwinWorld(params))


def _hardware_backend(config: MicroscopeConfig, twin: dict[str, Any] | None) -> MicroscopeBackend:
    """A real microscope (or fibsem's own simulator) through the fibsem bridge."""
    if twin:
        raise ValueError(
            f"twin= settings apply to the digital twin only; info.manufacturer is "
            f"{config.info.manufacturer!r}"
        )
    from .hardware import open_fibsem_backend

    return open_fibsem_backend(config)


def _apply_defaults(backend: MicroscopeBackend, config: MicroscopeConfig) -> None:
    """Start-up settings from the configuration: imaging, the GIS gas and heater setpoint."""
    backend.gis.gas = config.gis.default_gas
    backend.gis.heater_temperature_k = config.gis.heater_temperature_k
    for name in BEAM_NAMES:
        values = config.beam(name).imaging.model_dump()
        values["resolution"] = format_resolution(*values.pop("resolution_px"))
        # Every imaging key is a beam setting (write_beam_settings refuses any other).
        write_beam_settings(getattr(backend, name), values)


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
    """Named positions of the twin sample: the landing posts' landing points (where a
    lifted-out lamella is welded), each at the eucentric point, electron-flat:
    "landing_post", then "landing_post_2", "landing_post_3", ... (one lamella each)."""
    specimen = backend.world.specimen  # type: ignore[attr-defined]
    flat = flat_to_beam("electron", geometry)
    out = {}
    for k in range(len(specimen.landing_posts)):
        u, v = specimen.landing_point(k)
        h = specimen.reference_height_m(u, v)
        name = "landing_post" if k == 0 else f"landing_post_{k + 1}"
        out[name] = specimen_to_raw(u, v, flat.r_deg, flat.t_deg, geometry, h_m=h)
    return out


def _connection_metadata(
    backend: MicroscopeBackend, config: MicroscopeConfig, accept_mismatch: bool
) -> dict[str, Any]:
    """Compare the backend's fingerprint with the configuration (refusing a mismatch
    unless accepted) and say, for every run's start document, which microscope the
    configuration describes and what the comparison decided."""
    decision = check_fingerprint(config, backend.fingerprint(), accept_mismatch)
    info = config.info
    return {
        "microscope": {
            "name": info.name,
            "manufacturer": info.manufacturer,
            "ip_address": info.ip_address,
        },
        "fingerprint_check": decision,
    }


def build_microscope(
    config: MicroscopeConfig | str | Path | None = None,
    *,
    path_provider: PathProvider | None = None,
    twin: dict[str, Any] | None = None,
    accept_fingerprint_mismatch: bool = False,
) -> Microscope:
    """Build (not connect) the Microscope for `config` (default: the shipped twin config).

    The backend's fingerprint must match the configuration (`info.expected_fingerprint`,
    `info.manufacturer`, enabled subsystems, ranges): a mismatch raises
    `FingerprintMismatchError` listing the differences, unless
    `accept_fingerprint_mismatch`; either way the decision is in every run's metadata."""
    cfg = config if isinstance(config, MicroscopeConfig) else load_config(config)
    on_twin = cfg.info.manufacturer == "Demo"
    if on_twin:
        backend = _twin_backend(cfg, twin or {})
    else:
        backend = _hardware_backend(cfg, twin)
    metadata = _connection_metadata(backend, cfg, accept_fingerprint_mismatch)
    _apply_defaults(backend, cfg)
    if path_provider is None:
        folder = Path(tempfile.mkdtemp(prefix="fibsem-ophyd-frames-"))
        path_provider = StaticPathProvider(UUIDFilenameProvider(), folder)
    geometry = StageGeometry.from_config(cfg)
    limits = limits_from_config(cfg)
    microscope = Microscope(backend, limits, path_provider, geometry, metadata)
    if on_twin:
        microscope.sites.update(_twin_sites(backend, geometry))
        microscope.positions.update(_twin_positions(backend, geometry))
    return microscope


def connect_microscope(
    config: MicroscopeConfig | str | Path | None = None,
    *,
    path_provider: PathProvider | None = None,
    twin: dict[str, Any] | None = None,
    accept_fingerprint_mismatch: bool = False,
) -> Microscope:
    """Build the Microscope and connect it in the RunEngine's event loop
    (create the RunEngine first). A microscope that does not match the configuration's
    fingerprint is refused unless `accept_fingerprint_mismatch` (see `build_microscope`)."""
    microscope = build_microscope(
        config,
        path_provider=path_provider,
        twin=twin,
        accept_fingerprint_mismatch=accept_fingerprint_mismatch,
    )
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
