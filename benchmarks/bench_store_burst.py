"""A burst of one-frame runs into the embedded store: how long until each is readable.

    python benchmarks/bench_store_burst.py [--runs 50] [--data-dir DIR] [--poll-s 0.01]
                                           [--gap-s 0]

Runs `count([m.sem], num=1)` on the twin `--runs` times back to back, with the store
subscribed. Two clocks per run, both from the time of its stop document:
- in tiled: when the store's writer had the whole run written (`store.wait_for_run`),
  i.e. from when any reader's request gets it. This is the target's figure.
- a reader's view: a separate process (its own tiled client, as a user browsing the
  catalog would have) polls the oldest run it is told of that is not readable yet (the
  store writes runs in order; polling all of them at once would load the server with
  the reader's own requests). A run is readable when the stop document is in the
  catalog and the frame reads back; its time is when the request that first got the
  whole run was sent. One poll is a whole read (several requests), so this clock also
  counts the poll that just missed it.
Prints the median and maximum of both delays, the time from the last stop document
until every run is readable, a reader's time to read one run, and the RunEngine time
per run. Target: every run readable within 1 s of its stop document.
`--gap-s` waits that long between runs (runs as a microscope makes them, seconds apart,
rather than back to back).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

POLL_S = 0.01  # the reader's poll interval (adds at most this to each delay)
GIVE_UP_S = 120.0  # the reader stops when no run became readable for this long


def reader(uri: str, api_key: str, poll_s: float = POLL_S) -> None:
    """Reader process: uids come on stdin; prints `{"uid", "t", "read_s"}` when each is
    readable (`t`: when the successful read began; `read_s`: how long it took), and at
    the end `{"polls"}`: how many times it asked the server. It gives up on
    runs not readable `GIVE_UP_S` after the last one that was (a failed write)."""
    from tiled.client import from_uri

    from fibsem_ophyd.storage import read_images

    client = from_uri(uri, api_key=api_key, trust_env=False)
    pending: list[str] = []
    polls = 0
    progress = time.monotonic()
    lock = threading.Lock()
    closed = threading.Event()

    def listen() -> None:
        for line in sys.stdin:
            with lock:
                pending.append(line.strip())
        closed.set()

    threading.Thread(target=listen, daemon=True).start()
    while True:
        with lock:
            todo = list(pending)
        stuck = closed.is_set() and time.monotonic() - progress > GIVE_UP_S
        if (not todo and closed.is_set()) or stuck:
            print(json.dumps({"polls": polls}), flush=True)
            return
        while todo:
            polls += 1
            asked, t0 = time.time(), time.perf_counter()
            if not _readable(client, todo[0], read_images):
                break
            read_s = time.perf_counter() - t0
            print(json.dumps({"uid": todo[0], "t": asked, "read_s": read_s}), flush=True)
            progress = time.monotonic()
            with lock:
                pending.remove(todo.pop(0))
        time.sleep(poll_s)


def _readable(client: Any, uid: str, read_images: Any) -> bool:
    try:
        run = read_images(client, uid)
    except Exception:  # not there yet, or not whole yet
        return False
    frames = run.images.get("sem")
    return run.stop is not None and frames is not None and frames.shape[0] == 1


def burst(runs: int, data_dir: Path, poll_s: float = POLL_S, gap_s: float = 0.0) -> None:
    from bluesky import RunEngine
    from bluesky.plans import count

    from fibsem_ophyd.connect import connect_microscope
    from fibsem_ophyd.storage import EmbeddedStore, StorageSettings

    RE = RunEngine()  # before the microscope: it connects in the RunEngine's loop
    with EmbeddedStore(StorageSettings(data_dir=data_dir)) as store:
        m = connect_microscope(path_provider=store.path_provider())
        store.subscribe(RE)
        RE(count([m.sem], num=1))  # warm up imports, files, the writer's connection
        store.flush()
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--reader",
                store.uri,
                store.api_key,
                "--poll-s",
                str(poll_s),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        stop_times: dict[str, float] = {}

        def tell(name: str, doc: dict) -> None:
            if name == "start":
                child.stdin.write(doc["uid"] + "\n")  # type: ignore[union-attr]
                child.stdin.flush()  # type: ignore[union-attr]
            elif name == "stop":
                stop_times[doc["run_start"]] = doc["time"]

        RE.subscribe(tell)
        time.sleep(2.0)  # the reader's imports and connection, off the clock
        busy_s = 0.0
        for i in range(runs):
            if i and gap_s:
                time.sleep(gap_s)
            t0 = time.perf_counter()
            RE(count([m.sem], num=1))
            busy_s += time.perf_counter() - t0
        per_run_s = busy_s / runs
        child.stdin.close()
        lines = [json.loads(line) for line in child.stdout]
        readable = {e["uid"]: e["t"] for e in lines if "uid" in e}
        read_s = [e["read_s"] for e in lines if "uid" in e]
        polls = sum(e.get("polls", 0) for e in lines)
        child.wait(timeout=60)
        store.flush()
        written = {uid: store.wait_for_run(uid) for uid in stop_times}

    in_tiled = [w.time - stop_times[uid] for uid, w in written.items() if w.in_tiled]
    delays = [readable[uid] - t for uid, t in stop_times.items() if uid in readable]
    last = max(readable.values()) - max(stop_times.values())
    spacing = f"{gap_s:g} s apart" if gap_s else "back to back"
    print(f"{runs} one-frame runs of m.sem (1536x1024) {spacing}; data in {data_dir}")
    print(f"written to tiled   : {len(in_tiled)}/{len(stop_times)} runs")
    print(
        f"in tiled after stop: median {statistics.median(in_tiled):6.2f} s, "
        f"max {max(in_tiled):6.2f} s (target <= 1 s)"
    )
    print(f"reader             : polls every {poll_s} s; {polls} polls in all")
    print(f"readable by reader : {len(readable)}/{len(stop_times)} runs")
    print(
        f"reader got it after: median {statistics.median(delays):6.2f} s, "
        f"max {max(delays):6.2f} s (from the stop to the request that got it)"
    )
    print(f"reader's read/run  : median {statistics.median(read_s) * 1e3:6.0f} ms")
    print(f"last stop -> all readable by the reader: {last:6.2f} s")
    print(f"RunEngine time/run : {per_run_s * 1e3:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--poll-s", type=float, default=POLL_S, help="the reader's poll interval")
    parser.add_argument("--gap-s", type=float, default=0.0, help="wait between runs")
    parser.add_argument("--reader", nargs=2, metavar=("URI", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        reader(*args.reader, args.poll_s)
        return
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-burst-"))
    burst(args.runs, data_dir, args.poll_s, args.gap_s)


if __name__ == "__main__":
    main()
