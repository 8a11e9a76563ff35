"""Finding a rectangle of known size in an image: the shared first stage of the
landed-lamella and landing-post detectors.

Every position is scored by the edge strength (gradient magnitude, so polarity and
bright rims do not matter) along the four sides a rectangle centred there would have,
each side averaged along most of its length and allowed to sit a little off (size
tolerance); the weakest side counts. The rectangle is the strong peak of that score
nearest the image centre. Each detector then refines the centre from the grey-level
profiles across the rectangle, in its own way (what surrounds a landed lamella and a
post differs), and gives the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, maximum_filter, uniform_filter

from .grid_square import _check_inputs

SNR_THRESHOLD = 4.0  # weakest side's contrast, in noise units, for a non-zero score
SNR_FULL_SCORE = 12.0
_MIN_PEAK_SNR = 6.0  # an outline score this far above background is a candidate ...
_MIN_PEAK_SHARE = 0.3  # ... if it is also this close to the strongest one in view
_SLACK = 0.1  # a side may sit this share of the size off the expected place
_MIN_SIZE_PX = (6.0, 3.0)  # smallest rectangle (width, height) the image can resolve


@dataclass(frozen=True)
class Candidate:
    """A rectangle found to within the slack: its centre and the smoothed image."""

    x_px: float
    y_px: float
    width_px: float
    height_px: float
    smooth: np.ndarray  # float32, the image smoothed for profiles


def check_size(width_m: float, height_m: float, names: tuple[str, str]) -> None:
    for label, value in zip(names, (width_m, height_m), strict=True):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be finite and > 0, got {value}")


def find_candidate(
    image: np.ndarray, pixel_size_m: float, vertical_scale: float, width_m: float,
    height_m: float, beam: str,
) -> tuple[Candidate | None, tuple[float, float]]:  # fmt: skip
    """The rectangle (width_m × height_m on the specimen; the height shown ×
    `vertical_scale`) nearest the image centre, or None; and the image centre (col, row).
    Inputs are checked (ValueError naming the field)."""
    img = _check_inputs(image, pixel_size_m, width_m, beam, vertical_scale)
    rows, cols = img.shape
    centre = (cols - 1) / 2, (rows - 1) / 2
    w = width_m / pixel_size_m
    h = height_m * vertical_scale / pixel_size_m
    if w < _MIN_SIZE_PX[0] or h < _MIN_SIZE_PX[1] or w > cols or h > rows:
        return None, centre
    smooth = gaussian_filter(img.astype(np.float32), float(np.clip(h / 10, 0.7, 2.0)))
    gy, gx = np.gradient(smooth)
    peak = _nearest_strong_peak(_outline(np.abs(gx), np.abs(gy), w, h), *centre)
    if peak is None:
        return None, centre
    return Candidate(peak[0], peak[1], w, h, smooth), centre


def score(snr: float) -> float:
    """Score 0..1 from the weakest side's contrast in noise units."""
    return float(np.clip((snr - SNR_THRESHOLD) / (SNR_FULL_SCORE - SNR_THRESHOLD), 0.0, 1.0))


def profile_across(smooth: np.ndarray, other: float, other_size: float, axis: int) -> np.ndarray:
    """Mean grey-level profile along `axis` (1: columns, 0: rows) over the middle 60 %
    of the rectangle's extent in the other axis (centred on `other`)."""
    half = max(1, round(0.3 * other_size))
    lo, hi = max(0, round(other) - half), round(other) + half + 1
    band = smooth[lo:hi, :] if axis == 1 else smooth[:, lo:hi]
    return band.mean(axis=0 if axis == 1 else 1).astype(float)


def profile_noise(profile: np.ndarray) -> float:
    """Robust noise of a profile from its sample-to-sample differences."""
    return max(1.4826 * float(np.median(np.abs(np.diff(profile)))) / np.sqrt(2), 1e-9)


def _outline(gx: np.ndarray, gy: np.ndarray, w: float, h: float) -> np.ndarray:
    """At each pixel: the weakest of the mean edge strengths along the four sides of a
    w × h rectangle centred there (each side may sit within the slack)."""
    slack_y, slack_x = max(1, round(_SLACK * h)), max(1, round(_SLACK * w))
    along_x = uniform_filter(gy, size=(1, max(3, round(0.8 * w))), mode="nearest")
    along_y = uniform_filter(gx, size=(max(3, round(0.8 * h)), 1), mode="nearest")
    along_x = maximum_filter(along_x, size=(2 * slack_y + 1, 1), mode="nearest")
    along_y = maximum_filter(along_y, size=(1, 2 * slack_x + 1), mode="nearest")
    dy, dx = round(h / 2), round(w / 2)
    sides = [_shifted(along_x, 0, s) for s in (dy, -dy)]
    sides += [_shifted(along_y, 1, s) for s in (dx, -dx)]
    return np.min(sides, axis=0)


def _shifted(a: np.ndarray, axis: int, shift: int) -> np.ndarray:
    """`a` moved by `shift` along `axis` (out[i] = a[i - shift]); no wrap-around: what
    comes in from outside the image is 0 (a side out of view is no edge)."""
    out = np.roll(a, shift, axis=axis)
    index: list[slice] = [slice(None), slice(None)]
    index[axis] = slice(None, shift) if shift > 0 else slice(shift, None)
    if shift != 0:
        out[tuple(index)] = 0.0
    return out


def _nearest_strong_peak(response: np.ndarray, cx: float, cy: float) -> tuple[float, float] | None:
    """(col, row) of the local maximum nearest (cx, cy) among those standing
    `_MIN_PEAK_SNR` robust noise units above the background and at least
    `_MIN_PEAK_SHARE` of the strongest (texture in part of the view raises the noise; a
    neighbour may stand out more); None if there is none."""
    background = float(np.median(response))
    noise = max(1.4826 * float(np.median(np.abs(response - background))), 1e-9)
    local = response == maximum_filter(response, size=5, mode="nearest")
    strong = np.maximum(background + _MIN_PEAK_SNR * noise, _MIN_PEAK_SHARE * response.max())
    candidates = np.argwhere(local & (response >= strong))
    if candidates.size == 0:
        return None
    d = np.hypot(candidates[:, 1] - cx, candidates[:, 0] - cy)
    r, c = candidates[int(np.argmin(d))]
    return float(c), float(r)
