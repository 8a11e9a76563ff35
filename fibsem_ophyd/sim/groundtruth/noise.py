"""Smooth random fields for object textures and imaging artefacts (seeded, fast: a
small random grid resized up, a few octaves)."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_field(
    shape: tuple[int, int], rng: np.random.Generator, scale_px: float, octaves: int = 3
) -> np.ndarray:
    """A field of roughly unit standard deviation varying over ``scale_px`` pixels."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    amplitude, total = 1.0, 0.0
    for k in range(octaves):
        s = max(scale_px / 2**k, 2.0)
        gh, gw = max(2, int(np.ceil(h / s)) + 1), max(2, int(np.ceil(w / s)) + 1)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amplitude * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amplitude**2
        amplitude *= 0.5
    return out / np.float32(np.sqrt(total))


def grains(shape: tuple[int, int], rng: np.random.Generator, grain_px: float) -> np.ndarray:
    """Flat-topped grains in [0, 1] (copper, tungsten: ion channelling contrast)."""
    field = smooth_field(shape, rng, grain_px, octaves=2)
    return np.floor((np.clip(field, -2.0, 2.0) + 2.0) * 1.5).astype(np.float32) / 6.0


def streaks(width: int, rng: np.random.Generator, period_px: float) -> np.ndarray:
    """Per-column offsets of roughly unit size: vertical curtaining stripes."""
    raw = rng.standard_normal(width + 8).astype(np.float32)
    k = max(1, int(period_px))
    kernel = np.ones(k, np.float32) / np.sqrt(k)
    return np.convolve(raw, kernel, mode="same")[4 : 4 + width]
