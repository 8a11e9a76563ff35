"""Imaging plans through a real RunEngine on the twin: reference image sets, reduced
area, autocontrast, autofocus (sharpness rises from a defocused start)."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import numpy as np
import pytest

from fibsem_ophyd.backend import ReducedArea
from plans.focus import autocontrast, autofocus
from plans.imaging import acquire_reduced_area, reference_images, set_imaging

from ._images import collect, events_by_stream, set_small


@pytest.fixture
def at_site(RE, microscope):
    set_small(RE, microscope, 150e-6)
    RE(bps.mv(microscope.stage, next(iter(microscope.sites.values()))))
    return microscope


def test_reference_images_one_run_all_hfws_and_restores(RE, at_site):
    m = at_site
    hfws = (80e-6, 150e-6, 400e-6)
    _, docs = collect(RE, reference_images(m, hfws))
    assert [n for n, _ in docs].count("start") == 1
    streams = events_by_stream(docs)
    for beam in ("electron", "ion"):
        events = streams[beam]  # one stream per detector: its frames share one file
        assert len(events) == len(hfws)
        b = m.beam(beam)
        assert [e[b.hfw_m.name] for e in events] == pytest.approx(list(hfws))
        for e, h in zip(events, hfws, strict=True):
            assert e[b.pixel_size_m.name] == pytest.approx(h / 768)
            assert any(k.startswith(m.stage.name) for k in e)
            assert "clock" in e
    for beam in ("electron", "ion"):
        assert RE(bps.rd(m.beam(beam).hfw_m)).plan_result == pytest.approx(150e-6)


def test_reference_images_refuses_impossible_hfw_before_anything(RE, at_site):
    m = at_site
    docs: list = []
    with pytest.raises(ValueError, match=r"ion\.hfw_m"):
        RE(reference_images(m, (80e-6, 2e-3)), lambda n, d: docs.append(n))
    assert docs == []
    assert RE(bps.rd(m.electron_beam.hfw_m)).plan_result == pytest.approx(150e-6)


def test_reduced_area_image_shape_and_cleared(RE, at_site):
    m = at_site
    area = ReducedArea(left=0.25, top=0.5, width=0.5, height=0.25)
    _, docs = collect(RE, acquire_reduced_area(m, "ion", area))
    assert m.fib.last_frame.shape == (128, 384)
    desc = next(d for n, d in docs if n == "descriptor")
    assert desc["data_keys"][m.fib.name]["shape"][-2:] == [128, 384]
    start = next(d for n, d in docs if n == "start")
    assert start["reduced_area"]["width"] == 0.5
    assert m.fib.area is None
    assert RE(bps.rd(m.fib.reduced_area)).plan_result == ""


def test_autocontrast_fills_the_range(RE, at_site):
    m = at_site
    RE(set_imaging(m, "electron", detector_contrast=0.3, detector_brightness=0.6))
    result, docs = collect(RE, autocontrast(m, "electron"))
    events = events_by_stream(docs)["primary"]
    first, last = events[0], events[-1]
    metrics = m.metrics("electron")
    low_key, high_key = metrics.grey_low.name, metrics.grey_high.name
    before = first[high_key] - first[low_key]
    after = last[high_key] - last[low_key]
    assert before < 0.5 and after > 0.8, (before, after)
    assert last[low_key] == pytest.approx(0.05, abs=0.05)
    assert last[high_key] == pytest.approx(0.95, abs=0.05)
    contrast_key = f"{m.electron_beam.name}-detector_contrast"
    assert first[contrast_key] == pytest.approx(0.3) and last[contrast_key] > 0.4
    assert result["contrast"] == pytest.approx(last[contrast_key])


@pytest.mark.parametrize(
    ("beam", "defocus_m", "span_m"), [("electron", 150e-6, 400e-6), ("ion", 300e-6, 800e-6)]
)
def test_autofocus_improves_sharpness(RE, at_site, beam, defocus_m, span_m):
    m = at_site
    b = m.beam(beam)
    world = m.backend.world
    wd_true = RE(bps.rd(b.working_distance_m)).plan_result  # in focus at the eucentric site
    assert world.renderer.defocus_m(beam, world.beam(beam), world.true_pose()) < 5e-6
    RE(bps.mv(b.working_distance_m, wd_true + defocus_m))
    result, docs = collect(RE, autofocus(m, beam, span_m=span_m, steps=9))
    print(beam, result)
    assert result["sharpness_after"] > 1.2 * result["sharpness_before"]
    wd = RE(bps.rd(b.working_distance_m)).plan_result
    assert wd == pytest.approx(result["working_distance_m"])
    assert abs(wd - wd_true) < 15e-6
    streams = events_by_stream(docs)
    events = streams["primary"]
    assert len(events) == 1 + 2 * 9 + 1  # start, two sweeps, the focused frame
    sweep, last = events[:-1], events[-1]
    key = at_site.metrics(beam).sharpness.name
    values = [e[key] for e in sweep]
    wds = [e[f"{b.name}-working_distance_m"] for e in sweep]
    assert np.ptp(wds) >= span_m * 0.99
    focused = last[key]
    assert focused >= 0.9 * max(values)
