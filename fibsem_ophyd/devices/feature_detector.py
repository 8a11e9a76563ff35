"""A processing device that finds a keypoint (a site centre, a needle tip...) in an
imaging detector's latest frame and publishes it as signals.

The finding itself is a plain function `find(image, pixel_size_m, vertical_scale) ->
(x_px, y_px, score)` handed in by whoever builds the session (ml/ provides them); this device only
runs it on trigger, so every detection is event data of the run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ophyd_async.core import AsyncStatus, Reference, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from .imaging_detector import ImagingDetector

Finder = Callable[[np.ndarray, float, float], tuple[float, float, float]]
"""find(image, pixel_size_m, vertical_scale) -> (x_px, y_px, score); vertical_scale is
the apparent height / width of a square lying flat on the specimen (foreshortening)."""


class FeatureDetector(StandardReadable):
    def __init__(
        self,
        detector: ImagingDetector,
        vertical_scale: Callable[[], float] = lambda: 1.0,
        finder: Finder | None = None,
        name: str = "",
    ) -> None:
        self._detector_ref = Reference(detector)
        self._vertical_scale = vertical_scale
        self.finder = finder
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.x_px, self._set_x = soft_signal_r_and_setter(float, units="px")
            self.y_px, self._set_y = soft_signal_r_and_setter(float, units="px")
            self.dx_m, self._set_dx = soft_signal_r_and_setter(float, units="m")
            self.dy_m, self._set_dy = soft_signal_r_and_setter(float, units="m")
            self.score, self._set_score = soft_signal_r_and_setter(float)
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        if self.finder is None:
            raise RuntimeError(f"{self.name}: no feature finder is configured")
        frame = detector.last_frame
        if frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to search")
        beam = detector.beam.backend
        pixel_size_m = beam.hfw_m / beam.resolution_x_px
        x, y, score = self.finder(frame, pixel_size_m, self._vertical_scale())
        h, w = frame.shape
        self._set_x(x)
        self._set_y(y)
        # Image-plane offset from the centre: x right, y up (docs/coordinates.md).
        self._set_dx((x - (w - 1) / 2) * pixel_size_m)
        self._set_dy(-(y - (h - 1) / 2) * pixel_size_m)
        self._set_score(score)
