"""A tile pyramid of the specimen's appearance, generated on demand and LRU-cached.

Level L has pixels of `BASE_PIXEL_M * 2**L` metres. Texture pixel (gx, gy) of a level
has its centre at u = gx * pixel, v = -gy * pixel (row down = -v). Each tile stores
three uint8 channels: electron grey, ion grey and a ground-truth material label.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import specimen as sp
from .lattice import grid_fbm, wavelengths_m
from .tile_cache import TileDiskCache, cache_folder, specimen_key

BASE_PIXEL_M = 2.5e-9
N_LEVELS = 12
TILE_PX = 512
TEXTURE_OCTAVES_M = wavelengths_m(1e-3, 20e-9)
CHANNEL = {"electron": 0, "ion": 1, "label": 2}


def level_pixel_m(level: int) -> float:
    return BASE_PIXEL_M * 2.0**level


def generate_tile(specimen: sp.Specimen, level: int, ix: int, iy: int) -> np.ndarray:
    """Tile (3, TILE_PX, TILE_PX) uint8: electron grey, ion grey, label (contiguous planes)."""
    ps = level_pixel_m(level)
    seed = specimen.seed
    # One extra leading pixel so slopes are exact at tile borders (no seams).
    u = (ix * TILE_PX + np.arange(-1, TILE_PX)) * ps
    v = -(iy * TILE_PX + np.arange(-1, TILE_PX)) * ps
    topo = grid_fbm(seed, sp.FIELD_TOPOGRAPHY, u, v, TEXTURE_OCTAVES_M, ps)
    slope = (topo[1:, 1:] - topo[:-1, 1:]) + 0.5 * (topo[1:, 1:] - topo[1:, :-1])
    u, v = u[1:], v[1:]
    tex = grid_fbm(seed, sp.FIELD_TEXTURE, u, v, TEXTURE_OCTAVES_M, ps)
    cells = specimen.cell_fraction(grid_fbm(seed, sp.FIELD_CELLS, u, v, sp.CELL_OCTAVES_M, ps))
    grains = grid_fbm(seed, sp.FIELD_GRAINS, u, v, [16e-6, 8e-6], ps)
    grains = np.floor((grains + 1.0) * 3.0) / 6.0  # flat-topped grains: ion channelling

    uu, vv = u[None, :], v[:, None]
    bar = specimen.bar_fraction(uu, vv, ps)
    inside = specimen.inside_fraction(uu, vv, ps)
    post = specimen.post_fraction(uu, vv, ps)

    # Electron: material contrast (copper bright, cells brighter than ice), weak topography.
    ice_e = 0.40 + 0.06 * tex + 0.04 * slope
    cell_e = 0.56 + 0.09 * tex + 0.04 * slope
    spec_e = ice_e * (1 - cells) + cell_e * cells
    copper_e = 0.82 + 0.02 * tex
    # Ion: topography and channelling dominate, little material contrast.
    spec_i = 0.36 + 0.025 * tex + 0.16 * slope + 0.04 * cells
    copper_i = 0.40 + 0.35 * grains + 0.05 * slope
    shuttle = 0.18 + 0.03 * tex

    grey_e = (spec_e * (1 - bar) + copper_e * bar) * inside + shuttle * (1 - inside)
    grey_i = (spec_i * (1 - bar) + copper_i * bar) * inside + 0.8 * shuttle * (1 - inside)
    grey_e = grey_e * (1 - post) + (0.86 + 0.02 * tex) * post
    grey_i = grey_i * (1 - post) + (0.5 + 0.3 * grains) * post

    label = np.where(cells > 0.5, sp.LABEL_CELL, sp.LABEL_ICE)
    label = np.where(bar > 0.5, sp.LABEL_COPPER, label)
    label = np.where(inside > 0.5, label, sp.LABEL_SHUTTLE)
    label = np.where(post > 0.5, sp.LABEL_POST, label)

    out = np.empty((3, TILE_PX, TILE_PX), np.uint8)
    out[0] = np.clip(grey_e * 255.0, 0, 255)
    out[1] = np.clip(grey_i * 255.0, 0, 255)
    out[2] = label
    return out


def _disk_cache(specimen: sp.Specimen) -> TileDiskCache | None:
    """The shared on-disk tile cache for this specimen, if one is configured."""
    folder = cache_folder()
    if folder is None:
        return None
    key = specimen_key(
        specimen.seed,
        2 * specimen.radius_m,
        specimen.pitch_m,
        specimen.bar_width_m,
        tuple(specimen.landing_posts),
    )
    return TileDiskCache(folder, key, (3, TILE_PX, TILE_PX))


class TilePyramid:
    """On-demand tiles of a `Specimen`, kept in a least-recently-used cache (and on disk,
    shared between twins, when `FIBSEM_OPHYD_TILE_CACHE` names a folder: tile_cache.py)."""

    def __init__(self, specimen: sp.Specimen, capacity_tiles: int = 192) -> None:
        self.specimen = specimen
        self.capacity_tiles = capacity_tiles
        self._cache: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._disk = _disk_cache(specimen)
        self.generated = 0

    def tile(self, level: int, ix: int, iy: int) -> np.ndarray:
        key = (level, ix, iy)
        t = self._cache.get(key)
        if t is not None:
            self._cache.move_to_end(key)
            return t
        t = self._disk.get(level, ix, iy) if self._disk is not None else None
        if t is None:
            t = generate_tile(self.specimen, level, ix, iy)
            self.generated += 1
            if self._disk is not None:
                self._disk.put(level, ix, iy, t)
        self._cache[key] = t
        while len(self._cache) > self.capacity_tiles:
            self._cache.popitem(last=False)
        return t

    def mosaic(
        self, level: int, gx_range: tuple[int, int], gy_range: tuple[int, int], channel: int
    ) -> tuple[np.ndarray, int, int]:
        """Channel of the texture pixels covering [gx0, gx1) × [gy0, gy1) at `level`.

        Returns (array, gx0, gy0): array[0, 0] is texture pixel (gx0, gy0).
        """
        (gx0, gx1), (gy0, gy1) = gx_range, gy_range
        out = np.empty((gy1 - gy0, gx1 - gx0), np.uint8)
        for ty in range(gy0 // TILE_PX, (gy1 - 1) // TILE_PX + 1):
            y0, y1 = max(gy0, ty * TILE_PX), min(gy1, (ty + 1) * TILE_PX)
            for tx in range(gx0 // TILE_PX, (gx1 - 1) // TILE_PX + 1):
                x0, x1 = max(gx0, tx * TILE_PX), min(gx1, (tx + 1) * TILE_PX)
                tile = self.tile(level, tx, ty)[channel]
                out[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] = tile[
                    y0 - ty * TILE_PX : y1 - ty * TILE_PX, x0 - tx * TILE_PX : x1 - tx * TILE_PX
                ]
        return out, gx0, gy0
