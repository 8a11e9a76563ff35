"""Keypoint features from a segmentation class mask (ml/classes.yaml indices).

Every feature of ``ml.layout.FEATURES`` is either found — a ``Keypoint`` in pixels
(col, row; pixel centres at integers) with its image-plane offset in metres from the
image centre (``Keypoint.offset_m``: x right, y up) — or ``NotFound`` with the reason.
A feature that is not there is never reported at (0, 0) or at the image centre; only
``ImageCentre`` is the image centre.

Objects are the 8-connected regions of one class; regions smaller than ``min_area_px``
are noise and ignored. Where a class has several regions (lamellae, landing posts), the
one whose centroid is nearest ``near_px`` (default: the image centre) is used, and all
lamella features come from that same lamella. Regions under ``FRAGMENT_FRACTION`` of the
class's largest region are not candidates: they are a model's stray fragments (a speck of
"lamella" on a post's corner), not a second object — lamellae or posts seen together are
of one size, and a fragment chosen because it lay nearer the centre put every lamella
feature of the twin's landing views 400 px off (benchmarks/bench_keypoint_accuracy.py).
For lamellae the bar is ``LAMELLA_FRAGMENT_FRACTION``, a quarter: the model also labels a
post's bright top edge "lamella" in landing views, a thin strip of mostly an eighth to a
fifth of the lamella beside it (on 480 validation views of seeds 200-239 it put two
landing views ~350 px off; with the quarter they are right and no other view changed). A
strip larger than that (a third, seen once in 480 held-out views) is still taken. Posts
keep the lower bar: a post cut by the border is a real post however little of it shows.
The needle is the largest manipulator region.

- CopperAdapterCentre, VolumeBlockCentre: region centroid.
- Lamella features: the lamella is a rotated strip, so they come from the region's
  minimum-area rotated box: LamellaCentre its centre, LamellaLeft/RightEdge the
  midpoints of its sides across the axis nearer the image's x, LamellaTop/BottomEdge
  those of its sides along it. A hole or an occluded part inside the strip, or a tilt,
  does not move them (a centroid, or the row through it, would). Row 0 is the top of
  the image, so the top edge has the smaller row. A lamella running past the image's
  border gives the box of what is in view, and the edge on that border is not found
  (the box's side there is the border, not the lamella's edge); its centre is then the
  middle of the part in view, off by half of what the border hides. Given the lamella's
  length (``lamella_length_m``: a workflow knows it from its protocol, the width of the
  lamella it milled), a lamella cut by one side border is measured from its end in view
  instead: centre, top and bottom edge midpoints at half that length from it (on 480
  validation views, 25 of the 26 lamellae running past the border were cut at one side
  only, and their centre, top and bottom were 25-400 px off). A lamella longer in view
  than its length (by ``known_size.LENGTH_SLACK``) is not the lamella described: its centre, top
  and bottom are then not found, with the reason, rather than put somewhere wrong.
  Given the frame (``image``), the bottom edge is taken from it at full resolution
  (lamella_edges.py: the model's mask runs into what lies under the lamella), the top
  edge kept, and the centre and side midpoints follow; its ends are then where the mask
  between the top and that bottom edge ends (lamella_strip.py: the band under a milled
  lamella, longer than it, put both ends 30-70 px out). Pieces of the lamella the model
  split along its length (a landed lamella over its post's grey) are joined to it
  first when its length is given (lamella_pieces.py: on its line, as thick, within
  that length), so its ends are the outer pieces'. A lamella with both ends in view whose
  mask is longer than its given length, or a little shorter, is fitted to that length
  where the frame shows its two ends (lamella_ends.py: the mask runs on past them).
- LandingPost: where a lamella lands. A post seen from the side enters the image from
  its lower border (it stands on the grid below): the middle of its far end, its top; a
  post seen from above: its centroid. A pad seen from above that runs past the lower
  border looks like a side view; ``post_view`` ("top", "side"; a workflow knows which
  it is looking at) settles it, "auto" (default) goes by the lower border, and by the
  other posts in view: a post as wide (``SAME_WIDTH``) that stays clear of the lower
  border is seen from above, and one image has one view. A pad cut by
  one border of an axis has its centroid off by half of what is hidden; given the
  pad's size as seen (``post_size_m``: its width along the image's x and length along
  its y, the length foreshortened by a tilted view), its centre on that axis is half
  the size from its end in view (as for a lamella: longer in view than that, it is not
  found, with the reason; so is a pad shown whole along an axis at well under its size
  there, partly hidden or not the post: known_size.SHORT_SLACK).
- NeedleTip: the needle enters the image from a border (sim/needles.py: a 3 mm shaft,
  tapering to a rounded tip); the tip is the centre of its rounded end: past the
  region's point farthest from where it enters, the point deepest inside the region
  (distance transform) for its distance behind that apex. A needle region that touches
  no border has its tip at the narrower end of its long axis. Pieces of the needle the
  model broke off its end are joined to it first (needle_pieces.py). A needle whose end
  touches a copper adaptor is attached to it and ends behind it: its tip is not found
  (the region's end there is the adaptor's edge; the twin's lift-out views gave one
  false tip in every such view before). A speck of adaptor class (under
  ``ADAPTOR_MIN_AREA_M2``, needle_mask.py) is no adaptor and hides nothing.

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
from .known_size import POST_VIEWS, measured_from_end, pad_centre, sizes_ok
from .lamella_edges import bottom_edge_offset
from .lamella_ends import fitted_to_length
from .lamella_pieces import joined_pieces
from .lamella_strip import ends_in_strip
from .mask_regions import ClassRegions
from .needle_mask import hidden_by_adaptor, needle_end
from .needle_pieces import joined_needle
from .region_box import (
    LAMELLA_FEATURES,
    box_axes,
    cut_edges,
    lamella_box,
    lamella_points,
    with_bottom,
)

MIN_AREA_PX = 20
FRAGMENT_FRACTION = 0.1
LAMELLA_FRAGMENT_FRACTION = 0.25
SAME_WIDTH = 0.25  # posts seen together: widths within a quarter of each other
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


def found_feature(
    name: str,
    xy: tuple[float, float],
    score: float,
    shape: tuple[int, int],
    pixel_size_m: float,
) -> FoundFeature:
    """A feature found at ``xy`` (col, row) in an image of ``shape``, with its offset."""
    kp = Keypoint(name, float(xy[0]), float(xy[1]), score)
    dx, dy = kp.offset_m(shape, pixel_size_m)
    return FoundFeature(kp, dx, dy)


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


def region_score(
    probabilities: np.ndarray | None, index: int, region_px: np.ndarray, left: int, top: int
) -> float:
    """The model's mean probability for class ``index`` over a region (its pixels in
    their box at ``left``, ``top``); 1.0 without probabilities."""
    if probabilities is None:
        return 1.0
    h, w = region_px.shape
    return float(probabilities[index, top : top + h, left : left + w][region_px].mean())


def _clear_of_lower_border(region_px: np.ndarray, top: int, height: int) -> bool:
    """Whether a region does not reach the image's lower border (row ``height - 1``)."""
    return top + region_px.shape[0] != height or not region_px[-1].any()


