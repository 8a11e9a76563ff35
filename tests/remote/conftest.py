"""The queueserver on the twin for the remote tests: Redis and the RE manager started
with the project's profile (`fibsem-ophyd queueserver`) on free ports, once per module
(starting the manager and opening its worker takes ~30 s; a module's plans change the
twin's state, which the next module must not inherit). A missing `redis-server` or
queueserver package skips them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import HOST, free_port, redis_server, stop, wait_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A RemoteClient of a running manager whose worker environment is open."""
    pytest.importorskip("bluesky_queueserver")
    pytest.importorskip("bluesky_queueserver_api")
    from profiles.remote.client import RemoteClient

    folder = tmp_path_factory.mktemp("queueserver")
    with redis_server(folder) as redis_addr:
        control, info = free_port(), free_port()
        env = {**os.environ, "FIBSEM_OPHYD_DATA": str(folder / "data"), "PYTHONPATH": str(REPO)}
        args = ["--redis-addr", redis_addr, "--control-port", str(control),
                "--info-port", str(info), "--state-dir", str(folder / "state")]  # fmt: skip
        log = (folder / "manager.log").open("w")
        manager = subprocess.Popen(
            [sys.executable, "-m", "profiles.cli", "queueserver", *args],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = RemoteClient(f"tcp://{HOST}:{control}", f"tcp://{HOST}:{info}")
        left: int | None = None
        try:
            wait_until(lambda: client.api.status().get("manager_state") == "idle", 60, "manager")
            client.open_environment(timeout_s=180)
            yield client
            client.close_environment()
            left = _left_tiled_server(folder / "data", wait_s=30)
        finally:
            client.close()
            stop(manager)
            log.close()
            left = _left_tiled_server(folder / "data", wait_s=0)
            if left is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(left, 15)
        assert left is None, "closing the environment left the store's tiled server running"


def _left_tiled_server(data_dir: Path, wait_s: float) -> int | None:
    """The pid of the store's tiled server if it still runs after `wait_s` (the worker
    gives it back when its environment closes)."""
    record = data_dir / "server.json"
    if not record.exists():
        return None
    pid = int(json.loads(record.read_text())["pid"])
    deadline = time.monotonic() + wait_s
    while Path(f"/proc/{pid}").exists():
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        if status == "Z" or time.monotonic() > deadline:
            return pid if status != "Z" else None
        time.sleep(0.2)
    return None
