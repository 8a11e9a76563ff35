"""Editable high-resolution rasters of height and material at lamella sites.

Milling and deposition (later issues) edit these; the renderer composites them
over the procedural specimen with exact height parallax. Row 0 is the top (largest
v), column 0 the left (smallest u), like an image seen flat from above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import map_coordinates

# code -> (name, electron grey 0..1, ion grey 0..1); code 0 = keep the procedural look.
PATCH_MATERIALS: dict[int, tuple[str, float, float]] = {
    1: ("ice", 0.38, 0.35),
    2: ("platinum", 0.92, 0.75),
    3: ("copper", 0.85, 0.6),
    4: ("vacuum", 0.03, 0.03),
    5: ("milled", 0.16, 0.12),  # freshly milled trench floor (dark: few SE escape)
}
MILLED = 5
LABEL_OFFSET = 10  # ground-truth label of patch material k is LABEL_OFFSET + k


@dataclass
class PatchLevel:
    """A patch resampled for rendering at `pixel_m` (cached per edit version)."""

    pixel_m: float
    height_delta_m: np.ndarray  # float32
    shade: np.ndarray  # float32 multiplicative brightness from wall slopes
    material: np.ndarray  # uint8


@dataclass
class LocalPatch:
    name: str
    centre_u_m: float
    centre_v_m: float
    pixel_m: float
    height_delta_m: np.ndarray  # float32 (n, n): added height; negative = milled away
    material: np.ndarray  # uint8 (n, n): 0 = procedural, else PATCH_MATERIALS code
    version: int = 0
    # Remaining fraction (0..255) of each coat layer (index = world.coating.layers),
    # allocated when milling first touches a coated patch; missing = intact.
    coat_remaining: list[np.ndarray] = field(default_factory=list, repr=False)
    # 2 × 2 map (u, v) -> ion image plane (a, b) of the last mill (lamella_report).
    milling_map: np.ndarray | None = None
    _levels: dict[tuple[int, int], PatchLevel] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, name: str, u_m: float, v_m: float, size_m: float, pixel_m: float) -> LocalPatch:
        n = round(size_m / pixel_m)
        return cls(
            name, u_m, v_m, pixel_m, np.zeros((n, n), np.float32), np.zeros((n, n), np.uint8)
        )

    @property
    def n_px(self) -> int:
        return self.height_delta_m.shape[0]

    @property
    def size_m(self) -> float:
        return self.n_px * self.pixel_m

    @property
    def active(self) -> bool:
        """True once edited (untouched patches cost nothing to render)."""
        return self.version > 0

    def mark_edited(self) -> None:
        """Call after editing the arrays in place, so cached render levels are rebuilt."""
        self.version += 1
        self._levels.clear()

    def origin_m(self) -> tuple[float, float]:
        """(u, v) of the centre of pixel (row 0, column 0), the top-left pixel."""
        half = (self.n_px - 1) / 2 * self.pixel_m
        return self.centre_u_m - half, self.centre_v_m + half

    def uv_to_px(self, u_m: np.ndarray, v_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (column, row) of specimen points."""
        u0, v0 = self.origin_m()
        return (np.asarray(u_m) - u0) / self.pixel_m, (v0 - np.asarray(v_m)) / self.pixel_m

    def bounds_m(self) -> tuple[float, float, float, float]:
        """(u_min, u_max, v_min, v_max) of the patch."""
        h = self.size_m / 2
        return self.centre_u_m - h, self.centre_u_m + h, self.centre_v_m - h, self.centre_v_m + h

    def height_delta_at(self, u_m: np.ndarray, v_m: np.ndarray) -> np.ndarray:
        """Bilinear height edit at specimen points; 0 outside or while untouched."""
        if not self.active:
            return np.zeros(np.broadcast(np.asarray(u_m), np.asarray(v_m)).shape)
        col, row = self.uv_to_px(u_m, v_m)
        col, row = np.broadcast_arrays(col, row)
        out = map_coordinates(self.height_delta_m, [row.ravel(), col.ravel()], order=1, cval=0.0)
        return out.reshape(col.shape)

    def edit_rectangle(
        self,
        u_range_m: tuple[float, float],
        v_range_m: tuple[float, float],
        height_delta_m: float | None = None,
        material: int | None = None,
    ) -> None:
        """Set height edit and/or material over a rectangle (a convenience for tests/tools)."""
        c0, r1 = self.uv_to_px(u_range_m[0], v_range_m[0])
        c1, r0 = self.uv_to_px(u_range_m[1], v_range_m[1])
        rows = slice(max(0, round(float(r0))), max(0, round(float(r1)) + 1))
        cols = slice(max(0, round(float(c0))), max(0, round(float(c1)) + 1))
        if height_delta_m is not None:
            self.height_delta_m[rows, cols] = height_delta_m
        if material is not None:
            self.material[rows, cols] = material
        self.mark_edited()

    def coat_fractions(self, n_layers: int) -> list[np.ndarray]:
        """The uint8 remaining-fraction rasters of the first `n_layers` coat layers."""
        while len(self.coat_remaining) < n_layers:
            self.coat_remaining.append(np.full(self.material.shape, 255, np.uint8))
        return self.coat_remaining[:n_layers]

    def level(self, factor: int) -> PatchLevel:
        """The patch downsampled by an integer `factor`, with slope shading (cached)."""
        key = (self.version, factor)
        if key not in self._levels:
            n = max(1, self.n_px // factor)
            if factor > 1:
                dh = cv2.resize(self.height_delta_m, (n, n), interpolation=cv2.INTER_AREA)
                mat = cv2.resize(self.material, (n, n), interpolation=cv2.INTER_NEAREST)
            else:
                dh, mat = self.height_delta_m, self.material
            px = self.pixel_m * self.n_px / n
            gx = cv2.Sobel(dh, cv2.CV_32F, 1, 0, ksize=3) / (8 * px)
            gy = cv2.Sobel(dh, cv2.CV_32F, 0, 1, ksize=3) / (8 * px)
            slope = np.sqrt(gx * gx + gy * gy)
            # Secondary-electron yield rises on steep walls (~1/cos of the local incidence).
            shade = 1.0 + 0.6 * np.minimum(slope, 3.0)
            self._levels[key] = PatchLevel(px, dh, shade.astype(np.float32), mat)
        return self._levels[key]
