"""The lamella that milling left at a site, measured from the site patch's height raster.

The patch is resampled onto a grid aligned with the ion image plane of the last mill
((a, b): image right and image up, metres from the site), so the lamella is a horizontal
unmilled strip between an upper and a lower trench. Its thickness is the image-plane
spacing of the two faces, i.e. measured perpendicular to the ion beam; each face is
located, per column, where the height crosses halfway between the wall top and the
trench floor next to it (sub-sample, linear interpolation).
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict

from .patch import LocalPatch
from .specimen import Site

MILLED_BELOW_M = 30e-9  # deeper than this counts as milled
GRID_A_M = 40e-9  # grid step along the image x
SEARCH_B_M = 8e-6  # look this far above/below the site (image vertical)
MAX_THICKNESS_M = 10e-6
CENTRE_TOLERANCE_M = 1e-6  # a column's wall must be this close to the median wall
FLOOR_SAMPLE_M = 100e-9  # trench floor depth is taken this far beyond a face
EDGE_SEARCH_ROWS = 8


class LamellaReport(BaseModel):
    """What remains at a site. Lengths in metres; None where there is no lamella."""

    model_config = ConfigDict(frozen=True)

    site: str
    exists: bool
    centre_u_m: float | None = None
    centre_v_m: float | None = None
    centre_error_m: float | None = None  # distance of the centre from the site (u, v)
    width_m: float | None = None  # along the ion image x
    thickness_m: float | None = None  # along the ion image vertical (⊥ ion beam)
    upper_trench_depth_m: float | None = None
    lower_trench_depth_m: float | None = None


def _resample(patch: LocalPatch, site: Site, lin: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Heights on an (a, b) grid (rows: b descending) over the milled region."""
    milled = patch.height_delta_m < -MILLED_BELOW_M
    rows, cols = np.flatnonzero(milled.any(1)), np.flatnonzero(milled.any(0))
    u0, v0 = patch.origin_m()
    px = patch.pixel_m
    cu = u0 + np.array([cols[0], cols[-1], cols[0], cols[-1]]) * px - site.u_m
    cv = v0 - np.array([rows[0], rows[0], rows[-1], rows[-1]]) * px - site.v_m
    ab = lin @ np.stack([cu, cv])
    a0, a1 = ab[0].min() - 0.2e-6, ab[0].max() + 0.2e-6
    b0, b1 = max(ab[1].min(), -SEARCH_B_M), min(ab[1].max(), SEARCH_B_M)
    g_b = float(np.clip(0.5 * np.abs(lin[1]).max() * px, 1e-9, px))
    g_a = GRID_A_M
    n_cols, n_rows = int((a1 - a0) / g_a) + 1, int((b1 - b0) / g_b) + 1
    # grid (col, row) -> (a, b) -> (u, v) -> patch (col, row)
    grid_to_ab = np.array([[g_a, 0.0, a0], [0.0, -g_b, b1]])
    inv = np.linalg.inv(lin)
    ab_to_uv = np.hstack([inv, np.array([[site.u_m], [site.v_m]])])
    uv_to_px = np.array([[1 / px, 0.0, -u0 / px], [0.0, -1 / px, v0 / px]])
    m = _compose(uv_to_px, _compose(ab_to_uv, grid_to_ab))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    h = cv2.warpAffine(patch.height_delta_m, m, (n_cols, n_rows), flags=flags, borderValue=0.0)
    return h, (a0, b1, g_a, g_b)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    out = np.empty((2, 3))
    out[:, :2] = outer[:, :2] @ inner[:, :2]
    out[:, 2] = outer[:, :2] @ inner[:, 2] + outer[:, 2]
    return out


def _wall(col: np.ndarray, site_row: float) -> tuple[int, int] | None:
    """(first, last) row of the unmilled run nearest `site_row` with milling on both sides."""
    m = col < -MILLED_BELOW_M
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == -1) + 1  # milled -> unmilled
    ends = np.flatnonzero(d == 1)  # unmilled -> milled
    best = None
    for s in starts:
        later = ends[ends >= s]
        if later.size == 0:
            continue
        e = int(later[0])
        dist = abs((s + e) / 2 - site_row)
        if best is None or dist < best[0]:
            best = (dist, int(s), e)
    return None if best is None else (best[1], best[2])


