"""Keypoint features from a segmentation class mask (ml/classes.yaml indices).

Every feature of ``ml.layout.FEATURES`` is either found — a ``Keypoint`` in pixels
(col, row; pixel centres at integers) with its image-plane offset in metres from the
image centre (``Keypoint.offset_m``: x right, y up) — or ``NotFound`` with the reason.
A feature that is not there is never reported at (0, 0) or at the image centre; only
``ImageCentre`` is the image centre.

Objects are the 8-connected regions of one class; regions smaller than ``min_area_px``
are noise and ignored. Where a class has several regions (lamellae, landing posts), the
one whose centroid is nearest ``near_px`` (default: the image centre) is used, and all
lamella features come from that same lamella. The needle is the largest manipulator
region.

- LamellaCentre, LandingPost, CopperAdapterCentre, VolumeBlockCentre: region centroid.
- LamellaLeft/RightEdge: the extreme columns of the lamella in the row through its
  centroid, at the centroid's row (the midpoints of its left and right sides for a box);
  LamellaTop/BottomEdge: the extreme rows in the column through it, at its column.
  Row 0 is the top of the image, so the top edge has the smaller row.
- NeedleTip: the needle enters the image from a border (sim/needles.py: a 3 mm shaft,
  tapering to a rounded tip); the tip is the centre of its rounded end: past the
  region's point farthest from where it enters, the point deepest inside the region
  (distance transform) for its distance behind that apex. A needle region that touches
  no border has its tip at the narrower end of its long axis.

Score: the model's mean probability for the class over the region when probabilities
are given, else 1.0 (a mask alone carries no confidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ml.classes import COPPER_ADAPTOR, LAMELLA, LANDING_POST, MANIPULATOR, VOLUME_BLOCK
from ml.layout import FEATURES

from .keypoints import Keypoint
from .mask_regions import ClassRegions
from .needle_mask import needle_tip

MIN_AREA_PX = 20
LAMELLA_FEATURES = (
    "LamellaCentre",
    "LamellaLeftEdge",
    "LamellaRightEdge",
    "LamellaTopEdge",
    "LamellaBottomEdge",
)
_CENTROID_FEATURES = {
    "LandingPost": (LANDING_POST, "landing post"),
    "CopperAdapterCentre": (COPPER_ADAPTOR, "copper adaptor"),
    "VolumeBlockCentre": (VOLUME_BLOCK, "volume block"),
}


class FeatureNotFound(LookupError):
    """A feature asked for with ``MaskFeatures.require`` is not in the image."""


@dataclass(frozen=True)
class NotFound:
    """A feature that is not in the image, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class FoundFeature:
    """A feature in pixels and its offset from the image centre in metres (x right, y up)."""

    keypoint: Keypoint
    dx_m: float
    dy_m: float

    @property
    def name(self) -> str:
        return self.keypoint.name


FeatureResult = FoundFeature | NotFound


@dataclass(frozen=True)
class MaskFeatures:
    """The features of one mask, by name, in the order asked for."""

    results: Mapping[str, FeatureResult]
    image_shape: tuple[int, int]
    pixel_size_m: float

    def __getitem__(self, name: str) -> FeatureResult:
        return self.results[name]

    def found(self) -> dict[str, FoundFeature]:
        return {k: v for k, v in self.results.items() if isinstance(v, FoundFeature)}

    def require(self, name: str) -> FoundFeature:
        """The feature, or FeatureNotFound with the reason."""
        result = self.results[name]
        if isinstance(result, NotFound):
            raise FeatureNotFound(f"{name} not found: {result.reason}")
        return result


def _score(
    probabilities: np.ndarray | None, index: int, region_px: np.ndarray, left: int, top: int
) -> float:
    if probabilities is None:
        return 1.0
    h, w = region_px.shape
    return float(probabilities[index, top : top + h, left : left + w][region_px].mean())


