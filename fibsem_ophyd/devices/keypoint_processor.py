"""A processing device that runs a keypoint model on an imaging detector's latest frame
and publishes every feature, its score and the model's identity as signals.

The model is not known here (``fibsem_ophyd`` cannot import ``ml``): the session hands
in a ``KeypointSource`` — any object with ``features``, ``model_id`` and a call
``source(image, pixel_size_m, near_px) -> {feature: (x_px, y_px, score) or reason}``
(``ml.detection.ModelKeypoints`` is one). On trigger the device runs it (in a worker
thread: a model takes seconds on a CPU and the RunEngine's event loop must not wait)
and sets, per feature, ``<name>-<feature>-x_px``, ``-y_px``, ``-dx_m``, ``-dy_m``
(image-plane offset from the image centre, x right, y up; docs/coordinates.md),
``-score``, ``-found`` and ``-reason`` (why not found; "" when found), plus
``<name>-model_id`` and ``<name>-pixel_size_m`` (the frame's own, from the metadata the
backend reported with it). A plan triggers the imaging detector,
then this device, and reads both: every detection is event data of the run.

``near_x_px``/``near_y_px`` (configuration; NaN: the image centre) say which of several
lamellae or posts is meant. Two more configuration signals hand the source what the
workflow knows, as keyword hints, only when set (a source that takes none still works
unset): ``lamella_length_m`` (NaN: unknown), the lamella's length from its protocol, with
which a lamella cut by the image's border is placed from its end in view, and a
lamella's mask that runs past its ends is fitted to the ends the frame shows (give it
to within about 2 %: ml/detection/lamella_ends.py); ``post_view``
("auto", "top" or "side"), how the landing posts are seen; ``post_width_m`` and
``post_length_m`` (NaN: unknown), a post's size as seen from above (the length
foreshortened as the image is), with which a pad cut by the border is placed.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping, Sequence
from typing import Protocol

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

FeatureOutcome = tuple[float, float, float] | str
"""(x_px, y_px, score) when found, else the reason it is not."""


class KeypointSource(Protocol):
    """What the session hands the device: a model and the features it gives."""

    @property
    def features(self) -> Sequence[str]: ...

    @property
    def model_id(self) -> str:
        """Identity of the model (e.g. "sha256:<hex>" of its file)."""
        ...

    def __call__(
        self,
        image: np.ndarray,
        pixel_size_m: float,
        near_px: tuple[float, float] | None,
        **hints: object,
    ) -> Mapping[str, FeatureOutcome]:
        """Per feature the outcome; ``hints`` (``lamella_length_m``, ``post_view``,
        ``post_size_m``) are passed only when the workflow set them."""
        ...


class FeatureSignals(StandardReadable):
    """One feature's result."""

    def __init__(self, name: str = "") -> None:
        with self.add_children_as_readables():
            self.x_px, self.set_x = soft_signal_r_and_setter(float, math.nan, units="px")
            self.y_px, self.set_y = soft_signal_r_and_setter(float, math.nan, units="px")
            self.dx_m, self.set_dx = soft_signal_r_and_setter(float, math.nan, units="m")
            self.dy_m, self.set_dy = soft_signal_r_and_setter(float, math.nan, units="m")
            self.score, self.set_score = soft_signal_r_and_setter(float, 0.0)
            self.found, self.set_found = soft_signal_r_and_setter(bool, False)
            self.reason, self.set_reason = soft_signal_r_and_setter(str, "not run")
        super().__init__(name=name)

    def values(
        self, outcome: FeatureOutcome, shape: tuple[int, int], pixel_size_m: float
    ) -> tuple[float, float, float, float, float, bool, str]:
        """(x_px, y_px, dx_m, dy_m, score, found, reason) for a source's outcome; a bad
        outcome is refused with the feature named."""
        if isinstance(outcome, str):
            if not outcome:
                raise ValueError(f"{self.name}: a feature not found needs a reason")
            return math.nan, math.nan, math.nan, math.nan, 0.0, False, outcome
        x, y, score = (float(v) for v in outcome)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(score)):
            raise ValueError(f"{self.name}: found with non-finite values ({x}, {y}, {score})")
        h, w = shape
        dx = (x - (w - 1) / 2.0) * pixel_size_m
        dy = ((h - 1) / 2.0 - y) * pixel_size_m
        return x, y, dx, dy, score, True, ""

    def publish(self, values: tuple[float, float, float, float, float, bool, str]) -> None:
        x, y, dx, dy, score, found, reason = values
        self.set_x(x)
        self.set_y(y)
        self.set_dx(dx)
        self.set_dy(dy)
        self.set_score(score)
        self.set_found(found)
        self.set_reason(reason)