def _any_seen_from_above(posts: ClassRegions, height: int, width_px: int) -> bool:
    """Whether any post region as wide as the post chosen (``width_px``, within
    ``SAME_WIDTH``; a speck of the class is not a post) stays clear of the lower border:
    a post seen from the side stands on the grid below and always enters from it, so the
    image is a view from above. A pad cut by the upper border counts however little of
    it shows."""
    return any(
        _clear_of_lower_border(r.pixels, r.top, height)
        and abs(r.pixels.shape[1] - width_px) <= SAME_WIDTH * width_px
        for r in posts.regions
    )


def _post_point(
    region_px: np.ndarray,
    left: int,
    top: int,
    shape: tuple[int, int],
    centroid: tuple[float, float],
    view: str = "auto",
    size_px: tuple[float, float] | None = None,
) -> tuple[float, float] | str:
    """Where a lamella lands on a post region. A post seen from the side stands on the
    grid below it: it enters the image from the lower border (sim/groundtruth/objects.py:
    the post runs from its top past the frame's lower edge), and the landing point is the
    middle of its far end, its top. A post seen from above is a pad: its landing point is
    its centroid, also where the pad is cut by a border (a top-view pad cut by the upper,
    left or right border was taken for a side view and put at its far end, hundreds of
    pixels off: benchmarks/bench_keypoint_accuracy.py, 83 % -> 89 % within 25 px on 72
    posts). Images are taken with the scan unrotated, as the workflows take them.
    ``view`` "top" or "side" says which it is (a workflow knows); "auto" goes by the
    lower border. ``size_px`` places a pad cut by a border (``known_size.pad_centre``)."""
    seen_from_above = view == "top" or (
        view == "auto" and _clear_of_lower_border(region_px, top, shape[0])
    )
    if seen_from_above:
        if size_px is None:
            return centroid
        return pad_centre(region_px, left, top, shape, centroid, size_px)
    centre, _ax, ay, _half_x, half_y = box_axes(region_px, left, top)
    end = centre - ay * half_y
    return float(end[0]), float(end[1])


