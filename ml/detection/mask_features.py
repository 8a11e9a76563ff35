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

import cv2
import numpy as np

from ml.classes import COPPER_ADAPTOR, LAMELLA, LANDING_POST, MANIPULATOR, VOLUME_BLOCK
from ml.layout import FEATURES

from .keypoints import Keypoint

MIN_AREA_PX = 20
_APEX_WEIGHT = 0.5  # > any needle taper seen in an image, < 1
_TIP_WINDOW_PX = 64  # half-size of the window around the apex: > the end's radius
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


@dataclass(frozen=True)
class _Region:
    area_px: int
    centroid: tuple[float, float]  # (col, row), image pixels
    pixels: np.ndarray  # bool, the region in its bounding box
    left: int
    top: int


def _label(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected regions with their statistics. 16-bit labels halve the memory traffic
    (about twice as fast); OpenCV refuses when a mask has more regions than they can
    number (pure noise), and then 32-bit labels are used."""
    try:
        return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_16U, cv2.CCL_DEFAULT)
    except cv2.error:
        return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_DEFAULT)


def _any_2x2(binary: np.ndarray) -> np.ndarray:
    """Half-size mask: a cell is set when any of its 2 x 2 pixels is."""
    h, w = binary.shape
    if h % 2 or w % 2:
        binary = cv2.copyMakeBorder(binary, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=0)
    return binary[0::2, 0::2] | binary[1::2, 0::2] | binary[0::2, 1::2] | binary[1::2, 1::2]


class _ClassRegions:
    """8-connected regions of one class (at least ``min_area_px``), found once and shared
    by the class's features.

    Labelling with statistics costs most of the time, so it runs on a half-size "any"
    mask to find where regions are (a region of A pixels covers at least A/4 cells, so
    none is missed), then at full resolution only in a box around each candidate. The
    box has a 2-pixel margin, so its own regions never touch its edge; a region that
    does (except at the image border) belongs to another candidate and is skipped."""

    def __init__(self, mask: np.ndarray, index: int, min_area_px: int) -> None:
        binary = (mask == index).view(np.uint8)
        self.regions: list[_Region] = []
        self.pixels = int(np.count_nonzero(binary))
        self.largest_px = 0
        if self.pixels == 0:
            return
        h, w = binary.shape
        count, _, stats, _ = _label(_any_2x2(binary))
        seen: set[tuple[int, int, int]] = set()
        for cell in range(1, count):
            if 4 * int(stats[cell, cv2.CC_STAT_AREA]) < min_area_px:
                continue
            c_left, c_top, c_width, c_height = (int(v) for v in stats[cell, :4])
            left, top = max(2 * c_left - 2, 0), max(2 * c_top - 2, 0)
            right, bottom = min(2 * (c_left + c_width) + 2, w), min(2 * (c_top + c_height) + 2, h)
            n, labels, fine, centroids = _label(binary[top:bottom, left:right])
            for label in range(1, n):
                x, y, bw, bh, area = (int(v) for v in fine[label])
                if area < min_area_px:
                    continue
                if (x == 0 and left > 0) or (y == 0 and top > 0):
                    continue  # cut by the box: another candidate's region
                if (x + bw == right - left and right < w) or (
                    y + bh == bottom - top and bottom < h
                ):
                    continue
                key = (left + x, top + y, area)
                if key in seen:  # found again from an overlapping box
                    continue
                seen.add(key)
                px = labels[y : y + bh, x : x + bw] == label
                cx, cy = centroids[label]
                self.regions.append(_Region(area, (left + cx, top + cy), px, left + x, top + y))
        if not self.regions:  # the exact size of the largest, for the reason
            self.largest_px = int(_label(binary)[2][1:, cv2.CC_STAT_AREA].max())

    @staticmethod
    def crop(region: _Region) -> tuple[np.ndarray, int, int]:
        """The region's own pixels (bool) in its bounding box, and the box's (left, top)."""
        return region.pixels, region.left, region.top

    def missing(self, what: str, min_area_px: int) -> str:
        """Why there is no usable region ("" when there is one)."""
        if self.pixels == 0:
            return f"no {what} pixels in the mask"
        if not self.regions:
            return (
                f"{what} regions too small: the largest has {self.largest_px} px "
                f"< min_area_px={min_area_px}"
            )
        return ""

    def nearest(self, point: tuple[float, float]) -> _Region:
        px, py = point
        return min(
            self.regions, key=lambda r: (r.centroid[0] - px) ** 2 + (r.centroid[1] - py) ** 2
        )

    def largest(self) -> _Region:
        return max(self.regions, key=lambda r: r.area_px)


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


def _needle_tip(region_px: np.ndarray, left: int, top: int, shape: tuple[int, int]):
    """Centre (col, row) of the needle's rounded end, in image pixels."""
    rows, cols = np.nonzero(region_px)
    pts = np.stack([cols + left, rows + top], 1).astype(float)
    h, w = shape
    on_border = (pts[:, 0] == 0) | (pts[:, 1] == 0) | (pts[:, 0] == w - 1) | (pts[:, 1] == h - 1)
    if on_border.any():
        entry = pts[on_border].mean(0)
        far = pts[int(np.argmax(((pts - entry) ** 2).sum(1)))]
        axis = far - entry
    else:
        centre = pts.mean(0)
        _, vecs = np.linalg.eigh(np.cov((pts - centre).T))
        axis = vecs[:, 1]
        along = (pts - centre) @ axis
        across = np.abs((pts - centre) @ vecs[:, 0])
        span = float(along.max() - along.min())
        # the narrower end (the taper): the mean width over each end's last fifth
        width_lo = across[along <= along.min() + 0.2 * span].mean()
        width_hi = across[along >= along.max() - 0.2 * span].mean()
        if width_lo < width_hi:
            axis = -axis
        far = pts[int(np.argmax((pts - centre) @ axis))]
    axis = axis / max(float(np.hypot(*axis)), 1e-9)
    # Only the end matters: a window around the apex. Outside the region's own box is
    # background (padded with zeros) except where the box meets the image border or the
    # window cuts the shaft: OpenCV's distance transform treats beyond-the-array as inside.
    rh, rw = region_px.shape
    c0, r0 = int(far[0]) - left, int(far[1]) - top
    r_lo, r_hi = max(r0 - _TIP_WINDOW_PX, 0), min(r0 + _TIP_WINDOW_PX + 1, rh)
    c_lo, c_hi = max(c0 - _TIP_WINDOW_PX, 0), min(c0 + _TIP_WINDOW_PX + 1, rw)
    window = region_px[r_lo:r_hi, c_lo:c_hi].view(np.uint8)
    pad = (
        int(r_lo == 0 and top > 0),
        int(r_hi == rh and top + rh < h),
        int(c_lo == 0 and left > 0),
        int(c_hi == rw and left + rw < w),
    )
    padded = cv2.copyMakeBorder(window, *pad, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dist = dist[pad[0] : pad[0] + window.shape[0], pad[2] : pad[2] + window.shape[1]]
    wr, wc = np.nonzero(window)
    wpts = np.stack([wc + c_lo + left, wr + r_lo + top], 1).astype(float)
    # Along the shaft's centre line the distance to the outline equals the distance to
    # the apex inside the rounded end, and then grows only with the taper (sim/needles.py:
    # 8° half-angle, tan = 0.14). So DT - _APEX_WEIGHT * (distance behind the apex)
    # peaks at the end's centre; off the centre line DT is smaller.
    behind = float(far @ axis) + 1.0 - wpts @ axis
    score = dist[wr, wc] - _APEX_WEIGHT * behind
    best = score >= score.max() - 0.25
    tip = wpts[best].mean(0)
    return float(tip[0]), float(tip[1])


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

    cache: dict[int, _ClassRegions] = {}

    def regions(index: int) -> _ClassRegions:
        if index not in cache:
            cache[index] = _ClassRegions(mask, index, min_area_px)
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
                _needle_tip(px, left, top, (h, w)),
                _score(probabilities, MANIPULATOR, px, left, top),
            )
    return MaskFeatures({n: out[n] for n in names}, (h, w), float(pixel_size_m))
