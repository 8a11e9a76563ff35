"""A pause requested while a plan reads signals takes effect (CPython 3.11's wait_for
would swallow it: fibsem_ophyd._cancellation), and the helper never loses a cancel."""

from __future__ import annotations

import asyncio
import threading

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd._cancellation import wait_for

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial


def test_a_pause_lands_while_the_plan_only_reads(RE, microscope):
    m = microscope
    first_event = threading.Event()

    def reads():
        yield from bps.open_run()
        for _ in range(400):
            yield from bps.trigger_and_read([m.clock_s, m.electron_beam.hfw_m])
            yield from bps.rd(m.ion_beam.current_a)
        yield from bps.close_run()

    def pause_at_first_event():
        if first_event.wait(timeout=30):
            RE.request_pause()

    threading.Thread(target=pause_at_first_event, daemon=True).start()
    with pytest.raises(RunEngineInterrupted):
        RE(reads(), {"event": lambda _n, _d: first_event.set()})
    assert RE.state == "paused"
    RE.abort()
    assert RE.state == "idle"


async def test_wait_for_passes_an_outside_cancel_through():
    async def instant() -> int:  # like a soft signal read: done within one loop turn
        await asyncio.sleep(0)
        return 1

    async def reader(started: asyncio.Event) -> None:
        started.set()
        while True:
            await wait_for(instant(), 1.0, "sig")

    for turns in range(12):  # cancel at many different points of the read loop
        task = asyncio.create_task(reader(asyncio.Event()))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done and task.cancelled(), f"cancel lost after {turns} loop turns"


async def test_wait_for_times_out_naming_the_source():
    with pytest.raises(TimeoutError, match="sig-name"):
        await wait_for(asyncio.sleep(1.0), 0.01, "sig-name")
