"""A processing device that measures an imaging detector's latest frame — sharpness
and grey levels — and publishes the numbers as signals, so focus and contrast plans
record every measurement as event data (see fibsem_ophyd.image_metrics)."""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, Reference, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from ..image_metrics import grey_levels, sharpness
from .imaging_detector import ImagingDetector


class FrameMetrics(StandardReadable):
    def __init__(self, detector: ImagingDetector, name: str = "") -> None:
        self._detector_ref = Reference(detector)
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.sharpness, self._set_sharpness = soft_signal_r_and_setter(float)
            self.grey_low, self._set_low = soft_signal_r_and_setter(float)
            self.grey_high, self._set_high = soft_signal_r_and_setter(float)
            self.clipped_percent, self._set_clipped = soft_signal_r_and_setter(float, units="%")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        frame = detector.last_frame
        if frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to measure")
        low, high, clipped = grey_levels(frame)
        self._set_sharpness(sharpness(frame))
        self._set_low(low)
        self._set_high(high)
        self._set_clipped(clipped)
