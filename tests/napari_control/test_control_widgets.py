"""The control widgets driven as a user would (set values, click, double-click on an
image), against the twin through a real in-process RunEngine."""

from __future__ import annotations

import bluesky.preprocessors as bpp
import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt

from napari_plugins.control import InProcessRunner, PlanRequest
from napari_plugins.control._qt.control_widget import MicroscopeControlWidget
from napari_plugins.control._qt.live_view import LiveViewWidget
from napari_plugins.control._qt.presenter import DETECTIONS
from napari_plugins.control.catalogue import CATALOGUE
from plans.site_finding import _detect

from .conftest import save_screenshot


def _detect_in_run(m, beam="ion"):
    """What the workflow does to find a site: an image and the feature detector's result
    in one event (plans.site_finding), here in a run of its own."""
    staged = bpp.stage_wrapper(_detect(m, beam), [m.detector(beam)])
    return bpp.run_wrapper(staged, md={"plan_name": "detect"})


@pytest.fixture
def runner(twin):
    RE, m = twin
    r = InProcessRunner(RE, m, catalogue={**CATALOGUE, "detect": _detect_in_run})
    docs: list[tuple[str, dict]] = []
    r.subscribe(lambda name, doc: docs.append((name, doc)))
    r.docs = docs  # type: ignore[attr-defined]
    yield r
    r.close()


def _click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _idle(qtbot, runner, widget, timeout_ms=60_000):
    runner.wait_idle(timeout_ms / 1000)
    qtbot.waitUntil(lambda: "running" not in widget.status.text(), timeout=timeout_ms)


def _double_click(qtbot, viewer, world_rc, alt=False):
    """A real double-click (Alt held or not) on the canvas where world (row, col) is."""
    canvas = viewer.window._qt_viewer.canvas
    view = canvas.view
    x, y = (view.transform * view.scene.transform).map([world_rc[1], world_rc[0]])[:2]
    modifier = Qt.KeyboardModifier.AltModifier if alt else Qt.KeyboardModifier.NoModifier
    qtbot.mouseDClick(
        canvas.native, Qt.MouseButton.LeftButton, modifier, QPoint(round(x), round(y))
    )


