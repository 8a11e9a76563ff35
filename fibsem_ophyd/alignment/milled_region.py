"""Where did milling change the image? Compare an ion image after milling with the one
before, and the region that changed with where the patterns were drawn.

The after-image is registered to the before-image first (stage drift between the two
would otherwise look like change everywhere) and shifted back by the whole-pixel part
of the shift. The absolute difference is smoothed, and a pixel counts as changed where
it exceeds `threshold_sigmas` times the robust noise of the difference away from the
patterns. Results (all from the images, nothing else):

- `coverage`: the share of the drawn pattern area that changed (low: the beam did not
  mill there — wrong place, no current, nothing happened). A pattern that re-mills an
  earlier trench changes only where new material went, so coverage can be well below 1;
- `precision`: of the change within `reach_m` of the patterns, the share that lies on
  them (dilated by `margin_px`) — low: material went beside the patterns;
- `offset_x_m`, `offset_y_m`: the shift (within `reach_m`) by which the patterns best
  overlap the change (image plane, x right, y up) — meaningful when most of the pattern
  area changed (fresh material), ambiguous for partial re-mills;
- `shift_x_px`, `shift_y_px`, `score`: the registration of after to before.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .registration import Registrar

SMOOTH_SIGMA_PX = 1.5
THRESHOLD_SIGMAS = 5.0
MIN_THRESHOLD = 3.0  # grey levels: a difference this small is never a change
TIE = 0.97  # shifts whose overlap is this close to the best count as equally good


@dataclass(frozen=True)
class MilledRegion:
    coverage: float
    precision: float
    offset_x_m: float
    offset_y_m: float
    shift_x_px: float
    shift_y_px: float
    score: float
    changed_px: int


def _inside(shape: tuple[int, ...], dy: float, dx: float) -> np.ndarray:
    """Pixels of an image moved by (-dy, -dx) that still have content (2 px margin)."""
    rows, cols = shape
    r, c = np.arange(rows)[:, None] + dy, np.arange(cols)[None, :] + dx
    return (r >= 2) & (r <= rows - 3) & (c >= 2) & (c <= cols - 3)


def _best_offset_px(changed: np.ndarray, mask: np.ndarray, reach: int) -> tuple[float, float]:
    """(dx, dy) in pixels (x right, y down) by which the pattern mask best overlaps the
    changed pixels, within ±reach (overlap counted by cross-correlation)."""
    rows, cols = np.nonzero(mask)
    r0, r1 = max(rows.min() - reach, 0), min(rows.max() + reach + 1, mask.shape[0])
    c0, c1 = max(cols.min() - reach, 0), min(cols.max() + reach + 1, mask.shape[1])
    ch = changed[r0:r1, c0:c1].astype(np.float32)
    mk = mask[r0:r1, c0:c1].astype(np.float32)
    if not ch.any():
        return float("nan"), float("nan")
    shape = (2 * ch.shape[0], 2 * ch.shape[1])
    corr = np.fft.irfft2(np.fft.rfft2(ch, shape) * np.conj(np.fft.rfft2(mk, shape)), shape)
    corr = np.fft.fftshift(corr)
    cy, cx = shape[0] // 2, shape[1] // 2
    window = corr[cy - reach : cy + reach + 1, cx - reach : cx + reach + 1]
    # Along a long, thin pattern many shifts explain the change about equally well: take
    # the middle of the plateau of shifts within TIE of the best, not an arbitrary one.
    near_best = (window >= TIE * float(window.max())).astype(np.uint8)
    _n, labels = cv2.connectedComponents(near_best, connectivity=8)
    iy, ix = np.unravel_index(int(np.argmax(window)), window.shape)
    rows, cols = np.nonzero(labels == labels[iy, ix])
    return float(cols.mean() - reach), float(rows.mean() - reach)


def _mask(pattern: np.ndarray, dilate_px: int) -> np.ndarray:
    k = 2 * dilate_px + 1
    return cv2.dilate(pattern.astype(np.uint8), np.ones((k, k), np.uint8)) > 0


def compare_milled(
    before: np.ndarray,
    after: np.ndarray,
    pattern_mask: np.ndarray,
    pixel_size_m: float,
    reach_m: float = 1e-6,
    margin_px: int = 3,
    threshold_sigmas: float = THRESHOLD_SIGMAS,
) -> MilledRegion:
    """Compare `after` with `before` (same shape) over `pattern_mask` (True = drawn)."""
    b = np.asarray(before, np.float32)
    a = np.asarray(after, np.float32)
    mask = np.asarray(pattern_mask, bool)
    if b.ndim != 2 or a.shape != b.shape or mask.shape != b.shape:
        raise ValueError(
            f"before {b.shape}, after {a.shape} and pattern mask {mask.shape} must be the "
            "same 2-D shape"
        )
    if not mask.any():
        raise ValueError("the pattern mask is empty: nothing was drawn inside the image")
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0 and reach_m > 0):
        raise ValueError("pixel_size_m and reach_m must be > 0 metres")
    reg = Registrar(b, max_shift_px=max(b.shape) / 8).register(a)
    back = np.float32([[1, 0, -reg.shift_x_px], [0, 1, -reg.shift_y_px]])
    a = cv2.warpAffine(a, back, (a.shape[1], a.shape[0]), flags=cv2.INTER_LINEAR)
    diff = cv2.GaussianBlur(np.abs(a - b), (0, 0), SMOOTH_SIGMA_PX)
    valid = _inside(mask.shape, reg.shift_y_px, reg.shift_x_px)
    reach = max(int(np.ceil(reach_m / pixel_size_m)), margin_px + 1)
    on = _mask(mask, margin_px)
    band = _mask(mask, reach)
    away = valid & ~_mask(mask, reach + 4 * margin_px)
    sample = diff[away] if away.any() else diff[valid]
    med = float(np.median(sample))
    sigma = 1.4826 * float(np.median(np.abs(sample - med)))
    changed = valid & (diff > max(med + threshold_sigmas * sigma, MIN_THRESHOLD))
    coverage = float((changed & mask).sum()) / float(mask.sum())
    near = float((changed & band).sum())
    precision = float((changed & on).sum()) / near if near else 0.0
    ox, oy = _best_offset_px(changed & band, mask, reach)
    return MilledRegion(
        coverage=coverage,
        precision=precision,
        offset_x_m=ox * pixel_size_m,
        offset_y_m=-oy * pixel_size_m,
        shift_x_px=reg.shift_x_px,
        shift_y_px=reg.shift_y_px,
        score=reg.score,
        changed_px=int(changed.sum()),
    )
