"""A landed lamella as part of the specimen: its chunk in the post's raster.

When a lamella is cut from the needle on a post (sim/liftout.py), its material becomes
part of that post's raster (`Specimen.post_patch`, sim/posts.py), so that milling at the
post thins it exactly as milling thins a lamella at a site, the renderer draws it (and
what was milled of it) in both beams, and `measure_lamella` measures it:

- the chunk keeps the footprint it had in the trench (width along u, thickness along v,
  the trench depth) and is centred on the point where its top landed;
- it stands in a slot across the post top: its top flush with the post top (height edit
  0, ice), the slot floor `depth` below it, `SLOT_MARGIN_M` wide on every side (milled
  look). A flush top matters: patterns are projected onto the specimen at the view's
  reference surface height (sim/mill_physics.py), so the chunk's top must be there for
  the mill to land where the image shows the chunk.

Not modelled (2.5-D height map, vertical walls): the tilt the chunk had on the needle
relative to the post, and the half turn between the lift-out and landing poses (the
chunk is symmetric under it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .liftout_patch import Footprint
from .patch import MILLED, LocalPatch
from .specimen import Site

if TYPE_CHECKING:
    from .liftout import LandedLamella
    from .world import TwinWorld

SLOT_MARGIN_M = 1.5e-6
MIN_DEPTH_M = 1e-6  # a chunk freed by shallow cuts still stands this far above the slot
ICE = 1  # PATCH_MATERIALS code of the chunk


def land_chunk(patch: LocalPatch, fp: Footprint, u_m: float, v_m: float) -> None:
    """Write the chunk `fp`, centred on (u, v), into its post's raster."""
    du, dv, m = fp.width_m / 2, fp.thickness_m / 2, SLOT_MARGIN_M
    depth = max(fp.depth_m, MIN_DEPTH_M)
    patch.edit_rectangle((u_m - du - m, u_m + du + m), (v_m - dv - m, v_m + dv + m), -depth, MILLED)
    patch.edit_rectangle((u_m - du, u_m + du), (v_m - dv, v_m + dv), 0.0, ICE)


def landed_site(world: TwinWorld, name: str, landed: LandedLamella) -> tuple[Site, LocalPatch]:
    """Where to measure a landed lamella: a site named `name` at the landed chunk's
    centre, and the post raster that holds it."""
    u, v = float(landed.top_uvh_m[0]), float(landed.top_uvh_m[1])
    return Site(name, u, v), world.specimen.patch_at(u, v)