def test_imaging_movement_and_live_view(viewer, qtbot, runner, twin, tmp_path):
    _, m = twin
    control = MicroscopeControlWidget(viewer, runner)
    live = LiveViewWidget(viewer, runner)
    viewer.window.add_dock_widget(control, name="Microscope control")
    viewer.window.add_dock_widget(live, name="Live view")
    imaging, movement = control.imaging, control.movement

    # the imaging form starts from the microscope's settings (the twin is at 384x256)
    qtbot.waitUntil(lambda: imaging.resolution.currentText() == "384x256")
    assert imaging.hfw_um.value() == pytest.approx(80.0)

    # imaging: 384x256 ion image at 80 µm, then both beams
    imaging.beam.setCurrentText("ion")
    imaging.hfw_um.setValue(80.0)
    imaging.resolution.setCurrentText("384x256")
    imaging.dwell_us.setValue(1.0)
    _click(qtbot, imaging.acquire_button)
    _click(qtbot, imaging.both_button)
    _idle(qtbot, runner, imaging)
    qtbot.waitUntil(lambda: {"SEM", "FIB"} <= {layer.name for layer in viewer.layers})
    fib = viewer.layers["FIB"]
    assert fib.scale[-1] == pytest.approx(80e-6 / 384)  # metres per pixel
    assert fib.metadata["beam"] == "ion" and "t" in fib.metadata["stage"]
    assert fib.data.shape == (256, 384)
    assert [r.plan for r in runner.received if r.plan != "read_status"] == [
        "set_and_acquire", "acquire_both"]  # fmt: skip
    assert live.frames_seen == 3 and "fib" in live.frame_label.text()

    # the live view follows any run: a detection is drawn where the event puts it
    shown = fib.data.copy()
    runner.submit(PlanRequest("detect"))
    runner.wait_idle(60)
    qtbot.waitUntil(lambda: DETECTIONS in viewer.layers and live.frames_seen == 4)
    (event,) = [
        d["data"] for n, d in runner.docs if n == "event" and "fib_features-x_px" in d["data"]
    ]
    (point,) = viewer.layers[DETECTIONS].data
    top, left = fib.translate
    assert point == pytest.approx([top + event["fib_features-y_px"] * fib.scale[0],
                                   left + event["fib_features-x_px"] * fib.scale[1]])  # fmt: skip
    assert "fib_features" in live.detections.item(0).text()
    assert not np.array_equal(fib.data, shown)  # the run's new frame replaced the old one

    # bad input: a field width the ion column does not have -> a message, nothing set
    imaging.hfw_um.setValue(5000.0)
    _click(qtbot, imaging.apply_button)
    _idle(qtbot, runner, imaging)
    assert "hfw" in imaging.status.text() and "Traceback" not in imaging.status.text()
    assert m.backend.ion.hfw_m == pytest.approx(80e-6)

    # relative move: 5 µm in x
    before = m.backend.world.stage_readback()
    movement.relative["x_m"].setValue(5.0)
    _click(qtbot, movement.move_by_button)
    _idle(qtbot, runner, movement)
    after = m.backend.world.stage_readback()
    assert after.x_m - before.x_m == pytest.approx(5e-6, abs=1e-9)
    qtbot.waitUntil(lambda: f"x {after.x_m * 1e6:.3f} µm" in movement.readout.text())

    # absolute move out of the limits: refused with the axis named, nothing moves
    movement.absolute["x_m"].setValue(900_000.0)
    _click(qtbot, movement.move_to_button)
    _idle(qtbot, runner, movement)
    assert "refused" in movement.status.text() and "x" in movement.status.text()
    assert m.backend.world.stage_readback() == after

    # double-click right of the FIB image centre: stable_move brings it to the centre
    viewer.layers.selection.active = fib  # pan/zoom mode: a double-click centres
    zoom = viewer.camera.zoom
    cy, cx = control.movement.context.presenter.centre("fib")
    _double_click(qtbot, viewer, (cy, cx + 10e-6))
    _idle(qtbot, runner, movement)
    stable = next(r for r in reversed(runner.received) if r.plan == "stable_move")
    assert stable.kwargs["beam"] == "ion"
    assert stable.kwargs["dx_m"] == pytest.approx(10e-6, rel=0.02)
    assert abs(stable.kwargs["dy_m"]) < 1e-7
    moved = m.backend.world.stage_readback()
    assert moved.x_m != pytest.approx(after.x_m, abs=1e-7)
    assert viewer.camera.zoom == pytest.approx(zoom)  # centred, not zoomed

    # Alt + double-click above the centre in the ion image: vertical_move
    _double_click(qtbot, viewer, (cy - 4e-6, cx), alt=True)
    _idle(qtbot, runner, movement)
    vertical = (
        runner.received[-2] if runner.received[-1].plan == "read_status" else runner.received[-1]
    )
    assert vertical.plan == "vertical_move" and vertical.kwargs["dy_m"] == pytest.approx(
        4e-6, rel=0.05
    )
    assert m.backend.world.stage_readback().z_m != pytest.approx(moved.z_m, abs=1e-9)

    # centring switched off: a double-click zooms as in napari, nothing is submitted
    movement.double_click.setChecked(False)
    submitted, zoom = len(runner.received), viewer.camera.zoom
    _double_click(qtbot, viewer, (cy, cx))
    assert viewer.camera.zoom == pytest.approx(2 * zoom) and len(runner.received) == submitted
    movement.double_click.setChecked(True)

    # named positions: remember here, go elsewhere, come back
    movement.name.setText("here")
    _click(qtbot, movement.remember_button)
    _idle(qtbot, runner, movement)
    here = m.sites["here"]
    qtbot.waitUntil(lambda: movement.positions.findText("here") >= 0)
    movement.positions.setCurrentText("lamella_01")
    _click(qtbot, movement.go_button)
    _idle(qtbot, runner, movement)
    movement.positions.setCurrentText("here")
    _click(qtbot, movement.go_button)
    _idle(qtbot, runner, movement)
    back = m.backend.world.stage_readback()
    assert back.x_m == pytest.approx(here.x_m, abs=1e-6)
    control.tabs.setCurrentWidget(movement)
    save_screenshot(viewer, control, "microscope-control", tmp_path)
    save_screenshot(viewer, live, "live-view", tmp_path)


