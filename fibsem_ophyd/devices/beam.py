"""A charged-particle column: its imaging settings as typed, validated signals.

`ElectronBeam` and `IonBeam` (their own files) are this device with a beam name.
Every setting is checked against the configured limits before it reaches the
backend; turning the beam on is refused while the chamber is vented.
"""

from __future__ import annotations

from ophyd_async.core import SignalR, SignalRW, StandardReadable, soft_signal_rw
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import BeamBackend, BeamName
from ._backed import backed_r, backed_rw, check_choice, check_range
from .interlocks import Interlocks
from .limits import BeamLimits


def format_resolution(width_px: int, height_px: int) -> str:
    return f"{width_px}x{height_px}"


class Beam(StandardReadable):
    """Imaging settings of one column (SI units; names carry the unit)."""

    def __init__(
        self,
        beam: BeamName,
        backend: BeamBackend,
        limits: BeamLimits,
        interlocks: Interlocks,
        name: str = "",
    ) -> None:
        self.beam: BeamName = beam
        self.limits = limits
        self.backend = backend
        self._interlocks = interlocks
        b, lim, f = backend, limits, f"{beam}"
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.voltage_v = backed_rw(
                float,
                b,
                "voltage_v",
                units="V",
                check=check_choice(f"{f}.voltage_v", list(lim.voltages_v), "V"),
            )
            self.current_a = backed_rw(
                float,
                b,
                "current_a",
                units="A",
                check=check_choice(f"{f}.current_a", list(lim.currents_a), "A"),
            )
            self.hfw_m = backed_rw(
                float,
                b,
                "hfw_m",
                units="m",
                check=check_range(f"{f}.hfw_m", lim.hfw_min_m, lim.hfw_max_m, "m"),
            )
            self.resolution = self._resolution_signal()
            self.pixel_size_m = backed_r(float, lambda: b.hfw_m / b.resolution_x_px, units="m")
            self.dwell_time_s = backed_rw(
                float,
                b,
                "dwell_time_s",
                units="s",
                check=check_range(
                    f"{f}.dwell_time_s", lim.dwell_time_min_s, lim.dwell_time_max_s, "s"
                ),
            )
            self.working_distance_m = backed_rw(
                float,
                b,
                "working_distance_m",
                units="m",
                check=check_range(
                    f"{f}.working_distance_m",
                    lim.working_distance_min_m,
                    lim.working_distance_max_m,
                    "m",
                ),
            )
            sm, bs = lim.stigmation_max, lim.beam_shift_max_m
            self.stigmation_x = backed_rw(
                float, b, "stigmation_x", check=check_range(f"{f}.stigmation_x", -sm, sm, "")
            )
            self.stigmation_y = backed_rw(
                float, b, "stigmation_y", check=check_range(f"{f}.stigmation_y", -sm, sm, "")
            )
            self.beam_shift_x_m = backed_rw(
                float,
                b,
                "beam_shift_x_m",
                units="m",
                check=check_range(f"{f}.beam_shift_x_m", -bs, bs, "m"),
            )
            self.beam_shift_y_m = backed_rw(
                float,
                b,
                "beam_shift_y_m",
                units="m",
                check=check_range(f"{f}.beam_shift_y_m", -bs, bs, "m"),
            )
            self.scan_rotation_deg = backed_rw(
                float,
                b,
                "scan_rotation_deg",
                units="deg",
                check=check_range(f"{f}.scan_rotation_deg", -360.0, 360.0, "deg"),
            )
            mi = lim.max_integration
            self.line_integration = backed_rw(
                int, b, "line_integration", check=check_range(f"{f}.line_integration", 1, mi, "")
            )
            self.frame_integration = backed_rw(
                int,
                b,
                "frame_integration",
                check=check_range(f"{f}.frame_integration", 1, mi, ""),
            )
            self.detector_type = backed_rw(
                str,
                b,
                "detector_type",
                check=check_choice(f"{f}.detector_type", list(lim.detector_types)),
            )
            self.detector_mode = backed_rw(
                str,
                b,
                "detector_mode",
                check=check_choice(f"{f}.detector_mode", list(lim.detector_modes)),
            )
            self.detector_contrast = backed_rw(
                float,
                b,
                "detector_contrast",
                check=check_range(f"{f}.detector_contrast", 0.0, 1.0, ""),
            )
            self.detector_brightness = backed_rw(
                float,
                b,
                "detector_brightness",
                check=check_range(f"{f}.detector_brightness", 0.0, 1.0, ""),
            )
            self.blanked = backed_rw(bool, b, "blanked")
            self.on = backed_rw(bool, b, "on", check=self._check_beam_on)
        super().__init__(name=name)

    def _resolution_signal(self) -> SignalRW[str]:
        b = self.backend
        allowed = [format_resolution(w, h) for w, h in self.limits.resolutions]
        check = check_choice(f"{self.beam}.resolution", allowed)

        def getter() -> str:
            return format_resolution(b.resolution_x_px, b.resolution_y_px)

        def setter(value: str) -> None:
            check(value)
            w, h = (int(v) for v in value.split("x"))
            b.resolution_x_px, b.resolution_y_px = w, h

        return soft_signal_rw(str, getter(), getter=getter, setter=setter)

    def _check_beam_on(self, value: bool) -> None:
        if value:
            self._interlocks.require_vacuum(f"turn the {self.beam} beam on")

    @property
    def settings_signals(self) -> list[SignalR]:
        """The signals that describe how an image from this beam was taken."""
        return [
            self.voltage_v,
            self.current_a,
            self.hfw_m,
            self.resolution,
            self.pixel_size_m,
            self.dwell_time_s,
            self.working_distance_m,
            self.stigmation_x,
            self.stigmation_y,
            self.beam_shift_x_m,
            self.beam_shift_y_m,
            self.scan_rotation_deg,
            self.line_integration,
            self.frame_integration,
            self.detector_type,
            self.detector_mode,
            self.detector_contrast,
            self.detector_brightness,
            self.blanked,
            self.on,
        ]
