"""One labelled view: a twin background, the objects of a workflow stage drawn over it,
the imaging artefacts; the grey image, its class mask and its keypoints."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..parameters import TwinParameters
from ..specimen import Specimen
from .artefacts import Look, apply_look
from .background import TwinBackground
from .canvas import Canvas
from .labels import STAGES
from .objects import (
    draw_copper_adaptor,
    draw_lamella,
    draw_needle,
    draw_post_side,
    draw_volume_block,
)

#: full-frame horizontal field width range per stage (metres), for a 1536-px frame
HFW_RANGE_M: dict[str, tuple[float, float]] = {
    "trenches": (40e-6, 120e-6),
    "thinned": (30e-6, 80e-6),
    "polished": (20e-6, 50e-6),
    "liftout_needle": (60e-6, 150e-6),
    "liftout_adaptor": (60e-6, 150e-6),
    "posts": (100e-6, 300e-6),
    "landing": (60e-6, 150e-6),
    "landed": (50e-6, 120e-6),
}
LAMELLA_HEIGHT_M = {"trenches": (2.5e-6, 5e-6), "thinned": (1.2e-6, 2.5e-6),
                    "polished": (0.8e-6, 1.5e-6)}  # fmt: skip
TRENCH_M = {"trenches": (4e-6, 10e-6), "thinned": (3e-6, 8e-6), "polished": (3e-6, 8e-6)}


@dataclass(frozen=True)
class ViewSpec:
    """What to draw: the twin seed, the stage, the beam, the field and the frame."""

    seed: int
    stage: str
    beam: str
    hfw_m: float
    width_px: int
    height_px: int
    site_index: int
    view_seed: int

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage {self.stage!r} unknown; stages: {STAGES}")
        if self.beam not in ("electron", "ion"):
            raise ValueError(f"beam must be 'electron' or 'ion', got {self.beam!r}")
        if not (1e-6 <= self.hfw_m <= 3e-3):
            raise ValueError(f"hfw_m {self.hfw_m} outside 1e-6..3e-3 m")
        if self.width_px < 32 or self.height_px < 32:
            raise ValueError(f"frame {self.width_px}x{self.height_px} px: both must be >= 32")

    @property
    def pixel_m(self) -> float:
        return self.hfw_m / self.width_px


@dataclass(frozen=True)
class LabelledImage:
    image: np.ndarray  # (H, W) uint8
    mask: np.ndarray  # (H, W) uint8 class indices (labels.CLASS_INDEX)
    keypoints: list[tuple[str, int, float, float]]  # (feature, instance, x_px, y_px)
    site: str
    #: each lamella's length along its axis (metres, by instance): what a workflow knows
    #: from its protocol (the milled lamella's width), for keypoint hints
    lamella_lengths_m: dict[int, float] = field(default_factory=dict)
    #: rows' foreshortening of the specimen plane in this view (1: none): a tilted view's
    #: posts and pads look shorter along y by it
    vertical_scale: float = 1.0


#: views use the first few sites of a seed, so a seed's texture tiles are reused
SITES_PER_SEED = 3


class TwinTruth:
    """Labelled views of the twin specimen of one seed (its sites and landing posts)."""

    def __init__(self, seed: int, n_sites: int = SITES_PER_SEED) -> None:
        self.seed = seed
        self.specimen = Specimen(TwinParameters(seed=seed, n_sites=n_sites))
        self.background = TwinBackground(self.specimen)

    def render(self, spec: ViewSpec) -> LabelledImage:
        if spec.seed != self.seed:
            raise ValueError(f"spec seed {spec.seed} != this twin's seed {self.seed}")
        rng = np.random.default_rng([spec.seed, spec.view_seed])
        shape = (spec.height_px, spec.width_px)
        post_stage = spec.stage == "posts"
        if post_stage:
            posts = self.specimen.landing_posts
            post = posts[spec.site_index % len(posts)]
            site_name = f"landing_post_{spec.site_index % len(posts) + 1}"
            span = 0.3 * spec.hfw_m
            centre = (post.u_m + rng.uniform(-span, span), post.v_m + rng.uniform(-span, span))
        else:
            sites = self.specimen.sites
            site = sites[spec.site_index % len(sites)]
            site_name = site.name
            centre = (site.u_m + rng.uniform(-5e-6, 5e-6), site.v_m + rng.uniform(-5e-6, 5e-6))
        vscale = rng.uniform(0.6, 1.0) if spec.beam == "ion" else rng.uniform(0.75, 1.0)
        grey, mask = self.background.view(spec.beam, centre, spec.pixel_m, shape, vscale)
        if spec.stage in ("landing", "landed", "liftout_adaptor"):
            grey = 0.3 + (grey - 0.3) * rng.uniform(0.2, 0.8)  # far behind: dim, flat
            mask[:] = 0
        c = Canvas.blank(grey, mask, spec.pixel_m, rng)
        _STAGE_DRAW[spec.stage](c, spec)
        if post_stage:
            for k, post in enumerate(self.specimen.landing_posts):
                x, y = self.background.uv_to_px(post.landing_point(), centre, spec.pixel_m,
                                                shape, vscale)  # fmt: skip
                c.keypoint("LandingPost", x, y, instance=k)
        h, w = shape
        c.keypoint("ImageCentre", (w - 1) / 2, (h - 1) / 2)
        look = Look.sample(rng, spec.beam, spec.width_px / 1536)
        image = apply_look(c.image, c.milled, look, rng)
        return LabelledImage(
            image, c.mask, c.keypoints, site_name, dict(c.lamella_lengths_m), float(vscale)
        )


def _somewhere(c: Canvas, frac: float = 0.25) -> tuple[float, float]:
    h, w = c.shape
    return (w / 2 + c.rng.uniform(-frac, frac) * w, h / 2 + c.rng.uniform(-frac, frac) * h)


def _lamella_stage(c: Canvas, spec: ViewSpec) -> None:
    rng = c.rng
    height = rng.uniform(*LAMELLA_HEIGHT_M[spec.stage])
    trench = (rng.uniform(*TRENCH_M[spec.stage]), rng.uniform(*TRENCH_M[spec.stage]))
    draw_lamella(c, _somewhere(c), rng.uniform(10e-6, 25e-6), height, rng.uniform(-6, 6), trench)


def _up_direction(rng: np.random.Generator) -> float:
    """An image angle pointing up-left or up-right (y grows downwards)."""
    return float(rng.uniform(-160, -110) if rng.random() < 0.5 else rng.uniform(-70, -20))


def _liftout_needle(c: Canvas, spec: ViewSpec) -> None:
    rng = c.rng
    angle = rng.uniform(-4, 4)
    size = (rng.uniform(15e-6, 30e-6), rng.uniform(8e-6, 15e-6))
    poly = draw_volume_block(c, _somewhere(c, 0.15), size, angle, rng.uniform(2e-6, 4e-6))
    if rng.random() < 0.85:
        top_left, top_right = poly[0], poly[1]
        tip = top_left + (top_right - top_left) * rng.uniform(0.15, 0.85)
        tip = tip + np.array([0.0, -c.px(rng.uniform(0.0, 3e-6))])
        draw_needle(c, tuple(tip), _up_direction(rng))


def _liftout_adaptor(c: Canvas, spec: ViewSpec) -> None:
    rng = c.rng
    angle = rng.uniform(-8, 8)
    a_size = (rng.uniform(8e-6, 15e-6), rng.uniform(5e-6, 10e-6))
    centre = np.array(_somewhere(c, 0.15))
    if rng.random() < 0.8:  # the volume block hangs under the adaptor
        b_size = (rng.uniform(15e-6, 30e-6), rng.uniform(8e-6, 15e-6))
        down = np.array([-np.sin(np.deg2rad(angle)), np.cos(np.deg2rad(angle))])
        b_centre = centre + down * (c.px(a_size[1]) / 2 + c.px(b_size[1]) / 2)
        draw_volume_block(c, tuple(b_centre), b_size, angle, None)
    tip = centre + np.array([c.px(a_size[0]) * rng.uniform(-0.2, 0.2), 0.0])
    draw_needle(c, tuple(tip), _up_direction(rng), visible_tip=False)
    draw_copper_adaptor(c, tuple(centre), a_size, angle)


def _posts(c: Canvas, spec: ViewSpec) -> None:
    if c.rng.random() < 0.3:
        draw_needle(c, _somewhere(c, 0.35), _up_direction(c.rng))


def _landing(c: Canvas, spec: ViewSpec, landed: bool) -> None:
    rng = c.rng
    h, w = c.shape
    width = rng.uniform(15e-6, 30e-6)
    top = (w / 2 + rng.uniform(-0.2, 0.2) * w, h * rng.uniform(0.4, 0.7))
    angle = rng.uniform(-4, 4)
    draw_post_side(c, top, width, angle)
    lw = rng.uniform(10e-6, 20e-6)
    lh = rng.uniform(1.5e-6, 3.5e-6) if landed else rng.uniform(3e-6, 6e-6)
    if landed:
        centre = (top[0] + rng.uniform(-0.2, 0.2) * c.px(width), top[1] - c.px(lh) / 2)
        draw_lamella(c, centre, lw, lh, angle, None)
        return
    side = -1 if rng.random() < 0.5 else 1
    gap = c.px(rng.uniform(1e-6, 8e-6))
    cx = top[0] + side * (c.px(width) / 2 + gap + c.px(lw) / 2)
    cy = top[1] + rng.uniform(-0.5, 1.0) * c.px(lh)
    draw_lamella(c, (cx, cy), lw, lh, 0.0, None)
    tip = (cx + side * c.px(lw) * 0.4, cy - c.px(lh) / 2)
    direction = rng.uniform(-70, -20) if side > 0 else rng.uniform(-160, -110)
    draw_needle(c, tip, float(direction))


_STAGE_DRAW = {
    "trenches": _lamella_stage,
    "thinned": _lamella_stage,
    "polished": _lamella_stage,
    "liftout_needle": _liftout_needle,
    "liftout_adaptor": _liftout_adaptor,
    "posts": _posts,
    "landing": lambda c, s: _landing(c, s, landed=False),
    "landed": lambda c, s: _landing(c, s, landed=True),
}


def render_labelled(spec: ViewSpec, truth: TwinTruth | None = None) -> LabelledImage:
    """Convenience: one labelled view (a new `TwinTruth` unless one is given)."""
    return (truth or TwinTruth(spec.seed)).render(spec)
