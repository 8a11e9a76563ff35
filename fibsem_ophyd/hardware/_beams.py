"""`FibsemBeam`: one column (`BeamBackend`) read and written through fibsem's get/set.

Property access is quick on every vendor API fibsem wraps, so it runs inline (through
`VendorCalls.now`, which names device and action in any error), except the settings
that take time on a column (`SLOW_SETTINGS`), which the devices write through
`write_setting` in the worker thread. Line and frame
integration are acquisition settings in fibsem, not column state: they are kept here
and handed to each acquisition.
"""

from __future__ import annotations

from typing import Any

from ..backend import BeamName
from ._calls import VendorCalls
from ._units import beam_type, deg_to_rad, rad_to_deg

# Settings whose change takes seconds on a column (high tension, aperture/lens change
# for a current, the source on/off): written in the worker thread, with the timeout.
SLOW_SETTINGS = frozenset({"voltage_v", "current_a", "on"})


class FibsemBeam:
    """A `BeamBackend` over `microscope.get/set(key, value, beam_type)`."""

    def __init__(self, microscope: Any, calls: VendorCalls, name: BeamName) -> None:
        self._m = microscope
        self._calls = calls
        self._name = name
        self._type = beam_type(name)
        self.line_integration = 1
        self.frame_integration = 1

    async def write_setting(self, attr: str, value: Any) -> None:
        """Write `attr` as the device's signals do (`devices/_backed.write_attr`): the
        slow ones in the worker thread, bounded by the call timeout; the rest inline."""
        if attr in SLOW_SETTINGS:
            await self._calls.slow(self._name, f"write {attr}", setattr, self, attr, value)
        else:
            setattr(self, attr, value)

    def _get(self, key: str) -> Any:
        return self._calls.now(self._name, f"get {key}", self._m.get, key, self._type)

    def _set(self, key: str, value: Any) -> None:
        self._calls.now(self._name, f"set {key}", self._m.set, key, value, self._type)

    def _point(self, key: str) -> tuple[float, float]:
        p = self._get(key)
        return float(p.x), float(p.y)

    def _set_point(self, key: str, x: float | None = None, y: float | None = None) -> None:
        from fibsem.structures import Point

        old_x, old_y = self._point(key)
        self._set(key, Point(old_x if x is None else x, old_y if y is None else y))

    voltage_v = property(lambda s: float(s._get("voltage")), lambda s, v: s._set("voltage", v))
    current_a = property(lambda s: float(s._get("current")), lambda s, v: s._set("current", v))
    hfw_m = property(lambda s: float(s._get("hfw")), lambda s, v: s._set("hfw", v))
    dwell_time_s = property(
        lambda s: float(s._get("dwell_time")), lambda s, v: s._set("dwell_time", v)
    )
    working_distance_m = property(
        lambda s: float(s._get("working_distance")), lambda s, v: s._set("working_distance", v)
    )
    blanked = property(lambda s: bool(s._get("blanked")), lambda s, v: s._set("blanked", v))
    on = property(lambda s: bool(s._get("on")), lambda s, v: s._set("on", v))
    detector_type = property(
        lambda s: str(s._get("detector_type")), lambda s, v: s._set("detector_type", v)
    )
    detector_mode = property(
        lambda s: str(s._get("detector_mode")), lambda s, v: s._set("detector_mode", v)
    )
    detector_contrast = property(
        lambda s: float(s._get("detector_contrast")), lambda s, v: s._set("detector_contrast", v)
    )
    detector_brightness = property(
        lambda s: float(s._get("detector_brightness")),
        lambda s, v: s._set("detector_brightness", v),
    )
    stigmation_x = property(
        lambda s: s._point("stigmation")[0], lambda s, v: s._set_point("stigmation", x=v)
    )
    stigmation_y = property(
        lambda s: s._point("stigmation")[1], lambda s, v: s._set_point("stigmation", y=v)
    )
    beam_shift_x_m = property(
        lambda s: s._point("shift")[0], lambda s, v: s._set_point("shift", x=v)
    )
    beam_shift_y_m = property(
        lambda s: s._point("shift")[1], lambda s, v: s._set_point("shift", y=v)
    )

    @property
    def scan_rotation_deg(self) -> float:
        return float(rad_to_deg(float(self._get("scan_rotation"))) or 0.0)

    @scan_rotation_deg.setter
    def scan_rotation_deg(self, value_deg: float) -> None:
        self._set("scan_rotation", deg_to_rad(value_deg))

    def _resolution(self) -> tuple[int, int]:
        width, height = self._get("resolution")
        return int(width), int(height)

    @property
    def resolution_x_px(self) -> int:
        return self._resolution()[0]

    @resolution_x_px.setter
    def resolution_x_px(self, value: int) -> None:
        self._set("resolution", (int(value), self._resolution()[1]))

    @property
    def resolution_y_px(self) -> int:
        return self._resolution()[1]

    @resolution_y_px.setter
    def resolution_y_px(self, value: int) -> None:
        self._set("resolution", (self._resolution()[0], int(value)))