def features_from_mask(
    mask: np.ndarray,
    pixel_size_m: float,
    features: Iterable[str] = FEATURES,
    near_px: tuple[float, float] | None = None,
    probabilities: np.ndarray | None = None,
    min_area_px: int = MIN_AREA_PX,
    image: np.ndarray | None = None,
    lamella_length_m: float | None = None,
    post_view: str = "auto",
    post_size_m: tuple[float, float] | None = None,
) -> MaskFeatures:
    """Each of ``features`` from a (H, W) class-index mask; ``near_px`` (col, row) picks
    among several lamellae/posts (default: the image centre); ``probabilities`` (C, H, W)
    gives the scores; ``image``, the (H, W) grey frame the mask is of, gives the lamella's
    bottom edge at full resolution (lamella_edges.py); ``lamella_length_m`` (the lamella's
    length along its axis, metres) places a lamella cut by a side border from its end in
    view; ``post_view`` ("auto", "top", "side") says how the landing posts are seen and
    ``post_size_m`` (width, length as seen from above, metres; the length foreshortened
    as the image is) places a pad cut by a border."""
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
    if lamella_length_m is not None and not (
        isinstance(lamella_length_m, int | float)
        and not isinstance(lamella_length_m, bool)
        and np.isfinite(lamella_length_m)
        and lamella_length_m > 0
    ):
        raise ValueError(
            f"lamella_length_m must be > 0 (metres) or None (unknown), got {lamella_length_m!r}"
        )
    if post_size_m is not None and not sizes_ok(post_size_m):
        raise ValueError(
            f"post_size_m must be (width, length) > 0 in metres or None, got {post_size_m!r}"
        )
    if post_view not in POST_VIEWS:
        raise ValueError(f"post_view must be one of {POST_VIEWS}, got {post_view!r}")
    if image is not None and np.shape(image) != mask.shape:
        raise ValueError(f"image must be the mask's shape {mask.shape}, got {np.shape(image)}")
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
        out[name] = found_feature(name, xy, score, (h, w), pixel_size_m)

    if any(n in LAMELLA_FEATURES for n in names):
        lam = regions(LAMELLA)
        why = lam.missing("lamella", min_area_px)
        if why:
            for n in names:
                if n in LAMELLA_FEATURES:
                    out[n] = NotFound(n, why)
        else:
            region = lam.nearest(near, LAMELLA_FRAGMENT_FRACTION)
            px, left, top = lam.crop(region)
            box = lamella_box(px, left, top)
            if lamella_length_m is not None:
                length_px = lamella_length_m / pixel_size_m
                px, left, top, box = joined_pieces(lam.regions, region, box, length_px)
            score = region_score(probabilities, LAMELLA, px, left, top)
            cut = cut_edges(px, left, top, (h, w), box)
            if image is not None and "LamellaBottomEdge" not in cut:
                bottom = bottom_edge_offset(image, box)
                if bottom is not None:
                    box = with_bottom(box, bottom)
                    keep = ("LamellaLeftEdge" in cut, "LamellaRightEdge" in cut)
                    box = ends_in_strip(px, left, top, box, keep)
            sides_in_view = "LamellaLeftEdge" not in cut and "LamellaRightEdge" not in cut
            if lamella_length_m is not None and image is not None and sides_in_view:
                box = fitted_to_length(image, box, lamella_length_m / pixel_size_m)
            if lamella_length_m is not None:
                placed = measured_from_end(box, cut, lamella_length_m / pixel_size_m)
                if isinstance(placed, str):
                    for k in ("LamellaCentre", "LamellaTopEdge", "LamellaBottomEdge"):
                        cut[k] = placed
                else:
                    box = placed
            points = lamella_points(box)
            for n in names:
                if n in cut:
                    out[n] = NotFound(n, cut[n])
                elif n in points:
                    found(n, points[n], score)
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
            region = cls.nearest(near, FRAGMENT_FRACTION)
            px, left, top = cls.crop(region)
            xy = region.centroid
            if n == "LandingPost":
                size_px = (
                    None
                    if post_size_m is None
                    else (post_size_m[0] / pixel_size_m, post_size_m[1] / pixel_size_m)
                )
                view = post_view
                if view == "auto" and _any_seen_from_above(cls, h, px.shape[1]):
                    view = "top"  # one image, one view: a post not standing on the lower
                    # border is seen from above, and so are the others beside it
                placed = _post_point(px, left, top, (h, w), region.centroid, view, size_px)
                if isinstance(placed, str):
                    out[n] = NotFound(n, placed)
                    continue
                xy = placed
            found(n, xy, region_score(probabilities, index, px, left, top))
        elif n == "NeedleTip":
            needle = regions(MANIPULATOR)
            why = needle.missing("manipulator (needle)", min_area_px)
            if why:
                out[n] = NotFound(n, why)
                continue
            px, left, top = joined_needle(needle.regions, needle.largest(), mask)
            tip, apex = needle_end(px, left, top, (h, w))
            if hidden_by_adaptor(mask, apex, regions(COPPER_ADAPTOR).regions, pixel_size_m):
                out[n] = NotFound(n, "the needle ends at the copper adaptor: its tip is behind it")
                continue
            found(n, tip, region_score(probabilities, MANIPULATOR, px, left, top))
    return MaskFeatures({n: out[n] for n in names}, (h, w), float(pixel_size_m))