def _crossing(p: np.ndarray, level: float, near: float) -> float | None:
    """Fractional index where `p` crosses `level` between samples, nearest `near`."""
    s = p - level
    idx = np.flatnonzero(np.sign(s[:-1]) != np.sign(s[1:]))
    if idx.size == 0:
        return None
    i = int(idx[np.argmin(np.abs(idx + 0.5 - near))])
    return i + float(s[i] / (s[i] - s[i + 1]))


def _faces(col: np.ndarray, first: int, last: int, k: int) -> tuple[float, float, float, float]:
    """Sub-row positions of the upper and lower faces, and the two trench floor depths."""
    wall = float(np.median(col[first : last + 1]))
    up = col[max(first - k, 0) : max(first - 2, 1)]
    lo = col[last + 3 : last + k + 1]
    d_up = float(np.median(up)) if up.size else float(col[first - 1])
    d_lo = float(np.median(lo)) if lo.size else float(col[min(last + 1, col.size - 1)])
    r = EDGE_SEARCH_ROWS
    s0 = max(first - r, 0)
    top = _crossing(col[s0 : first + r], (wall + d_up) / 2, first - 0.5 - s0)
    s1 = max(last - r, 0)
    bot = _crossing(col[s1 : last + r + 1], (wall + d_lo) / 2, last + 0.5 - s1)
    top_row = s0 + top if top is not None else first - 0.5
    bot_row = s1 + bot if bot is not None else last + 0.5
    return top_row, bot_row, -d_up, -d_lo


def measure_lamella(patch: LocalPatch, site: Site, lin: np.ndarray) -> LamellaReport:
    """Report the lamella at `site`; `lin` maps (u, v) to the ion image plane (a, b)."""
    none = LamellaReport(site=site.name, exists=False)
    if not patch.active or not (patch.height_delta_m < -MILLED_BELOW_M).any():
        return none
    h, (a0, b1, g_a, g_b) = _resample(patch, site, lin)
    site_row, site_col = b1 / g_b, -a0 / g_a
    step = max(1, h.shape[1] // 200)
    walls = {j: _wall(h[:, j], site_row) for j in range(0, h.shape[1], step)}
    walls = {j: w for j, w in walls.items() if w and (w[1] - w[0]) * g_b < MAX_THICKNESS_M}
    if not walls:
        return none
    centres = {j: (w[0] + w[1]) / 2 for j, w in walls.items()}
    rc = float(np.median(list(centres.values())))
    tol = CENTRE_TOLERANCE_M / g_b
    good = sorted(j for j, c in centres.items() if abs(c - rc) < tol)
    # The contiguous run of good sampled columns nearest the site.
    runs: list[list[int]] = []
    for j in good:
        if runs and j - runs[-1][-1] == step:
            runs[-1].append(j)
        else:
            runs.append([j])
    run = min(
        runs,
        key=lambda r: (
            0 if r[0] <= site_col <= r[-1] else min(abs(r[0] - site_col), abs(r[-1] - site_col))
        ),
    )
    width = (run[-1] - run[0] + step) * g_a
    k = max(int(FLOOR_SAMPLE_M / g_b), 4)
    central = run[len(run) // 5 : len(run) - len(run) // 5] or run
    faces = np.array([_faces(h[:, j], *walls[j], k) for j in central])
    thickness = float(np.median(faces[:, 1] - faces[:, 0])) * g_b
    b_c = b1 - float(np.median((faces[:, 0] + faces[:, 1]) / 2)) * g_b
    a_c = a0 + (run[0] + run[-1]) / 2 * g_a
    du, dv = np.linalg.solve(lin, np.array([a_c, b_c]))
    return LamellaReport(
        site=site.name,
        exists=True,
        centre_u_m=site.u_m + float(du),
        centre_v_m=site.v_m + float(dv),
        centre_error_m=float(np.hypot(du, dv)),
        width_m=float(width),
        thickness_m=thickness,
        upper_trench_depth_m=float(np.median(faces[:, 2])),
        lower_trench_depth_m=float(np.median(faces[:, 3])),
    )