def test_milling_needles_and_chamber(viewer, qtbot, runner, twin, tmp_path):
    _, m = twin
    control = MicroscopeControlWidget(viewer, runner)
    viewer.window.add_dock_widget(control, name="Microscope control")
    milling, needles, chamber = control.milling, control.needles, control.chamber

    # without an ion image there is nothing to draw over: said, not raised
    _click(qtbot, milling.add_button)
    assert "no ion image" in milling.status.text()

    qtbot.waitUntil(lambda: control.movement.positions.findText("start") >= 0)
    control.movement.positions.setCurrentText("start")
    _click(qtbot, control.movement.go_button)
    control.imaging.beam.setCurrentText("ion")
    control.imaging.hfw_um.setValue(80.0)
    control.imaging.resolution.setCurrentText("384x256")
    control.imaging.dwell_us.setValue(1.0)
    _click(qtbot, control.imaging.acquire_button)
    _idle(qtbot, runner, control.imaging)
    qtbot.waitUntil(lambda: "FIB" in viewer.layers)

    _click(qtbot, milling.add_button)
    layer = viewer.layers["milling patterns"]
    assert len(layer.data) == 1
    (pattern,) = milling.patterns()
    assert pattern.width_m == pytest.approx(10e-6) and abs(pattern.x_m) < 1e-12
    milling.depth_um.setValue(0.5)
    milling.current_na.setValue(2.0)
    assert "estimated time:" in milling.estimate.text()
    seconds = float(milling.estimate.text().split(":")[1].split()[0])
    assert seconds == pytest.approx(milling.stage().estimated_time_s(), rel=1e-3) and seconds > 0

    # bad input: the rectangle dragged past the right edge of the field -> a message,
    # nothing submitted; dragged back, it runs
    proposed = [d.copy() for d in layer.data]
    layer.data = [d + np.array([0.0, 40e-6]) for d in layer.data]
    submitted = len(runner.received)
    _click(qtbot, milling.run_button)
    assert "outside the field of view" in milling.status.text()
    assert "beyond the right edge" in milling.status.text()
    assert "Traceback" not in milling.status.text() and len(runner.received) == submitted
    layer.data = proposed
    _click(qtbot, milling.run_button)
    _idle(qtbot, runner, milling, 120_000)
    assert milling.status.text() == "milling: done", milling.status.text()
    assert milling.progress.value() == 100
    ran = next(r for r in runner.received if r.plan == "run_milling")
    assert ran.kwargs["stages"][0]["parameters"]["milling_current_a"] == pytest.approx(2e-9)
    assert m.backend.world.specimen.patches  # material was removed on the twin

    # a mill that takes a while (the twin paced in wall time), stopped from the widget
    # once it is under way: the run ends 'abort', the bar stays where the mill was
    world, params = m.backend.world, m.backend.world.params
    world.params = params.model_copy(update={"milling_time_scale": 30.0 / seconds})
    try:
        _click(qtbot, milling.run_button)
        qtbot.waitUntil(lambda: milling.progress.value() > 0, timeout=30_000)
        _click(qtbot, milling.stop_button)
        _idle(qtbot, runner, milling)
    finally:
        world.params = params
    assert milling.status.text() == "milling: stopped (milling stopped from the widget)"
    assert 0 < milling.progress.value() < 100
    stops = [d for n, d in runner.docs if n == "stop"]
    assert stops[-1]["exit_status"] == "abort"

    # the needle in, then venting is refused by the interlock: a message in the widget
    _click(qtbot, needles.insert_button)
    _idle(qtbot, runner, needles)
    assert m.backend.manipulator.inserted
    qtbot.waitUntil(lambda: "manipulator: inserted" in needles.readout.text())
    _click(qtbot, chamber.vent_button)
    _idle(qtbot, runner, chamber)
    assert "refused" in chamber.status.text() and "manipulator is inserted" in chamber.status.text()
    assert "Traceback" not in chamber.status.text()
    assert m.backend.world.chamber.pressure_pa < 1.0  # still pumped
    # chamber read-out; a cool-down target out of range is refused naming field and range
    assert "vacuum: pumped" in chamber.readout.text() and "K (target" in chamber.readout.text()
    chamber.target_k.setValue(300.0)
    _click(qtbot, chamber.cool_button)
    _idle(qtbot, runner, chamber)
    assert "cryo_target_k=300.0 K is outside the allowed range [80, 293] K" in chamber.status.text()
    _click(qtbot, needles.retract_button)
    _idle(qtbot, runner, needles)
    assert not m.backend.manipulator.inserted

    # Calibrate: the needle's offsets measured from images (one plan), then shown
    assert "not calibrated" in needles.readout.text()
    _click(qtbot, needles.calibrate_button)
    _idle(qtbot, runner, needles)
    assert needles.status.text() == "calibrate manipulator: done", needles.status.text()
    qtbot.waitUntil(lambda: "manipulator: retracted, calibrated" in needles.readout.text())

    # GIS: a short deposition (one plan: insert, open, retract, images before and after)
    needles.duration_s.setValue(0.5)
    _click(qtbot, needles.deposit_button)
    _idle(qtbot, runner, needles)
    assert needles.status.text() == "GIS deposition: done", needles.status.text()
    starts = [d for n, d in runner.docs if n == "start"]
    assert [d.get("plan_name") for d in starts if "gis" in d.get("plan_name", "")] == [
        "gis_deposition"]  # fmt: skip
    qtbot.waitUntil(lambda: "GIS: retracted" in needles.readout.text())
    control.tabs.setCurrentWidget(milling)
    save_screenshot(viewer, control, "milling", tmp_path)
