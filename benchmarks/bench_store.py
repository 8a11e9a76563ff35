"""Cost of writing runs to the embedded store, with the microscope's own SEM detector.

    python benchmarks/bench_store.py [--num 100] [--repeats 3] [--short 20] [--fsync]
                                     [--data-dir DIR]

Prints medians of:
  * the bare render (`backend.imaging.acquire("electron")`, 1536x1024, timed directly);
  * `count([m.sem], num)` per frame without the store and with it, both excluding the
    run close (interval between consecutive events, which includes every callback
    run between two frames) and including it (RunEngine time of the run / num);
  * the RunEngine time of a short 1-frame run without and with the store (what a
    lamella workflow of many short runs pays per run), back to back (the writer
    thread still busy with earlier runs) and with `store.flush()` between runs;
  * how long `store.flush()` takes to put the back-to-back runs in tiled.
Target: the store adds at most 15 ms per frame over the bare render.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bluesky import RunEngine
from bluesky.plans import count

from fibsem_ophyd.storage import EmbeddedStore, StorageSettings


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def bare_render(microscope: Any, frames: int) -> float:
    """Median seconds of one 1536x1024 electron frame from the backend (render and twin
    clock), without ophyd or bluesky."""
    acquire: Callable[[str], Any] = microscope.backend.imaging.acquire

    async def frames_s() -> list[float]:
        await acquire("electron")  # warm up
        samples = []
        for _ in range(frames):
            t0 = time.perf_counter()
            await acquire("electron")
            samples.append(time.perf_counter() - t0)
        return samples

    return statistics.median(asyncio.run(frames_s()))


def timed_count(RE: RunEngine, det: Any, num: int) -> tuple[float, float]:
    """(median seconds between events, RunEngine seconds of the whole run / num)."""
    times: list[float] = []
    token = RE.subscribe(lambda name, doc: times.append(doc["time"]), "event")
    try:
        t0 = time.perf_counter()
        RE(count([det], num=num))
        total = time.perf_counter() - t0
    finally:
        RE.unsubscribe(token)
    return statistics.median(b - a for a, b in itertools.pairwise(times)), total / num


def short_runs(
    RE: RunEngine, det: Any, runs: int, between: Callable[[], Any] | None = None
) -> float:
    """Median RunEngine seconds of a 1-frame run; `between` runs untimed after each."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        RE(count([det], num=1))
        samples.append(time.perf_counter() - t0)
        if between is not None:
            between()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--num", type=int, default=100, help="frames per counted run")
    parser.add_argument("--repeats", type=int, default=3, help="counted runs each way")
    parser.add_argument("--short", type=int, default=20, help="1-frame runs each way")
    parser.add_argument("--fsync", action="store_true", help="fsync every journal line")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-store-"))
    settings = StorageSettings(data_dir=data_dir, fsync_every_document=args.fsync)

    from fibsem_ophyd.connect import connect_microscope

    RE = RunEngine()  # before the microscope: it connects in the RunEngine's loop
    with EmbeddedStore(settings) as store:
        m = connect_microscope(path_provider=store.path_provider())
        render_ms = bare_render(m, 30) * 1e3
        timed_count(RE, m.sem, 5)  # warm up imports, file system, detector
        bare = [timed_count(RE, m.sem, args.num) for _ in range(args.repeats)]
        bare_short_ms = short_runs(RE, m.sem, args.short) * 1e3
        token = store.subscribe(RE)
        timed_count(RE, m.sem, 5)  # warm up the writer
        store.flush()
        stored = [timed_count(RE, m.sem, args.num) for _ in range(args.repeats)]
        stored_short_ms = short_runs(RE, m.sem, args.short) * 1e3
        t0 = time.perf_counter()
        store.flush()
        flush_s = time.perf_counter() - t0
        idle_short_ms = short_runs(RE, m.sem, args.short, between=store.flush) * 1e3
        RE.unsubscribe(token)
        n_runs = len(store.client())

    bare_ms, bare_all_ms = (_median_ms([b[i] for b in bare]) for i in (0, 1))
    stored_ms, stored_all_ms = (_median_ms([s[i] for s in stored]) for i in (0, 1))
    print(f"detector: m.sem 1536x1024, {args.num} frames/run, {args.repeats} runs each way")
    print(f"fsync every document: {args.fsync}; medians")
    print(f"bare render                : {render_ms:8.2f} ms/frame")
    print(f"count, no store            : {bare_ms:8.2f} ms/frame   {bare_all_ms:8.2f} incl. close")
    print(
        f"count, with store          : {stored_ms:8.2f} ms/frame   {stored_all_ms:8.2f} incl. close"
    )
    print(f"store over bare render     : {stored_ms - render_ms:8.2f} ms/frame (target <= 15)")
    print(f"store over count, no store : {stored_ms - bare_ms:8.2f} ms/frame")
    print(f"1-frame run, no store      : {bare_short_ms:8.1f} ms RunEngine time")
    print(f"1-frame run, with store    : {stored_short_ms:8.1f} ms RunEngine time (back to back)")
    print(f"  ... flushed between runs : {idle_short_ms:8.1f} ms RunEngine time")
    print(f"flush after the back-to-back runs: {flush_s * 1e3:8.1f} ms")
    print(f"runs in catalog: {n_runs} (data in {data_dir})")


if __name__ == "__main__":
    main()
