"""The twin's own workflow frames with the true position of what the workflows look for
(benchmarks/bench_keypoint_accuracy.py part 2): the needle tip at manipulator
calibration, a landing post when centring on it, a lamella landed on its post (and the
same views where nothing landed). Rendered by ``TwinWorld.render`` as the workflows'
FeatureDetectors see them; the truth from the twin's geometry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fibsem_ophyd.backend import ManipulatorPosition
from fibsem_ophyd.geometry import (
    StageGeometry,
    flat_to_beam,
    specimen_to_raw,
    tilt_for_milling_angle,
)
from fibsem_ophyd.sim import TwinBackend, TwinParameters, TwinWorld
from fibsem_ophyd.sim.landed import land_chunk
from fibsem_ophyd.sim.liftout_patch import Footprint
from fibsem_ophyd.sim.projection import ImageGeometry, chamber_to_image

GEOMETRY = StageGeometry()


@dataclass(frozen=True)
class Frame:
    what: str
    beam: str
    image: np.ndarray
    pixel_m: float
    vertical_scale: float
    truth: tuple[float, float] | None  # None: the object is not there


def _set_beams(world: TwinWorld, hfw: dict[str, float], size: tuple[int, int]) -> None:
    for name in ("electron", "ion"):
        beam = world.beam(name)  # type: ignore[arg-type]
        beam.hfw_m = hfw[name]
        beam.resolution_x_px, beam.resolution_y_px = size


def needle_frames(seed: int, n: int) -> Iterator[Frame]:
    """Manipulator calibration: 40 µm, 768 x 512, tip within 12 µm of the centre."""
    hfw, w, h = 40e-6, 768, 512
    world = TwinWorld(TwinParameters(seed=seed))
    _set_beams(world, {"electron": hfw, "ion": hfw}, (w, h))
    for beam in ("electron", "ion"):
        yield Frame(f"needle {beam}", beam, world.render(beam), hfw / w, 1.0, None)
    backend = TwinBackend(world)
    asyncio.run(backend.manipulator.insert(ManipulatorPosition(x_m=0.0, y_m=0.0, z_m=0.0)))
    for tip in np.random.default_rng(seed).uniform(-12e-6, 12e-6, (n, 3)):
        x, y, z = (float(v) for v in tip)
        asyncio.run(backend.manipulator.move_to(ManipulatorPosition(x_m=x, y_m=y, z_m=z)))
        for beam in ("electron", "ion"):
            geom = ImageGeometry(world.params.column_tilt_deg(beam), hfw, w, h)
            col, row = chamber_to_image(np.asarray(tip), geom)
            yield Frame(f"needle {beam}", beam, world.render(beam), hfw / w, 1.0, (col, row))


def post_frames(seed: int, n: int) -> Iterator[Frame]:
    """centre_on_post: 150 µm, 1536 x 1024, electron-flat pose, the post off centre."""
    hfw, w, h = 150e-6, 1536, 1024
    world = TwinWorld(TwinParameters(seed=seed))
    _set_beams(world, {"electron": hfw, "ion": hfw}, (w, h))
    flat = flat_to_beam("electron", GEOMETRY)
    assert flat.r_deg is not None and flat.t_deg is not None
    scales = {"electron": 1.0, "ion": float(np.cos(np.radians(52.0)))}
    rng = np.random.default_rng(seed)
    for k in range(n):
        post = k % len(world.specimen.landing_posts)
        u, v = world.specimen.landing_point(post)
        du, dv = rng.uniform(-15e-6, 15e-6, 2)
        ref = world.specimen.reference_height_m(u, v)
        world.set_stage(specimen_to_raw(u + du, v + dv, flat.r_deg, flat.t_deg, GEOMETRY, h_m=ref))
        for beam in ("electron", "ion"):
            truth = world.specimen_point_px(beam, u, v)
            image = world.render(beam)  # type: ignore[arg-type]
            yield Frame(f"post {beam}", beam, image, hfw / w, scales[beam], truth)


def landed_frames(seed: int, n: int) -> Iterator[Frame]:
    """confirm_on_post / thinning on the post: SEM 80 µm (flat, and tilted to the
    milling angle), FIB 40 µm; a 10 x 4 µm chunk on the post, one on the next too."""
    hfws = {"electron": 80e-6, "ion": 40e-6}
    w, h = 1536, 1024
    world = TwinWorld(TwinParameters(seed=seed))
    _set_beams(world, hfws, (w, h))
    empty = TwinWorld(TwinParameters(seed=seed))
    _set_beams(empty, hfws, (w, h))
    for post in range(2):
        u, v = world.specimen.landing_point(post)
        land_chunk(
            world.specimen.post_patch(post), Footprint(u, v, 10e-6, 4e-6, 0.6e-6, 2.2e-6), u, v
        )
    milling = tilt_for_milling_angle(18.0, GEOMETRY)
    flat = flat_to_beam("electron", GEOMETRY)
    views = [
        ("flat", "electron", flat, 1.0),
        ("milling", "electron", milling, float(np.cos(np.radians(20.0)))),
        ("milling", "ion", milling, float(np.sin(np.radians(18.0)))),
    ]
    rng = np.random.default_rng(seed)
    u, v = world.specimen.landing_point(0)
    ref = world.specimen.reference_height_m(u, v)
    for k in range(n):
        view, beam, pose, scale = views[k % len(views)]
        assert pose.r_deg is not None and pose.t_deg is not None
        span = 8e-6 if beam == "electron" else 4e-6
        du, dv = rng.uniform(-span, span, 2)
        raw = specimen_to_raw(u + du, v + dv, pose.r_deg, pose.t_deg, GEOMETRY, h_m=ref)
        world.set_stage(raw)
        truth = world.specimen_point_px(beam, u, v)
        pixel = hfws[beam] / w
        image = world.render(beam)  # type: ignore[arg-type]
        yield Frame(f"landed {view} {beam}", beam, image, pixel, scale, truth)
        if k < len(views):  # the same view where nothing landed
            empty.set_stage(raw)
            image = empty.render(beam)  # type: ignore[arg-type]
            yield Frame(f"landed {view} {beam}", beam, image, pixel, scale, None)
