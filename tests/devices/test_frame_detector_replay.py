"""A trigger interrupted by a pause and replayed: each event still points at exactly its
own, newest frame, in whichever order the stale and the replayed trigger run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import h5py
import numpy as np
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.devices.frame_detector import FrameDetector, FrameSource


def _numbered_source(delays_s: list[float]) -> FrameSource:
    """Frame k is filled with k + 1 and takes delays_s[k] to grab."""
    taken = 0

    async def grab() -> np.ndarray:
        nonlocal taken
        k = taken
        taken += 1
        await asyncio.sleep(delays_s[k] if k < len(delays_s) else 0.0)
        return np.full((4, 6), k + 1, np.uint8)

    return FrameSource(shape=lambda: (4, 6), dtype=np.dtype(np.uint8), grab=grab)


async def _datums(det: FrameDetector) -> list[dict]:
    return [
        doc for name, doc in [d async for d in det.collect_asset_docs()] if name == "stream_datum"
    ]


async def test_a_stale_and_a_replayed_trigger_give_one_event_of_the_newest_frame(tmp_path: Path):
    det = FrameDetector(
        _numbered_source([0.05, 0.0, 0.0]),
        StaticPathProvider(UUIDFilenameProvider(), tmp_path),
        name="cam",
    )
    await det.connect()
    await det.stage()
    try:
        await det.prepare(await det._trigger_logic.default_trigger_info())
        # The interrupted trigger (asked for before the pause) and the replayed one are
        # both in flight: the stale one writes frame 1, the replayed one frame 2.
        stale = det.trigger()
        replayed = det.trigger()
        await asyncio.gather(stale, replayed)
        first = await _datums(det)
        await det.trigger()
        second = await _datums(det)
    finally:
        await det.unstage()
    assert [d["indices"] for d in first] == [{"start": 1, "stop": 2}]
    assert [d["indices"] for d in second] == [{"start": 2, "stop": 3}]
    assert det.frames_skipped == 1
    (file,) = tmp_path.glob("*.h5")
    with h5py.File(file, "r") as h5:
        frames = h5["/entry/data/data"][()]
    # the frames the two events point at are the replayed trigger's and the next one's
    assert [int(frames[i].max()) for i in (1, 2)] == [2, 3]
