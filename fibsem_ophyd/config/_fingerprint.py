"""Comparing a configuration with what the connected microscope reports, and the
decision taken on connecting (matched, or a mismatch the user accepted)."""

from __future__ import annotations

from typing import Any, Literal

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
    if config.fluorescence.enabled:
        fm = config.fluorescence
        ranges["fluorescence.objective_position_m"] = fm.objective_range_m.as_tuple()
        ranges["fluorescence.exposure_time_s"] = fm.exposure_range_s.as_tuple()
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


def compare_identity(config: MicroscopeConfig, fingerprint: SystemFingerprint) -> list[str]:
    """Differences between ``info.expected_fingerprint`` (if set) and what the microscope
    reports as its model, serial number and software version, one line each."""
    expected = config.info.expected_fingerprint
    if expected is None:
        return []
    problems = []
    for key, want in expected.model_dump(exclude_none=True).items():
        got = getattr(fingerprint, key)
        if got != want:
            problems.append(
                f"info.expected_fingerprint.{key}: configuration expects {want!r}, "
                f"the microscope reports {got!r}"
            )
    return problems


class FingerprintMismatchError(RuntimeError):
    """The connected microscope is not the one the configuration describes."""


FingerprintStatus = Literal["matched", "mismatch accepted"]


def check_fingerprint(
    config: MicroscopeConfig, fingerprint: SystemFingerprint, accept_mismatch: bool = False
) -> dict[str, Any]:
    """Compare identity (``info.expected_fingerprint``) and capabilities
    (`compare_fingerprint`); refuse a mismatch unless ``accept_mismatch``.

    Returns the decision for the run metadata: ``{"status": "matched" | "mismatch
    accepted", "differences": [...], "expected": {...}}``."""
    differences = compare_identity(config, fingerprint) + compare_fingerprint(config, fingerprint)
    if differences and not accept_mismatch:
        listed = "\n".join(f"  - {line}" for line in differences)
        raise FingerprintMismatchError(
            f"refused to connect to {config.info.name!r}: the microscope does not match the "
            f"configuration ({len(differences)} difference(s)):\n{listed}\n"
            "Correct the configuration, or connect with accept_fingerprint_mismatch=True to "
            "go on (the differences are then recorded in every run's start document)."
        )
    expected = config.info.expected_fingerprint
    status: FingerprintStatus = "mismatch accepted" if differences else "matched"
    return {
        "status": status,
        "differences": differences,
        "expected": {} if expected is None else expected.model_dump(exclude_none=True),
    }
