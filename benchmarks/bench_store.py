"""Per-frame cost of writing runs to the embedded store (journal + TiledWriter).

    python benchmarks/bench_store.py [--num 100] [--repeats 3] [--fsync] [--data-dir DIR]

Counts `num` frames of a detector writing HDF5 without the store, then with it,
and prints the median time per frame of each and the difference (target: the
store adds at most 15 ms a frame). The frame time is the interval between
consecutive events, which includes every callback run between two frames.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from pathlib import Path

from bluesky import RunEngine
from bluesky.plans import count
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider, init_devices
from ophyd_async.sim import PatternGenerator, SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore, StorageSettings


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)  # frames as fast as the detector can write them


def make_detector(frames_dir: Path) -> SimBlobDetector:
    # TODO: switch to the FIB-SEM imaging detector once it exists.
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    with init_devices():
        det = SimBlobDetector(provider, PatternGenerator(sleep=_no_wait), name="det")
    return det


def timed_count(RE: RunEngine, det: SimBlobDetector, num: int) -> tuple[float, float]:
    """(median seconds per frame, seconds from the last event to the end of the run)."""
    times: list[float] = []
    token = RE.subscribe(lambda name, doc: times.append(doc["time"]), "event")
    try:
        RE(count([det], num=num))
        done = time.time()
    finally:
        RE.unsubscribe(token)
    frame = statistics.median(b - a for a, b in itertools.pairwise(times))
    return frame, done - times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fsync", action="store_true", help="fsync every journal line")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-store-"))
    settings = StorageSettings(data_dir=data_dir, fsync_every_document=args.fsync)

    RE = RunEngine()
    with EmbeddedStore(settings) as store:
        det = make_detector(settings.frames_dir)
        timed_count(RE, det, 5)  # warm up imports and the file system
        bare = [timed_count(RE, det, args.num) for _ in range(args.repeats)]
        store.subscribe(RE)
        stored = [timed_count(RE, det, args.num) for _ in range(args.repeats)]
        n_runs = len(store.client())

    bare_ms = statistics.median(frame for frame, _ in bare) * 1e3
    stored_ms = statistics.median(frame for frame, _ in stored) * 1e3
    close_ms = statistics.median(close for _, close in stored) * 1e3
    bare_close_ms = statistics.median(close for _, close in bare) * 1e3
    print(f"frames per run: {args.num}, runs: {args.repeats} each, fsync: {args.fsync}")
    print(f"without store : {bare_ms:7.2f} ms/frame   run close {bare_close_ms:7.1f} ms")
    print(f"with store    : {stored_ms:7.2f} ms/frame   run close {close_ms:7.1f} ms")
    print(f"store overhead: {stored_ms - bare_ms:7.2f} ms/frame (target <= 15 ms)")
    print(f"runs in catalog: {n_runs} (data in {data_dir})")


if __name__ == "__main__":
    main()
