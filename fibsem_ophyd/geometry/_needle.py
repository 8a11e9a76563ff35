"""Needle moves seen in a beam's image (the manipulator counterpart of stable and
vertical moves). The manipulator's raw axes are taken parallel to the chamber axes
(docs/coordinates.md), so a chamber displacement is a raw displacement.

An image offset ``(dx', dy')`` (x right, y up, scan rotation φ applied) is first turned
back into the image plane ``(a, b) = R(φ)·(dx', dy')``; the tip then moves by
``a·e_x + b·e_v(θ)`` — in the plane perpendicular to the beam, so its depth along the
beam does not change. Keeping the tip fixed in a second beam instead moves it along
that beam's axis ``s``: only the image vertical can change then (``e_x·s = 0`` for
columns tilted about chamber x).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._frames import image_axes, source_direction, unrotate_offset

Vec = NDArray[np.float64]
_MIN_PARALLAX = 0.1  # |s_keep · e_v|: below it the two beams look along nearly one line


def needle_image_delta(
    dx_m: float,
    dy_m: float,
    beam_tilt_deg: float,
    scan_rotation_deg: float = 0.0,
    keep_tilt_deg: float | None = None,
) -> Vec:
    """Chamber displacement (3,) that moves the needle tip by ``(dx_m, dy_m)`` in the
    image of the beam tilted ``beam_tilt_deg``.

    ``keep_tilt_deg``: the tilt of a second beam whose view must not change (the tip
    moves along that beam's axis); then the offset must be purely vertical in the
    image plane — a horizontal part is refused (ValueError), not silently dropped.
    """
    if not (np.isfinite(dx_m) and np.isfinite(dy_m)):
        raise ValueError(f"dx_m, dy_m must be finite, got ({dx_m}, {dy_m})")
    a, b = (float(v) for v in unrotate_offset(dx_m, dy_m, scan_rotation_deg))
    e_x, e_v = image_axes(beam_tilt_deg)
    if keep_tilt_deg is None:
        return a * e_x + b * e_v
    s = source_direction(keep_tilt_deg)
    parallax = float(s @ e_v)
    if abs(parallax) < _MIN_PARALLAX:
        raise ValueError(
            f"cannot move the tip in the image of the beam at {beam_tilt_deg:g} deg while "
            f"keeping it fixed for the beam at {keep_tilt_deg:g} deg: they look along "
            "nearly the same axis"
        )
    if abs(a) > 1e-3 * max(abs(b), 1e-6):
        raise ValueError(
            f"dx_m: a move that keeps the tip fixed in the other beam can only be vertical "
            f"in this image plane; got a horizontal part of {a:.3g} m (use dx_m=0, or "
            "move without keeping the other view)"
        )
    return (b / parallax) * s
