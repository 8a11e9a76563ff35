"""Pure image metrics (numpy/OpenCV only): what the `FrameMetrics` processing device
publishes for the focus and contrast plans.

- `sharpness`: normalised gradient energy (Tenengrad) of a lightly smoothed frame.
  The pre-filter (Gaussian, `prefilter_sigma_px`) suppresses shot noise, which would
  otherwise dominate a Laplacian/gradient measure and flatten the focus curve; dividing
  by the image variance makes the number independent of detector contrast.
- `fit_peak`: sub-step position of a sampled curve's maximum (parabola through the best
  sample and its neighbours, on the log of the metric).
- `grey_levels`: the low/high percentile grey levels (0..1 of full scale) and the
  clipped fraction.
- `contrast_step` / `contrast_update`: one step of an iterative autocontrast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


def sharpness(image: np.ndarray, prefilter_sigma_px: float = 2.0) -> float:
    """Mean squared gradient of the Gaussian-smoothed image divided by its variance
    (dimensionless, larger = sharper); 0.0 for a flat image."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2 or img.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {img.shape}")
    if prefilter_sigma_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), prefilter_sigma_px)
    var = float(img.var())
    if var <= 1e-12:
        return 0.0
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(gx * gx + gy * gy)) / var


def fit_peak(xs: Sequence[float], ys: Sequence[float]) -> float:
    """x of the maximum of samples (xs ascending, ys > 0): the vertex of the parabola
    through log(y) at the best sample and its two neighbours, clamped to their span.
    At either end of the sweep the end sample itself is returned."""
    x = np.asarray(xs, float)
    y = np.asarray(ys, float)
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError("xs and ys must be 1-D sequences of the same, non-zero length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("xs and ys must be finite")
    i = int(np.argmax(y))
    if i == 0 or i == x.size - 1 or np.any(y[i - 1 : i + 2] <= 0):
        return float(x[i])
    ly = np.log(y[i - 1 : i + 2])
    a, b, _ = np.polyfit(x[i - 1 : i + 2], ly, 2)
    if a >= 0:
        return float(x[i])
    return float(np.clip(-b / (2 * a), x[i - 1], x[i + 1]))


@dataclass(frozen=True)
class ContrastStep:
    """Result of one autocontrast step: new settings and what was measured."""

    contrast: float
    brightness: float
    low: float  # grey level at the low percentile (of the full range 0..1)
    high: float  # grey level at the high percentile (0..1)
    done: bool  # the measured image already met the targets


def grey_levels(image: np.ndarray, percentile: float = 0.5) -> tuple[float, float, float]:
    """(low, high, clipped_percent): the `percentile` / `100 - percentile` grey levels
    as fractions of the full scale, and the percentage of pixels at either end."""
    img = np.asarray(image)
    if img.ndim != 2 or img.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {img.shape}")
    full = float(np.iinfo(img.dtype).max) if np.issubdtype(img.dtype, np.integer) else 1.0
    lo, hi = (float(v) / full for v in np.percentile(img, [percentile, 100.0 - percentile]))
    clipped = max(float(np.mean(img <= 0)), float(np.mean(img >= full))) * 100.0
    return lo, hi, clipped


def contrast_step(
    low: float,
    high: float,
    clipped_percent: float,
    contrast: float,
    brightness: float,
    target_low: float = 0.05,
    target_high: float = 0.95,
    percentile: float = 0.5,
    contrast_octaves: float = 6.0,
    tolerance: float = 0.04,
) -> ContrastStep:
    """One step toward an image whose `percentile`/`100 - percentile` grey levels
    (`low`, `high`, fractions of full scale) sit at `target_low`/`target_high`.

    Model (an assumption, corrected by iterating): detector gain doubles every
    `1 / contrast_octaves` of the contrast range, and brightness shifts the grey
    levels linearly over the full range. So contrast changes by
    `log2(target spread / spread) / contrast_octaves` and brightness by the error of
    the mid level. A saturated image (> `percentile` % clipped) underestimates its
    spread, so contrast is instead lowered by a fixed half octave.
    """
    if not 0.0 <= target_low < target_high <= 1.0:
        raise ValueError("need 0 <= target_low < target_high <= 1")
    mid, target_mid = (low + high) / 2, (target_low + target_high) / 2
    spread, target_spread = max(high - low, 1e-3), target_high - target_low
    done = (
        abs(low - target_low) <= tolerance
        and abs(high - target_high) <= tolerance
        and clipped_percent <= percentile
    )
    if clipped_percent > percentile:
        d_contrast = -0.5 / contrast_octaves
    else:
        d_contrast = math.log2(target_spread / spread) / contrast_octaves
    new_c = float(np.clip(contrast + d_contrast, 0.0, 1.0))
    new_b = float(np.clip(brightness + (target_mid - mid), 0.0, 1.0))
    return ContrastStep(new_c, new_b, low, high, done)


def contrast_update(
    image: np.ndarray,
    contrast: float,
    brightness: float,
    target_low: float = 0.05,
    target_high: float = 0.95,
    percentile: float = 0.5,
) -> ContrastStep:
    """`contrast_step` from an image's own grey levels."""
    low, high, clipped = grey_levels(image, percentile)
    return contrast_step(
        low, high, clipped, contrast, brightness, target_low, target_high, percentile
    )
