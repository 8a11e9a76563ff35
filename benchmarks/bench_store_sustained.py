"""Sustained load on the embedded store: many frames with a concurrent reader, and the
memory of a long session.

    python benchmarks/bench_store_sustained.py frames [--frames 1000] [--per-run 50]
    python benchmarks/bench_store_sustained.py session [--runs 500] [--every 50]

`frames`: `count([m.sem], num=per_run)` on the twin until `--frames` frames are taken,
with the store subscribed, while a separate process (its own tiled client) reads the
newest finished run again and again: its first frame and its stop document. Prints the
median and 95th percentile of the RunEngine's time per frame and of the reader's
latency per read, and checks that nothing is lost: after `flush()` every run is in
tiled with as many frames as it had events, and no journal is left.

`session`: `--runs` one-frame runs; every `--every` runs the store is flushed and the
resident memory (RSS) of the session process and of the tiled server is sampled.
Prints the samples and the growth from the first to the last sample.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def reader(uri: str, api_key: str) -> None:
    """Reader process: until stdin closes, read the newest finished run (its stop
    document and first frame, as a user browsing would); print `{"latency_s": ...}`
    per read."""
    import threading

    from tiled.client import from_uri

    client = from_uri(uri, api_key=api_key, trust_env=False).v3
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.is_set():
        t0 = time.perf_counter()
        try:
            for uid in client.keys()[-1:-4:-1]:  # the newest three, newest first
                run = client[uid]
                if run.metadata.get("stop") is not None and "sem" in run["primary"].base:
                    _ = run["primary"].base["sem"][0]  # reads one frame
                    print(json.dumps({"latency_s": time.perf_counter() - t0}), flush=True)
                    break
        except Exception as err:  # a run being written: try again
            print(json.dumps({"error": f"{type(err).__name__}: {err}"[:200]}), flush=True)
        time.sleep(0.05)


def _setup(data_dir: Path) -> tuple[Any, Any, Any]:
    from bluesky import RunEngine

    from fibsem_ophyd.connect import connect_microscope
    from fibsem_ophyd.storage import EmbeddedStore, StorageSettings

    RE = RunEngine()
    store = EmbeddedStore(StorageSettings(data_dir=data_dir)).start()
    m = connect_microscope(path_provider=store.path_provider())
    store.subscribe(RE)
    return RE, store, m


def frames(total: int, per_run: int, data_dir: Path) -> None:
    from bluesky.plans import count

    from fibsem_ophyd.storage import read_images

    RE, store, m = _setup(data_dir)
    try:
        RE(count([m.sem], num=1))  # warm up
        store.flush()
        child = subprocess.Popen(
            [sys.executable, __file__, "--reader", store.uri, store.api_key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        event_times: list[float] = []
        RE.subscribe(lambda name, doc: event_times.append(time.perf_counter()), "event")
        uids: list[str] = []
        runs = -(-total // per_run)
        t0 = time.perf_counter()
        for i in range(runs):
            uids.extend(RE(count([m.sem], num=min(per_run, total - i * per_run))))
        taken_s = time.perf_counter() - t0
        store.flush(timeout_s=3600)
        flushed_s = time.perf_counter() - t0
        assert child.stdin is not None and child.stdout is not None
        child.stdin.close()
        lines = [json.loads(line) for line in child.stdout]
        child.wait(timeout=60)
        client = store.client()
        lost = []
        for uid in uids:
            run = read_images(client, uid)
            if run.stop is None or run.images["sem"].shape[0] != run.stop["num_events"]["primary"]:
                lost.append(uid)
        in_tiled = sum(read_images(client, u).images["sem"].shape[0] for u in uids)
        journals = list(store.settings.journal_dir.glob("*.jsonl"))
    finally:
        store.stop()
    per_frame = [b - a for a, b in itertools.pairwise(event_times)]
    latency = [x["latency_s"] for x in lines if "latency_s" in x]
    errors = [x["error"] for x in lines if "error" in x]
    print(f"{total} frames of m.sem (1536x1024), {len(uids)} runs of {per_run}; in {data_dir}")
    print(f"RunEngine time/frame: median {statistics.median(per_frame) * 1e3:7.1f} ms, "
          f"p95 {_p95(per_frame) * 1e3:7.1f} ms; all taken in {taken_s:6.1f} s, "
          f"in tiled after {flushed_s:6.1f} s")  # fmt: skip
    if latency:
        print(f"reader latency/read : median {statistics.median(latency) * 1e3:7.1f} ms, "
              f"p95 {_p95(latency) * 1e3:7.1f} ms over {len(latency)} reads "
              f"({len(errors)} retried)")  # fmt: skip
    else:
        print(f"reader: no read succeeded ({len(errors)} errors; first: {errors[:1]})")
    print(f"nothing lost       : {in_tiled}/{total} frames in tiled, {len(lost)} runs short, "
          f"{len(journals)} journals left")  # fmt: skip


def session(runs: int, every: int, data_dir: Path) -> None:
    from bluesky.plans import count

    RE, store, m = _setup(data_dir)
    samples: list[tuple[int, float, float]] = []
    try:
        assert store._server is not None
        server_pid = store._server.pid
        for i in range(1, runs + 1):
            RE(count([m.sem], num=1))
            if i % every == 0 or i == 1:
                store.flush(timeout_s=3600)
                samples.append((i, _rss_mb(os.getpid()), _rss_mb(server_pid)))
                print(f"after {i:4d} runs: session {samples[-1][1]:7.1f} MB, "
                      f"server {samples[-1][2]:7.1f} MB", flush=True)  # fmt: skip
    finally:
        store.stop()
    (n0, s0, v0), (n1, s1, v1) = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    print(f"growth from run {n0} to {n1}: session {s1 - s0:+.1f} MB "
          f"({(s1 - s0) / max(1, n1 - n0) * 1e3:+.1f} kB/run), server {v1 - v0:+.1f} MB "
          f"({(v1 - v0) / max(1, n1 - n0) * 1e3:+.1f} kB/run)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["frames", "session"], default="frames")
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--per-run", type=int, default=50)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--reader", nargs=2, metavar=("URI", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        reader(*args.reader)
        return
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-sustained-"))
    if args.mode == "frames":
        frames(args.frames, args.per_run, data_dir)
    else:
        session(args.runs, args.every, data_dir)


if __name__ == "__main__":
    main()
