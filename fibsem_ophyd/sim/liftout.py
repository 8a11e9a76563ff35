"""Lift-out in the twin: a lamella milled free becomes a rigid box that the needle carries.

Per site, the lamella goes through the states

- ``"in_trench"``: part of the specimen (the site patch's unmilled material);
- ``"free"``: milled free — the unmilled region at the site centre is enclosed by milled
  material in the site patch (2.5-D: the undercut is assumed; depth is not checked);
- ``"attached"``: free *and* welded to the needle: its material is taken out of the
  patch and it is a `CarriedLamella`, a box that moves with the needle tip;
- ``"landed"``: welded to a landing post and cut from the needle (a mill whose
  pattern covers the needle tip in the ion image): a `LandedLamella`, whose material
  becomes part of the post's raster (sim/landed.py), to be thinned there.

Contact is geometric, in chamber coordinates: the needle tip within `CONTACT_M` of the
lamella's top-centre point, and a carried lamella's top-centre within `POST_CONTACT_M` of
a post's landing point (sim/posts.py). A weld is a GIS valve opening of at least
`WELD_MIN_S` while in contact. Not modelled: forces, collisions, a lamella falling, the
weld's material, redeposition on the chunk, milling of a carried lamella.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .landed import land_chunk
from .liftout_patch import Footprint, free_footprint, remove_material, tip_in_box
from .patch import LocalPatch
from .projection import specimen_frame, specimen_to_chamber

if TYPE_CHECKING:
    from .world import TwinWorld

CONTACT_M = 0.5e-6
POST_CONTACT_M = 1.0e-6
WELD_MIN_S = 1.0


@dataclass
class CarriedLamella:
    """Welded to the needle: corners and top-centre relative to the needle tip (chamber)."""

    footprint: Footprint
    corners_rel_m: np.ndarray
    top_rel_m: np.ndarray
    post_welded: bool = False


@dataclass
class LandedLamella:
    """On a post: corners and top-centre in specimen coordinates (u, v, h) as it was let
    go (its material is in the post's raster, sim/landed.py)."""

    corners_uvh_m: np.ndarray
    top_uvh_m: np.ndarray


@dataclass
class SiteLiftout:
    state: str = "in_trench"
    footprint: Footprint | None = None
    needle_welded: bool = False
    carried: CarriedLamella | None = None
    landed: LandedLamella | None = None


@dataclass
class LiftoutModel:
    """The lift-out state of every site that has been touched (see module docstring)."""

    sites: dict[str, SiteLiftout] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def site(self, name: str) -> SiteLiftout:
        return self.sites.setdefault(name, SiteLiftout())

    # --- geometry ---

    @staticmethod
    def tip(world: TwinWorld) -> np.ndarray | None:
        m = world.manipulator
        return np.array([m.x_m, m.y_m, m.z_m]) if m.inserted else None

    def top_point(self, world: TwinWorld, name: str) -> np.ndarray:
        """Chamber point of the lamella's top centre (wherever the lamella is now)."""
        s = self.site(name)
        if s.carried is not None:
            tip = self.tip(world)
            return (tip if tip is not None else np.zeros(3)) + s.carried.top_rel_m
        if s.landed is not None:
            u, v, h = s.landed.top_uvh_m
        elif s.footprint is not None:
            u, v, h = s.footprint.u_m, s.footprint.v_m, s.footprint.top_h_m
        else:
            site = world.specimen.site(name)
            u, v, h = site.u_m, site.v_m, world.specimen.reference_height_m(site.u_m, site.v_m)
        return specimen_to_chamber(u, v, h, world.true_pose(), world.params)

    @staticmethod
    def post_point(world: TwinWorld, post: int = 0) -> np.ndarray:
        """Chamber point where a lamella lands on post `post` (index, sim/posts.py)."""
        u, v = world.specimen.landing_point(post)
        h = world.specimen.reference_height_m(u, v)
        return specimen_to_chamber(u, v, h, world.true_pose(), world.params)

    def post_gap_m(self, world: TwinWorld, name: str) -> float:
        """Distance of the lamella's top centre from the nearest post's landing point."""
        top = self.top_point(world, name)
        n = len(world.specimen.landing_posts)
        return min(float(np.linalg.norm(top - self.post_point(world, k))) for k in range(n))

    def in_contact(self, world: TwinWorld, name: str) -> bool:
        tip = self.tip(world)
        if tip is None or self.site(name).state not in ("in_trench", "free"):
            return False
        return float(np.linalg.norm(tip - self.top_point(world, name))) <= CONTACT_M

    def boxes(self, world: TwinWorld) -> list[np.ndarray]:
        """(8, 3) chamber corners of every carried lamella (for drawing; a landed one is
        part of its post's raster)."""
        tip = self.tip(world)
        if tip is None:
            return []
        return [tip + s.carried.corners_rel_m for s in self.sites.values() if s.carried]

    # --- events from the subsystems ---

    def on_gis_open(self, world: TwinWorld, duration_s: float) -> None:
        """A weld wherever the needle touches a lamella or a carried lamella the post."""
        if duration_s < WELD_MIN_S or world.faults.gis_blocked:
            return
        for name in [s.name for s in world.specimen.sites]:
            s = self.site(name)
            if self.in_contact(world, name):
                s.needle_welded = True
                self.events.append(f"{name}: welded to the needle")
                if s.state == "free":
                    self._attach(world, name)
            elif s.carried is not None and self.post_gap_m(world, name) <= POST_CONTACT_M:
                s.carried.post_welded = True
                self.events.append(f"{name}: welded to the post")

    def on_milled(self, world: TwinWorld, patch: LocalPatch, box_ab_m: tuple) -> None:
        """After a mill: a site may now be free (and picked up if welded), or a carried,
        post-welded lamella cut from the needle if the pattern covered the needle tip."""
        for name, s in list(self.sites.items()) + self._new(world, patch):
            if s.state == "in_trench" and patch.name == name:
                fp = free_footprint(world, patch)
                if fp is not None:
                    s.state, s.footprint = "free", fp
                    self.events.append(f"{name}: milled free")
                    if s.needle_welded and self.in_contact(world, name):
                        self._attach(world, name)
            elif (
                s.carried is not None
                and s.carried.post_welded
                and tip_in_box(world, self.tip(world), box_ab_m)
            ):
                self._release(world, name)

    def _new(self, world: TwinWorld, patch: LocalPatch) -> list[tuple[str, SiteLiftout]]:
        names = {s.name for s in world.specimen.sites}
        if patch.name in names and patch.name not in self.sites:
            return [(patch.name, self.site(patch.name))]
        return []

    def _attach(self, world: TwinWorld, name: str) -> None:
        s = self.site(name)
        fp, tip = s.footprint, self.tip(world)
        assert fp is not None and tip is not None
        remove_material(world.specimen.local_patch(name), fp)
        c = fp.corners()
        pose = world.true_pose()
        corners = specimen_to_chamber(c[:, 0], c[:, 1], c[:, 2], pose, world.params)
        top = self.top_point(world, name)
        s.carried = CarriedLamella(fp, corners - tip, top - tip)
        s.state = "attached"
        self.events.append(f"{name}: lifted out of the trench on the needle")

    def _release(self, world: TwinWorld, name: str) -> None:
        s = self.site(name)
        tip = self.tip(world)
        assert s.carried is not None and tip is not None
        rot, off = specimen_frame(world.true_pose(), world.params)
        corners = (tip + s.carried.corners_rel_m - off) @ rot  # R^T (p - o)
        top = (tip + s.carried.top_rel_m - off) @ rot
        s.landed = LandedLamella(corners, top)
        fp = s.carried.footprint
        u, v = float(top[0]), float(top[1])
        land_chunk(world.specimen.patch_at(u, v), fp, u, v)
        s.carried, s.needle_welded, s.state = None, False, "landed"
        self.events.append(f"{name}: cut from the needle, landed on the post")
