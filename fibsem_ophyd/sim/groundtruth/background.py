"""Backgrounds from the twin itself: its specimen texture (ice, cells, grid bars, the
landing posts) seen from above, in the electron or ion look, with the twin's material
labels resampled the same way (posts become the `landing_post` class)."""

from __future__ import annotations

import cv2
import numpy as np

from .. import specimen as sp
from ..texture import CHANNEL, N_LEVELS, TilePyramid, level_pixel_m
from .labels import CLASS_INDEX


class TwinBackground:
    """Views of one twin specimen (one seed); tiles are cached between views."""

    def __init__(self, specimen: sp.Specimen, capacity_tiles: int = 96) -> None:
        self.specimen = specimen
        self.pyramid = TilePyramid(specimen, capacity_tiles=capacity_tiles)

    def view(
        self,
        beam: str,
        centre_uv_m: tuple[float, float],
        pixel_m: float,
        shape: tuple[int, int],
        vertical_scale: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(grey float32 in [0, 1], class mask uint8) of a `shape` view centred on
        `centre_uv_m`; image rows run along -v, `vertical_scale` < 1 foreshortens them
        (a tilted view). The texture level is the coarsest finer than four output pixels
        (few tiles per view; the objects and artefacts bring the fine detail)."""
        if beam not in ("electron", "ion"):
            raise ValueError(f"beam must be 'electron' or 'ion', got {beam!r}")
        h, w = shape
        level = int(np.clip(np.floor(np.log2(4 * pixel_m / level_pixel_m(0))), 0, N_LEVELS - 1))
        ps = level_pixel_m(level)
        cu, cv = centre_uv_m
        # texture pixel (gx, gy) has centre u = gx * ps, v = -gy * ps
        half_u, half_v = w / 2 * pixel_m, h / 2 * pixel_m / vertical_scale
        gx = (int(np.floor((cu - half_u) / ps)) - 2, int(np.ceil((cu + half_u) / ps)) + 3)
        gy = (int(np.floor(-(cv + half_v) / ps)) - 2, int(np.ceil(-(cv - half_v) / ps)) + 3)
        grey, gx0, gy0 = self.pyramid.mosaic(level, gx, gy, CHANNEL[beam])
        label, _, _ = self.pyramid.mosaic(level, gx, gy, CHANNEL["label"])
        # output (col, row) -> (u, v) -> mosaic (x, y)
        sx = pixel_m / ps
        sy = pixel_m / vertical_scale / ps
        m = np.array(
            [
                [sx, 0.0, (cu - half_u + pixel_m / 2) / ps - gx0],
                [0.0, sy, -(cv + half_v - pixel_m / vertical_scale / 2) / ps - gy0],
            ]
        )
        flags = cv2.WARP_INVERSE_MAP
        img = cv2.warpAffine(
            grey, m, (w, h), flags=cv2.INTER_LINEAR | flags, borderMode=cv2.BORDER_REPLICATE
        )
        lab = cv2.warpAffine(
            label, m, (w, h), flags=cv2.INTER_NEAREST | flags, borderMode=cv2.BORDER_REPLICATE
        )
        mask = np.where(lab == sp.LABEL_POST, CLASS_INDEX["landing_post"], 0).astype(np.uint8)
        return img.astype(np.float32) / 255.0, mask

    def uv_to_px(
        self,
        uv_m: tuple[float, float],
        centre_uv_m: tuple[float, float],
        pixel_m: float,
        shape: tuple[int, int],
        vertical_scale: float = 1.0,
    ) -> tuple[float, float]:
        """Pixel (x, y) of the specimen point `uv_m` in the view `view` makes."""
        h, w = shape
        x = (uv_m[0] - centre_uv_m[0]) / pixel_m + (w - 1) / 2
        y = -(uv_m[1] - centre_uv_m[1]) * vertical_scale / pixel_m + (h - 1) / 2
        return float(x), float(y)
