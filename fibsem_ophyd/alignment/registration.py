"""Translation registration of FIB/SEM images: band-passed, partially whitened phase
correlation with a cached reference spectrum and exact sub-pixel peak refinement.

Sign convention (pixel frame: column right, row down, see docs/coordinates.md): the
result ``shift_x_px`` / ``shift_y_px`` is where the *content* of the new image sits
relative to the reference, ``image[r, c] ~ reference[r - shift_y_px, c - shift_x_px]``.
Positive x = content moved right, positive y = content moved down. Shifting the new image
by ``(-shift_y_px, -shift_x_px)`` aligns it to the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from .filters import WindowKind, bandpass, kept_band, weight_map
from .subpixel import SpectralPeak

WORKERS = 2


@dataclass(frozen=True, slots=True)
class Registration:
    """Result of registering an image to a reference.

    shift_x_px, shift_y_px: content displacement of the image relative to the reference
        (pixels; +x right, +y down).
    score: correlation coefficient (clipped to 0..1) of the band-passed, weighted images
        over their overlap after applying the shift: ~1 same scene, ~0 unrelated.
    peak_ratio: height of the correlation peak over the highest secondary peak (>= 1;
        near 1 means an ambiguous match, e.g. periodic or featureless images).
    """

    shift_x_px: float
    shift_y_px: float
    score: float
    peak_ratio: float

    @property
    def shift_yx(self) -> tuple[float, float]:
        """``(shift_y_px, shift_x_px)``, the numpy-axis order."""
        return (self.shift_y_px, self.shift_x_px)


def _as_image(image: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D image, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric image, got dtype {arr.dtype}")
    return arr


class Registrar:
    """Registers images against one reference; the reference's filtered spectrum is
    computed once, so each :meth:`register` pays for one FFT of the new image.

    lowpass_px: remove periods shorter than this (pixels; None = keep all); noise control.
        Also sets the coarse search grid (pitch ~ lowpass_px / 2), so it drives speed.
    highpass_px: suppress structures larger than ~this (pixels; None = keep).
    whitening: exponent p of the cross-power normalisation |R M|^-p (0 = plain
        cross-correlation, 1 = pure phase correlation).
    window, window_alpha: apodisation against edge effects (Tukey taper fraction).
    mask: boolean array of the image shape, True = use pixel (applied to both images,
        detector frame), feathered by ``mask_feather_px``.
    max_shift_px: search only |shift| <= this along each axis (None = anywhere).
    tolerance_px: stop the sub-pixel Newton refinement below this step.
    """

    def __init__(
        self,
        reference: np.ndarray,
        *,
        lowpass_px: float | None = 4.0,
        highpass_px: float | None = 64.0,
        whitening: float = 0.5,
        window: WindowKind = "tukey",
        window_alpha: float = 0.25,
        mask: np.ndarray | None = None,
        mask_feather_px: float = 8.0,
        max_shift_px: float | None = None,
        tolerance_px: float = 1e-4,
    ) -> None:
        ref = _as_image(reference, "reference")
        if not np.isfinite(ref).all():
            raise ValueError("reference contains NaN or inf")
        if lowpass_px is not None and lowpass_px < 2:
            raise ValueError("lowpass_px must be >= 2 (the Nyquist period) or None")
        if not 0.0 <= whitening <= 1.0:
            raise ValueError("whitening must be within [0, 1]")
        self.shape: tuple[int, int] = (int(ref.shape[0]), int(ref.shape[1]))
        self.whitening = float(whitening)
        self.tolerance_px = float(tolerance_px)
        self.weight = weight_map(self.shape, window, window_alpha, mask, mask_feather_px)
        self.pad = (
            sfft.next_fast_len(self.shape[0], True),
            sfft.next_fast_len(self.shape[1], True),
        )
        ky, kx = (kept_band(n, lowpass_px) for n in self.pad)
        self._rows = np.r_[0 : ky + 1, self.pad[0] - ky : self.pad[0]]
        self._ncols = kx + 1
        self.fy = np.r_[0 : ky + 1, -ky:0] / self.pad[0]
        self.fx = np.arange(kx + 1) / self.pad[1]
        self.coarse = (sfft.next_fast_len(2 * ky + 2, True), sfft.next_fast_len(2 * kx + 2, True))
        self.pitch = (self.pad[0] / self.coarse[0], self.pad[1] / self.coarse[1])
        self._h = bandpass(self.fy, self.fx, lowpass_px, highpass_px).astype(np.float32)
        self._wspec = self._crop(sfft.rfft2(self.weight, s=self.pad, workers=WORKERS))
        # The score is computed on half the band (a grid 4x smaller): a correlation
        # coefficient needs no fine detail, and this halves its cost.
        ky2, kx2 = max(1, ky // 2), max(1, kx // 2)
        self._srows = np.r_[0 : ky2 + 1, len(self._rows) - ky2 : len(self._rows)]
        self._sncols = kx2 + 1
        self._sky = ky2
        self.score_grid = (
            sfft.next_fast_len(2 * ky2 + 2, True),
            sfft.next_fast_len(2 * kx2 + 2, True),
        )
        self._spitch = (self.pad[0] / self.score_grid[0], self.pad[1] / self.score_grid[1])
        spec = self._spectrum(ref)
        self._ref_bp = self._to_score_grid(  # for the score
            (spec * self._h)[self._srows, : self._sncols]
        )
        self._ref_w = np.conj(spec) * self._h / self._norm(spec)
        self._w_score = self._sample(self.weight, self.score_grid, self._spitch)
        # overlap of the two windows versus shift: spectrum |W|^2 of their autocorrelation
        self._envelope = SpectralPeak(
            (self._wspec * np.conj(self._wspec)).real.astype(np.complex64), self.fy, self.fx
        )
        self._allowed = self._search_region(max_shift_px)

    # --- spectra -------------------------------------------------------------------
    def _crop(self, full: np.ndarray) -> np.ndarray:
        return full[self._rows, : self._ncols].astype(np.complex64)

    def _spectrum(self, image: np.ndarray) -> np.ndarray:
        """Cropped spectrum of the weighted image, its weighted mean removed."""
        x = np.multiply(image, self.weight, dtype=np.float32, casting="unsafe")
        full = sfft.rfft2(x, s=self.pad, workers=WORKERS)
        spec = self._crop(full)
        with np.errstate(invalid="ignore"):
            mean = spec[0, 0] / self._wspec[0, 0]
        if not np.isfinite(mean):
            raise ValueError("image contains NaN or inf")
        spec -= mean * self._wspec
        return spec

    def _norm(self, spec: np.ndarray) -> np.ndarray | float:
        if self.whitening == 0:
            return 1.0
        mag = np.abs(spec)
        mag += 1e-6 * float(mag.mean()) + np.finfo(np.float32).tiny
        return np.sqrt(mag) if self.whitening == 0.5 else mag**self.whitening

    def _to_coarse(self, spec: np.ndarray) -> np.ndarray:
        """Inverse FFT of a cropped spectrum onto the coarse grid (pitch ``self.pitch``)."""
        ky = (len(self._rows) - 1) // 2
        buf = np.zeros((self.coarse[0], self.coarse[1] // 2 + 1), dtype=np.complex64)
        buf[: ky + 1, : self._ncols] = spec[: ky + 1]
        buf[self.coarse[0] - ky :, : self._ncols] = spec[ky + 1 :]
        return sfft.irfft2(buf, s=self.coarse, workers=WORKERS)

    def _to_score_grid(self, sub: np.ndarray) -> np.ndarray:
        """Inverse FFT of the inner half-band (``spec[self._srows, :self._sncols]``) of a
        cropped spectrum onto the score grid."""
        ky, (ny, nx) = self._sky, self.score_grid
        buf = np.zeros((ny, nx // 2 + 1), dtype=np.complex64)
        buf[: ky + 1, : self._sncols] = sub[: ky + 1]
        buf[ny - ky :, : self._sncols] = sub[ky + 1 :]
        return sfft.irfft2(buf, s=(ny, nx), workers=WORKERS)

    def _sample(
        self, image: np.ndarray, grid: tuple[int, int], pitch: tuple[float, float]
    ) -> np.ndarray:
        iy = np.round(np.arange(grid[0]) * pitch[0]).astype(int)
        ix = np.round(np.arange(grid[1]) * pitch[1]).astype(int)
        padded = np.zeros(self.pad, dtype=np.float32)
        padded[: self.shape[0], : self.shape[1]] = image
        return padded[np.ix_(iy, ix)]

    def _offsets(self, axis: int) -> np.ndarray:
        """Signed pixel offset of each coarse-grid index along ``axis``."""
        n = self.coarse[axis]
        idx = np.arange(n)
        return np.where(idx > n // 2, idx - n, idx) * self.pitch[axis]

    def _search_region(self, max_shift_px: float | None) -> np.ndarray | None:
        if max_shift_px is None:
            return None
        oy, ox = self._offsets(0), self._offsets(1)
        return (np.abs(oy)[:, None] <= max_shift_px) & (np.abs(ox)[None, :] <= max_shift_px)

    # --- registration ----------------------------------------------------------------
    def register(self, image: np.ndarray) -> Registration:
        """Register ``image`` (same shape as the reference) to the reference."""
        img = _as_image(image, "image")
        if img.shape != self.shape:
            raise ValueError(f"image shape {img.shape} differs from reference shape {self.shape}")
        spec = self._spectrum(img)
        cross = self._ref_w * (spec / self._norm(spec))
        surface = self._to_coarse(cross)
        if self._allowed is not None:
            surface = np.where(self._allowed, surface, -np.inf)
        iy, ix = np.unravel_index(int(np.argmax(surface)), surface.shape)
        peak_ratio = self._peak_ratio(surface, int(iy), int(ix))
        y0 = self._offsets(0)[iy] + self.pitch[0] * _vertex(surface[:, ix], int(iy))
        x0 = self._offsets(1)[ix] + self.pitch[1] * _vertex(surface[iy], int(ix))
        y, x = SpectralPeak(cross, self.fy, self.fx).refine(
            y0, x0, max(self.pitch) + 0.5, self.tolerance_px, self._envelope
        )
        score = self._score(spec, y, x)
        return Registration(float(x), float(y), score, peak_ratio)

    def _peak_ratio(self, surface: np.ndarray, iy: int, ix: int) -> float:
        peak = float(surface[iy, ix])
        r = max(2, int(np.ceil(4.0 / min(self.pitch))))
        rows = np.arange(iy - r, iy + r + 1) % surface.shape[0]
        cols = np.arange(ix - r, ix + r + 1) % surface.shape[1]
        rest = surface.copy()
        rest[np.ix_(rows, cols)] = -np.inf
        second = float(rest.max())
        if peak <= 0:
            return 1.0
        return float(peak / second) if second > 0 else float("inf")

    def _score(self, spec: np.ndarray, y: float, x: float) -> float:
        """Correlation coefficient of the band-passed weighted images after undoing the
        shift, each multiplied by the other's (shifted) weight so both carry the same
        window: ~1 for the same scene regardless of the overlap, ~0 for unrelated ones."""
        rows, ncols = self._srows, self._sncols
        moved = spec[rows, :ncols] * self._h[rows, :ncols]
        moved *= np.exp(2j * np.pi * self.fy[rows] * y).astype(np.complex64)[:, None]
        moved *= np.exp(2j * np.pi * self.fx[:ncols] * x).astype(np.complex64)
        moved = self._to_score_grid(moved)
        sy = round(y / self._spitch[0])
        sx = round(x / self._spitch[1])
        w_moved = np.roll(self._w_score, (-sy, -sx), axis=(0, 1))
        u = self._ref_bp * w_moved
        v = moved * self._w_score
        # einsum, not BLAS dot: threaded BLAS spins and costs more than it saves here
        uu, vv, uv = (float(np.einsum("ij,ij->", a, b)) for a, b in ((u, u), (v, v), (u, v)))
        den = np.sqrt(uu * vv)
        if den == 0:
            return 0.0
        return float(min(1.0, max(0.0, uv / den)))


def _vertex(line: np.ndarray, i: int) -> float:
    """Sub-sample offset (-0.5..0.5) of the peak at ``line[i]`` from a 3-point Gaussian
    (parabola of the log) fit; a parabola on the values where they are not positive."""
    a, b, c = (float(line[(i + k) % len(line)]) for k in (-1, 0, 1))
    if min(a, b, c) > 0:
        a, b, c = np.log(a), np.log(b), np.log(c)
    den = a - 2 * b + c
    if not np.isfinite(den) or den >= 0:
        return 0.0
    return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))


def register(reference: np.ndarray, image: np.ndarray, **options: object) -> Registration:
    """One-shot :class:`Registrar` ``(reference, **options).register(image)``."""
    return Registrar(reference, **options).register(image)  # type: ignore[arg-type]