class KeypointProcessor(StandardReadable):
    """Runs ``source`` on ``detector``'s latest frame when triggered; one
    ``FeatureSignals`` child per feature of the source, named after it."""

    def __init__(self, detector: ImagingDetector, source: KeypointSource, name: str = "") -> None:
        self._detector_ref = Reference(detector)
        self.source = source
        self.feature_names = tuple(source.features)
        if not self.feature_names:
            raise ValueError("the keypoint source gives no features")
        with self.add_children_as_readables():
            self.model_id, self._set_model_id = soft_signal_r_and_setter(str, source.model_id)
            self.pixel_size_m, self._set_pixel = soft_signal_r_and_setter(
                float, math.nan, units="m"
            )
            for feature in self.feature_names:
                if not feature.isidentifier() or hasattr(self, feature):
                    raise ValueError(f"feature name {feature!r} cannot name a signal")
                setattr(self, feature, FeatureSignals())
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.near_x_px = soft_signal_rw(float, math.nan, units="px")
            self.near_y_px = soft_signal_rw(float, math.nan, units="px")
            self.lamella_length_m = soft_signal_rw(float, math.nan, units="m")
            self.post_view = soft_signal_rw(str, "auto")
            self.post_width_m = soft_signal_rw(float, math.nan, units="m")
            self.post_length_m = soft_signal_rw(float, math.nan, units="m")
        super().__init__(name=name)

    def feature(self, name: str) -> FeatureSignals:
        if name not in self.feature_names:
            raise KeyError(f"{self.name} has no feature {name!r}; it has {self.feature_names}")
        return getattr(self, name)

    @staticmethod
    async def _frame_pixel_size_m(detector: ImagingDetector) -> float:
        """The frame's own pixel size as the backend reported it with the frame, else
        (a backend that reports none) the beam's field width over its resolution."""
        try:
            reported = json.loads(await detector.frame_metadata.get_value()).get("pixel_size_x_m")
        except (ValueError, AttributeError):
            reported = None
        if isinstance(reported, int | float) and math.isfinite(reported) and reported > 0:
            return float(reported)
        beam = detector.beam.backend
        return beam.hfw_m / beam.resolution_x_px

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        detector = self._detector_ref()
        frame = detector.last_frame
        if frame is None:
            raise RuntimeError(f"{detector.name} has taken no frame to detect keypoints in")
        pixel_size_m = await self._frame_pixel_size_m(detector)
        near_x = await self.near_x_px.get_value()
        near_y = await self.near_y_px.get_value()
        near = (near_x, near_y) if math.isfinite(near_x) and math.isfinite(near_y) else None
        hints: dict[str, object] = {}
        length = await self.lamella_length_m.get_value()
        if math.isfinite(length):
            hints["lamella_length_m"] = length
        view = await self.post_view.get_value()
        if view != "auto":
            hints["post_view"] = view
        post = (await self.post_width_m.get_value(), await self.post_length_m.get_value())
        if all(math.isfinite(v) for v in post):
            hints["post_size_m"] = post
        outcomes = await asyncio.to_thread(self.source, frame, pixel_size_m, near, **hints)
        missing = [f for f in self.feature_names if f not in outcomes]
        if missing:
            raise RuntimeError(f"{self.name}: the keypoint source gave no result for {missing}")
        shape = (int(frame.shape[0]), int(frame.shape[1]))
        # Every outcome checked before any is published: never half a detection.
        values = {
            f: self.feature(f).values(outcomes[f], shape, pixel_size_m) for f in self.feature_names
        }
        for feature, value in values.items():
            self.feature(feature).publish(value)
        self._set_pixel(pixel_size_m)
        self._set_model_id(self.source.model_id)
