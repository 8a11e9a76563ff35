"""Plane geometry helpers (metres, image plane): rotation, polygon area, simplicity."""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]


def rotate(x_m: float, y_m: float, angle_deg: float) -> Point:
    """Rotate a point counter-clockwise about the origin by ``angle_deg``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return (c * x_m - s * y_m, s * x_m + c * y_m)


def rectangle_corners(
    x_m: float, y_m: float, width_m: float, height_m: float, rotation_deg: float
) -> list[Point]:
    """Corners of a rectangle centred on (x_m, y_m), rotated counter-clockwise."""
    hw, hh = width_m / 2, height_m / 2
    out = []
    for u, v in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)):
        du, dv = rotate(u, v, rotation_deg)
        out.append((x_m + du, y_m + dv))
    return out


def signed_area(vertices: Sequence[Point]) -> float:
    """Shoelace area, m²: positive for counter-clockwise vertices."""
    total = 0.0
    n = len(vertices)
    for i in range(n):
        x0, y0 = vertices[i]
        x1, y1 = vertices[(i + 1) % n]
        total += x0 * y1 - x1 * y0
    return total / 2


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether closed segments ab and cd share a point (collinear overlaps included)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0) != (o2 > 0) and o1 != 0 and o2 != 0) and (
        (o3 > 0) != (o4 > 0) and o3 != 0 and o4 != 0
    ):
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def first_self_intersection(vertices: Sequence[Point]) -> tuple[int, int] | None:
    """Indices (i, j) of two edges that cross (edge i runs from vertex i to i+1), or None.

    Adjacent edges share a vertex by construction and are only flagged when they fold
    back onto each other. O(n²): polygons here have tens of vertices.
    """
    n = len(vertices)
    edges = [(vertices[i], vertices[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = edges[i]
            c, d = edges[j]
            if j == i + 1 or (i == 0 and j == n - 1):
                # Adjacent: they meet at one vertex; a fold-back overlaps collinearly.
                shared = b if j == i + 1 else a
                far_i = a if j == i + 1 else b
                far_j = d if j == i + 1 else c
                if _orient(far_i, shared, far_j) == 0 and (
                    _on_segment(shared, far_i, far_j) or _on_segment(shared, far_j, far_i)
                ):
                    return (i, j)
                continue
            if segments_intersect(a, b, c, d):
                return (i, j)
    return None
