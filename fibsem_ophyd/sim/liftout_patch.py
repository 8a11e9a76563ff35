"""Patch side of lift-out (sim/liftout.py): is the lamella enclosed by milling, take its
material out of the patch, and does a mill cover the needle tip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from .lamella import MILLED_BELOW_M
from .mill_physics import unit_geometry
from .patch import MILLED, LocalPatch
from .projection import chamber_to_image

if TYPE_CHECKING:
    from .world import TwinWorld

RELEASE_MARGIN_M = 0.5e-6  # a release mill must cover the needle tip within this margin
FREE_STEP = 4  # enclosure is checked on the patch subsampled by this factor
MAX_FREE_AREA_M2 = (30e-6) ** 2


@dataclass(frozen=True)
class Footprint:
    """A freed lamella as a box in specimen coordinates (metres)."""

    u_m: float
    v_m: float
    width_m: float  # along u
    thickness_m: float  # along v
    top_h_m: float
    depth_m: float

    def corners(self) -> np.ndarray:
        """(8, 3) specimen (u, v, h) corners."""
        du, dv = self.width_m / 2, self.thickness_m / 2
        h0, h1 = self.top_h_m - self.depth_m, self.top_h_m
        return np.array(
            [[self.u_m + a * du, self.v_m + b * dv, h] for a in (-1, 1) for b in (-1, 1)
             for h in (h0, h1)]
        )  # fmt: skip


def free_footprint(world: TwinWorld, patch: LocalPatch) -> Footprint | None:
    """The unmilled region at the patch centre, if milled material encloses it."""
    h = patch.height_delta_m[::FREE_STEP, ::FREE_STEP]
    unmilled = h >= -MILLED_BELOW_M
    n = unmilled.shape[0]
    c = n // 2
    if not unmilled[c, c]:
        return None
    labels, _ = ndimage.label(unmilled)
    region = labels == labels[c, c]
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == n - 1 or cols[-1] == n - 1:
        return None
    px = patch.pixel_m * FREE_STEP
    if region.sum() * px * px > MAX_FREE_AREA_M2:
        return None
    u0, v0 = patch.origin_m()
    u_lo, u_hi = u0 + cols[0] * px, u0 + (cols[-1] + 1) * px
    v_hi, v_lo = v0 - rows[0] * px, v0 - (rows[-1] + 1) * px
    ring = ndimage.binary_dilation(region, iterations=3) & ~region
    depth = float(-np.median(h[ring]))
    u, v = (u_lo + u_hi) / 2, (v_lo + v_hi) / 2
    top = world.specimen.reference_height_m(patch.centre_u_m, patch.centre_v_m)
    return Footprint(u, v, u_hi - u_lo, v_hi - v_lo, top, max(depth, 0.0))


def remove_material(patch: LocalPatch, fp: Footprint) -> None:
    """The lifted lamella leaves a milled floor at the trench depth."""
    patch.edit_rectangle(
        (fp.u_m - fp.width_m / 2, fp.u_m + fp.width_m / 2),
        (fp.v_m - fp.thickness_m / 2, fp.v_m + fp.thickness_m / 2),
        height_delta_m=-fp.depth_m,
        material=MILLED,
    )


def tip_in_box(world: TwinWorld, tip: np.ndarray | None, box_ab_m: tuple) -> bool:
    """Whether the needle tip projects into the milled box (ion image plane, metres)."""
    if tip is None:
        return False
    col, row = chamber_to_image(tip, unit_geometry(world.ion, world.params))
    a, b = float(col), -float(row)
    x0, y0, x1, y1 = box_ab_m
    m = RELEASE_MARGIN_M
    return x0 - m <= a <= x1 + m and y0 - m <= b <= y1 + m
