"""Classical detector for the centre of a cryo-EM grid square (the lamella-site keypoint).

The grid bars are long straight bands along the image axes, so the square's edges show up
as sharp steps in the row and column intensity profiles. Along each axis we find the
steps (Gaussian-derivative of the mean profile), pair a falling and a rising step one
square-width apart (the square's two sides), and take the pair nearest the image centre;
with only one side in view, the centre is that side ± half a square. A second pass
re-profiles each axis over the square's extent in the other axis only. Works for SEM and
FIB (any contrast polarity, vertical foreshortening via ``vertical_scale``); the grid must
be (near) axis-aligned in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .keypoints import Keypoint

BEAMS = ("electron", "ion")
_MIN_SIDE_PX = 16
_SNR_THRESHOLD = 6.0  # minimum step height, in robust noise units, to count as an edge
_SNR_FULL_SCORE = 20.0  # edge SNR that gives score 1
_AGREE_PX = 2.0  # whole-image and band fits this close: the same square side(s)
_GROUP = 4  # values averaged before the robust profile's median
_SINGLE_EDGE_WEIGHT = 0.6  # score factor when only one side of the square is in view


@dataclass(frozen=True)
class _Edge:
    pos: float  # sub-pixel position along the axis
    slope: float  # signed derivative of the profile at the edge (+: dark → bright)


@dataclass(frozen=True)
class _AxisFit:
    centre: float  # square centre along the axis (pixels)
    snr: float  # weakest contributing edge, in noise units
    paired: bool  # both sides of the square found


def find_grid_square_centre(
    image: np.ndarray,
    pixel_size_m: float,
    square_size_m: float = 90e-6,
    beam: str = "electron",
    vertical_scale: float = 1.0,
    bars_bright: bool | None = None,
    name: str = "LamellaCentre",
    pitch_m: float | None = 125e-6,
) -> Keypoint:
    """Centre (col, row) of the grid square nearest the image centre.

    ``vertical_scale``: apparent height / width of the square (1 in a flat view; in a
    tilted FIB view the sine of the milling angle). ``bars_bright``: bar polarity; None
    decides from the image (a square with both sides in view) and falls back to bright
    bars. ``pitch_m``: the grid period (square + bar; None = unknown): every edge in view
    then votes for where the squares are, so one edge lost in the bar texture cannot move
    the answer to the neighbouring square (in a grazing FIB view several squares are in
    view, a bar's height apart). ``beam`` only labels the input ("electron" or "ion").
    ``square_size_m`` and ``vertical_scale`` should be right to ~5% (pairing tolerance
    8%); where one side of the square is out of view, the centre is that side ± half the
    expected size.
    Score 0..1: 0 when no square edge is found (featureless image: keep the old position),
    at most 0.6 when an axis has only one side of the square in view.
    """
    img = _check_inputs(image, pixel_size_m, square_size_m, beam, vertical_scale)
    size_x = square_size_m / pixel_size_m
    size_y = size_x * vertical_scale
    period_x = None if pitch_m is None else pitch_m / pixel_size_m
    period_y = None if period_x is None else period_x * vertical_scale
    rows, cols = img.shape
    centre_x, centre_y = (cols - 1) / 2.0, (rows - 1) / 2.0

    col_edges, col_noise = _edges(img.mean(axis=0), size_x)
    row_edges, row_noise = _edges(img.mean(axis=1), size_y)
    polarity = _polarity(
        bars_bright, (col_edges, size_x, col_noise), (row_edges, size_y, row_noise)
    )
    fit_x = _fit_axis(col_edges, col_noise, size_x, centre_x, polarity, period_x)
    fit_y = _fit_axis(row_edges, row_noise, size_y, centre_y, polarity, period_y)

    # Second pass: profile each axis only across the square found on the other axis,
    # with a median (of small group means) across the band: milled patterns inside the
    # square (trenches, a fiducial) cover a small part of each line and cannot fake a
    # side of the square, which they can in a mean (a fiducial's top edge taken for the
    # square's top, the real top out of view, held the FIB view 9 µm off the lamella).
    # Kept unless the first pass found both sides and this one does not.
    if fit_y is not None:
        band = _band(fit_y.centre, size_y, rows)
        if band is not None:
            block = img[band[0] : band[1]]
            fit_x = _second_pass(fit_x, _band_fit(block, 0, size_x, centre_x, polarity, period_x))
    if fit_x is not None:
        band = _band(fit_x.centre, size_x, cols)
        if band is not None:
            block = img[:, band[0] : band[1]]
            fit_y = _second_pass(fit_y, _band_fit(block, 1, size_y, centre_y, polarity, period_y))

    if fit_x is None or fit_y is None:
        return Keypoint(name, centre_x, centre_y, 0.0)
    score = min(_axis_score(fit_x), _axis_score(fit_y))
    return Keypoint(name, float(fit_x.centre), float(fit_y.centre), float(score))


def _check_inputs(
    image: np.ndarray,
    pixel_size_m: float,
    square_size_m: float,
    beam: str,
    vertical_scale: float,
) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise ValueError(f"image must be 2-D (rows, cols), got shape {arr.shape}")
    if min(arr.shape) < _MIN_SIDE_PX:
        raise ValueError(f"image must be at least {_MIN_SIDE_PX} px a side, got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) and not np.iscomplexobj(arr)):
        raise ValueError(f"image must be real-valued, got dtype {arr.dtype}")
    img = arr.astype(np.float64)
    if not np.all(np.isfinite(img)):
        raise ValueError("image contains NaN or infinite values")
    for label, value in (
        ("pixel_size_m", pixel_size_m),
        ("square_size_m", square_size_m),
        ("vertical_scale", vertical_scale),
    ):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be finite and > 0, got {value}")
    if beam not in BEAMS:
        raise ValueError(f"beam must be one of {BEAMS}, got {beam!r}")
    return img


def _edges(profile: np.ndarray, size_px: float) -> tuple[list[_Edge], float]:
    """Sharp steps of a 1-D mean profile, and the robust noise of its derivative."""
    sigma = float(np.clip(size_px / 150.0, 1.5, 4.0))
    wide = max(0.05 * size_px, 4 * sigma)
    pad = int(np.ceil(4 * (sigma + wide)))
    # Odd reflection continues ramps across the border, so shading makes no false steps.
    padded = np.pad(profile, pad, mode="reflect", reflect_type="odd")
    deriv = gaussian_filter1d(padded, sigma, order=1)
    # Band-pass: remove slow shading (ramps, large blobs) so only sharp steps remain.
    deriv = (deriv - gaussian_filter1d(deriv, wide))[pad : pad + len(profile)]
    margin = int(np.ceil(2 * sigma))
    deriv[:margin] = 0.0
    deriv[len(deriv) - margin :] = 0.0
    inner = deriv[margin : len(deriv) - margin]
    mad = float(np.median(np.abs(inner - np.median(inner)))) if inner.size else 0.0
    noise = max(1.4826 * mad, 1e-6 * (float(np.ptp(profile)) + 1e-9), 1e-12)
    mag = np.abs(deriv)
    window = max(round(0.04 * size_px), round(3 * sigma), 2)
    edges: list[_Edge] = []
    for i in np.flatnonzero(mag > _SNR_THRESHOLD * noise):
        lo, hi = max(i - window, 0), min(i + window + 1, len(mag))
        if mag[i] < mag[lo:hi].max() or (i > lo and mag[i] == mag[i - 1]):
            continue
        edges.append(_Edge(_subpixel(mag, i), float(deriv[i])))
    return edges, noise


def _subpixel(mag: np.ndarray, i: int) -> float:
    """Parabolic interpolation of a local maximum of ``mag`` at index ``i``."""
    if i <= 0 or i >= len(mag) - 1:
        return float(i)
    left, mid, right = mag[i - 1], mag[i], mag[i + 1]
    denom = left - 2 * mid + right
    if denom >= 0:
        return float(i)
    return float(i + 0.5 * (left - right) / denom)


def _pairs(edges: list[_Edge], size_px: float, polarity: int) -> list[tuple[_Edge, _Edge]]:
    """(start, end) edge pairs one square apart; polarity +1: square darker than bars."""
    tol = 0.08 * size_px + 2.0
    starts = [e for e in edges if np.sign(e.slope) == -polarity]
    ends = [e for e in edges if np.sign(e.slope) == polarity]
    return [(a, b) for a in starts for b in ends if abs(b.pos - a.pos - size_px) <= tol]


def _polarity(bars_bright: bool | None, *axes: tuple[list[_Edge], float, float]) -> int:
    """+1 when the square is darker than the bars, else -1."""
    if bars_bright is not None:
        return 1 if bars_bright else -1
    evidence = {}
    for polarity in (1, -1):
        evidence[polarity] = sum(
            max(
                (min(abs(a.slope), abs(b.slope)) / noise for a, b in _pairs(e, s, polarity)),
                default=0.0,
            )
            for e, s, noise in axes
        )
    return -1 if evidence[-1] > evidence[1] else 1


def _periodic_fit(
    edges: list[_Edge], noise: float, size_px: float, period_px: float, centre: float,
    polarity: int,
) -> _AxisFit | None:  # fmt: skip
    """The square centre nearest ``centre`` from the grid phase that most edges agree on
    (each square's start and end vote for its centre modulo the period); None unless at
    least two edges agree."""
    votes = [
        (e.pos + (size_px / 2 if np.sign(e.slope) == -polarity else -size_px / 2),
         abs(e.slope) / noise)
        for e in edges
    ]  # fmt: skip
    if len(votes) < 2 or period_px <= size_px:
        return None
    tol = 0.08 * size_px + 2.0
    phases = np.array([v % period_px for v, _ in votes])
    weights = np.array([w for _, w in votes])
    best: tuple[float, np.ndarray] | None = None
    for ph in phases:
        d = (phases - ph + period_px / 2) % period_px - period_px / 2
        agree = np.abs(d) <= tol
        total = float(weights[agree].sum())
        if agree.sum() >= 2 and (best is None or total > best[0]):
            best = (total, agree)
    if best is None:
        return None
    agree = best[1]
    ref = phases[agree][np.argmax(weights[agree])]
    d = (phases[agree] - ref + period_px / 2) % period_px - period_px / 2
    phase = ref + float(np.average(d, weights=weights[agree]))
    k = np.round((centre - phase) / period_px)
    # Confidence: the second strongest agreeing edge (two edges agree at least this well).
    snr = float(np.sort(weights[agree])[-2])
    return _AxisFit(float(phase + k * period_px), snr, True)


def _fit_axis(
    edges: list[_Edge], noise: float, size_px: float, centre: float, polarity: int,
    period_px: float | None = None,
) -> _AxisFit | None:  # fmt: skip
    """The square centre nearest ``centre`` along one axis (the grid phase when the
    period is known and two edges agree on it; else pairs beat single sides)."""
    if period_px is not None:
        periodic = _periodic_fit(edges, noise, size_px, period_px, centre, polarity)
        if periodic is not None:
            return periodic
    pairs = _pairs(edges, size_px, polarity)
    if pairs:
        strongest = max(min(abs(a.slope), abs(b.slope)) for a, b in pairs)
        fits = [
            _AxisFit((a.pos + b.pos) / 2, min(abs(a.slope), abs(b.slope)) / noise, True)
            for a, b in pairs
            if min(abs(a.slope), abs(b.slope)) >= 0.25 * strongest
        ]
    else:
        if not edges:
            return None
        strongest = max(abs(e.slope) for e in edges)
        fits = [
            _AxisFit(e.pos - polarity * np.sign(e.slope) * size_px / 2, abs(e.slope) / noise, False)
            for e in edges
            if abs(e.slope) >= 0.25 * strongest
        ]
    return min(fits, key=lambda f: abs(f.centre - centre))


def _robust_mean(block: np.ndarray, axis: int) -> np.ndarray:
    """Median along `axis` of the means of neighbouring groups of 4 values: blind to
    features covering less than half a line (the median), with about half the noise of
    a plain median (the groups)."""
    a = np.moveaxis(block, axis, 0)
    n = a.shape[0] // _GROUP * _GROUP
    if n == 0:
        return a.mean(axis=0)
    grouped = a[:n].reshape(n // _GROUP, _GROUP, *a.shape[1:]).mean(axis=1)
    return np.median(grouped, axis=0)


def _band_fit(
    block: np.ndarray, axis: int, size_px: float, centre: float, polarity: int,
    period_px: float | None,
) -> _AxisFit | None:  # fmt: skip
    """Fit of the profile of `block` reduced along `axis`: the robust profile's, or the
    plain mean's where the two agree and the mean's edges are stronger (less noise)."""
    fits = []
    for profile in (_robust_mean(block, axis), block.mean(axis=axis)):
        edges, noise = _edges(profile, size_px)
        fits.append(_fit_axis(edges, noise, size_px, centre, polarity, period_px))
    return _second_pass(fits[1], fits[0])


def _second_pass(first: _AxisFit | None, second: _AxisFit | None) -> _AxisFit | None:
    """`second` (the more specific fit), unless it lost a side `first` had; where both
    agree (within _AGREE_PX, same sides), the one with the stronger edges."""
    if first is None or second is None:
        return first or second
    if first.paired and not second.paired:
        return first
    agree = abs(first.centre - second.centre) <= _AGREE_PX and first.paired == second.paired
    return first if agree and first.snr > second.snr else second


def _band(centre: float, size_px: float, length: int) -> tuple[int, int] | None:
    """Index range of the inner 80% of a square along an axis, clipped to the image."""
    lo = int(np.ceil(centre - 0.4 * size_px))
    hi = int(np.floor(centre + 0.4 * size_px)) + 1
    lo, hi = max(lo, 0), min(hi, length)
    return (lo, hi) if hi - lo >= max(8, int(0.1 * size_px)) else None


def _axis_score(fit: _AxisFit) -> float:
    raw = (fit.snr - _SNR_THRESHOLD) / (_SNR_FULL_SCORE - _SNR_THRESHOLD)
    weight = 1.0 if fit.paired else _SINGLE_EDGE_WEIGHT
    return float(np.clip(raw, 0.0, 1.0) * weight)
