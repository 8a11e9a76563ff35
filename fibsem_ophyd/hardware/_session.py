"""Open a fibsem microscope for our configuration and wrap it in a `FibsemBackend`.

fibsem builds its microscope from its own `SystemSettings`: the bridge starts from
fibsem's shipped default configuration file and writes over it what our configuration
says (manufacturer, address, column tilts, eucentric heights, shuttle pre-tilt,
rotation reference, enabled subsystems). Connecting is a network call: it runs in a
thread with a timeout, so an unreachable microscope is reported, not waited on.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

from ..config import ConfigError, MicroscopeConfig
from ._backend import FibsemBackend
from ._calls import DEFAULT_TIMEOUT_S, VendorCalls
from ._errors import FIBSEM_INSTALL_HINT, HardwareError, HardwareTimeoutError

# Our info.manufacturer -> (fibsem's manufacturer name, port fibsem connects to).
FIBSEM_MANUFACTURERS: dict[str, tuple[str, int]] = {
    "Thermo": ("ThermoFisher", 7520),
    "Tescan": ("Tescan", 8300),
    "Odemis": ("Odemis", 0),
    "OpenFIBSEM-Demo": ("Demo", 7520),
}
SETTINGS_KEYS = ("call_timeout_s", "connect_timeout_s")
# advanced.OpenFIBSEM-Demo only: simulate a compustage (Arctis-like) system, the one kind
# on which fibsem's Demo has a fluorescence microscope.
DEMO_FLAGS = ("compustage",)
CONNECT_TIMEOUT_S = 30.0


def _fibsem_default_settings() -> Any:
    """fibsem's `SystemSettings` from the configuration file its package ships."""
    import fibsem
    from fibsem.structures import SystemSettings
    from fibsem.utils import load_yaml

    path = Path(fibsem.__file__).parent / "config" / "microscope-configuration.yaml"
    return SystemSettings.from_dict(load_yaml(path))


def fibsem_system_settings(config: MicroscopeConfig) -> Any:
    """fibsem's `SystemSettings` for `config` (see the module docstring); for fibsem's
    Demo, `advanced.OpenFIBSEM-Demo.compustage` sets its `sim.is_compustage`."""
    system = _fibsem_default_settings()
    if config.info.manufacturer == "OpenFIBSEM-Demo":
        system.sim = {**(system.sim or {}), "is_compustage": _demo_compustage(config)}
    name, _ = FIBSEM_MANUFACTURERS[config.info.manufacturer]
    system.info.manufacturer = name
    system.info.ip_address = config.info.ip_address
    system.info.name = config.info.name
    system.stage.rotation_reference = config.stage.rotation_reference_deg
    system.stage.rotation_180 = config.stage.rotation_180_deg
    system.stage.shuttle_pre_tilt = config.stage.shuttle_pre_tilt_deg
    system.stage.enabled = config.stage.enabled
    for ours, theirs in ((config.electron, system.electron), (config.ion, system.ion)):
        theirs.enabled = ours.enabled
        theirs.column_tilt = ours.column_tilt_deg
        theirs.eucentric_height = ours.eucentric_height_m
    system.manipulator.enabled = config.manipulator.enabled
    system.gis.enabled = config.gis.enabled
    system.gis.sputter_coater = config.sputter_coater.enabled
    return system


def _new_microscope(manufacturer: str, system: Any) -> Any:
    if manufacturer == "ThermoFisher":
        from fibsem.microscope import ThermoMicroscope

        return ThermoMicroscope(system)
    if manufacturer == "Tescan":
        from fibsem.microscopes.tescan import TescanMicroscope

        return TescanMicroscope(system)
    if manufacturer == "Odemis":
        from fibsem.microscopes.odemis_microscope import OdemisThermoMicroscope

        return OdemisThermoMicroscope(system)
    from fibsem.microscopes.simulator import DemoMicroscope

    return DemoMicroscope(system)


def _allowed_keys(config: MicroscopeConfig) -> tuple[str, ...]:
    demo = config.info.manufacturer == "OpenFIBSEM-Demo"
    return SETTINGS_KEYS + (DEMO_FLAGS if demo else ())


def _demo_compustage(config: MicroscopeConfig) -> bool:
    return bool(config.backend_settings().get("compustage", False))


def _settings(config: MicroscopeConfig) -> dict[str, float]:
    values = config.backend_settings()
    allowed = _allowed_keys(config)
    unknown = sorted(set(values) - set(allowed))
    problems = [f"advanced.{config.info.manufacturer}.{k}: unknown; allowed: {list(allowed)}"
                for k in unknown]  # fmt: skip
    for key in DEMO_FLAGS:
        if key in values and key in allowed and not isinstance(values[key], bool):
            problems.append(
                f"advanced.{config.info.manufacturer}.{key}: {values[key]!r}; must be true or false"
            )
    for key in SETTINGS_KEYS:
        if key in values and not (isinstance(values[key], int | float) and values[key] > 0):
            problems.append(
                f"advanced.{config.info.manufacturer}.{key}: {values[key]!r}; "
                "must be a number of seconds > 0"
            )
    if problems:
        raise ConfigError("invalid hardware settings:\n  " + "\n  ".join(problems))
    return {k: float(v) for k, v in values.items() if k in SETTINGS_KEYS}


def open_fibsem_backend(config: MicroscopeConfig) -> FibsemBackend:
    """Connect to the microscope `config` describes through fibsem."""
    manufacturer = config.info.manufacturer
    if manufacturer not in FIBSEM_MANUFACTURERS:
        raise ValueError(
            f"info.manufacturer={manufacturer!r}: not reached through fibsem; "
            f"allowed: {sorted(FIBSEM_MANUFACTURERS)}"
        )
    settings = _settings(config)  # bad settings refused before fibsem is touched
    try:
        import fibsem  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"info.manufacturer={manufacturer!r} needs the fibsem package: {FIBSEM_INSTALL_HINT}"
        ) from exc
    name, port = FIBSEM_MANUFACTURERS[manufacturer]
    system = fibsem_system_settings(config)
    try:
        microscope = _new_microscope(name, system)
    except ImportError as exc:
        raise ImportError(
            f"info.manufacturer={manufacturer!r}: fibsem could not load the vendor SDK "
            f"({exc}); {FIBSEM_INSTALL_HINT}"
        ) from exc
    timeout_s = settings.get("connect_timeout_s", CONNECT_TIMEOUT_S)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fibsem-connect")
    try:
        if name != "Odemis":  # Odemis connects in its constructor
            future = pool.submit(microscope.connect_to_microscope, config.info.ip_address, port)
            future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise HardwareTimeoutError(
            "microscope", "connect", f"no answer from {config.info.ip_address} in {timeout_s:g} s"
        ) from None
    except Exception as exc:
        raise HardwareError(
            "microscope", "connect", f"{config.info.ip_address}: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        pool.shutdown(wait=False)
    speeds = (
        config.stage.max_speed_m_per_s,
        config.stage.max_rotation_speed_deg_per_s,
        config.stage.max_tilt_speed_deg_per_s,
    )
    calls = VendorCalls(settings.get("call_timeout_s", DEFAULT_TIMEOUT_S))
    return FibsemBackend(microscope, calls, speeds, config.fluorescence.channels)
