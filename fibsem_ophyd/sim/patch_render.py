"""Compositing edited site patches into a rendered frame, with exact height parallax.

An output pixel q sees the surface point (u, v) with A·(u, v) + k·dh(u, v) = q, where A
maps the plane at the reference height and k is the image shift per metre of height.
We march each ray from the highest edit down (first surface hit = visible, so raised
parts occlude), refine by fixed point, and resample texture, shading and material there.
"""

from __future__ import annotations

import cv2
import numpy as np

from .patch import LABEL_OFFSET, PATCH_MATERIALS, LocalPatch
from .projection import invert_affine

_ITERATIONS = 3


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer ∘ inner for 2 × 3 affines."""
    out = np.empty((2, 3))
    out[:, :2] = outer[:, :2] @ inner[:, :2]
    out[:, 2] = outer[:, :2] @ inner[:, 2] + outer[:, 2]
    return out


def _apply(m: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = (m[0, 0] * cols + m[0, 1] * rows + m[0, 2]).astype(np.float32)
    y = (m[1, 0] * cols + m[1, 1] * rows + m[1, 2]).astype(np.float32)
    return x, y


_ROW_PX = 4096  # cv2.remap takes maps of fewer than 32767 columns: rays go in rows of this


def _first_hit(
    height_m: np.ndarray, bx: np.ndarray, by: np.ndarray, kk: np.ndarray, levels_m: np.ndarray
) -> np.ndarray:
    """For each ray (patch coordinates bx, by at the reference height; kk patch pixels
    per metre of height), the first of `levels_m` (descending) at which it is at or below
    the surface `height_m`; the last level where it never is. Only rays still in the air
    are sampled at each level (most of a frame hits the unedited surface at once), which
    gives exactly what sampling every ray at every level would."""
    hit = np.full(bx.size, levels_m[-1], np.float32)
    todo = np.arange(bx.size)
    flat_x, flat_y = bx.ravel(), by.ravel()
    for level_m in levels_m:
        if todo.size == 0:
            break
        px = _rows(flat_x[todo] - np.float32(kk[0] * level_m))
        py = _rows(flat_y[todo] - np.float32(kk[1] * level_m))
        surface = cv2.remap(height_m, px, py, cv2.INTER_LINEAR, borderValue=0.0)
        landed = surface.ravel()[: todo.size] >= level_m - 1e-12
        hit[todo[landed]] = level_m
        todo = todo[~landed]
    return hit.reshape(bx.shape)


def _rows(values: np.ndarray) -> np.ndarray:
    """`values` as a 2-D map cv2.remap accepts (rows of `_ROW_PX`, the last one padded)."""
    n_rows = -(-values.size // _ROW_PX)
    out = np.zeros(n_rows * _ROW_PX, np.float32)
    out[: values.size] = values
    return out.reshape(n_rows, _ROW_PX)


def composite_patch(
    image: np.ndarray,
    patch: LocalPatch,
    a_out: np.ndarray,
    parallax_px_per_m: np.ndarray,
    mosaic: np.ndarray,
    mosaic_to_out: np.ndarray,
    channel: int,
    footprint_m: float,
) -> None:
    """Overwrite, in place, the pixels of `image` that see `patch` (channel 0/1 grey, 2 label)."""
    factor = max(1, 2 ** int(np.floor(np.log2(max(footprint_m / patch.pixel_m, 1.0)))))
    lvl = patch.level(factor)
    n = lvl.height_delta_m.shape[0]
    u0, v0 = patch.origin_m()
    half = (factor - 1) / 2 * patch.pixel_m  # centre of the first coarse pixel
    uv_to_patch = np.array(
        [
            [1 / lvl.pixel_m, 0, -(u0 + half) / lvl.pixel_m],
            [0, -1 / lvl.pixel_m, (v0 - half) / lvl.pixel_m],
        ]
    )
    out_to_patch = _compose(uv_to_patch, invert_affine(a_out))
    kk = out_to_patch[:, :2] @ parallax_px_per_m  # patch px per metre of height
    out_to_mosaic = invert_affine(mosaic_to_out)
    km = out_to_mosaic[:, :2] @ parallax_px_per_m

    # Bounding box in the output, widened by the largest parallax.
    um, uM, vm, vM = patch.bounds_m()
    corners = np.array([[um, vm, 1], [uM, vm, 1], [um, vM, 1], [uM, vM, 1]]) @ a_out.T
    margin = float(np.abs(lvl.height_delta_m).max()) * float(np.hypot(*parallax_px_per_m)) + 2
    h, w = image.shape
    c0 = max(0, int(np.floor(corners[:, 0].min() - margin)))
    c1 = min(w, int(np.ceil(corners[:, 0].max() + margin)) + 1)
    r0 = max(0, int(np.floor(corners[:, 1].min() - margin)))
    r1 = min(h, int(np.ceil(corners[:, 1].max() + margin)) + 1)
    if c0 >= c1 or r0 >= r1:
        return
    cols, rows = np.meshgrid(
        np.arange(c0, c1, dtype=np.float32), np.arange(r0, r1, dtype=np.float32)
    )
    bx, by = _apply(out_to_patch, cols, rows)
    # March each ray down from the highest edit: the first height at which the ray is at
    # or below the surface is what the beam sees (occlusion), then refine by fixed point.
    lo, hi = float(lvl.height_delta_m.min()), float(lvl.height_delta_m.max())
    n_steps = int(min(64, np.ceil(float(np.hypot(*kk)) * (hi - lo)) + 1)) if hi > lo else 1
    dh = _first_hit(lvl.height_delta_m, bx, by, kk, np.linspace(hi, lo, n_steps))
    hit = dh
    px = bx - np.float32(kk[0]) * dh
    py = by - np.float32(kk[1]) * dh
    for _ in range(_ITERATIONS):
        dh = cv2.remap(lvl.height_delta_m, px, py, cv2.INTER_LINEAR, borderValue=0.0)
        dh = np.maximum(dh, hit)  # never drop below the visible hit (vertical walls)
        px = bx - np.float32(kk[0]) * dh
        py = by - np.float32(kk[1]) * dh
    inside = (px >= -0.5) & (px <= n - 0.5) & (py >= -0.5) & (py <= n - 0.5)
    mat = cv2.remap(lvl.material, px, py, cv2.INTER_NEAREST, borderValue=0)
    window = image[r0:r1, c0:c1]
    if channel == 2:
        new = np.where(mat > 0, mat.astype(np.int32) + LABEL_OFFSET, window).astype(np.uint8)
    else:
        mx, my = _apply(out_to_mosaic, cols, rows)
        mx -= np.float32(km[0]) * dh
        my -= np.float32(km[1]) * dh
        tex = cv2.remap(mosaic, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        shade = cv2.remap(lvl.shade, px, py, cv2.INTER_LINEAR, borderValue=1.0)
        grey = tex.astype(np.float32)
        table = np.zeros(256, np.float32)
        for code, (_, e, i) in PATCH_MATERIALS.items():
            table[code] = 255.0 * (e if channel == 0 else i)
        base = table[mat]
        grey = np.where(mat > 0, base + 0.3 * (grey - 128.0), grey) * shade
        new = np.clip(grey, 0, 255).astype(np.uint8)
    window[inside] = new[inside]
