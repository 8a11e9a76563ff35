"""Comparing a configuration with what the connected microscope reports."""

from __future__ import annotations

from fibsem_ophyd.backend._types import SystemFingerprint

from ._microscope import MicroscopeConfig


def _enabled_subsystems(config: MicroscopeConfig) -> dict[str, bool]:
    return {
        "stage": config.stage.enabled,
        "electron": config.electron.enabled,
        "ion": config.ion.enabled,
        "manipulator": config.manipulator.enabled,
        "gis": config.gis.enabled,
        "sputter_coater": config.sputter_coater.enabled,
        "fluorescence": config.fluorescence.enabled,
        "cryo": config.chamber.cryo_enabled,
    }


def _configured_ranges(config: MicroscopeConfig) -> dict[str, tuple[float, float]]:
    ranges: dict[str, tuple[float, float]] = {}
    for name in ("electron", "ion"):
        beam = config.beam(name)  # type: ignore[arg-type]
        ranges[f"{name}.hfw_m"] = (beam.hfw_min_m, beam.hfw_max_m)
        ranges[f"{name}.dwell_time_s"] = (beam.dwell_time_min_s, beam.dwell_time_max_s)
        ranges[f"{name}.current_a"] = (min(beam.currents_a), max(beam.currents_a))
        ranges[f"{name}.voltage_v"] = (min(beam.voltages_v), max(beam.voltages_v))
    for axis in ("x_m", "y_m", "z_m", "r_deg", "t_deg"):
        ranges[f"stage.{axis}"] = getattr(config.stage.limits, axis).as_tuple()
    return ranges


def compare_fingerprint(config: MicroscopeConfig, fingerprint: SystemFingerprint) -> list[str]:
    """Mismatches between the configuration and the connected hardware, one line each.

    Reported: a different manufacturer; a subsystem the configuration enables that the
    hardware lacks (missing or False in ``fingerprint.subsystems``); a configured range
    that reaches beyond the range the hardware reports in ``fingerprint.ranges``
    (keys like ``'electron.hfw_m'``, ``'stage.t_deg'``). An empty list means they agree.
    """
    problems: list[str] = []
    want = config.info.manufacturer
    if fingerprint.manufacturer.strip().lower() != want.lower():
        problems.append(
            f"info.manufacturer: configuration says {want!r}, "
            f"hardware reports {fingerprint.manufacturer!r}"
        )
    for name, enabled in _enabled_subsystems(config).items():
        if enabled and not fingerprint.subsystems.get(name, False):
            state = "lacks it" if name not in fingerprint.subsystems else "reports it disabled"
            problems.append(f"{name}: enabled in the configuration, but the hardware {state}")
    configured = _configured_ranges(config)
    for key, (hw_lo, hw_hi) in sorted(fingerprint.ranges.items()):
        if key not in configured:
            continue
        lo, hi = configured[key]
        if lo < hw_lo or hi > hw_hi:
            problems.append(
                f"{key}: configured range [{lo:.6g}, {hi:.6g}] exceeds the hardware's "
                f"[{hw_lo:.6g}, {hw_hi:.6g}]"
            )
    return problems
