"""Deterministic FIB/SEM-like test scenes with exactly known sub-pixel shifts.

A periodic, band-limited scene (multi-scale texture, cell-like blobs, grid bars, edges)
is shifted by a Fourier phase ramp -- exact for a band-limited periodic signal -- and an
image window is cropped from it, so new content enters at the borders as in a real
stage move. ``make_pair(shift_y_px=dy, shift_x_px=dx)`` returns images with
``moving[r, c] == reference[r - dy, c - dx]`` (before noise): content moved right/down.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from scipy.special import expit

MARGIN_PX = 128  # scene border around the image window; shifts must stay below this


def _ellipse_field(shape: tuple[int, int], rng: np.random.Generator, n: int) -> np.ndarray:
    """Cell-like blobs: soft-edged ellipses with a bright rim, random contrast."""
    h, w = shape
    out = np.zeros(shape, dtype=np.float64)
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        ry, rx = rng.uniform(8, 60, size=2)
        ang = rng.uniform(0, np.pi)
        amp, rim = rng.uniform(-0.6, 0.8), rng.uniform(0.2, 0.8)
        r = int(max(ry, rx)) + 4
        y0, y1 = int(cy) - r, int(cy) + r + 1
        x0, x1 = int(cx) - r, int(cx) + r + 1
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        dy, dx = yy - cy, xx - cx
        u = (dx * np.cos(ang) + dy * np.sin(ang)) / rx
        v = (-dx * np.sin(ang) + dy * np.cos(ang)) / ry
        rho = np.sqrt(u * u + v * v)
        inside = expit((1.0 - rho) * 12.0)
        ring = np.exp(-(((rho - 1.0) * 6.0) ** 2))
        # periodic placement: wrap indices so the scene stays periodic
        out[np.ix_(np.arange(y0, y1) % h, np.arange(x0, x1) % w)] += amp * inside + rim * ring
    return out


def _bars_and_edges(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Grid bars (horizontal/vertical) and a few straight, periodic-safe edges."""
    h, w = shape
    yy = np.arange(h, dtype=np.float64)[:, None]
    xx = np.arange(w, dtype=np.float64)[None, :]
    out = np.zeros(shape, dtype=np.float64)
    for _ in range(2):
        c, width = rng.uniform(0, h), rng.uniform(15, 40)
        out += 0.7 * expit((width / 2 - np.abs(yy - c)) * 1.5)
        c, width = rng.uniform(0, w), rng.uniform(15, 40)
        out += 0.7 * expit((width / 2 - np.abs(xx - c)) * 1.5)
    # slanted stripes (periodic along both axes by construction of the integer slope)
    for ky, kx in ((1, 2), (2, -1)):
        phase = (ky * yy / h + kx * xx / w) % 1.0
        out += 0.4 * (phase < rng.uniform(0.2, 0.5))
    return out


@lru_cache(maxsize=4)
def _scene_spectrum(shape: tuple[int, int], seed: int) -> np.ndarray:
    """rfft2 of a periodic scene of ``shape``, band-limited (PSF, no Nyquist bins)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    fy = sfft.fftfreq(h)[:, None]
    fx = sfft.rfftfreq(w)[None, :]
    f2 = fy * fy + fx * fx
    # multi-scale texture from one white-noise field (independent scales are equivalent)
    power = sum(a * a * np.exp(-2 * np.pi**2 * s * s * f2) for a, s in _TEXTURE_SCALES)
    noise = sfft.rfft2(rng.standard_normal(shape))
    texture = sfft.irfft2(noise * np.sqrt(power), s=shape)
    texture /= texture.std()
    scene = 0.3 * texture + _ellipse_field(shape, rng, 90) + _bars_and_edges(shape, rng)
    spec = sfft.rfft2(scene)
    spec *= np.exp(-2 * np.pi**2 * 0.7**2 * f2)  # probe blur (Gaussian PSF, sigma 0.7 px)
    if h % 2 == 0:
        spec[h // 2, :] = 0
    if w % 2 == 0:
        spec[:, -1] = 0
    spec.flags.writeable = False
    return spec


_TEXTURE_SCALES = ((0.5, 1.5), (1.0, 4.0), (2.0, 12.0), (4.0, 40.0))


def render(
    shape: tuple[int, int], shift_y_px: float = 0.0, shift_x_px: float = 0.0, seed: int = 0
) -> np.ndarray:
    """Noise-free image of scene ``seed`` with content moved by (shift_y_px, shift_x_px)."""
    if max(abs(shift_y_px), abs(shift_x_px)) > MARGIN_PX:
        raise ValueError(f"shift must be within ±{MARGIN_PX} px")
    h, w = shape
    full = (h + 2 * MARGIN_PX, w + 2 * MARGIN_PX)
    spec = _scene_spectrum(full, seed)
    fy = sfft.fftfreq(full[0])[:, None]
    fx = sfft.rfftfreq(full[1])[None, :]
    ramp = np.exp(-2j * np.pi * fy * shift_y_px) * np.exp(-2j * np.pi * fx * shift_x_px)
    img = sfft.irfft2(spec * ramp, s=full)
    img = img[MARGIN_PX : MARGIN_PX + h, MARGIN_PX : MARGIN_PX + w]
    return 0.5 + 0.12 * (img - img.mean()) / img.std()


def degrade(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    dose: float = 400.0,
    read_noise: float = 0.01,
    contrast: float = 1.0,
    brightness: float = 0.0,
) -> np.ndarray:
    """Poisson shot noise (``dose`` counts at intensity 1) + Gaussian read noise, then a
    linear detector response ``contrast * x + brightness``; returns float32."""
    counts = rng.poisson(np.clip(image, 0, None) * dose) / dose
    noisy = counts + rng.normal(0.0, read_noise, image.shape)
    return (contrast * noisy + brightness).astype(np.float32)


def make_pair(
    shape: tuple[int, int] = (1024, 1536),
    shift_y_px: float = 0.0,
    shift_x_px: float = 0.0,
    *,
    seed: int = 0,
    noise_seed: int | None = None,
    dose: float = 400.0,
    contrast: float = 1.3,
    brightness: float = -0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """(reference, moving) of one scene; moving has its content moved by the shift, its
    own noise, and a brightness/contrast change."""
    rng = np.random.default_rng(noise_seed if noise_seed is not None else seed + 1000)
    ref = degrade(render(shape, 0.0, 0.0, seed), rng, dose=dose)
    mov = render(shape, shift_y_px, shift_x_px, seed)
    mov = degrade(mov, rng, dose=dose, contrast=contrast, brightness=brightness)
    return ref, mov


def add_needle(
    image: np.ndarray, tip: tuple[float, float], width_px: float = 60.0, level: float = 2.0
) -> np.ndarray:
    """Copy of ``image`` with a bright, sharp-edged needle entering from the right edge
    at row ``tip[0]`` and ending at column ``tip[1]`` (a static artefact in detector frame),
    with its own fine texture so that it correlates strongly with itself."""
    h, w = image.shape
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    half = 0.5 * width_px * np.clip((xx - tip[1]) / max(w - tip[1], 1), 0.05, 1.0)
    body = (np.abs(yy - tip[0]) <= half) & (xx >= tip[1])
    stripes = 0.3 * np.sin(xx * 0.9) * np.sin(yy * 0.7)
    out = image.copy()
    out[body] = level + stripes[body]
    return out
