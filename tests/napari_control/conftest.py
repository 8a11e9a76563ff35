"""The control / supervision widget tests: napari under Xvfb with the labelling tests'
mechanism (napari cannot draw layers offscreen; ../shared/notes/stack.md) and their
screenshot check, one twin microscope per module, small frames (384x256) so
acquisitions are quick."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bluesky import RunEngine
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from ..labelling.qt_support import save_screenshot, start_xvfb

__all__ = ["save_screenshot"]


@pytest.fixture(scope="session")
def display() -> Iterator[None]:
    """The display the labelling tests use: the one there is (xcb), else a private Xvfb."""
    yield from start_xvfb()


@pytest.fixture(scope="session")
def twin(tmp_path_factory):
    """(RunEngine, microscope) on the twin, shared by these tests: both beams at 384x256
    and 80 µm (the twin renders the specimen's texture tiles once per pixel size and
    place, the first image costs seconds: the tests keep to this one field width and
    share one twin; a test that changes shared state puts it back)."""
    from fibsem_ophyd.connect import connect_microscope

    RE = RunEngine({}, call_returns_result=True, context_managers=[])
    frames = tmp_path_factory.mktemp("frames")
    m = connect_microscope(path_provider=StaticPathProvider(UUIDFilenameProvider(), frames))
    from plans import set_imaging
    from profiles.detectors import wire_detectors

    wire_detectors(m)  # the workflow's feature detection, for the live view's overlay

    for beam in ("electron", "ion"):
        RE(set_imaging(m, beam, resolution="384x256", dwell_time_s=1e-6, hfw_m=80e-6))
    from plans.stubs import read_pose

    m.sites["start"] = RE(read_pose(m)).plan_result  # where the scene is already rendered
    yield RE, m
    if RE.state not in ("idle", "panicked"):
        RE.halt()
    RE._loop.call_soon_threadsafe(RE._loop.stop)
    RE._th.join(timeout=5)


@pytest.fixture
def viewer(display, make_napari_viewer):
    v = make_napari_viewer(show=True)
    v.window._qt_window.resize(1300, 820)
    return v
