"""The imaging settings of one column: the one list of them.

`BeamSettings` is the source. Derived from its fields: `BEAM_SETTINGS` (name ->
datatype and unit: the device's signals in `devices/beam.py`, the saved state in
`fibsem_ophyd.state`), `BEAM_BACKEND_ATTRIBUTES` (the names a backend's column has:
the resolution as two integers) and `write_beam_settings` (start-up defaults in
`connect.py`). The backend protocol, the twin's `BeamState` and the device's typed
attribute declarations stay written out for type checkers;
tests/devices/test_beam_settings.py pins each of them to this list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


def _unit(unit: str, description: str | None = None, **kwargs: Any) -> Any:
    """A field whose unit is recorded where `BEAM_SETTINGS` finds it."""
    return Field(description=description, json_schema_extra={"unit": unit}, **kwargs)


class BeamSettings(BaseModel):
    """Imaging settings of one beam (SI units; names carry the unit)."""

    model_config = ConfigDict(extra="forbid")

    voltage_v: float = _unit("V")
    current_a: float = _unit("A")
    hfw_m: float = _unit("m", "horizontal field width")
    resolution: str = Field(description="'WIDTHxHEIGHT' in pixels")
    dwell_time_s: float = _unit("s")
    working_distance_m: float = _unit("m")
    stigmation_x: float = 0.0
    stigmation_y: float = 0.0
    beam_shift_x_m: float = _unit("m", default=0.0)
    beam_shift_y_m: float = _unit("m", default=0.0)
    scan_rotation_deg: float = _unit("deg", default=0.0)
    line_integration: int = 1
    frame_integration: int = 1
    detector_type: str
    detector_mode: str
    detector_contrast: float = Field(description="0..1")
    detector_brightness: float = Field(description="0..1")
    blanked: bool = False
    on: bool = True


class BeamSetting(NamedTuple):
    """How one setting is typed: its datatype and unit (None: dimensionless)."""

    datatype: type
    unit: str | None


def _setting(name: str) -> BeamSetting:
    info = BeamSettings.model_fields[name]
    extra = info.json_schema_extra
    unit = extra.get("unit") if isinstance(extra, dict) else None
    datatype = info.annotation
    assert isinstance(datatype, type), f"BeamSettings.{name}: a plain type is expected"
    return BeamSetting(datatype, None if unit is None else str(unit))


BEAM_SETTINGS: Mapping[str, BeamSetting] = {n: _setting(n) for n in BeamSettings.model_fields}

# A backend keeps the resolution as two integers; everything else by the same name.
RESOLUTION_ATTRIBUTES = ("resolution_x_px", "resolution_y_px")
BEAM_BACKEND_ATTRIBUTES: tuple[str, ...] = tuple(
    attr
    for name in BEAM_SETTINGS
    for attr in (RESOLUTION_ATTRIBUTES if name == "resolution" else (name,))
)


def format_resolution(width_px: int, height_px: int) -> str:
    return f"{width_px}x{height_px}"


def parse_resolution(text: str) -> tuple[int, int]:
    """'1536x1024' -> (1536, 1024)."""
    width, height = (int(v) for v in text.split("x"))
    return width, height


def write_beam_settings(column: object, values: Mapping[str, Any]) -> None:
    """Write `values` (setting name -> value, names from `BEAM_SETTINGS`) to a backend
    column, the resolution as its two integers. Unchecked: for start-up defaults that
    the configuration has already validated."""
    unknown = sorted(set(values) - set(BEAM_SETTINGS))
    if unknown:
        raise KeyError(f"not beam settings: {', '.join(unknown)}")
    for name, value in values.items():
        if name == "resolution":
            x_attr, y_attr = RESOLUTION_ATTRIBUTES
            width, height = parse_resolution(value)
            setattr(column, x_attr, width)
            setattr(column, y_attr, height)
        else:
            setattr(column, name, BEAM_SETTINGS[name].datatype(value))
