"""A processing device that registers an imaging detector's latest frame against a
reference and publishes the shift, the match score and the peak ratio as signals.

Plans set `aligner.reference` (a 2-D array) or `capture_reference()` (the detector's
latest frame), trigger the detector, then trigger the aligner and read it: every step's
shift and quality become event data of the run, so the plan can judge the result
(score: same scene?; peak ratio: one clear match or several?). `max_shift_m` (image
plane, metres; 0 = anywhere) limits the search, so a periodic specimen cannot pull the match onto a
neighbouring period farther away than the stage can be wrong by. The reference's
Fourier transform is computed once per reference and search window.
"""

from __future__ import annotations

import numpy as np
from ophyd_async.core import (
    AsyncStatus,
    Reference,
    StandardReadable,
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.core import StandardReadableFormat as Format

from ..alignment import Registrar
from .imaging_detector import ImagingDetector


class ImageAligner(StandardReadable):
    def __init__(self, detector: ImagingDetector, name: str = "") -> None:
        self._detector_ref = Reference(detector)
        self._registrar: Registrar | None = None
        self._registrar_for: tuple[np.ndarray, float] | None = None
        self.reference = soft_signal_rw(np.ndarray)
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.shift_x_px, self._set_x = soft_signal_r_and_setter(float, units="px")
            self.shift_y_px, self._set_y = soft_signal_r_and_setter(float, units="px")
            self.score, self._set_score = soft_signal_r_and_setter(float)
            self.peak_ratio, self._set_ratio = soft_signal_r_and_setter(float)
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.max_shift_m = soft_signal_rw(float, 0.0, units="m")
        super().__init__(name=name)

    async def _get_registrar(self) -> Registrar:
        reference = await self.reference.get_value()
        if reference is None or np.ndim(reference) != 2 or np.size(reference) == 0:
            raise ValueError(f"{self.name}.reference is not set to a 2-D image")
        beam = self._detector_ref().beam.backend
        window = float(await self.max_shift_m.get_value()) * beam.resolution_x_px / beam.hfw_m
        cached = self._registrar_for
        if (
            self._registrar is None
            or cached is None
            or cached[0] is not reference
            or (cached[1] != window)
        ):
            self._registrar = Registrar(reference, max_shift_px=window if window > 0 else None)
            self._registrar_for = (reference, window)
        return self._registrar

    @AsyncStatus.wrap
    async def capture_reference(self) -> None:
        """Use the detector's latest frame as the reference."""
        detector = self._detector_ref()
        if detector.last_frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to use as a reference")
        await self.reference.set(np.array(detector.last_frame, copy=True))

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        frame = detector.last_frame
        if frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to register")
        registrar = await self._get_registrar()
        if frame.shape != registrar.shape:
            raise ValueError(
                f"image shape {frame.shape} differs from the reference shape {registrar.shape}"
            )
        result = registrar.register(frame)
        self._set_x(result.shift_x_px)
        self._set_y(result.shift_y_px)
        self._set_score(result.score)
        self._set_ratio(result.peak_ratio)
