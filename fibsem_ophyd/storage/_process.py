"""Start, find and stop the store's tiled server process.

The server runs in its own process (not a thread) so that it keeps its own
GIL away from the RunEngine, survives a crashed or killed session (the next
session adopts it through `server.json`), and can be killed cleanly.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from ._settings import LOCALHOST, StorageSettings

logger = logging.getLogger("fibsem_ophyd.storage")


@dataclass
class ServerHandle:
    """A running local tiled server; `process` is None when it was adopted."""

    pid: int
    port: int
    process: subprocess.Popen | None

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"


def answers(base_url: str, api_key: str, timeout_s: float = 2.0) -> bool:
    """True if a tiled server at `base_url` is ready and accepts `api_key`."""
    try:
        with httpx.Client(trust_env=False, timeout=timeout_s) as http:
            if http.get(f"{base_url}/healthz").status_code != 200:
                return False
            reply = http.get(
                f"{base_url}/api/v1/metadata/", headers={"Authorization": f"Apikey {api_key}"}
            )
            return reply.status_code == 200
    except httpx.HTTPError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(settings: StorageSettings) -> Iterator[None]:
    """Serialise start/stop between processes sharing one data folder."""
    with open(settings.data_dir / "server.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_server_file(settings: StorageSettings) -> dict | None:
    try:
        return json.loads(settings.server_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def find_running(settings: StorageSettings, api_key: str) -> ServerHandle | None:
    record = _read_server_file(settings)
    if record is None or not _pid_alive(record["pid"]):
        return None
    handle = ServerHandle(record["pid"], record["port"], None)
    return handle if answers(handle.base_url, api_key) else None


def start_server(settings: StorageSettings, api_key: str) -> ServerHandle:
    """Adopt the data folder's running server, or start one and wait until it answers."""
    with _locked(settings):
        running = find_running(settings, api_key)
        if running is not None:
            logger.info("adopted tiled server pid %d on port %d", running.pid, running.port)
            return running
        settings.server_file.unlink(missing_ok=True)
        log = open(settings.logs_dir / "server.log", "ab")  # noqa: SIM115 (child keeps it)
        command = [sys.executable, "-m", "fibsem_ophyd.storage._serve"]
        process = subprocess.Popen(
            [*command, str(settings.data_dir), str(settings.port)],
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the session must not kill the store
        )
        log.close()
        try:
            handle = _wait_ready(settings, api_key, process)
        except BaseException:
            _terminate(process.pid, process)
            raise
    logger.info("started tiled server pid %d on port %d", handle.pid, handle.port)
    return handle


def _child_env() -> dict[str, str]:
    """This environment, with our package importable even from a source checkout."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _wait_ready(settings: StorageSettings, api_key: str, process: subprocess.Popen) -> ServerHandle:
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (settings.logs_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"tiled server exited with {process.returncode}:\n{tail}")
        record = _read_server_file(settings)
        if record and record["pid"] == process.pid:
            handle = ServerHandle(process.pid, record["port"], process)
            if answers(handle.base_url, api_key, timeout_s=1.0):
                return handle
        time.sleep(0.1)
    raise TimeoutError(f"tiled server did not answer within {settings.startup_timeout_s} s")


def _terminate(pid: int, process: subprocess.Popen | None, timeout_s: float = 15.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return
        if process is None and not _pid_alive(pid):
            return
        time.sleep(0.05)
    logger.warning("tiled server pid %d ignored SIGTERM; killing it", pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.wait()


def stop_server(settings: StorageSettings, handle: ServerHandle) -> None:
    """Stop a server this process started (SIGTERM, then SIGKILL after 15 s)."""
    with _locked(settings):
        _terminate(handle.pid, handle.process)
        record = _read_server_file(settings)
        if record and record["pid"] == handle.pid:
            settings.server_file.unlink(missing_ok=True)
    logger.info("stopped tiled server pid %d", handle.pid)
