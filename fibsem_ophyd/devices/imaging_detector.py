"""SEM and FIB imaging detectors: frames scanned by one beam, written to HDF5."""

from __future__ import annotations

import numpy as np
from ophyd_async.core import PathProvider, Reference, soft_signal_r_and_setter, soft_signal_rw

from ..backend import ImagingBackend, ReducedArea
from .beam import Beam
from .frame_detector import FrameDetector, FrameSource
from .frame_metadata import FrameMetadataLogic, metadata_json
from .interlocks import InterlockError, Interlocks


class ImagingDetector(FrameDetector):
    """The image of one beam. Its configuration holds every beam and detector setting.

    `reduced_area` (a signal; fractions of the frame) restricts the scan to a
    sub-rectangle. Each event also holds `frame_metadata`: what the backend reported
    with the frame (`FrameMetadata` as JSON; with several frames a trigger, the last).
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
        self._area: ReducedArea | None = None
        # The scanned sub-rectangle as ReducedArea JSON ("" = full frame). It sets the
        # frame shape, so set it before the run that uses it (the file's shape is fixed
        # when a run prepares the detector).
        self.reduced_area = soft_signal_rw(str, "", setter=self._set_area)
        # The most recent frame, for processing devices (registration, detection).
        self.last_frame: np.ndarray | None = None
        self.frame_metadata, self._set_frame_metadata = soft_signal_r_and_setter(str, "{}")
        source = FrameSource(
            shape=self._shape, dtype=np.dtype(np.uint8), grab=self._grab, check=self._check
        )
        super().__init__(source, path_provider, config_signals=beam.settings_signals, name=name)
        self.add_detector_logics(FrameMetadataLogic(self.frame_metadata))

    def _set_area(self, value: str) -> None:
        if not value:
            self._area = None
            return
        area = ReducedArea.model_validate_json(value)
        if area.left + area.width > 1.0 + 1e-9 or area.top + area.height > 1.0 + 1e-9:
            raise ValueError(
                f"{self.name}.reduced_area {area} does not fit in the frame "
                "(left + width and top + height must be <= 1)"
            )
        self._area = area

    @property
    def area(self) -> ReducedArea | None:
        """The reduced area in use (None: the full frame)."""
        return self._area

    @property
    def beam(self) -> Beam:
        """The beam whose scan makes this detector's image."""
        return self._beam_ref()

    def _shape(self) -> tuple[int, int]:
        b = self.beam.backend
        w, h = b.resolution_x_px, b.resolution_y_px
        ra = self._area
        if ra is None:
            return (h, w)
        return (max(1, round(ra.height * h)), max(1, round(ra.width * w)))

    def _check(self) -> None:
        self._interlocks.require_vacuum(f"image with the {self.beam.beam} beam")
        if not self.beam.backend.on:
            raise InterlockError(
                f"refused to image: the {self.beam.beam} beam is off (set {self.beam.name}.on)"
            )

    async def _grab(self) -> np.ndarray:
        self.last_frame = await self._imaging.acquire(self.beam.beam, self._area)
        self._set_frame_metadata(metadata_json(self._imaging.frame_metadata(self.beam.beam)))
        return self.last_frame
