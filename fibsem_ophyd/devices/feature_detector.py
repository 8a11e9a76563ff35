"""A processing device that finds a keypoint (a site centre, a needle tip...) in an
imaging detector's latest frame and publishes it as signals.

The finding itself is a plain function `find(image, pixel_size_m, vertical_scale) ->
(x_px, y_px, score)` handed in by whoever builds the session (ml/ provides them); this
device only runs it on trigger, so every detection is event data of the run. It holds
one finder per kind of target ("grid_square": the grid square a lamella site sits in;
"landed_lamella": a lifted-out lamella on its post...); the `target` signal, set by the
plan (`bps.mv`) and read with every detection, says which one runs.

Every detection also records which finder made it: `finder_id` (event data, set on
trigger) is the finder's own `finder_id` attribute where it has one — a model's finder
names the model by the hash of its file (profiles/guidance.py) — else its qualified name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ophyd_async.core import (
    AsyncStatus,
    Reference,
    StandardReadable,
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.core import StandardReadableFormat as Format

from .imaging_detector import ImagingDetector

Finder = Callable[[np.ndarray, float, float], tuple[float, float, float]]
"""find(image, pixel_size_m, vertical_scale) -> (x_px, y_px, score); vertical_scale is
the apparent height / width of a square lying flat on the specimen (foreshortening)."""

DEFAULT_TARGET = "grid_square"


def finder_id(finder: Finder) -> str:
    """What a detection records as the finder that made it."""
    named = getattr(finder, "finder_id", None)
    if isinstance(named, str) and named:
        return named
    module = getattr(finder, "__module__", None) or type(finder).__module__
    name = getattr(finder, "__qualname__", None) or type(finder).__qualname__
    return f"{module}.{name}"


class FeatureDetector(StandardReadable):
    """Runs `finders[target]` on the detector's latest frame when triggered; `finder` is
    the one for the default target (``DEFAULT_TARGET``)."""

    def __init__(
        self,
        detector: ImagingDetector,
        vertical_scale: Callable[[], float] = lambda: 1.0,
        finder: Finder | None = None,
        name: str = "",
    ) -> None:
        self._detector_ref = Reference(detector)
        self._vertical_scale = vertical_scale
        self.finders: dict[str, Finder] = {}
        if finder is not None:
            self.finders[DEFAULT_TARGET] = finder
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.x_px, self._set_x = soft_signal_r_and_setter(float, units="px")
            self.y_px, self._set_y = soft_signal_r_and_setter(float, units="px")
            self.dx_m, self._set_dx = soft_signal_r_and_setter(float, units="m")
            self.dy_m, self._set_dy = soft_signal_r_and_setter(float, units="m")
            self.score, self._set_score = soft_signal_r_and_setter(float)
        with self.add_children_as_readables():
            self.finder_id, self._set_finder_id = soft_signal_r_and_setter(str, "")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.target = soft_signal_rw(str, DEFAULT_TARGET)
        super().__init__(name=name)

    @property
    def finder(self) -> Finder | None:
        return self.finders.get(DEFAULT_TARGET)

    @finder.setter
    def finder(self, finder: Finder | None) -> None:
        if finder is None:
            self.finders.pop(DEFAULT_TARGET, None)
        else:
            self.finders[DEFAULT_TARGET] = finder

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        target = await self.target.get_value()
        finder = self.finders.get(target)
        if finder is None:
            known = ", ".join(sorted(self.finders)) or "none"
            raise RuntimeError(
                f"{self.name}: no feature finder for target {target!r} (configured: {known})"
            )
        frame = detector.last_frame
        if frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to search")
        beam = detector.beam.backend
        pixel_size_m = beam.hfw_m / beam.resolution_x_px
        x, y, score = finder(frame, pixel_size_m, self._vertical_scale())
        h, w = frame.shape
        self._set_finder_id(finder_id(finder))
        self._set_x(x)
        self._set_y(y)
        # Image-plane offset from the centre: x right, y up (docs/coordinates.md).
        self._set_dx((x - (w - 1) / 2) * pixel_size_m)
        self._set_dy(-(y - (h - 1) / 2) * pixel_size_m)
        self._set_score(score)
