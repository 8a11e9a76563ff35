"""A charged-particle column: its imaging settings as typed, validated signals.

`ElectronBeam` and `IonBeam` (their own files) are this device with a beam name.
Every setting is checked for its type (`fibsem_ophyd.values.typed`: no strings for
numbers, no "False" for a bool) and against the configured limits before it reaches
the backend (`Beam.check(field, value)` runs the same check without writing, so a plan
can refuse a multi-setting change before writing any of it); turning the beam on is
refused unless the chamber is pumped, and turning the ion beam off stops a mill in
progress.
"""

from __future__ import annotations

from typing import Any

from ophyd_async.core import SignalR, SignalRW, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import (
    BEAM_SETTINGS,
    BeamBackend,
    BeamName,
    BeamSetting,
    format_resolution,
    parse_resolution,
)
from ..ranges import Check, check_choice, check_range
from ..values import typed
from ._backed import backed_r, backed_rw, checked_rw, write_attr
from .interlocks import Interlocks
from .limits import BeamLimits

# The settings bound one-to-one to a backend attribute: all but the resolution (a
# "WIDTHxHEIGHT" string over two backend integers), from the one list of them.
_FIELDS: dict[str, BeamSetting] = {k: v for k, v in BEAM_SETTINGS.items() if k != "resolution"}


def beam_checks(beam: str, lim: BeamLimits) -> dict[str, Check]:
    """The check of every setting of `beam`, each naming the field and its range."""
    sm, bs, mi = lim.stigmation_max, lim.beam_shift_max_m, lim.max_integration
    resolutions = [format_resolution(w, h) for w, h in lim.resolutions]
    ranges = {
        "hfw_m": (lim.hfw_min_m, lim.hfw_max_m, "m"),
        "dwell_time_s": (lim.dwell_time_min_s, lim.dwell_time_max_s, "s"),
        "working_distance_m": (lim.working_distance_min_m, lim.working_distance_max_m, "m"),
        "stigmation_x": (-sm, sm, ""),
        "stigmation_y": (-sm, sm, ""),
        "beam_shift_x_m": (-bs, bs, "m"),
        "beam_shift_y_m": (-bs, bs, "m"),
        "scan_rotation_deg": (-360.0, 360.0, "deg"),
        "line_integration": (1, mi, ""),
        "frame_integration": (1, mi, ""),
        "detector_contrast": (0.0, 1.0, ""),
        "detector_brightness": (0.0, 1.0, ""),
    }
    choices: dict[str, tuple[list[Any], str]] = {
        "voltage_v": (list(lim.voltages_v), "V"),
        "current_a": (list(lim.currents_a), "A"),
        "resolution": (resolutions, ""),
        "detector_type": (list(lim.detector_types), ""),
        "detector_mode": (list(lim.detector_modes), ""),
    }
    checks = {k: check_range(f"{beam}.{k}", lo, hi, u) for k, (lo, hi, u) in ranges.items()}
    checks |= {k: check_choice(f"{beam}.{k}", allowed, u) for k, (allowed, u) in choices.items()}
    return checks


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
        self._checks = beam_checks(beam, limits)
        self._checks["on"] = self._check_beam_on
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            for field, (datatype, units) in _FIELDS.items():
                if field == "on":
                    setattr(self, field, self._on_signal())
                    continue
                signal = backed_rw(
                    datatype,
                    backend,
                    field,
                    field=f"{beam}.{field}",
                    units=units,
                    check=self._checks.get(field),
                )
                setattr(self, field, signal)
            self.resolution = self._resolution_signal()
            self.pixel_size_m = backed_r(
                float, lambda: backend.hfw_m / backend.resolution_x_px, units="m"
            )
        super().__init__(name=name)

    # Typed access for readers and type checkers (the signals are made in the loop from
    # BEAM_SETTINGS; tests/devices/test_beam_settings.py keeps this list equal to it).
    voltage_v: SignalRW[float]
    current_a: SignalRW[float]
    hfw_m: SignalRW[float]
    resolution: SignalRW[str]
    dwell_time_s: SignalRW[float]
    working_distance_m: SignalRW[float]
    stigmation_x: SignalRW[float]
    stigmation_y: SignalRW[float]
    beam_shift_x_m: SignalRW[float]
    beam_shift_y_m: SignalRW[float]
    scan_rotation_deg: SignalRW[float]
    line_integration: SignalRW[int]
    frame_integration: SignalRW[int]
    detector_type: SignalRW[str]
    detector_mode: SignalRW[str]
    detector_contrast: SignalRW[float]
    detector_brightness: SignalRW[float]
    blanked: SignalRW[bool]
    on: SignalRW[bool]

    def check(self, field: str, value: Any) -> None:
        """Raise what writing `value` to `field` would raise, without writing it."""
        if field not in BEAM_SETTINGS:
            raise ValueError(f"unknown imaging setting {field!r} for the {self.beam} beam")
        datatype, units = BEAM_SETTINGS[field]
        checked = typed(f"{self.beam}.{field}", datatype, value, units)
        check = self._checks.get(field)
        if check is not None:
            check(checked)

    def _resolution_signal(self) -> SignalRW[str]:
        b = self.backend

        def getter() -> str:
            return format_resolution(b.resolution_x_px, b.resolution_y_px)

        def setter(value: str) -> None:
            b.resolution_x_px, b.resolution_y_px = parse_resolution(value)

        field, check = f"{self.beam}.resolution", self._checks["resolution"]
        return checked_rw(str, field, getter, setter, check=check)

    def _check_beam_on(self, value: bool) -> None:
        if value:
            self._interlocks.require_vacuum(f"turn the {self.beam} beam on")

    def _on_signal(self) -> SignalRW[bool]:
        """`on`, whose write stops a mill in progress (or paused) before the ion beam
        goes off: the mill then fails with that reason instead of running on without
        its beam. Not in the check, which `check()` also runs without writing."""
        b, beam = self.backend, self.beam

        async def setter(value: bool) -> None:
            if beam == "ion" and not value:
                self._interlocks.ion_beam_going_off("the ion beam was switched off")
            await write_attr(b, "on", value)

        field, check = f"{beam}.on", self._checks["on"]
        return checked_rw(bool, field, lambda: bool(b.on), setter, check=check)

    @property
    def settings_signals(self) -> list[SignalR]:
        """The signals that describe how an image from this beam was taken."""
        return [getattr(self, f) for f in BEAM_SETTINGS] + [self.pixel_size_m]
