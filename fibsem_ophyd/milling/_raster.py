"""Rasterising shapes onto an image grid (pixel centres, the coordinates.md convention).

An image of ``shape_px = (rows, cols)`` with square pixels of ``pixel_size_m`` has pixel
(row, col) centred at image-plane ``x = (col - (cols-1)/2)·ps``, ``y = ((rows-1)/2 - row)·ps``.
A pixel is milled when its centre lies inside the shape, so masks are unbiased in area.
Each painter only evaluates the pixels inside the shape's bounding box (fast).
"""

from __future__ import annotations

import numpy as np

from ._base import BoundingBox

Window = tuple[slice, slice, np.ndarray, np.ndarray]


def window(shape_px: tuple[int, int], pixel_size_m: float, box: BoundingBox) -> Window | None:
    """Row/column slices covering ``box`` and the image-plane x (1×n) and y (m×1) of them."""
    rows, cols = shape_px
    cx, cy = (cols - 1) / 2, (rows - 1) / 2
    c0 = max(int(np.floor(cx + box.min_x_m / pixel_size_m)), 0)
    c1 = min(int(np.ceil(cx + box.max_x_m / pixel_size_m)) + 1, cols)
    r0 = max(int(np.floor(cy - box.max_y_m / pixel_size_m)), 0)
    r1 = min(int(np.ceil(cy - box.min_y_m / pixel_size_m)) + 1, rows)
    if c0 >= c1 or r0 >= r1:
        return None
    x = ((np.arange(c0, c1) - cx) * pixel_size_m)[None, :]
    y = ((cy - np.arange(r0, r1)) * pixel_size_m)[:, None]
    return slice(r0, r1), slice(c0, c1), x, y


def paint(out: np.ndarray, win: Window, values: np.ndarray) -> None:
    """Combine ``values`` (dose 0..1 over the window) into ``out`` by maximum."""
    rs, cs, _, _ = win
    np.maximum(out[rs, cs], values, out=out[rs, cs])


def check_grid(shape_px: tuple[int, int], pixel_size_m: float) -> tuple[int, int]:
    """Validate an image shape (rows, cols) and pixel size; return the shape as ints."""
    if len(shape_px) != 2 or min(shape_px) <= 0:
        raise ValueError(f"shape_px: got {shape_px!r}; expected (rows, cols), both > 0 pixels")
    if not np.isfinite(pixel_size_m) or pixel_size_m <= 0:
        raise ValueError(f"pixel_size_m: got {pixel_size_m!r}; must be > 0 metres (m)")
    return int(shape_px[0]), int(shape_px[1])


def fill_spans(cols: int, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Boolean (rows, cols): in each row, columns ``first..last`` inclusive (empty when
    last < first)."""
    c = np.arange(cols)[None, :]
    return (c >= first[:, None]) & (c <= last[:, None])


def fill_polygon(x: np.ndarray, y: np.ndarray, pixel_size_m: float, vertices) -> np.ndarray:
    """Boolean mask of window pixels (x: 1×cols, y: rows×1) whose centre is inside the
    polygon, by the even-odd rule: per row, parity toggles at each edge crossing."""
    v = np.asarray(vertices, dtype=float)
    x0, y0 = v[:, 0], v[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    yy = y[:, 0][:, None]
    crosses = (y0 <= yy) != (y1 <= yy)  # half-open: a vertex is counted once
    dy = np.where(y1 == y0, 1.0, y1 - y0)
    xc = x0 + (yy - y0) / dy * (x1 - x0)
    cols = x.shape[1]
    col = np.clip(np.ceil((xc - x[0, 0]) / pixel_size_m - 1e-9), 0, cols).astype(np.intp)
    rows_idx = np.broadcast_to(np.arange(yy.shape[0])[:, None], crosses.shape)
    # Toggles laid out (cols, rows): accumulating along axis 0 is the fast direction.
    toggles = np.zeros((cols + 1, yy.shape[0]), dtype=np.uint8)
    np.bitwise_xor.at(toggles, (col[crosses], rows_idx[crosses]), 1)
    return np.bitwise_xor.accumulate(toggles[:cols], axis=0).T.astype(bool)
