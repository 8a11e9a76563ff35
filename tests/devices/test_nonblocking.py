"""Slow backend calls never block the RunEngine's event loop: while the twin scans a
frame that takes 1.6 s of wall time (realtime mode), other coroutines keep running, and
a pause requested mid-frame takes effect at once instead of after the frame."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from bluesky.plans import count
from bluesky.utils import RunEngineInterrupted
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.connect import connect_microscope

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial

FRAME_S = 1536 * 1024 * 1e-6  # full frame at 1 µs dwell


@pytest.fixture
def realtime(RE, frames_dir):
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    return connect_microscope(path_provider=provider, twin={"realtime": True})


def test_a_long_frame_leaves_the_event_loop_free(RE, realtime):
    m = realtime
    gaps: list[float] = []
    stop = threading.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    asyncio.run_coroutine_threadsafe(ticker(), RE.loop)
    t0 = time.perf_counter()
    RE(count([m.sem]))
    elapsed = time.perf_counter() - t0
    stop.set()
    assert elapsed >= FRAME_S  # the frame really took its wall time
    assert len(gaps) > 50
    assert max(gaps) < 0.05, f"the loop was blocked for {max(gaps) * 1e3:.0f} ms"


def test_a_pause_takes_effect_during_a_frame(RE, realtime):
    m = realtime
    requested: list[float] = []
    frame_started = threading.Event()

    def press() -> None:
        if frame_started.wait(timeout=30):
            time.sleep(0.3)  # well inside the 1.6 s frame
            requested.append(time.perf_counter())
            RE.request_pause()

    threading.Thread(target=press, daemon=True).start()
    docs: list[tuple[str, dict]] = []

    def watch(name: str, doc: dict) -> None:
        docs.append((name, doc))
        if name == "descriptor" or (name == "start" and not frame_started.is_set()):
            frame_started.set()

    with pytest.raises(RunEngineInterrupted):
        RE(count([m.sem], num=3), watch)
    paused_after_s = time.perf_counter() - requested[0]
    assert RE.state == "paused"
    assert paused_after_s < 0.5 * FRAME_S, paused_after_s
    RE.resume()
    events = [d for n, d in docs if n == "event"]
    assert len(events) == 3
    assert next(d for n, d in docs if n == "stop")["exit_status"] == "success"
