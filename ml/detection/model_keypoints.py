"""Keypoints from a segmentation model: predict a frame's class mask, take its features.

``ModelKeypoints`` is what the session hands the keypoint processing devices
(``fibsem_ophyd.devices.keypoint_processor.KeypointSource``; matched by shape, since
``ml`` never imports the devices): ``features``, ``model_id`` and a call giving, per
feature, ``(x_px, y_px, score)`` or the reason it was not found. ``detect`` gives the
full ``MaskFeatures`` (with metres) for code that is not a device.

Three looks at full resolution follow the model's mask (benchmarks/bench_keypoint_accuracy.py
gives the figures): the lamella's bottom edge is taken from the frame itself
(lamella_edges.py); the needle tip from a second prediction on the part of the frame
around it, ``tip_zoom`` times larger (needle_zoom.py): at 1/8 scale the needle's thin end
is lost, and the tip found lies 10-25 px back along the shaft; and a short lamella's
features from a second prediction ``lamella_zoom`` times larger (lamella_zoom.py).

The model's identity is the SHA-256 of its file: the same weights give the same id
whatever the file is called, and a retrained model a different one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ml.layout import FEATURES

from .lamella_zoom import LAMELLA_ZOOM, zoomed_lamella
from .mask_features import MIN_AREA_PX, MaskFeatures, NotFound, features_from_mask
from .needle_zoom import TIP_ZOOM, zoomed_tip
from .zoom_window import checked_zoom

if TYPE_CHECKING:  # ml.segmentation needs torch: imported only where a model is loaded
    from ml.segmentation.predictor import Predictor


def file_sha256(path: str | Path) -> str:
    """``"sha256:<hex>"`` of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


class ModelKeypoints:
    """A predictor plus the features to take from its masks."""

    def __init__(
        self,
        predictor: Predictor,
        model_id: str,
        features: Iterable[str] = FEATURES,
        min_area_px: int = MIN_AREA_PX,
        tip_zoom: float = TIP_ZOOM,
        lamella_zoom: float = LAMELLA_ZOOM,
    ) -> None:
        self.predictor = predictor
        self.model_id = model_id
        self.features = tuple(features)
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
        self.min_area_px = min_area_px
        self.tip_zoom = checked_zoom("tip_zoom", tip_zoom)
        self.lamella_zoom = checked_zoom("lamella_zoom", lamella_zoom)

    @classmethod
    def from_checkpoint(cls, path: str | Path, **kwargs: object) -> ModelKeypoints:
        """The model at ``path`` (smp checkpoint or ONNX, ``load_model``), its file hash as id."""
        from ml.segmentation.predictor import load_model

        return cls(load_model(path), file_sha256(path), **kwargs)  # type: ignore[arg-type]

    def detect(
        self,
        image: np.ndarray,
        pixel_size_m: float,
        near_px: tuple[float, float] | None = None,
        *,
        lamella_length_m: float | None = None,
        post_view: str = "auto",
        post_size_m: tuple[float, float] | None = None,
    ) -> MaskFeatures:
        """The features of ``image``; ``near_px``, ``lamella_length_m``, ``post_view`` and
        ``post_size_m`` are what the workflow knows (``features_from_mask``)."""
        prediction = self.predictor.predict(image)
        found = features_from_mask(
            prediction.mask,
            pixel_size_m,
            self.features,
            near_px=near_px,
            probabilities=prediction.probabilities,
            min_area_px=self.min_area_px,
            image=image,
            lamella_length_m=lamella_length_m,
            post_view=post_view,
            post_size_m=post_size_m,
        )
        if self.lamella_zoom > 1:
            found = zoomed_lamella(
                found,
                image,
                self.predictor,
                self.lamella_zoom,
                self.min_area_px,
                lamella_length_m=lamella_length_m,
                post_view=post_view,
                post_size_m=post_size_m,
            )
        if self.tip_zoom > 1 and "NeedleTip" in found.found():
            found = zoomed_tip(self.predictor, image, found, self.tip_zoom, self.min_area_px)
        return found

    def __call__(
        self,
        image: np.ndarray,
        pixel_size_m: float,
        near_px: tuple[float, float] | None,
        **hints: object,
    ) -> dict[str, tuple[float, float, float] | str]:
        """Per feature ``(x_px, y_px, score)``, or the reason it was not found; ``hints``
        (``lamella_length_m``, ``post_view``, ``post_size_m``) as ``detect`` takes them."""
        found = self.detect(image, pixel_size_m, near_px, **hints)  # type: ignore[arg-type]
        out: dict[str, tuple[float, float, float] | str] = {}
        for name, result in found.results.items():
            if isinstance(result, NotFound):
                out[name] = result.reason
            else:
                kp = result.keypoint
                out[name] = (kp.x_px, kp.y_px, kp.score)
        return out
