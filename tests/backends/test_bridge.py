"""The fibsem bridge on its own: units and signs on both sides of the translation, what
fibsem received when patterns were drawn, vendor errors and hangs named and bounded,
and a clear message where fibsem is missing."""

from __future__ import annotations

import asyncio
import math
import sys
import threading

import bluesky.plan_stubs as bps
import pytest
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.config import ConfigError, config_from_dict
from fibsem_ophyd.connect import build_microscope
from fibsem_ophyd.milling import MillingStage
from fibsem_ophyd.milling.parameters import MillingParameters
from fibsem_ophyd.milling.patterns.basic import CirclePattern, LinePattern, RectanglePattern
from plans.movement import move_absolute

from .conftest import DEMO_CONFIG

fibsem = pytest.importorskip("fibsem")


def _do(action, *args):
    async def run():
        await action(*args)

    return call_in_bluesky_event_loop(run())


def test_stage_angles_are_radians_in_fibsem_degrees_here(RE, demo):
    RE(move_absolute(demo, StagePosition(x_m=1e-3, r_deg=90.0, t_deg=20.0)))
    vendor = demo.backend.microscope.stage_system.position
    assert vendor.r == pytest.approx(math.pi / 2)
    assert vendor.t == pytest.approx(math.radians(20.0))
    assert vendor.x == pytest.approx(1e-3)  # metres on both sides
    assert demo.backend.stage.position().t_deg == pytest.approx(20.0)


def test_scan_rotation_and_beam_shift_units(RE, demo):
    RE(bps.mv(demo.electron_beam.scan_rotation_deg, 45.0, demo.electron_beam.beam_shift_x_m, 2e-6))
    beam = demo.backend.microscope.electron_system.beam
    assert beam.scan_rotation == pytest.approx(math.pi / 4)
    assert beam.shift.x == pytest.approx(2e-6)


def test_fibsem_receives_patterns_in_metres_radians_y_up(RE, demo):
    stage = MillingStage(
        name="units",
        patterns=[
            RectanglePattern(x_m=5e-6, y_m=-4e-6, width_m=12e-6, height_m=3e-6, depth_m=1e-6,
                             rotation_deg=30.0, cross_section="CleaningCrossSection"),
            LinePattern(x_m=0.0, y_m=8e-6, length_m=6e-6, depth_m=0.5e-6),
            CirclePattern(x_m=-12e-6, y_m=-10e-6, radius_m=2e-6, depth_m=0.8e-6),
        ],
        parameters=MillingParameters(milling_current_a=0.74e-9, hfw_m=80e-6,
                                     scan_direction="BottomToTop"),
    )  # fmt: skip
    RE(bps.mv(demo.ion_beam.hfw_m, 80e-6, demo.ion_beam.current_a, 0.74e-9))
    _do(demo.milling.draw, stage)
    rect, line, circle = demo.backend.microscope.milling_system.patterns
    assert (rect.centre_x, rect.centre_y) == pytest.approx((5e-6, -4e-6))
    assert (rect.width, rect.height, rect.depth) == pytest.approx((12e-6, 3e-6, 1e-6))
    assert rect.rotation == pytest.approx(math.radians(30.0))
    assert rect.cross_section.name == "CleaningCrossSection" and rect.cleaning_cross_section
    assert rect.scan_direction == "BottomToTop"
    assert (line.start_x, line.end_x) == pytest.approx((-3e-6, 3e-6))
    assert (line.start_y, line.end_y) == pytest.approx((8e-6, 8e-6))
    assert (circle.centre_x, circle.centre_y, circle.radius) == pytest.approx(
        (-12e-6, -10e-6, 2e-6)
    )
    # milled at the ion beam's present current and field width
    assert demo.backend.microscope.ion_system.beam.beam_current == pytest.approx(0.74e-9)
    assert demo.backend.microscope.ion_system.beam.hfw == pytest.approx(80e-6)


