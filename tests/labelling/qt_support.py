"""napari under Xvfb for the widget tests: start a private X server when there is no
display (QT_QPA_PLATFORM=offscreen cannot draw layers; see ../shared/notes/stack.md),
and save each widget's screenshot and check it is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

SCREENSHOT_ENV = "FIBSEM_OPHYD_SCREENSHOTS"


def start_xvfb() -> Iterator[None]:
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
    if not number:
        server.kill()
        raise RuntimeError("Xvfb did not report a display number")
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


def save_screenshot(viewer, widget, name: str, tmp_path: Path) -> Path:
    """The viewer window with the docked widget, as a PNG; fails when it is blank."""
    folder = Path(os.environ.get(SCREENSHOT_ENV, tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    viewer.window._qt_window.resize(1300, 820)
    viewer.reset_view()
    window = viewer.screenshot(str(path), canvas_only=False, flash=False)
    assert window.shape[0] > 200 and window.shape[1] > 200
    assert np.asarray(window)[..., :3].std() > 10, f"{path}: blank window screenshot"
    panel = widget.grab().toImage()
    assert panel.width() > 100 and panel.height() > 100
    colours = {
        panel.pixel(x, y) for x in range(0, panel.width(), 7) for y in range(0, panel.height(), 7)
    }
    assert len(colours) > 5, f"{name}: the widget drew (almost) nothing"
    return path
