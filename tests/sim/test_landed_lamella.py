"""A landed lamella is part of its post: milling there thins it as at a site, the
renderer shows it (milled state included) and `lamella_report` measures it."""

from __future__ import annotations

import numpy as np
import pytest
from liftout_helpers import BLOCK_M, centre_point, land, pick_up
from milling_helpers import CURRENT_A, mill, stage_of, trench
from twin_helpers import make_world

from fibsem_ophyd.sim import TwinBackend, TwinWorld
from fibsem_ophyd.sim.needles import LABEL_LAMELLA
from fibsem_ophyd.sim.patch import LABEL_OFFSET, MILLED

MILLING_TILT_DEG = 15.0  # milling angle 18°
ICE_LABEL = LABEL_OFFSET + 1


def _landed_backend(post: int = 0) -> tuple[TwinBackend, str]:
    world = make_world()
    name = world.specimen.sites[0].name
    pick_up(world, name)
    land(world, name, post)
    u, v = world.specimen.landing_point(post)
    centre_point(world, u, v, 0.0, MILLING_TILT_DEG)
    world.ion.current_a = CURRENT_A
    return TwinBackend(world), name


def _labels_at_centre(world: TwinWorld, beam: str) -> np.ndarray:
    labels = world.render_labels(beam)
    h, w = labels.shape
    return labels[h // 2 - 4 : h // 2 + 5, w // 2 - 4 : w // 2 + 5]


@pytest.mark.parametrize("spacing_m", [0.8e-6, 0.3e-6])
async def test_milling_at_the_post_thins_the_landed_lamella(spacing_m: float) -> None:
    backend, name = _landed_backend()
    world = backend.world
    landed = world.liftout.site(name).landed
    await mill(backend, stage_of(trench(spacing_m)))
    report = world.lamella_report(name)
    assert report.exists
    assert report.thickness_m == pytest.approx(spacing_m, abs=20e-9)
    assert report.centre_error_m < 50e-9  # about the landed chunk's centre
    assert np.hypot(report.centre_u_m - landed.top_uvh_m[0],
                    report.centre_v_m - landed.top_uvh_m[1]) < 50e-9  # fmt: skip
    assert report.width_m == pytest.approx(BLOCK_M[0], abs=0.2e-6)
    # The site keeps only its trench floor: the lamella is measured on its post.
    assert world.specimen.local_patch(name).height_delta_m.min() < -1e-6


async def test_rough_then_polish_at_the_post() -> None:
    backend, name = _landed_backend()
    await mill(backend, stage_of(trench(0.8e-6)))
    await mill(backend, stage_of(trench(0.3e-6)))
    assert backend.world.lamella_report(name).thickness_m == pytest.approx(0.3e-6, abs=20e-9)


@pytest.mark.parametrize("beam", ["electron", "ion"])
async def test_the_landed_lamella_is_drawn_and_so_is_its_milling(beam: str) -> None:
    backend, _ = _landed_backend()
    world = backend.world
    assert (_labels_at_centre(world, beam) == ICE_LABEL).all()  # the chunk, in the view centre
    assert not (world.render_labels(beam) == LABEL_LAMELLA).any()  # no box: it is specimen
    before = world.render(beam)
    await mill(backend, stage_of(trench(0.3e-6)))
    labels = world.render_labels(beam)
    assert (labels == LABEL_OFFSET + MILLED).sum() > (before.size // 2000)
    assert (_labels_at_centre(world, beam) == ICE_LABEL).any()  # the lamella stands
    assert np.abs(world.render(beam).astype(int) - before).mean() > 0.5


async def test_lamellae_land_on_their_own_posts() -> None:
    world = make_world(n_sites=2)
    first, second = (s.name for s in world.specimen.sites)
    for post, name in enumerate((first, second)):
        pick_up(world, name)
        land(world, name, post)
    u1, v1 = world.specimen.landing_point(1)
    centre_point(world, u1, v1, 0.0, MILLING_TILT_DEG)
    world.ion.current_a = CURRENT_A
    await mill(TwinBackend(world), stage_of(trench(0.3e-6)))
    assert world.lamella_report(second).thickness_m == pytest.approx(0.3e-6, abs=20e-9)
    untouched = world.lamella_report(first)  # the chunk as landed: nothing milled at post 1
    assert untouched.thickness_m > 1e-6
    patches = {p.name for p in world.specimen.patches}
    assert {"landing_post_1", "landing_post_2"} <= patches
