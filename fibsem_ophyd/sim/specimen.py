"""The specimen: a 3 mm cryo-EM grid on the shuttle, in specimen-plane coordinates (u, v).

Geometry (grid bars, rim, landing posts, lamella sites) is analytic; texture and
surface height come from seeded lattice noise (`lattice.py`). Editable
high-resolution rasters at the sites (`LocalPatch`) are layered on top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lattice import point_fbm, wavelengths_m
from .parameters import TwinParameters
from .patch import LocalPatch
from .posts import PATCH_SIZE_M, LandingPost, make_posts, post_fraction
from .state import CoatingState

# Noise field ids (one independent lattice each).
FIELD_TEXTURE = 0
FIELD_CELLS = 1
FIELD_TOPOGRAPHY = 2
FIELD_GRAINS = 3
FIELD_HEIGHT = 4

# Label ids of the ground-truth material map.
LABEL_SHUTTLE = 1
LABEL_COPPER = 2
LABEL_ICE = 3
LABEL_CELL = 4
LABEL_POST = 5

CELL_OCTAVES_M = wavelengths_m(64e-6, 8e-6)
HEIGHT_OCTAVES_M = wavelengths_m(512e-6, 4e-6)
REFERENCE_OCTAVES_M = wavelengths_m(512e-6, 128e-6)


@dataclass(frozen=True)
class Site:
    """A lamella site: a named point (metres, specimen plane) at a grid-square centre."""

    name: str
    u_m: float
    v_m: float


class Specimen:
    """A grid with cells in ice, lamella sites and a landing post; deterministic per seed."""

    def __init__(self, params: TwinParameters) -> None:
        self.params = params
        self.seed = params.seed
        self.radius_m = params.grid_diameter_m / 2
        self.rim_width_m = 0.2e-3
        self.pitch_m = params.grid_pitch_m
        self.bar_width_m = params.grid_bar_width_m
        self.landing_posts: list[LandingPost] = make_posts()  # sim/posts.py
        self.landing_post = self.landing_posts[0]
        self.sites: list[Site] = self._choose_sites(params.n_sites)
        self._patches: dict[str, LocalPatch] = {}
        self._height_cache: dict[tuple[int, int], float] = {}
        self.coating = CoatingState()  # uniform protective layers (sim/coating.py)

    def _choose_sites(self, n: int) -> list[Site]:
        rng = np.random.default_rng(self.seed)
        k_max = int(0.7e-3 / self.pitch_m)
        cells = [(i, j) for i in range(-k_max, k_max + 1) for j in range(-k_max, k_max + 1)]
        picks = rng.choice(len(cells), size=n, replace=False)
        return [
            Site(f"lamella_{k + 1:02d}", cells[p][0] * self.pitch_m, cells[p][1] * self.pitch_m)
            for k, p in enumerate(sorted(picks))
        ]

    def site(self, name: str) -> Site:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(f"no site {name!r}; sites are {[s.name for s in self.sites]}")

    # --- geometry masks (arrays broadcast; values 0..1, anti-aliased over `pixel_m`) ---

    def bar_fraction(self, u_m: np.ndarray, v_m: np.ndarray, pixel_m: float) -> np.ndarray:
        """1 on grid bars and rim, 0 in the squares and outside the grid."""
        half_open = (self.pitch_m - self.bar_width_m) / 2

        def one_axis(x: np.ndarray) -> np.ndarray:
            d = np.abs(np.mod(x + self.pitch_m / 2, self.pitch_m) - self.pitch_m / 2)
            return np.clip((d - half_open) / pixel_m + 0.5, 0.0, 1.0)

        bars = np.maximum(one_axis(u_m), one_axis(v_m))
        r = np.hypot(u_m, v_m)
        rim = np.clip((r - (self.radius_m - self.rim_width_m)) / pixel_m + 0.5, 0.0, 1.0)
        return np.maximum(bars, rim) * self.inside_fraction(u_m, v_m, pixel_m)

    def inside_fraction(self, u_m: np.ndarray, v_m: np.ndarray, pixel_m: float) -> np.ndarray:
        return np.clip((self.radius_m - np.hypot(u_m, v_m)) / pixel_m + 0.5, 0.0, 1.0)

    def post_fraction(self, u_m: np.ndarray, v_m: np.ndarray, pixel_m: float) -> np.ndarray:
        return post_fraction(self.landing_posts, u_m, v_m, pixel_m)

    def landing_point(self, post: int = 0) -> tuple[float, float]:
        """(u, v) where a lifted-out lamella lands on post `post` (sim/posts.py)."""
        return self.landing_posts[post].landing_point()

    def cell_fraction(self, cell_field: np.ndarray) -> np.ndarray:
        """Cells where the cell noise field is high (soft edge)."""
        return np.clip((cell_field - 0.35) * 6.0, 0.0, 1.0)

    # --- surface height ---

    def height_m(self, u_m: np.ndarray | float, v_m: np.ndarray | float) -> np.ndarray:
        """Surface height above the specimen plane (metres), procedural part + patches."""
        u = np.asarray(u_m, np.float64)
        v = np.asarray(v_m, np.float64)
        h = self._procedural_height_m(u, v)
        for patch in self._patches.values():
            h = h + patch.height_delta_at(u, v)
        return h

    def reference_height_m(self, u_m: float, v_m: float) -> float:
        """The smooth, large-scale surface height (metres) the renderer projects at.

        Features smaller than ~100 µm (cells, post) are drawn at this height; only edited
        patches get exact per-pixel parallax. Smoothness keeps images rigid under moves.
        """
        key = (round(u_m * 1e9), round(v_m * 1e9))  # 1 nm grid
        h = self._height_cache.get(key)
        if h is None:
            u, v = np.asarray(u_m), np.asarray(v_m)
            smooth = point_fbm(self.seed, FIELD_HEIGHT, u, v, REFERENCE_OCTAVES_M)
            h = float((0.6e-6 + 0.15e-6 * smooth) * self.inside_fraction(u, v, 1e-6))
            if len(self._height_cache) > 4096:
                self._height_cache.clear()
            self._height_cache[key] = h
        return h

    def _procedural_height_m(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        ice = 0.6e-6 + 0.15e-6 * point_fbm(self.seed, FIELD_HEIGHT, u, v, HEIGHT_OCTAVES_M)
        cells = self.cell_fraction(point_fbm(self.seed, FIELD_CELLS, u, v, CELL_OCTAVES_M))
        h = ice + 1.0e-6 * cells
        h = h * (1.0 - self.bar_fraction(u, v, 1e-9)) + 0.2e-6 * self.bar_fraction(u, v, 1e-9)
        post = self.post_fraction(u, v, 1e-9)
        h = h * (1.0 - post) + self.landing_post.height_m * post  # all posts alike
        return h * self.inside_fraction(u, v, 1e-9)

    # --- editable local rasters ---

    def local_patch(self, site: Site | str) -> LocalPatch:
        """The editable high-resolution raster centred on `site` (created on first use)."""
        s = self.site(site) if isinstance(site, str) else site
        if s.name not in self._patches:
            self._patches[s.name] = LocalPatch.empty(
                s.name, s.u_m, s.v_m, self.params.patch_size_m, self.params.patch_pixel_m
            )
        return self._patches[s.name]

    def patch_at(self, u_m: float, v_m: float) -> LocalPatch:
        """The patch holding (u, v): the nearest site's, else a landing post's, else an
        existing one, else a new patch centred on (u, v)."""
        half = self.params.patch_size_m / 2
        for s in sorted(self.sites, key=lambda s: np.hypot(s.u_m - u_m, s.v_m - v_m)):
            if abs(s.u_m - u_m) < half and abs(s.v_m - v_m) < half:
                return self.local_patch(s)
        for k, post in enumerate(self.landing_posts):
            if post.holds(u_m, v_m):
                return self.post_patch(k)
        for p in self._patches.values():
            u0, u1, v0, v1 = p.bounds_m()
            if u0 < u_m < u1 and v0 < v_m < v1:
                return p
        return self.local_patch(Site(f"patch_{len(self._patches) + 1:02d}", u_m, v_m))

    def post_patch(self, post: int) -> LocalPatch:
        """The editable raster of landing post `post` (index), centred on its landing
        point: the landed lamella and every mill at that post (created on first use)."""
        name = f"landing_post_{post + 1}"
        if name not in self._patches:
            u, v = self.landing_point(post)
            size, pixel = PATCH_SIZE_M, self.params.patch_pixel_m
            self._patches[name] = LocalPatch.empty(name, u, v, size, pixel)
        return self._patches[name]

    def surface_height_m(self, site: Site | str) -> float:
        """The reference surface height at a site: put (u, v, this) at the eucentric point
        to have the site's surface (what the beams see) there."""
        s = self.site(site) if isinstance(site, str) else site
        return self.reference_height_m(s.u_m, s.v_m)

    @property
    def patches(self) -> list[LocalPatch]:
        return list(self._patches.values())

    def keypoints(self) -> dict[str, tuple[float, float]]:
        """Ground-truth points (u, v) in metres: site centres and the landing posts
        ("landing_post", then "landing_post_2", ...)."""
        out = {s.name: (s.u_m, s.v_m) for s in self.sites}
        for k, post in enumerate(self.landing_posts):
            out["landing_post" if k == 0 else f"landing_post_{k + 1}"] = (post.u_m, post.v_m)
        return out