def _lamella_edges(region_px: np.ndarray, left: int, top: int, centre: tuple[float, float]):
    """(left, right, top, bottom) edge points (col, row) of one region."""
    row = min(max(round(centre[1]) - top, 0), region_px.shape[0] - 1)
    col = min(max(round(centre[0]) - left, 0), region_px.shape[1] - 1)
    rows, cols = np.nonzero(region_px)
    in_row = cols[rows == row]
    if in_row.size:  # the row through the centroid crosses the region
        y = centre[1]
        lft, rgt = (float(in_row.min() + left), y), (float(in_row.max() + left), y)
    else:  # a non-convex region: its extreme columns, at their median row
        lft = (float(cols.min() + left), float(np.median(rows[cols == cols.min()]) + top))
        rgt = (float(cols.max() + left), float(np.median(rows[cols == cols.max()]) + top))
    in_col = rows[cols == col]
    if in_col.size:
        x = centre[0]
        tp, bt = (x, float(in_col.min() + top)), (x, float(in_col.max() + top))
    else:
        tp = (float(np.median(cols[rows == rows.min()]) + left), float(rows.min() + top))
        bt = (float(np.median(cols[rows == rows.max()]) + left), float(rows.max() + top))
    return lft, rgt, tp, bt


def features_from_mask(
    mask: np.ndarray,
    pixel_size_m: float,
    features: Iterable[str] = FEATURES,
    near_px: tuple[float, float] | None = None,
    probabilities: np.ndarray | None = None,
    min_area_px: int = MIN_AREA_PX,
) -> MaskFeatures:
    """Each of ``features`` from a (H, W) class-index mask; ``near_px`` (col, row) picks
    among several lamellae/posts (default: the image centre); ``probabilities`` (C, H, W)
    gives the scores."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (rows, cols), got shape {mask.shape}")
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        raise ValueError(f"pixel_size_m must be > 0 (metres), got {pixel_size_m}")
    if min_area_px < 1:
        raise ValueError(f"min_area_px must be >= 1, got {min_area_px}")
    names = tuple(features)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
    h, w = mask.shape
    if probabilities is not None and (
        probabilities.ndim != 3 or probabilities.shape[1:] != mask.shape
    ):
        raise ValueError(
            f"probabilities must be (classes, {h}, {w}), got shape {probabilities.shape}"
        )
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    near = centre if near_px is None else (float(near_px[0]), float(near_px[1]))
    if not all(np.isfinite(near)):
        raise ValueError(f"near_px must be finite (col, row), got {near_px}")
    if mask.dtype != np.uint8:
        mask = mask.astype(np.uint8)
    mask = np.ascontiguousarray(mask)

    cache: dict[int, ClassRegions] = {}

    def regions(index: int) -> ClassRegions:
        if index not in cache:
            cache[index] = ClassRegions(mask, index, min_area_px)
        return cache[index]

    out: dict[str, FeatureResult] = {}

    def found(name: str, xy: tuple[float, float], score: float) -> None:
        kp = Keypoint(name, xy[0], xy[1], score)
        dx, dy = kp.offset_m((h, w), pixel_size_m)
        out[name] = FoundFeature(kp, dx, dy)

    if any(n in LAMELLA_FEATURES for n in names):
        lam = regions(LAMELLA)
        why = lam.missing("lamella", min_area_px)
        if why:
            for n in names:
                if n in LAMELLA_FEATURES:
                    out[n] = NotFound(n, why)
        else:
            region = lam.nearest(near)
            px, left, top = lam.crop(region)
            score = _score(probabilities, LAMELLA, px, left, top)
            edges = dict(
                zip(
                    LAMELLA_FEATURES[1:],
                    _lamella_edges(px, left, top, region.centroid),
                    strict=True,
                )
            )
            for n in names:
                if n == "LamellaCentre":
                    found(n, region.centroid, score)
                elif n in edges:
                    found(n, edges[n], score)
    for n in names:
        if n == "ImageCentre":
            found(n, centre, 1.0)
        elif n in _CENTROID_FEATURES:
            index, what = _CENTROID_FEATURES[n]
            cls = regions(index)
            why = cls.missing(what, min_area_px)
            if why:
                out[n] = NotFound(n, why)
                continue
            region = cls.nearest(near)
            px, left, top = cls.crop(region)
            found(n, region.centroid, _score(probabilities, index, px, left, top))
        elif n == "NeedleTip":
            needle = regions(MANIPULATOR)
            why = needle.missing("manipulator (needle)", min_area_px)
            if why:
                out[n] = NotFound(n, why)
                continue
            px, left, top = needle.crop(needle.largest())
            found(
                n,
                needle_tip(px, left, top, (h, w)),
                _score(probabilities, MANIPULATOR, px, left, top),
            )
    return MaskFeatures({n: out[n] for n in names}, (h, w), float(pixel_size_m))