def test_vendor_error_names_device_and_action(RE, demo, monkeypatch):
    from fibsem_ophyd.hardware import HardwareError

    def broken(position):
        raise RuntimeError("axis y fault")

    monkeypatch.setattr(demo.backend.microscope, "move_stage_absolute", broken)
    with pytest.raises(FailedStatus) as e:
        RE(move_absolute(demo, StagePosition(x_m=1e-4)))
    cause = e.value.__cause__
    assert isinstance(cause, HardwareError)
    assert str(cause) == "stage.move_to: RuntimeError: axis y fault"
    assert (cause.device, cause.action) == ("stage", "move_to")
    assert isinstance(cause.__cause__, RuntimeError)  # the vendor's exception is kept


def test_hanging_call_times_out_and_blocks_further_calls_until_it_returns(demo, monkeypatch):
    from fibsem_ophyd.hardware import HardwareError, HardwareTimeoutError, VendorCalls

    calls = VendorCalls(timeout_s=0.2)
    release = threading.Event()

    async def scenario():
        with pytest.raises(HardwareTimeoutError, match=r"stage\.move_to: no answer .* 0\.2 s"):
            await calls.slow("stage", "move_to", release.wait)
        with pytest.raises(HardwareError, match=r"earlier call stage\.move_to timed out"):
            await calls.slow("ion", "acquire", lambda: 1)
        release.set()
        for _ in range(100):  # the hung call returns; the bridge accepts calls again
            await asyncio.sleep(0.01)
            if calls._stuck is None:
                break
        assert await calls.slow("ion", "acquire", lambda: 7) == 7

    asyncio.run(scenario())
    calls.close()


def test_missing_fibsem_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fibsem", None)  # `import fibsem` now fails
    with pytest.raises(ImportError, match=r"pip install 'fibsem-ophyd\[hardware\]'"):
        build_microscope(config_from_dict({**DEMO_CONFIG, "info": {"manufacturer": "Thermo"}}))


def test_bad_hardware_settings_refused_before_connecting():
    cfg = config_from_dict({**DEMO_CONFIG, "advanced": {"OpenFIBSEM-Demo": {"call_timeout_s": -1}}})
    with pytest.raises(ConfigError, match=r"advanced\.OpenFIBSEM-Demo\.call_timeout_s"):
        build_microscope(cfg)


def test_twin_settings_refused_for_hardware():
    with pytest.raises(ValueError, match="twin= settings apply to the digital twin only"):
        build_microscope(config_from_dict(DEMO_CONFIG), twin={"seed": 3})


def test_fingerprint_reports_fibsem_identity(demo):
    fp = demo.fingerprint
    assert fp.manufacturer == "OpenFIBSEM-Demo"
    assert fp.model == "DemoMicroscope"
    assert fp.subsystems["cryo"] is False and fp.subsystems["ion"] is True
    assert demo.run_metadata()["fingerprint_check"]


def test_slow_beam_settings_are_written_off_the_event_loop(RE, demo, monkeypatch):
    """A current change that takes 0.6 s on the column runs in the bridge's worker
    thread: the RunEngine's loop keeps ticking meanwhile; a quick setting stays inline."""
    vendor_set = demo.backend.microscope.set
    threads: dict[str, str] = {}

    def slow_set(key, value, beam_type=None):
        threads[key] = threading.current_thread().name
        if key == "current":
            threading.Event().wait(0.6)  # the column changing aperture
        return vendor_set(key, value, beam_type)

    monkeypatch.setattr(demo.backend.microscope, "set", slow_set)
    current = demo.ion_beam.limits.currents_a[-1]
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            gaps.append(now - last)
            last = now

    async def scenario() -> None:
        stop = asyncio.Event()
        tick = asyncio.ensure_future(ticker(stop))
        await demo.ion_beam.current_a.set(current)
        await demo.ion_beam.hfw_m.set(100e-6)
        stop.set()
        await tick

    call_in_bluesky_event_loop(scenario())
    assert threads["current"].startswith("fibsem")  # the worker thread
    assert threads["hfw"] == "bluesky-run-engine"  # inline, on the loop's thread
    assert demo.backend.ion.current_a == pytest.approx(current)
    assert sum(gaps) > 0.5 and max(gaps) < 0.2, max(gaps)
