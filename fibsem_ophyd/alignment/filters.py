"""Windows, masks and the spectral band-pass used by image registration."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.signal.windows import tukey

WindowKind = Literal["tukey", "hann", "none"]


def window_2d(
    shape: tuple[int, int], kind: WindowKind = "tukey", alpha: float = 0.25
) -> np.ndarray:
    """Separable apodisation window (float32, peak 1) against FFT edge effects.

    ``alpha`` is the Tukey taper fraction (0 = flat, 1 = Hann); ignored for other kinds.
    """
    if kind == "none":
        return np.ones(shape, dtype=np.float32)
    if kind == "hann":
        alpha = 1.0
    elif kind != "tukey":
        raise ValueError(f"unknown window {kind!r}; expected 'tukey', 'hann' or 'none'")
    wy = tukey(shape[0], alpha, sym=False)
    wx = tukey(shape[1], alpha, sym=False)
    return np.outer(wy, wx).astype(np.float32)


def circular_mask(
    shape: tuple[int, int], radius_frac: float = 0.5, center: tuple[float, float] | None = None
) -> np.ndarray:
    """Boolean mask, True inside a circle of ``radius_frac * min(shape)`` (centre default:
    image centre) -- the pixels used for registration."""
    cy, cx = center if center is not None else ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    r = radius_frac * min(shape)
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def rectangular_mask(
    shape: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int], *, keep: bool = True
) -> np.ndarray:
    """Boolean mask of the rectangle ``rows=(start, stop)``, ``cols=(start, stop)``:
    True inside if ``keep`` (use only that region), else True outside (exclude it)."""
    mask = np.full(shape, not keep, dtype=bool)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = keep
    return mask


def weight_map(
    shape: tuple[int, int],
    window: WindowKind,
    alpha: float,
    mask: np.ndarray | None,
    feather_px: float,
) -> np.ndarray:
    """Window times a feathered mask (True = use pixel): smooth, in [0, 1], float32.

    Feathering (Gaussian blur of ``feather_px``) keeps the mask border from creating a
    sharp, stationary edge that would bias the correlation toward zero shift.
    """
    w = window_2d(shape, window, alpha)
    if mask is None:
        return w
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"mask shape {mask.shape} differs from image shape {shape}")
    m = mask.astype(np.float32)
    if feather_px > 0:
        m = gaussian_filter(m, feather_px, mode="constant") * m
    if not np.any(m > 0):
        raise ValueError("mask excludes every pixel")
    return w * m


def bandpass(
    fy: np.ndarray, fx: np.ndarray, lowpass_px: float | None, highpass_px: float | None
) -> np.ndarray:
    """Radial band-pass transfer on frequencies ``fy[:, None]``, ``fx[None, :]`` (cycles/px).

    Low-pass: 1 below ``0.8 / lowpass_px``, cosine taper to exactly 0 at ``1 / lowpass_px``
    (periods shorter than ``lowpass_px`` pixels are removed). High-pass:
    ``1 - exp(-(f * highpass_px)^2 / 2)`` (structures larger than ~``highpass_px`` pixels,
    e.g. shading and charging gradients, are suppressed).
    """
    f = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    h = np.ones_like(f)
    if lowpass_px is not None:
        fc = 1.0 / lowpass_px
        t = np.clip((f - 0.8 * fc) / (0.2 * fc), 0.0, 1.0)
        h *= 0.5 * (1.0 + np.cos(np.pi * t))
    if highpass_px is not None:
        h *= -np.expm1(-0.5 * (f * highpass_px) ** 2)
    return h


def kept_band(n: int, lowpass_px: float | None) -> int:
    """Highest frequency index kept along an axis of (padded) length ``n``."""
    top = (n - 1) // 2  # never the (ambiguous) Nyquist bin
    if lowpass_px is None:
        return top
    return min(top, int(np.ceil(n / lowpass_px)) - 1)  # the band-pass is 0 at 1/lowpass_px
