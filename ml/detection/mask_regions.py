"""The 8-connected regions of one class of a segmentation mask, with their areas and
centroids, found quickly enough to take every keypoint from a 1536 x 1024 mask in a few
tens of milliseconds (benchmarks/bench_keypoints.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Region:
    area_px: int
    centroid: tuple[float, float]  # (col, row), image pixels
    pixels: np.ndarray  # bool, the region in its bounding box
    left: int
    top: int


def union(regions: Sequence[Region]) -> tuple[np.ndarray, int, int]:
    """The regions' pixels together (bool, in their common bounding box) and the box's
    (left, top)."""
    left = min(r.left for r in regions)
    top = min(r.top for r in regions)
    right = max(r.left + r.pixels.shape[1] for r in regions)
    bottom = max(r.top + r.pixels.shape[0] for r in regions)
    joined = np.zeros((bottom - top, right - left), bool)
    for r in regions:
        rows = slice(r.top - top, r.top - top + r.pixels.shape[0])
        cols = slice(r.left - left, r.left - left + r.pixels.shape[1])
        joined[rows, cols] |= r.pixels
    return joined, left, top


def _label(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected regions with their statistics. 16-bit labels halve the memory traffic
    (about twice as fast); OpenCV refuses when a mask has more regions than they can
    number (pure noise), and then 32-bit labels are used."""
    try:
        return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_16U, cv2.CCL_DEFAULT)
    except cv2.error:
        return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_DEFAULT)


def _any_2x2(binary: np.ndarray) -> np.ndarray:
    """Half-size mask of a 0/255 mask: a cell is set (> 0) when any of its 2 x 2 pixels
    is (their mean is then at least 64)."""
    h, w = binary.shape
    if h % 2 or w % 2:
        binary = cv2.copyMakeBorder(binary, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=0)
    size = (binary.shape[1] // 2, binary.shape[0] // 2)
    return cv2.resize(binary, size, interpolation=cv2.INTER_AREA)


class ClassRegions:
    """8-connected regions of one class (at least ``min_area_px``), found once and shared
    by the class's features.

    Labelling with statistics costs most of the time, so it runs on a half-size "any"
    mask to find where regions are (a region of A pixels covers at least A/4 cells, so
    none is missed), then at full resolution only in a box around each candidate. The
    box has a 2-pixel margin, so its own regions never touch its edge; a region that
    does (except at the image border) belongs to another candidate and is skipped."""

    def __init__(self, mask: np.ndarray, index: int, min_area_px: int) -> None:
        binary = cv2.compare(mask, index, cv2.CMP_EQ)  # 0/255
        self.regions: list[Region] = []
        self.pixels = cv2.countNonZero(binary)
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
                self.regions.append(Region(area, (left + cx, top + cy), px, left + x, top + y))
        if not self.regions:  # the exact size of the largest, for the reason
            self.largest_px = int(_label(binary)[2][1:, cv2.CC_STAT_AREA].max())

    @staticmethod
    def crop(region: Region) -> tuple[np.ndarray, int, int]:
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

    def nearest(self, point: tuple[float, float], min_fraction: float = 0.0) -> Region:
        """The region whose centroid is nearest `point` among those of at least
        `min_fraction` of the largest region's area (smaller ones: fragments)."""
        px, py = point
        floor = min_fraction * max(r.area_px for r in self.regions)
        return min(
            (r for r in self.regions if r.area_px >= floor),
            key=lambda r: (r.centroid[0] - px) ** 2 + (r.centroid[1] - py) ** 2,
        )

    def largest(self) -> Region:
        return max(self.regions, key=lambda r: r.area_px)
