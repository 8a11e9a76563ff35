"""`fibsem-ophyd config import FILE`: an OpenFIBSEM microscope configuration YAML as ours.

A lab moving over keeps its geometry and imaging defaults. The mapping is a table (the
one source for it); a value our configuration requires to be a member of a list
(currents, voltages, detector types) is added to that list, since the microscope has it.
Everything the table does not cover is listed back, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fibsem_ophyd.config import MicroscopeConfig, config_from_dict, load_config

# fibsem's info.manufacturer -> ours.
MANUFACTURERS = {
    "ThermoFisher": "Thermo",
    "Thermo": "Thermo",
    "Tescan": "Tescan",
    "TESCAN": "Tescan",
    "Odemis": "Odemis",
    "Demo": "OpenFIBSEM-Demo",
}
# fibsem key path -> our key path (same units: degrees, metres, volts, amperes, seconds).
KEYS: dict[str, str] = {
    "info.name": "info.name",
    "info.ip_address": "info.ip_address",
    "stage.enabled": "stage.enabled",
    "stage.rotation_reference": "stage.rotation_reference_deg",
    "stage.rotation_180": "stage.rotation_180_deg",
    "stage.shuttle_pre_tilt": "stage.shuttle_pre_tilt_deg",
    "manipulator.enabled": "manipulator.enabled",
    "gis.enabled": "gis.enabled",
    "gis.sputter_coater": "sputter_coater.enabled",
    **{
        f"{beam}.{theirs}": f"{beam}.{ours}"
        for beam in ("electron", "ion")
        for theirs, ours in (
            ("enabled", "enabled"),
            ("column_tilt", "column_tilt_deg"),
            ("eucentric_height", "eucentric_height_m"),
            ("voltage", "imaging.voltage_v"),
            ("current", "imaging.current_a"),
            ("resolution", "imaging.resolution_px"),
            ("hfw", "imaging.hfw_m"),
            ("dwell_time", "imaging.dwell_time_s"),
            ("detector_type", "imaging.detector_type"),
            ("detector_mode", "imaging.detector_mode"),
        )
    },
}
# An imaging value that must be a member of this list of the same beam.
MEMBER_OF = {
    "imaging.voltage_v": "voltages_v",
    "imaging.current_a": "currents_a",
    "imaging.resolution_px": "resolutions_px",
    "imaging.detector_type": "detector_types",
    "imaging.detector_mode": "detector_modes",
}


@dataclass
class ImportResult:
    config: dict[str, Any]  # our configuration (only the keys the import sets)
    unmapped: list[str] = field(default_factory=list)  # "key: value" not carried over
    notes: list[str] = field(default_factory=list)  # what the import added or decided


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


def _put(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def _listed(defaults: MicroscopeConfig, ours: dict[str, Any], result: ImportResult) -> None:
    """Add imaging values missing from their beam's list to a copy of that list."""
    for beam in ("electron", "ion"):
        imaging = ours.get(beam, {}).get("imaging", {})
        for key, value in imaging.items():
            list_key = MEMBER_OF.get(f"imaging.{key}")
            if list_key is None:
                continue
            allowed = list(getattr(defaults.beam(beam), list_key))  # type: ignore[arg-type]
            member = [list(v) for v in allowed] if key == "resolution_px" else allowed
            if value not in member and not (
                isinstance(value, float) and any(abs(value - a) <= 1e-9 * abs(a) for a in allowed)
            ):
                ours[beam][list_key] = [*member, value]
                result.notes.append(f"{beam}.{list_key}: added {value!r} (the imported default)")


def import_fibsem_config(data: Mapping[str, Any]) -> ImportResult:
    """Our configuration for an OpenFIBSEM microscope configuration (parsed YAML);
    validated, so what is returned loads."""
    result = ImportResult(config={})
    for path, value in _flatten(data).items():
        if path == "info.manufacturer":
            name = MANUFACTURERS.get(str(value))
            if name is None:
                result.unmapped.append(f"{path}: {value!r} (no such backend)")
            else:
                _put(result.config, "info.manufacturer", name)
        elif path in KEYS and value is not None:
            if path.endswith("resolution"):
                value = [int(v) for v in value]
            elif isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            _put(result.config, KEYS[path], value)
        else:
            result.unmapped.append(f"{path}: {value!r}")
    _listed(load_config(None), result.config, result)
    # fibsem reports no stage temperature, so a bridge connection must not expect one.
    if result.config.get("info", {}).get("manufacturer", "Demo") != "Demo":
        _put(result.config, "chamber.cryo_enabled", False)
        result.notes.append("chamber.cryo_enabled: false (fibsem reports no stage temperature)")
    config_from_dict(result.config, source="imported configuration")
    return result
