"""`FibsemFluorescence`: fibsem's widefield microscope (`microscope.fm`, a
`FluorescenceMicroscope`) as our `FluorescenceBackend`.

Units: objective position metres and exposure seconds on both sides; wavelengths are
metres here and nanometres in fibsem (`_fm_channels`); our excitation power is a
fraction 0..1, mapped linearly onto fibsem's `power_limits`. A value fibsem would
silently clip (an objective target past its user limit) or reject is refused here with
a clear error before anything is written. Moving the objective and acquiring a frame
run in the bridge's worker thread with a timeout; settings are quick writes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import FluorescenceChannel
from ._calls import VendorCalls
from ._errors import HardwareError
from ._fm_channels import channel_named, channel_reported, filter_choice

DEVICE = "fluorescence"
ACQUIRE_TIMEOUT_FACTOR = 3.0  # a frame may take this many exposures ...
ACQUIRE_TIMEOUT_MARGIN_S = 30.0  # ... plus this (readout, shared channel switching)


def to_uint16(data: np.ndarray) -> np.ndarray:
    """A camera frame as the 2-D uint16 array our FM camera stores (8-bit frames are
    scaled by 257 so full scale stays full scale; others clipped to 0..65535)."""
    frame = np.asarray(data)
    if frame.ndim == 3 and frame.shape[-1] == 1:
        frame = frame[..., 0]
    if frame.ndim != 2:
        raise ValueError(f"expected a 2-D frame, fibsem returned shape {frame.shape}")
    if frame.dtype == np.uint16:
        return frame
    if frame.dtype == np.uint8:
        return frame.astype(np.uint16) * 257
    return np.clip(np.rint(frame), 0, 65535).astype(np.uint16)


class FibsemFluorescence:
    """Our FM protocol on `fm` (fibsem's `FluorescenceMicroscope`); `channels` are the
    configured ones (`fluorescence.channels`), which name the filter settings."""

    def __init__(
        self, fm: Any, calls: VendorCalls, channels: Sequence[FluorescenceChannel]
    ) -> None:
        if not channels:
            raise ValueError("fluorescence.channels: at least one channel is needed")
        self._fm = fm
        self._calls = calls
        self._channels = list(channels)
        self._last_channel: str | None = None

    # -- objective -------------------------------------------------------------------
    @property
    def objective_position_m(self) -> float:
        return float(self._calls.now(DEVICE, "objective position", _position, self._fm))

    @objective_position_m.setter
    def objective_position_m(self, value: float) -> None:
        raise HardwareError(
            DEVICE,
            "objective position",
            "the objective moves with `await move_objective(position_m)` (in the worker "
            "thread, with a timeout); it is not set as an attribute",
        )

    def objective_limits_m(self) -> tuple[float, float]:
        """The range fibsem lets the objective reach: its travel, capped by the user
        limit (fibsem clips a move past that limit silently; we refuse it)."""
        objective = self._fm.objective
        lo, hi = self._calls.now(DEVICE, "objective limits", lambda: objective.limits)
        user = self._calls.now(DEVICE, "objective user limit", lambda: objective.limit_position)
        return float(lo), float(min(hi, user))

    async def move_objective(self, position_m: float) -> None:
        if not (isinstance(position_m, int | float) and math.isfinite(position_m)):
            raise ValueError(
                f"objective position must be a finite number of metres, got {position_m!r}"
            )
        lo, hi = self.objective_limits_m()
        if not lo <= position_m <= hi:
            raise ValueError(
                f"fluorescence.objective_position_m: {position_m:.6g} m is outside the "
                f"objective's range [{lo:.6g}, {hi:.6g}] m reported by fibsem"
            )
        await self._calls.slow(
            DEVICE, "move_objective", self._fm.objective.move_absolute, float(position_m)
        )

    # -- channel ---------------------------------------------------------------------
    def _lines(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        filters = self._fm.filter_set
        return (
            tuple(
                self._calls.now(
                    DEVICE, "excitation lines", lambda: filters.available_excitation_wavelengths
                )
            ),
            tuple(
                self._calls.now(
                    DEVICE, "emission lines", lambda: filters.available_emission_wavelengths
                )
            ),
        )

    @property
    def channel(self) -> str:
        filters = self._fm.filter_set
        excitation = float(
            self._calls.now(DEVICE, "excitation", lambda: filters.excitation_wavelength)
        )
        emission = self._calls.now(DEVICE, "emission", lambda: filters.emission_wavelength)
        excitations, emissions = self._lines()
        return channel_reported(
            self._channels, excitations, emissions, excitation, emission is None, self._last_channel
        )

    @channel.setter
    def channel(self, name: str) -> None:
        channel = channel_named(self._channels, name)  # refused before any vendor call
        choice = filter_choice(channel, *self._lines())
        filters = self._fm.filter_set
        self._calls.now(
            DEVICE,
            "set excitation",
            setattr,
            filters,
            "excitation_wavelength",
            choice.excitation_nm,
        )
        self._calls.now(
            DEVICE, "set emission", setattr, filters, "emission_wavelength", choice.emission
        )
        self._calls.now(DEVICE, "set channel name", self._fm.set_channel_name, channel.name)
        self._last_channel = channel.name

    # -- camera and light --------------------------------------------------------------
    @property
    def exposure_time_s(self) -> float:
        camera = self._fm.camera
        return float(self._calls.now(DEVICE, "exposure", lambda: camera.exposure_time))

    @exposure_time_s.setter
    def exposure_time_s(self, value: float) -> None:
        if not (isinstance(value, int | float) and value > 0):
            raise ValueError(f"fluorescence.exposure_time_s must be > 0 seconds, got {value!r}")
        lo, hi = self.exposure_limits_s()
        if not lo <= value <= hi:
            raise ValueError(
                f"fluorescence.exposure_time_s: {value:g} s is outside the camera's "
                f"[{lo:g}, {hi:g}] s reported by fibsem"
            )
        self._calls.now(DEVICE, "set exposure", self._fm.set_exposure_time, float(value))

    def exposure_limits_s(self) -> tuple[float, float]:
        camera = self._fm.camera
        lo, hi = self._calls.now(DEVICE, "exposure limits", lambda: camera.exposure_time_limits)
        return float(lo), float(hi)

    def _power_limits(self) -> tuple[float, float]:
        light = self._fm.light_source
        lo, hi = self._calls.now(DEVICE, "power limits", lambda: light.power_limits)
        if not hi > lo:
            raise HardwareError(DEVICE, "power limits", f"fibsem reports [{lo}, {hi}]")
        return float(lo), float(hi)

    @property
    def excitation_power(self) -> float:
        light = self._fm.light_source
        lo, hi = self._power_limits()
        return (float(self._calls.now(DEVICE, "power", lambda: light.power)) - lo) / (hi - lo)

    @excitation_power.setter
    def excitation_power(self, fraction: float) -> None:
        if not (isinstance(fraction, int | float) and 0.0 <= fraction <= 1.0):
            raise ValueError(f"fluorescence.excitation_power must be in [0, 1], got {fraction!r}")
        lo, hi = self._power_limits()
        self._calls.now(DEVICE, "set power", self._fm.set_power, lo + float(fraction) * (hi - lo))

    # -- frames ------------------------------------------------------------------------
    def frame_shape(self) -> tuple[int, int]:
        camera = self._fm.camera
        width, height = self._calls.now(DEVICE, "resolution", lambda: camera.resolution)
        return int(height), int(width)

    async def acquire(self) -> np.ndarray:
        busy = self._calls.now(DEVICE, "is_acquiring", lambda: self._fm.is_acquiring)
        if busy:
            reason = getattr(self._fm, "acquiring_reason", "") or "another acquisition"
            raise HardwareError(DEVICE, "acquire", f"refused: fibsem's FM is busy ({reason})")
        timeout_s = ACQUIRE_TIMEOUT_FACTOR * self.exposure_time_s + ACQUIRE_TIMEOUT_MARGIN_S
        image = await self._calls.slow(
            DEVICE, "acquire", self._fm.acquire_image, timeout_s=timeout_s
        )
        return to_uint16(image.data)


def _position(fm: Any) -> float:
    return float(fm.objective.position)
