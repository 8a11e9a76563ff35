"""`FibsemImaging`: frames from fibsem's `acquire_image` (`ImagingBackend`).

A frame is acquired with the column's present settings (and the line/frame integration
the bridge keeps), in the worker thread, bounded by a timeout of a few frame times. The
metadata fibsem reports with it (`FibsemImage.metadata`: pixel size, microscope state,
system) is kept as our `FrameMetadata` (`frame_metadata(beam)`), which the imaging
detector writes into the frame's event, as it does for the twin.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..backend import BeamName, FrameMetadata, ReducedArea
from ._beams import FibsemBeam
from ._calls import VendorCalls
from ._units import beam_type

FRAME_TIMEOUT_FACTOR = 3.0  # a frame may take this many nominal frame times ...
FRAME_TIMEOUT_MARGIN_S = 30.0  # ... plus this (readout, detector switching, network)
# Sections of fibsem's per-frame record kept out of our documents: `user` holds the
# control PC's login and host name (fibsem fills it from the environment).
PRIVATE_SECTIONS = ("user",)


def to_uint8(data: np.ndarray) -> np.ndarray:
    """A vendor frame as the 2-D uint8 array our detectors store (16-bit frames are
    scaled by 1/256, never clipped)."""
    frame = np.asarray(data)
    if frame.ndim == 3:  # some SDKs return (rows, cols, 1)
        frame = frame[..., 0]
    if frame.ndim != 2:
        raise ValueError(f"expected a 2-D frame, fibsem returned shape {frame.shape}")
    if frame.dtype == np.uint8:
        return frame
    if frame.dtype == np.uint16:
        return (frame >> 8).astype(np.uint8)
    return np.clip(frame, 0, 255).astype(np.uint8)


class FibsemImaging:
    def __init__(
        self, microscope: Any, calls: VendorCalls, beams: dict[BeamName, FibsemBeam]
    ) -> None:
        self._m = microscope
        self._calls = calls
        self._beams = beams
        self._metadata: dict[BeamName, FrameMetadata] = {}

    def frame_time_s(self, beam: BeamName) -> float:
        b = self._beams[beam]
        pixels = b.resolution_x_px * b.resolution_y_px
        return b.dwell_time_s * pixels * b.line_integration * b.frame_integration

    def _settings(self, beam: BeamName, reduced_area: ReducedArea | None) -> Any:
        from fibsem.structures import FibsemRectangle, ImageSettings

        b = self._beams[beam]
        area = None
        if reduced_area is not None:
            area = FibsemRectangle(
                left=reduced_area.left,
                top=reduced_area.top,
                width=reduced_area.width,
                height=reduced_area.height,
            )
        return ImageSettings(
            resolution=(b.resolution_x_px, b.resolution_y_px),
            dwell_time=b.dwell_time_s,
            hfw=b.hfw_m,
            autocontrast=False,
            beam_type=beam_type(beam),
            save=False,
            reduced_area=area,
            line_integration=b.line_integration if b.line_integration > 1 else None,
            frame_integration=b.frame_integration if b.frame_integration > 1 else None,
        )

    async def acquire(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        settings = self._settings(beam, reduced_area)
        timeout_s = FRAME_TIMEOUT_FACTOR * self.frame_time_s(beam) + FRAME_TIMEOUT_MARGIN_S
        start_s = time.time()
        image = await self._calls.slow(
            beam, "acquire", self._m.acquire_image, settings, timeout_s=timeout_s
        )
        b = self._beams[beam]
        self._metadata[beam] = frame_metadata(beam, image, start_s, b.hfw_m / b.resolution_x_px)
        return to_uint8(image.data)

    def frame_metadata(self, beam: BeamName) -> FrameMetadata | None:
        return self._metadata.get(beam)


def frame_metadata(
    beam: BeamName, image: Any, start_s: float, nominal_pixel_m: float
) -> FrameMetadata:
    """What fibsem reports with a frame, as our `FrameMetadata`: its pixel size and state
    timestamp where it has them (else the nominal pixel and `start_s`), and its whole
    record under `reported`, less `PRIVATE_SECTIONS` (a record that cannot be read is
    reported as an error)."""
    meta = getattr(image, "metadata", None)
    reported: dict[str, Any] = {}
    if meta is not None:
        try:
            reported = dict(meta.to_dict())
        except Exception as exc:  # a partial report is still worth keeping
            reported = {"error": f"fibsem metadata could not be read: {exc}"}
    for section in PRIVATE_SECTIONS:
        reported.pop(section, None)
    pixel = reported.get("pixel_size") or {}
    state = reported.get("microscope_state") or {}
    return FrameMetadata(
        source="fibsem",
        beam=beam,
        time_s=float(state.get("timestamp") or start_s),
        pixel_size_x_m=float(pixel.get("x") or nominal_pixel_m),
        pixel_size_y_m=float(pixel.get("y") or nominal_pixel_m),
        reported=reported,
    )
