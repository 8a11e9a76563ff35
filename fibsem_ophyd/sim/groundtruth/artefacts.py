"""Imaging artefacts applied to a composed grey image (never to its mask): curtaining
in milled regions, charging (bright patches, streaks along scan lines), uneven
illumination, defocus and astigmatism, detector gain/offset/gamma, shot and line noise.

Each is sampled per image so a model cannot learn one fixed look."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .noise import smooth_field, streaks


@dataclass(frozen=True)
class Look:
    """The sampled strength of each artefact (grey levels in 0..1 units, pixels)."""

    curtain: float
    charging: float
    streak_rows: int
    ramp: float
    blur_px: float
    astig: float
    gain: float
    offset: float
    gamma: float
    noise: float
    line_noise: float

    @classmethod
    def sample(cls, rng: np.random.Generator, beam: str, scale: float) -> Look:
        """`scale`: image width / 1536 (artefacts are sized for a 1536-px frame)."""
        ion = beam == "ion"
        return cls(
            curtain=rng.uniform(0.0, 0.12 if ion else 0.04),
            charging=rng.uniform(0.0, 0.12 if ion else 0.3) * (rng.random() < 0.6),
            streak_rows=int(rng.integers(0, 6 if not ion else 2)),
            ramp=rng.uniform(-0.15, 0.15),
            blur_px=rng.uniform(0.0, 3.0) * scale,
            astig=rng.uniform(0.6, 1.6),
            gain=rng.uniform(0.6, 1.5),
            offset=rng.uniform(-0.15, 0.15),
            gamma=rng.uniform(0.7, 1.4),
            noise=rng.uniform(0.01, 0.14),
            line_noise=rng.uniform(0.0, 0.03),
        )


def apply_look(
    image: np.ndarray, milled: np.ndarray | None, look: Look, rng: np.random.Generator
) -> np.ndarray:
    """The image as the detector would give it, uint8."""
    h, w = image.shape
    img = image.astype(np.float32).copy()
    if milled is not None and look.curtain > 0:
        cols = streaks(w, rng, rng.uniform(2.0, 8.0))
        img += np.where(milled, look.curtain * cols[None, :], 0.0).astype(np.float32)
    if look.charging > 0:
        blobs = np.clip(smooth_field((h, w), rng, rng.uniform(0.1, 0.4) * w, 2), 0.5, None) - 0.5
        img += look.charging * blobs
    for _ in range(look.streak_rows):  # charging flares along a scan line, fading right
        r0 = int(rng.integers(0, h))
        rows = slice(r0, min(h, r0 + int(rng.integers(1, 4))))
        c0 = int(rng.integers(0, w))
        fade = np.exp(-np.clip(np.arange(w) - c0, 0, None) / rng.uniform(0.05, 0.5) / w)
        img[rows, c0:] += rng.uniform(0.1, 0.4) * fade[c0:]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    img += look.ramp * ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle))
    if look.blur_px > 0.3:
        img = cv2.GaussianBlur(
            img, (0, 0), sigmaX=look.blur_px * look.astig, sigmaY=look.blur_px / look.astig
        )
    img = np.clip((img - 0.5) * look.gain + 0.5 + look.offset, 0.0, 1.0) ** look.gamma
    img += look.noise * np.sqrt(np.maximum(img, 0.02)) * rng.standard_normal((h, w), np.float32)
    img += look.line_noise * rng.standard_normal((h, 1), np.float32)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
