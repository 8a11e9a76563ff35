"""Milling physics: ion-image-plane patterns projected onto a site patch, material removal.

A pattern is drawn in the ion image plane (metres from the image centre, x right, y up).
Each image point is mapped onto the specimen along its ion ray at the reference surface
height of the view (the same plane the renderer draws the specimen at), using the
*true* stage pose at that moment, and the patch there is lowered by dose × depth.
Coat layers on top are milled first, at their own (lower) yields. Walls are vertical in
the height map (2.5-D): the lamella's faces sit where the drawn pattern edges are.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..milling import MillingStage
from .coating import remove_layers
from .parameters import TwinParameters
from .patch import MILLED, LocalPatch
from .projection import ImageGeometry, StagePose, specimen_to_image_affine
from .render import Renderer
from .state import BeamState

MAX_GRID_PX = 4_000_000  # per shape raster
EDGE_BAND_PX = 3  # redeposition lands this close to trench walls


@dataclass(frozen=True)
class ShapeRaster:
    """One shape's depth (metres) on a square image-plane grid centred on (cx, cy)."""

    depth_m: np.ndarray  # float32 (rows, cols)
    cx_m: float
    cy_m: float
    pixel_m: float


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer ∘ inner for 2 × 3 affines."""
    out = np.empty((2, 3))
    out[:, :2] = outer[:, :2] @ inner[:, :2]
    out[:, 2] = outer[:, :2] @ inner[:, 2] + outer[:, 2]
    return out


def unit_geometry(beam: BeamState, params: TwinParameters) -> ImageGeometry:
    """Ion geometry with 1 m pixels and the centre at pixel 0: (col, row) = (a', -b')."""
    return ImageGeometry(
        params.ion_column_tilt_deg,
        1.0,
        1,
        1,
        beam.beam_shift_x_m,
        beam.beam_shift_y_m,
        beam.scan_rotation_deg,
    )


def plane_affine(
    renderer: Renderer, pose: StagePose, geom: ImageGeometry, h_m: float | None = None
) -> np.ndarray:
    """2 × 3 map (u, v, 1) -> (a', -b') at height `h_m` (default: the view's reference
    surface height, where the renderer draws the specimen)."""
    if h_m is None:
        h_m = renderer.surface_centre(pose, geom)[2]
    return specimen_to_image_affine(pose, renderer.params, geom, h_m)


def image_to_specimen(affine: np.ndarray, a_m: float, b_m: float) -> tuple[float, float]:
    """(u, v) where image-plane point (a', b') meets the reference surface."""
    lin = np.linalg.inv(affine[:, :2])
    u, v = lin @ (np.array([a_m, -b_m]) - affine[:, 2])
    return float(u), float(v)


def grid_pixel_m(affine: np.ndarray, patch_pixel_m: float) -> float:
    """Image-plane grid pixel that resolves a patch pixel in its most compressed direction."""
    return float(np.linalg.svd(affine[:, :2], compute_uv=False)[-1]) * patch_pixel_m


def rasterise(stage: MillingStage, pixel_m: float) -> list[ShapeRaster]:
    """Each shape's dose × depth on its own image-plane grid (≤ MAX_GRID_PX pixels)."""
    out = []
    for shape in stage.resolved_shapes():
        box = shape.bounding_box()
        w, h = box.max_x_m - box.min_x_m, box.max_y_m - box.min_y_m
        g = max(pixel_m, float(np.sqrt(max(w * h, 0.0) / MAX_GRID_PX)), 1e-10)
        cols, rows = int(np.ceil(w / g)) + 5, int(np.ceil(h / g)) + 5
        cx, cy = (box.min_x_m + box.max_x_m) / 2, (box.min_y_m + box.max_y_m) / 2
        dose = np.zeros((rows, cols), np.float32)
        shape.translated(-cx, -cy).paint(dose, g)
        out.append(ShapeRaster(dose * np.float32(shape.depth_m), cx, cy, g))
    return out


