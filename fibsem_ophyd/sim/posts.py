"""Landing posts for lift-out: where lifted-out lamellae are put down and thinned.

The grid carries `N_POSTS` rectangular copper posts, each in the middle of an open grid
square (so ice surrounds it and its outline is plain in both beams), one square apart
along v (post 1 at v = 0, then alternating outwards). Each takes one lamella: it lands
in a slot milled across the middle of the post's top (its landing point), its top flush
with the post top. The posts are far enough apart (more than a detection field width,
and many times the stage's repeatability) that a lamella cannot be mistaken for its
neighbour. Each post has one editable raster (`LocalPatch`, `PATCH_SIZE_M` a side)
centred on its landing point, where the landed chunk and all milling at the post go.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_POSTS = 5
POST_PITCH_M = 125e-6  # the grid pitch: one post per grid square
POST_U_M = -1.125e-3  # a grid-square centre, 1.1 mm from the grid centre (sites: < 0.7 mm)
PATCH_SIZE_M = 30e-6  # covers the post's width (20 µm) and a slot with its milling


@dataclass(frozen=True)
class LandingPost:
    """A rectangular copper post (for lift-out) standing `height_m` above the plane."""

    u_m: float
    v_m: float
    width_m: float = 20e-6
    length_m: float = 60e-6
    height_m: float = 15e-6

    def landing_point(self) -> tuple[float, float]:
        """(u, v) where a lamella lands: the middle of the post's top (the slot)."""
        return self.u_m, self.v_m

    def fraction(self, u_m: np.ndarray, v_m: np.ndarray, pixel_m: float) -> np.ndarray:
        """1 on the post, 0 off it (anti-aliased over `pixel_m`)."""
        fu = np.clip((self.width_m / 2 - np.abs(u_m - self.u_m)) / pixel_m + 0.5, 0.0, 1.0)
        fv = np.clip((self.length_m / 2 - np.abs(v_m - self.v_m)) / pixel_m + 0.5, 0.0, 1.0)
        return fu * fv

    def holds(self, u_m: float, v_m: float) -> bool:
        """Whether (u, v) lies in this post's raster."""
        cu, cv = self.landing_point()
        half = PATCH_SIZE_M / 2
        return abs(u_m - cu) < half and abs(v_m - cv) < half


def make_posts() -> list[LandingPost]:
    """The grid's posts, in the order lamellae are given them (middle one first)."""
    offsets = [((k + 1) // 2) * (1 if k % 2 else -1) for k in range(N_POSTS)]
    return [LandingPost(u_m=POST_U_M, v_m=k * POST_PITCH_M) for k in offsets]


def post_fraction(
    posts: list[LandingPost], u_m: np.ndarray, v_m: np.ndarray, pixel_m: float
) -> np.ndarray:
    """1 on any post, 0 elsewhere."""
    out = np.zeros(np.broadcast(np.asarray(u_m), np.asarray(v_m)).shape)
    for post in posts:
        out = np.maximum(out, post.fraction(u_m, v_m, pixel_m))
    return out
