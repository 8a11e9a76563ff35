"""Helper process for test_recovery: count frames into the store until killed.

Usage: python killed_run.py DATA_DIR NUM. Prints "event N" after each event.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bluesky import RunEngine
from bluesky.plans import count
from ophyd_async.core import init_devices
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore


def main(data_dir: Path, num: int) -> None:
    store = EmbeddedStore(data_dir=data_dir).start(recover=False)  # adopts the test's server
    RE = RunEngine()
    with init_devices():
        det = SimBlobDetector(store.path_provider(), name="det")
    store.subscribe(RE)

    def announce(name: str, doc: dict) -> None:
        if name == "start":
            print("start", doc["uid"], flush=True)
        elif name == "event":
            print("event", doc["seq_num"], flush=True)

    RE.subscribe(announce)
    RE(count([det], num=num), site="lamella-killed")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
