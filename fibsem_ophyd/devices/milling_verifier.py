"""A processing device that checks, from ion images, that milling removed material
where the patterns were drawn (see fibsem_ophyd.alignment.milled_region).

Plans call `capture_before()` after the 'before' image (it keeps that frame and the
drawn stage), mill, take the 'after' image, then trigger the verifier and read it: the
coverage of the patterns by change, the share of nearby change that lies on them and
the offset of the change from the patterns become event data, and the plan judges them.
"""

from __future__ import annotations

import asyncio

import numpy as np
from ophyd_async.core import AsyncStatus, Reference, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from ..alignment.milled_region import compare_milled
from ..milling import MillingStage
from .imaging_detector import ImagingDetector
from .milling import Milling


class MillingVerifier(StandardReadable):
    def __init__(self, detector: ImagingDetector, milling: Milling, name: str = "") -> None:
        self._detector_ref = Reference(detector)
        self._milling_ref = Reference(milling)
        self._before: tuple[np.ndarray, MillingStage] | None = None
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.coverage, self._set_coverage = soft_signal_r_and_setter(float)
            self.precision, self._set_precision = soft_signal_r_and_setter(float)
            self.offset_x_m, self._set_ox = soft_signal_r_and_setter(float, units="m")
            self.offset_y_m, self._set_oy = soft_signal_r_and_setter(float, units="m")
            self.changed_px, self._set_changed = soft_signal_r_and_setter(int, units="px")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def capture_before(self) -> None:
        """Keep the detector's latest frame and the drawn milling stage."""
        frame, stage = self._detector_ref().last_frame, self._milling_ref().drawn
        if frame is None or stage is None:
            raise RuntimeError(
                f"{self.name}: take the 'before' image after drawing the milling stage"
            )
        self._before = (np.array(frame, copy=True), stage)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        if self._before is None or detector.last_frame is None:
            raise RuntimeError(f"{self.name}: capture the 'before' image, then image again")
        before, stage = self._before
        after = detector.last_frame
        if after.shape != before.shape:
            raise ValueError(f"after image {after.shape} differs from before {before.shape}")
        beam = detector.beam.backend
        pixel_m = beam.hfw_m / beam.resolution_x_px
        mask = stage.dose(after.shape, pixel_m) > 0
        reach_m = stage.verification.max_offset_m
        result = await asyncio.to_thread(compare_milled, before, after, mask, pixel_m, reach_m)
        self._set_coverage(result.coverage)
        self._set_precision(result.precision)
        self._set_ox(result.offset_x_m)
        self._set_oy(result.offset_y_m)
        self._set_changed(result.changed_px)
