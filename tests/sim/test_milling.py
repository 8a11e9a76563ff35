"""The twin mills: where, how deep, how long, what the images show, stop, coats."""

import asyncio

import numpy as np
import pytest
from milling_helpers import CURRENT_A, mill, milling_backend, rectangle, stage_of

from fibsem_ophyd.backend import MillingBackend
from fibsem_ophyd.sim.mill_physics import image_to_specimen, plane_affine, unit_geometry
from fibsem_ophyd.sim.patch import LABEL_OFFSET, MILLED

SI_RATE = 0.27e-9  # m³/(A·s), the "Si" application file


def _depth_at(backend, x_m: float, y_m: float) -> float:
    """Milled depth at the specimen point under ion-image point (x, y)."""
    w = backend.world
    affine = plane_affine(w.renderer, w.true_pose(), unit_geometry(w.ion, w.params))
    u, v = image_to_specimen(affine, x_m, y_m)
    return -float(w.specimen.patch_at(u, v).height_delta_at(u, v))


async def test_mills_at_the_drawn_place_to_the_requested_depth() -> None:
    backend = milling_backend()
    assert isinstance(backend.milling, MillingBackend)
    calls = await mill(backend, stage_of(rectangle(x_m=3e-6, y_m=1e-6, depth_m=0.5e-6)))
    assert _depth_at(backend, 3e-6, 1e-6) == pytest.approx(0.5e-6, rel=0.1)
    assert _depth_at(backend, 4.8e-6, 1.8e-6) == pytest.approx(0.5e-6, rel=0.1)  # inside
    assert _depth_at(backend, 5.3e-6, 1e-6) == 0.0  # right of the pattern
    assert _depth_at(backend, 3e-6, 2.3e-6) == 0.0  # above it
    assert _depth_at(backend, -3e-6, -1e-6) == 0.0
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert calls[-1][1] == pytest.approx(0.0, abs=1e-9)
    assert not backend.milling.running


async def test_milling_time_is_volume_over_rate_times_current() -> None:
    times = {}
    for factor in (1.0, 2.0):
        backend = milling_backend()
        backend.world.ion.current_a = CURRENT_A * factor
        stage = stage_of(rectangle(w_m=4e-6, h_m=2e-6, depth_m=0.5e-6))
        estimate = await backend.milling.draw(stage)
        t0 = backend.clock_s()
        await backend.milling.mill(lambda f, r: None)
        times[factor] = backend.clock_s() - t0
        assert times[factor] == pytest.approx(estimate)
    volume = 4e-6 * 2e-6 * 0.5e-6
    assert times[1.0] == pytest.approx(volume / (SI_RATE * CURRENT_A))
    assert times[2.0] == pytest.approx(times[1.0] / 2)


async def test_milled_region_shows_in_fib_and_sem_images() -> None:
    backend = milling_backend(noise_scale=0.0)
    w = backend.world
    before = {b: w.render(b).astype(float) for b in ("ion", "electron")}
    await mill(backend, stage_of(rectangle(w_m=8e-6, h_m=3e-6, depth_m=1e-6)))
    ion = w.ion
    ps = ion.hfw_m / ion.resolution_x_px
    col, row = (ion.resolution_x_px - 1) / 2, (ion.resolution_y_px - 1) / 2
    box = np.s_[
        round(row - 0.8e-6 / ps) : round(row + 0.8e-6 / ps),
        round(col - 3e-6 / ps) : round(col + 3e-6 / ps),
    ]
    after_ion = w.render("ion").astype(float)
    assert after_ion[box].mean() < 0.6 * before["ion"][box].mean()  # a dark trench
    for beam in ("ion", "electron"):
        milled = w.render_labels(beam) == LABEL_OFFSET + MILLED
        assert milled.mean() > 0.002, beam
        after = w.render(beam).astype(float)
        assert after[milled].mean() < before[beam][milled].mean() - 20, beam


async def test_stop_interrupts_and_keeps_what_was_milled() -> None:
    backend = milling_backend()
    stage = stage_of(rectangle(depth_m=1e-6))
    total = await backend.milling.draw(stage)
    t0 = backend.clock_s()

    def progress(fraction: float, remaining_s: float) -> None:
        if fraction >= 0.3:
            backend.milling.stop()

    task = asyncio.create_task(backend.milling.mill(progress))
    await asyncio.wait_for(task, 5.0)
    elapsed = backend.clock_s() - t0
    assert 0.25 * total < elapsed < 0.5 * total
    assert not backend.milling.running
    depth = _depth_at(backend, 0.0, 0.0)
    assert depth == pytest.approx(1e-6 * elapsed / total, rel=0.05)


async def test_cancelled_mill_stops_running() -> None:
    backend = milling_backend()
    await backend.milling.draw(stage_of(rectangle(depth_m=1e-6)))
    task = asyncio.create_task(backend.milling.mill(lambda f, r: None))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not backend.milling.running
    assert 0.0 < _depth_at(backend, 0.0, 0.0) < 1e-6


async def test_a_sputter_coat_slows_milling_and_shows() -> None:
    depths, grey = {}, {}
    for coat_s in (0.0, 20.0):
        backend = milling_backend(noise_scale=0.0)
        grey_before = backend.world.render("electron").mean()
        await backend.sputter_coater.coat(coat_s, 30e-3)  # 60 nm at 3 nm/s
        grey[coat_s] = backend.world.render("electron").mean() - grey_before
        await mill(backend, stage_of(rectangle(depth_m=1e-6)))
        depths[coat_s] = _depth_at(backend, 0.0, 0.0)
    coating = backend.world.coating.thickness_by_material_m()
    assert coating == {"sputter_pt": pytest.approx(60e-9)}
    assert depths[0.0] == pytest.approx(1e-6, rel=0.02)
    # 60 nm of Pt at 0.3 × the rate costs 200 nm of milling: ~0.8 µm into the ice.
    assert depths[20.0] == pytest.approx(0.8e-6, rel=0.05)
    assert grey[20.0] > grey[0.0] + 5  # brighter


async def test_gis_deposition_adds_a_protective_layer() -> None:
    backend = milling_backend()
    await backend.gis.insert()
    await backend.gis.open_for(20.0)
    await backend.gis.retract()
    layers = backend.world.coating.thickness_by_material_m()
    assert layers["gis_pt"] == pytest.approx(20.0 * 15e-9)
    await mill(backend, stage_of(rectangle(depth_m=1e-6)))
    assert _depth_at(backend, 0.0, 0.0) < 0.85e-6
    backend.world.faults.gis_blocked = True
    await backend.gis.insert()
    await backend.gis.open_for(20.0)
    assert backend.world.coating.thickness_by_material_m()["gis_pt"] == layers["gis_pt"]


async def test_milling_is_deterministic_with_seeded_effects() -> None:
    results = []
    for _ in range(2):
        backend = milling_backend(
            milling_redeposition_fraction=0.1,
            milling_beam_drift_m_per_s=2e-9,
            stage_drift_m_per_s=(1e-9, 0.0, 0.0),
        )
        await mill(backend, stage_of(rectangle(depth_m=0.5e-6)))
        patch = backend.milling.patch
        results.append((patch.height_delta_m.copy(), backend.world.render("ion")))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
