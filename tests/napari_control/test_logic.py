"""Qt-free parts: image-plane arithmetic, the supervisor's correction, the runner's
refusals as messages, frames and detections from real documents."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fibsem_ophyd.milling import RectanglePattern
from fibsem_ophyd.supervision import Question
from napari_plugins.control import InProcessRunner, PlanRequest, current_runner, use_runner
from napari_plugins.control.frames import FrameCollector, detections_in
from napari_plugins.control.image_plane import (
    offset_m,
    offset_of_world,
    placements,
    rectangle_from_world,
    rectangle_world_corners,
    world_of_offset,
)
from napari_plugins.supervision import correction_from_moves, pattern_outlines


def test_offsets_and_rectangles_round_trip():
    shape, ps = (256, 384), 2e-7
    assert offset_m(127.5, 191.5, shape, ps) == (0.0, 0.0)
    dx, dy = offset_m(0, 383, shape, ps)  # top-right pixel: right and up
    assert dx == pytest.approx(191.5 * ps) and dy == pytest.approx(127.5 * ps)
    with pytest.raises(ValueError, match="outside the 384x256 image"):
        offset_m(-3, 10, shape, ps)
    centre = (1e-5, 4e-5)
    assert offset_of_world(world_of_offset(3e-6, -2e-6, centre), centre, shape, ps) == (
        pytest.approx(3e-6),
        pytest.approx(-2e-6),
    )
    pattern = RectanglePattern(x_m=2e-6, y_m=-1e-6, width_m=8e-6, height_m=3e-6, depth_m=1e-6,
                               rotation_deg=30.0)  # fmt: skip
    back = rectangle_from_world(rectangle_world_corners(pattern, centre), centre, 1e-6)
    for key in ("x_m", "y_m", "width_m", "height_m", "rotation_deg"):
        assert getattr(back, key) == pytest.approx(getattr(pattern, key), rel=1e-9, abs=1e-15)
    # SEM at the origin, FIB to its right without overlap
    t = placements({"sem": ((256, 384), ps), "fib": ((256, 384), 2 * ps)})
    assert t["sem"][1] < 0 < t["fib"][1] and t["fib"][1] > 191.5 * ps


def test_supervisor_correction_is_one_offset():
    before = [(0.0, 0.0), (5e-6, 0.0)]
    assert correction_from_moves(before, [(1e-6, 2e-6), (6e-6, 2e-6)]) == (
        pytest.approx(1e-6),
        pytest.approx(2e-6),
    )
    with pytest.raises(ValueError, match="different amounts"):
        correction_from_moves(before, [(1e-6, 0.0), (5e-6, 0.0)])
    with pytest.raises(ValueError, match="add or delete nothing"):
        correction_from_moves(before, [(0.0, 0.0)])
    q = Question(kind="patterns", patterns=[RectanglePattern(width_m=4e-6, height_m=2e-6)])
    (outline,) = pattern_outlines(q)
    assert np.ptp([p[0] for p in outline]) == pytest.approx(4e-6)


def test_runner_refusals_are_messages_and_frames_come_from_documents(twin):
    RE, m = twin
    runner = InProcessRunner(RE, m)
    frames, outcomes = [], []
    runner.subscribe(FrameCollector(on_frame=frames.append))
    before = m.backend.world.stage_readback()
    requests = [
        PlanRequest("move_absolute", {"x_m": 1.0}, "too far"),
        PlanRequest("set_imaging", {"beam": "ion", "hfw_m": 5.0}),
        PlanRequest("no_such_plan", {}),
        PlanRequest("set_and_acquire", {"beam": "ion", "resolution": "384x256", "hfw_m": 80e-6}),
    ]
    for r in requests:
        runner.submit(r, outcomes.append)
    runner.wait_idle(60)
    runner.close()
    assert [o.ok for o in outcomes] == [False, False, False, True]
    assert "x" in outcomes[0].error and "limit" in outcomes[0].error.lower()
    assert "hfw" in outcomes[1].error and "Traceback" not in outcomes[1].error
    assert "not in the catalogue" in outcomes[2].error
    assert m.backend.world.stage_readback() == before  # nothing moved on a refusal
    assert runner.received == requests
    (frame,) = frames
    assert frame.detector == "fib" and frame.beam == "ion" and frame.image.shape == (256, 384)
    assert frame.image.std() > 0
    assert frame.pixel_size_m == pytest.approx(frame.settings["hfw_m"] / 384)
    assert math.isclose(frame.stage["t"], before.t_deg)


def test_detections_pair_x_and_y_of_a_known_detector():
    data = {"fib_features-x_px": 10.0, "fib_features-y_px": 20.0, "fib_features-score": 0.9,
            "sem_needle-x_px": math.nan, "sem_needle-y_px": 3.0, "other-x_px": 1.0,
            "other-y_px": 1.0}  # fmt: skip
    (d,) = detections_in(data, {"fib", "sem"})
    assert (d.name, d.detector, d.x_px, d.y_px, d.score) == ("fib_features", "fib", 10, 20, 0.9)


def test_without_an_installed_runner_the_widgets_get_one_on_the_twin():
    use_runner(None)
    runner = current_runner()
    try:
        assert isinstance(runner, InProcessRunner) and current_runner() is runner
        outcomes = []
        runner.submit(PlanRequest("read_status"), outcomes.append)
        runner.wait_idle(30)
        assert outcomes[0].ok and "lamella_01" in outcomes[0].result["positions"]
    finally:
        use_runner(None)
        runner.close()


def test_a_device_error_reaches_the_widget_as_its_own_text(RE):
    """A failed trigger/set reaches the plan as bluesky's FailedStatus, whose text is the
    status object's repr: the widget shows the device's own error instead."""
    from bluesky.plan_stubs import trigger
    from ophyd_async.core import AsyncStatus, Device

    from napari_plugins.control.in_process import user_message

    class Broken(Device):
        @AsyncStatus.wrap
        async def trigger(self) -> None:
            raise RuntimeError("detector not prepared: no frame file is open")

    with pytest.raises(Exception) as caught:
        RE(trigger(Broken(name="broken"), wait=True))
    assert type(caught.value).__name__ == "FailedStatus"
    assert "WatchableAsyncStatus" not in user_message(caught.value)
    assert user_message(caught.value) == (
        "RuntimeError: detector not prepared: no frame file is open"
    )
