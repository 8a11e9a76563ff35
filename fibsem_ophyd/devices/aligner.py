"""A processing device that registers an imaging detector's latest frame against a
reference and publishes the shift and match score as signals.

Plans set `aligner.reference` (a 2-D array), trigger the detector, then trigger the
aligner and read it: every step's shift and score become event data of the run. The
reference's Fourier transform is computed once per reference and reused.
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
        self._registrar_for: np.ndarray | None = None
        self.reference = soft_signal_rw(np.ndarray)
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.shift_x_px, self._set_x = soft_signal_r_and_setter(float, units="px")
            self.shift_y_px, self._set_y = soft_signal_r_and_setter(float, units="px")
            self.score, self._set_score = soft_signal_r_and_setter(float)
        super().__init__(name=name)

    async def _get_registrar(self) -> Registrar:
        reference = await self.reference.get_value()
        if reference is None or np.ndim(reference) != 2 or np.size(reference) == 0:
            raise ValueError(f"{self.name}.reference is not set to a 2-D image")
        if self._registrar is None or self._registrar_for is not reference:
            self._registrar = Registrar(reference)
            self._registrar_for = reference
        return self._registrar

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
