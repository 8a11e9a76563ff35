"""Classical detector for the manipulator needle tip (the NeedleTip keypoint).

The needle is a thin, bright, straight shaft that enters the image from an edge and ends
at its tip. A white top-hat removes the specimen's slowly varying grey levels; the
residue is thresholded at a robust noise level; the longest elongated component is the
shaft, its line refined from the pixels near it. The residue is then sampled along that
line from the border end: the tip is where the shaft's level falls to half (the rounded
end's edge), stepped back by the shaft's half-width there (the end's centre). The score
says how sure that is (0: no needle): straightness, contrast over the noise, and whether
the shaft enters from the image border.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import map_coordinates

from .keypoints import Keypoint

_BLUR_SIGMA_PX = 2.0
_TOPHAT_PX = 31  # wider than the shaft near its tip, narrower than specimen features
_THRESHOLD_SIGMAS = 4.0  # top-hat residue above this many robust noise sigmas
_MIN_LENGTH_PX = 25  # a shorter component is noise, not a needle
_BAND_PX = 4.0  # mask pixels this close to the first line refine it
_SNR_FULL_SCORE = 8.0  # shaft contrast (noise sigmas) that gives full score
_GAP_PX = 12  # the profile must stay below half level this long past the tip
_ENTRY_FRACTION = 0.06  # the shaft ends this close to an edge (of the image size): it enters


def _noise_sigma(residue: np.ndarray) -> float:
    """Robust standard deviation (median absolute deviation) of the top-hat residue."""
    med = float(np.median(residue))
    return max(1.4826 * float(np.median(np.abs(residue - med))), 1e-6)


def _line(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre, unit axis, straightness 0..1) of a point cloud (N, 2)."""
    centre = pts.mean(0)
    evals, evecs = np.linalg.eigh(np.cov((pts - centre).T))
    straight = 1.0 - float(np.sqrt(max(evals[0], 0.0) / max(evals[1], 1e-9)))
    return centre, evecs[:, 1], straight


def _shaft(mask: np.ndarray) -> np.ndarray | None:
    """Pixels (N, 2: col, row) of the longest component, or None."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    sizes = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    label = int(np.argmax(sizes)) + 1
    if sizes[label - 1] < _MIN_LENGTH_PX:
        return None
    rows, cols = np.nonzero(labels == label)
    return np.stack([cols, rows], 1).astype(float)


def _sample(residue: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return map_coordinates(residue, [pts[..., 1], pts[..., 0]], order=1, cval=0.0)


def find_needle_tip(image: np.ndarray, pixel_size_m: float, name: str = "NeedleTip") -> Keypoint:
    """Pixel (col, row) of the needle tip; score 0 and NaN position when none is found."""
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (rows, cols), got shape {image.shape}")
    if not pixel_size_m > 0:
        raise ValueError(f"pixel_size_m must be > 0, got {pixel_size_m}")
    missing = Keypoint(name, float("nan"), float("nan"), 0.0)
    img = cv2.GaussianBlur(image.astype(np.float32), (0, 0), _BLUR_SIGMA_PX)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_TOPHAT_PX, _TOPHAT_PX))
    residue = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, kernel)
    sigma = _noise_sigma(residue)
    level = float(np.median(residue)) + _THRESHOLD_SIGMAS * sigma
    mask = (residue > level).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    pts = _shaft(mask)
    if pts is None:
        return missing
    centre, axis, _ = _line(pts)
    # Refine the line with every mask pixel near it (the shaft may be broken by noise).
    all_pts = np.argwhere(mask > 0)[:, ::-1].astype(float)
    near = np.abs((all_pts - centre) @ np.array([-axis[1], axis[0]])) <= _BAND_PX
    centre, axis, straight = _line(all_pts[near])
    h, w = image.shape
    # Walk from the border end: the end of the shaft nearer an edge is where it enters.
    along = (pts - centre) @ axis  # the ends of the shaft itself, not of nearby specks
    ends = [centre + along.min() * axis, centre + along.max() * axis]
    border = [min(e[0], e[1], w - 1 - e[0], h - 1 - e[1]) for e in ends]
    direction = axis if border[0] <= border[1] else -axis
    start = ends[0] if border[0] <= border[1] else ends[1]
    t = np.arange(0.0, float(np.hypot(w, h)), 0.5)
    normal = np.array([-direction[1], direction[0]])
    line = start + t[:, None] * direction
    profile = np.mean([_sample(residue, line + k * normal) for k in (-1.0, 0.0, 1.0)], 0)
    length = float(along.max() - along.min())
    shaft_level = float(np.median(profile[t <= length]))
    half = float(np.median(residue)) + 0.5 * (shaft_level - float(np.median(residue)))
    below = profile < half
    gap = int(2 * _GAP_PX)
    run = np.convolve(below.astype(float), np.ones(gap), "valid") >= gap  # `gap` samples low
    on = int(np.argmax(~below))  # the walk starts where the shaft is first above half
    if below[on] or not run[on:].any():
        return missing
    i = on + int(np.argmax(run[on:]))
    # Sub-sample edge of the rounded end, then back by the shaft's half-width there.
    frac = (profile[i - 1] - half) / max(profile[i - 1] - profile[i], 1e-9)
    edge_t = t[i - 1] + 0.5 * frac
    back = start + (edge_t - 8.0) * direction
    across = np.arange(-20.0, 20.5, 0.5)
    width = 0.5 * float(np.sum(_sample(residue, back + across[:, None] * normal) > half))
    tip = start + (edge_t - 0.5 * width) * direction
    enters = min(border) <= _ENTRY_FRACTION * min(w, h)
    snr = (shaft_level - float(np.median(residue))) / sigma
    score = straight * min(1.0, snr / _SNR_FULL_SCORE) * (1.0 if enters else 0.5)
    return Keypoint(name, float(tip[0]), float(tip[1]), float(score))
