"""SEM and FIB imaging detectors: frames scanned by one beam, written to HDF5."""

from __future__ import annotations

import numpy as np
from ophyd_async.core import PathProvider, Reference

from ..backend import ImagingBackend, ReducedArea
from .beam import Beam
from .frame_detector import FrameDetector, FrameSource
from .interlocks import InterlockError, Interlocks


class ImagingDetector(FrameDetector):
    """The image of one beam. Its configuration holds every beam and detector setting.

    `reduced_area` (fractions of the frame) restricts the scan to a sub-rectangle;
    it must be set before the run that uses it (the file's frame shape is fixed
    when the run prepares the detector).
    """

    def __init__(
        self,
        beam: Beam,
        imaging: ImagingBackend,
        interlocks: Interlocks,
        path_provider: PathProvider,
        name: str = "",
    ) -> None:
        self._beam_ref = Reference(beam)  # a reference, not a child device
        self._imaging = imaging
        self._interlocks = interlocks
        self.reduced_area: ReducedArea | None = None
        # The most recent frame, for processing devices (registration, detection).
        self.last_frame: np.ndarray | None = None
        source = FrameSource(
            shape=self._shape, dtype=np.dtype(np.uint8), grab=self._grab, check=self._check
        )
        super().__init__(source, path_provider, config_signals=beam.settings_signals, name=name)

    @property
    def beam(self) -> Beam:
        """The beam whose scan makes this detector's image."""
        return self._beam_ref()

    def _shape(self) -> tuple[int, int]:
        b = self.beam.backend
        w, h = b.resolution_x_px, b.resolution_y_px
        ra = self.reduced_area
        if ra is None:
            return (h, w)
        return (max(1, round(ra.height * h)), max(1, round(ra.width * w)))

    def _check(self) -> None:
        self._interlocks.require_vacuum(f"image with the {self.beam.beam} beam")
        if not self.beam.backend.on:
            raise InterlockError(
                f"refused to image: the {self.beam.beam} beam is off (set {self.beam.name}.on)"
            )

    def _grab(self) -> np.ndarray:
        self.last_frame = self._imaging.acquire(self.beam.beam, self.reduced_area)
        return self.last_frame
