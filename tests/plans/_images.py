"""Image helpers for closed-loop tests: grab frames through the RunEngine and measure
where content went, by registration of patches."""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import numpy as np
from bluesky.plans import count

from fibsem_ophyd.alignment import register


def grab(RE: Any, microscope: Any, beam: str) -> np.ndarray:
    det = microscope.detector(beam)
    RE(count([det], num=1))
    assert det.last_frame is not None
    return det.last_frame.copy()


def pixel_size(RE: Any, microscope: Any, beam: str) -> float:
    return RE(bps.rd(microscope.beam(beam).pixel_size_m)).plan_result


def patch(image: np.ndarray, col: float, row: float, half: int = 96) -> np.ndarray:
    c, r = round(col), round(row)
    return image[r - half : r + half, c - half : c + half].astype(np.float32)


def centre(image: np.ndarray) -> tuple[float, float]:
    h, w = image.shape
    return (w - 1) / 2, (h - 1) / 2


def offset_to_pixels(image: np.ndarray, dx_m: float, dy_m: float, ps: float):
    cx, cy = centre(image)
    return cx + dx_m / ps, cy - dy_m / ps


def residual_px(
    before: np.ndarray, before_at: tuple[float, float], after: np.ndarray, after_at: tuple
) -> float:
    """Distance (pixels) between where the content around `before_at` in `before` is
    found in `after` and the point `after_at`."""
    a = patch(before, *before_at)
    b = patch(after, *after_at)
    result = register(a, b, highpass_px=None)
    return float(np.hypot(result.shift_x_px, result.shift_y_px))


def collect(RE: Any, plan: Any) -> tuple[Any, list[tuple[str, dict]]]:
    """Run `plan`, returning (plan result, every document as (name, doc))."""
    docs: list[tuple[str, dict]] = []
    result = RE(plan, lambda name, doc: docs.append((name, doc))).plan_result
    return result, docs


def events_by_stream(docs: list[tuple[str, dict]]) -> dict[str, list[dict]]:
    """Event data dicts grouped by stream name."""
    streams = {d["uid"]: d["name"] for n, d in docs if n == "descriptor"}
    out: dict[str, list[dict]] = {}
    for n, d in docs:
        if n == "event":
            out.setdefault(streams[d["descriptor"]], []).append(d["data"])
    return out


def set_small(RE: Any, microscope: Any, hfw_m: float = 60e-6) -> None:
    """Both beams at 768x512 and `hfw_m`, for fast tests."""
    for beam in ("electron", "ion"):
        b = microscope.beam(beam)
        RE(bps.mv(b.resolution, "768x512", b.hfw_m, hfw_m))
