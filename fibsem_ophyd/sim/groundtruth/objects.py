"""The workflow's objects drawn onto a `Canvas`: lamellae between trenches, volume
blocks, the needle, the copper adaptor and a landing post seen from the side.

Sizes are physical (metres, converted with the canvas pixel size); looks are sampled per
call (brightness, texture, edge highlights), so no object has one fixed grey level.
"""

from __future__ import annotations

import numpy as np

from .canvas import Canvas, rect_polygon
from .noise import grains, smooth_field


def _texture(c: Canvas, base: float, spread: float, scale_px: float) -> np.ndarray:
    return base + spread * smooth_field(c.shape, c.rng, scale_px)


def _axes(angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.deg2rad(angle_deg)
    return np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])


#: the least grey-level step across an object's labelled border: a lamella's face and the
#: lit trench wall under it, a lifted volume block and what lies behind it. These borders
#: are real edges (a step down into a trench, a block standing clear of the specimen),
#: visible in SEM and FIB; with no step the label's border would be invisible in the image
#: (a model, or a person, could only guess where it runs)
EDGE_CONTRAST = 0.12


def _distinct_grey(
    rng: np.random.Generator, other: float, low: float = 0.25, high: float = 1.0
) -> float:
    """A grey brighter or darker than `other` by ``EDGE_CONTRAST`` to 0.3, within
    `low`-`high` (the bound farther from `other` when neither side fits)."""
    step = rng.uniform(EDGE_CONTRAST, 0.3)
    options = [g for g in (other - step, other + step) if low <= g <= high]
    if not options:
        return high if other - low < high - other else low
    return float(options[int(rng.integers(len(options)))])


def draw_lamella(
    c: Canvas,
    centre_px: tuple[float, float],
    width_m: float,
    height_m: float,
    angle_deg: float,
    trench_m: tuple[float, float] | None,
    instance: int = 0,
) -> None:
    """A lamella: a bright strip `width_m` x `height_m` (as seen), between an upper and a
    lower trench `trench_m` high (None: a free-standing lamella, e.g. on a post)."""
    rng = c.rng
    w, h = c.px(width_m), c.px(height_m)
    ax, ay = _axes(angle_deg)
    centre = np.asarray(centre_px, float)
    base = rng.uniform(0.45, 0.85)  # the lamella face's grey level
    if trench_m is not None:
        margin = c.px(rng.uniform(0.0, 1.5e-6))
        floor = rng.uniform(0.05, 0.3)
        for sign, t_m in zip((-1, 1), trench_m, strict=True):
            t = c.px(t_m)
            t_centre = centre + sign * ay * (h / 2 + t / 2)
            depth = np.clip(np.abs(np.arange(c.shape[0])[:, None] - t_centre[1]) / max(t, 1), 0, 1)
            grey = floor + 0.15 * depth + _texture(c, 0.0, 0.03, max(4.0, t / 3))
            c.paint(rect_polygon(tuple(t_centre), (w + 2 * margin, t), angle_deg), None, grey, True)
            # the wall under the lamella catches the beam: a band on the lower side
            if sign == 1:
                band = max(1.5, t * rng.uniform(0.05, 0.2))
                b_centre = centre + ay * (h / 2 + band / 2)
                c.paint(
                    rect_polygon(tuple(b_centre), (w + 2 * margin, band), angle_deg),
                    None,
                    _distinct_grey(rng, base),
                    True,
                )
    grey = _texture(c, base, rng.uniform(0.01, 0.05), max(3.0, h / 2))
    c.paint(rect_polygon(tuple(centre), (w, h), angle_deg), "lamella", grey, True)
    edge = max(1.0, h * rng.uniform(0.05, 0.2))  # the bright top edge of the coating
    e_centre = centre - ay * (h / 2 - edge / 2)
    c.paint(rect_polygon(tuple(e_centre), (w, edge), angle_deg), "lamella", min(1.0, base + 0.15))
    c.lamella_lengths_m[instance] = float(width_m)  # as its protocol would give it
    c.keypoint("LamellaCentre", *centre, instance=instance)
    c.keypoint("LamellaLeftEdge", *(centre - ax * w / 2), instance=instance)
    c.keypoint("LamellaRightEdge", *(centre + ax * w / 2), instance=instance)
    c.keypoint("LamellaTopEdge", *(centre - ay * h / 2), instance=instance)
    c.keypoint("LamellaBottomEdge", *(centre + ay * h / 2), instance=instance)