def volume_m3(stage: MillingStage) -> float:
    return float(sum(s.volume_m3() for s in stage.resolved_shapes()))


def _patch_to_grid(
    r: ShapeRaster, affine: np.ndarray, patch: LocalPatch, offset_m: tuple[float, float]
) -> np.ndarray:
    """2 × 3 map from patch pixel (col, row) to the raster's grid pixel."""
    u0, v0 = patch.origin_m()
    px = patch.pixel_m
    to_uv = np.array([[px, 0.0, u0], [0.0, -px, v0]])
    rows, cols = r.depth_m.shape
    da, db = offset_m
    g = r.pixel_m
    to_grid = np.array(
        [
            [1 / g, 0.0, (-da - r.cx_m) / g + (cols - 1) / 2],
            [0.0, 1 / g, (db + r.cy_m) / g + (rows - 1) / 2],
        ]
    )
    return compose(to_grid, compose(affine, to_uv))


def _window(m: np.ndarray, shape: tuple[int, int], n: int) -> tuple[slice, slice] | None:
    """Patch rows/cols that the grid (rows, cols) covers under patch->grid map `m`."""
    lin = np.linalg.inv(m[:, :2])
    rows, cols = shape
    corners = np.array([[-1, -1], [cols, -1], [-1, rows], [cols, rows]], float) - m[:, 2]
    pc = corners @ lin.T
    c0, c1 = int(np.floor(pc[:, 0].min())) - 2, int(np.ceil(pc[:, 0].max())) + 3
    r0, r1 = int(np.floor(pc[:, 1].min())) - 2, int(np.ceil(pc[:, 1].max())) + 3
    c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, n), min(r1, n)
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def apply_dose(
    patch: LocalPatch,
    rasters: list[ShapeRaster],
    affine: np.ndarray,
    offset_m: tuple[float, float],
    fraction: float,
    layers: list[tuple[str, float]],
    redeposition: float = 0.0,
    rng: np.random.Generator | None = None,
) -> float:
    """Mill `fraction` of the drawn dose into `patch`; return the specimen volume removed."""
    removed_m3 = 0.0
    area = patch.pixel_m**2
    for r in rasters:
        m = _patch_to_grid(r, affine, patch, offset_m)
        win = _window(m, r.depth_m.shape, patch.n_px)
        if win is None:
            continue
        rs, cs = win
        m_win = m.copy()
        m_win[:, 2] += m[:, :2] @ np.array([cs.start, rs.start], float)
        size = (cs.stop - cs.start, rs.stop - rs.start)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        d = cv2.warpAffine(r.depth_m, m_win, size, flags=flags, borderValue=0.0)
        budget = d * np.float32(fraction)
        if layers:
            fracs = [f[rs, cs] for f in patch.coat_fractions(len(layers))]
            work = [f.astype(np.float32) / np.float32(255.0) for f in fracs]
            budget = remove_layers(budget, work, layers)
            for f, w in zip(fracs, work, strict=True):
                f[...] = np.round(w * 255.0).astype(np.uint8)
        hd = patch.height_delta_m[rs, cs]
        hd -= budget
        patch.material[rs, cs][budget > 1e-9] = MILLED
        removed = float(budget.sum()) * area
        removed_m3 += removed
        if redeposition > 0 and removed > 0 and rng is not None:
            _redeposit(hd, d > 0, redeposition * removed / area, rng)
    patch.mark_edited()
    return removed_m3


def _redeposit(hd: np.ndarray, footprint: np.ndarray, volume_px_m: float, rng) -> None:
    """Raise the trench floor next to its walls by `volume_px_m` (metres × pixels)."""
    mask = footprint.astype(np.uint8)
    inner = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=EDGE_BAND_PX)
    band = (mask > 0) & (inner == 0)
    n = int(band.sum())
    if n == 0:
        return
    weights = rng.uniform(0.5, 1.5, n).astype(np.float32)
    hd[band] += weights * np.float32(volume_px_m / weights.sum())
