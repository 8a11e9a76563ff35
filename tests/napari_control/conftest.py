"""The control / supervision widget tests: a private Xvfb display (napari cannot draw
layers offscreen; ../shared/notes/stack.md), one twin microscope and in-process runner
per module, small frames (384x256) so acquisitions are quick."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from bluesky import RunEngine
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

SCREENSHOT_ENV = "FIBSEM_OPHYD_SCREENSHOTS"


@pytest.fixture(scope="session")
def display() -> Iterator[None]:
    """A display for Qt: the one there is (xcb), else a private Xvfb."""
    if os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb":
        yield
        return
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (`make sysdeps` installs it)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "QT_QPA_PLATFORM")}
    os.environ["DISPLAY"], os.environ["QT_QPA_PLATFORM"] = f":{number}", "xcb"
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """(RunEngine, microscope) on the twin, both beams at 384x256 and 80 µm (the twin
    builds its scene once per field width: the tests keep to this one)."""
    from fibsem_ophyd.connect import connect_microscope

    RE = RunEngine({}, call_returns_result=True, context_managers=[])
    frames = tmp_path_factory.mktemp("frames")
    m = connect_microscope(path_provider=StaticPathProvider(UUIDFilenameProvider(), frames))
    from plans import set_imaging

    for beam in ("electron", "ion"):
        RE(set_imaging(m, beam, resolution="384x256", dwell_time_s=1e-7, hfw_m=80e-6))
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


def save_screenshot(viewer, widget, name: str, tmp_path: Path) -> Path:
    """The window with the docked widget as a PNG (in $FIBSEM_OPHYD_SCREENSHOTS or the
    test's folder); fails when the window or the widget is blank."""
    folder = Path(os.environ.get(SCREENSHOT_ENV, tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    window = viewer.screenshot(str(path), canvas_only=False, flash=False)
    assert window.shape[0] > 200 and window.shape[1] > 200
    assert np.asarray(window)[..., :3].std() > 10, f"{path}: blank window screenshot"
    panel = widget.grab().toImage()
    colours = {
        panel.pixel(x, y) for x in range(0, panel.width(), 7) for y in range(0, panel.height(), 7)
    }
    assert len(colours) > 5, f"{name}: the widget drew (almost) nothing"
    return path