def draw_volume_block(
    c: Canvas,
    centre_px: tuple[float, float],
    size_m: tuple[float, float],
    angle_deg: float,
    undercut_m: float | None,
) -> np.ndarray:
    """A volume block; with `undercut_m` it still sits in its trench (a dark U of that
    width around its sides and bottom, a wide trench above). Returns its corners."""
    rng = c.rng
    w, h = c.px(size_m[0]), c.px(size_m[1])
    _ax, ay = _axes(angle_deg)
    centre = np.asarray(centre_px, float)
    if undercut_m is not None:
        u = c.px(undercut_m)
        floor = rng.uniform(0.05, 0.25)
        grey = _texture(c, floor, 0.03, max(4.0, u))
        c.paint(rect_polygon(tuple(centre + ay * u / 2), (w + 2 * u, h + u), angle_deg), None,
                grey, True)  # fmt: skip
        top = c.px(rng.uniform(3e-6, 8e-6))
        c.paint(
            rect_polygon(tuple(centre - ay * (h / 2 + top / 2)), (w + 2 * u, top), angle_deg),
            None,
            _texture(c, floor + 0.05, 0.03, max(4.0, top / 3)),
            True,
        )
    poly = rect_polygon(tuple(centre), (w, h), angle_deg)
    if undercut_m is None:  # hanging clear: it stands out from what is behind it
        behind = c.region(poly)
        seen = float(np.median(c.image[behind])) if behind.any() else 0.5
        base = _distinct_grey(rng, seen, 0.3, 0.85)
    else:  # in its trench: the dark trench around it is the contrast
        base = rng.uniform(0.35, 0.7)
    layers = np.sin(np.arange(c.shape[0])[:, None] / max(2.0, h / rng.uniform(3, 8)))
    grey = _texture(c, base, rng.uniform(0.02, 0.06), max(3.0, h / 4)) + 0.03 * layers
    c.paint(poly, "volume_block", grey, True)
    c.keypoint("VolumeBlockCentre", *centre)
    return poly


def draw_copper_adaptor(
    c: Canvas, centre_px: tuple[float, float], size_m: tuple[float, float], angle_deg: float
) -> np.ndarray:
    """The copper adaptor: a grainy, bright copper piece (ion channelling grains)."""
    rng = c.rng
    w, h = c.px(size_m[0]), c.px(size_m[1])
    base = rng.uniform(0.55, 0.9)
    grey = base + rng.uniform(0.1, 0.3) * (grains(c.shape, rng, max(3.0, w / 4)) - 0.5)
    poly = rect_polygon(centre_px, (w, h), angle_deg)
    # a chamfered corner, as cut from a grid bar
    cut = min(w, h) * rng.uniform(0.0, 0.35)
    poly = np.vstack([poly[0] + (poly[1] - poly[0]) * cut / w, poly[1:], poly[0] + (
        poly[3] - poly[0]) * cut / h])  # fmt: skip
    c.paint(poly, "copper_adaptor", grey)
    c.keypoint("CopperAdapterCentre", *np.asarray(centre_px, float))
    return poly


def draw_needle(
    c: Canvas, tip_px: tuple[float, float], direction_deg: float, visible_tip: bool = True
) -> None:
    """The manipulator needle: a tapered shaft from its tip to far outside the image,
    pointing from the tip along `direction_deg` (image angle, y down), with a bright
    ridge along its axis."""
    rng = c.rng
    tip = np.asarray(tip_px, float)
    d, perp = _axes(direction_deg)
    length = 3.0 * max(c.shape)
    half_angle = np.deg2rad(rng.uniform(4.0, 10.0))
    r_tip = max(1.0, c.px(rng.uniform(0.2e-6, 0.8e-6)))
    r_base = r_tip + length * np.tan(half_angle)
    base = tip + d * length
    ring = [tip + r_tip * np.array([np.cos(t), np.sin(t)]) for t in np.linspace(0, 2 * np.pi, 16)]
    shaft = np.array([tip + perp * r_tip, base + perp * r_base, base - perp * r_base,
                      tip - perp * r_tip])  # fmt: skip
    grey = _texture(c, rng.uniform(0.6, 0.9), 0.03, 20.0)
    c.paint(shaft, "manipulator", grey)
    c.paint(np.array(ring), "manipulator", grey)
    ridge = np.array([tip + perp * r_tip * 0.3, base + perp * r_base * 0.3,
                      base - perp * r_base * 0.1, tip - perp * r_tip * 0.1])  # fmt: skip
    c.paint(ridge, "manipulator", min(1.0, float(grey.mean()) + rng.uniform(0.05, 0.15)))
    if visible_tip:
        c.keypoint("NeedleTip", *tip)


def draw_post_side(
    c: Canvas, top_centre_px: tuple[float, float], width_m: float, angle_deg: float
) -> np.ndarray:
    """A landing post seen from the side: a copper bar from its top down past the
    image's lower edge; a bright rim along the top. Returns the polygon."""
    rng = c.rng
    w = c.px(width_m)
    top = np.asarray(top_centre_px, float)
    ax, ay = _axes(angle_deg)
    length = 3.0 * max(c.shape)
    poly = np.array([top - ax * w / 2, top + ax * w / 2, top + ax * w / 2 + ay * length,
                     top - ax * w / 2 + ay * length])  # fmt: skip
    base = rng.uniform(0.5, 0.85)
    grey = base + rng.uniform(0.1, 0.3) * (grains(c.shape, rng, max(4.0, w / 3)) - 0.5)
    c.paint(poly, "landing_post", grey)
    rim = max(1.5, w * rng.uniform(0.02, 0.06))
    rim_poly = np.array([top - ax * w / 2, top + ax * w / 2, top + ax * w / 2 + ay * rim,
                         top - ax * w / 2 + ay * rim])  # fmt: skip
    c.paint(rim_poly, "landing_post", min(1.0, base + 0.2))
    c.keypoint("LandingPost", *top)
    return poly
