"""Spawn, find and terminate the store's tiled server process.

The server runs in its own process (not a thread) so that it keeps its own
GIL away from the RunEngine, survives a crashed or killed session (the next
session adopts it through `server.json`), and can be killed cleanly. Which
sessions use it, and when it stops, is decided in `_sharing.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ._lease import Lease
from ._private import SERVER_UMASK, open_file
from ._settings import CATALOG_ENV_VAR, LOCALHOST, StorageSettings

logger = logging.getLogger("fibsem_ophyd.storage")


@dataclass
class ServerHandle:
    """A running local tiled server; `process` is None when it was adopted; `lease`
    is this session's claim on it (None once given back)."""

    pid: int
    port: int
    process: subprocess.Popen | None
    lease: Lease | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"


def probe(base_url: str, api_key: str, timeout_s: float = 2.0) -> int | None:
    """The HTTP status of an authenticated request to the server (200: ready and
    `api_key` accepted), or None when it does not answer (yet)."""
    try:
        with httpx.Client(trust_env=False, timeout=timeout_s) as http:
            if http.get(f"{base_url}/healthz").status_code != 200:
                return None
            reply = http.get(
                f"{base_url}/api/v1/metadata/", headers={"Authorization": f"Apikey {api_key}"}
            )
            return reply.status_code
    except httpx.HTTPError:
        return None


def answers(base_url: str, api_key: str, timeout_s: float = 2.0) -> bool:
    """True if a tiled server at `base_url` is ready and accepts `api_key`."""
    return probe(base_url, api_key, timeout_s) == 200


def _pid_alive(pid: int) -> bool:
    """True if `pid` runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def is_server_of(pid: int, settings: StorageSettings) -> bool:
    """True if `pid` is this folder's server (not a process that reused its pid)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc: the pid is the best we know
    module = b"fibsem_ophyd.storage._serve"
    if module not in argv or argv.index(module) + 1 >= len(argv):
        return False
    folder = os.fsdecode(argv[argv.index(module) + 1])
    try:
        return os.path.samefile(folder, settings.data_dir)
    except OSError:
        return False


def read_server_file(settings: StorageSettings) -> dict | None:
    try:
        return json.loads(settings.server_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def find_running(settings: StorageSettings, api_key: str) -> ServerHandle | None:
    """The folder's running server, or None. One that lives but is slow to answer
    (busy, or still starting) is waited for up to `startup_timeout_s` rather than
    joined by a second server on the same catalog; one that refuses the key, or
    never answers, is stopped."""
    record = read_server_file(settings)
    if record is None or not is_server_of(record["pid"], settings):
        return None
    handle = ServerHandle(record["pid"], record["port"], None)
    deadline = time.monotonic() + settings.startup_timeout_s
    while (status := probe(handle.base_url, api_key)) is None:
        if not is_server_of(handle.pid, settings):
            return None
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if status == 200:
        return handle
    logger.warning("tiled server pid %d answers %s; stopping it", handle.pid, status)
    terminate(handle.pid, None)
    return None


def spawn(settings: StorageSettings, api_key: str) -> ServerHandle:
    """Start a server on the folder and wait until it answers (hold `server.lock`)."""
    settings.server_file.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    log = open_file(settings.logs_dir / "server.log", flags, settings.private)
    command = [sys.executable, "-m", "fibsem_ophyd.storage._serve"]
    sharing = "private" if settings.private else "shared"
    try:
        process = subprocess.Popen(
            [*command, str(settings.data_dir.absolute()), str(settings.port), sharing],
            env=_child_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the session must not kill the store
            umask=SERVER_UMASK if settings.private else -1,  # catalog.db etc. 0600
        )
    finally:
        os.close(log)  # the child has its own copy
    try:
        return _wait_ready(settings, api_key, process)
    except BaseException:
        terminate(process.pid, process)
        raise


def _child_env(settings: StorageSettings) -> dict[str, str]:
    """This environment, with our package importable even from a source checkout, and
    the catalog database of `settings`."""
    env = dict(os.environ)
    env.pop(CATALOG_ENV_VAR, None)
    if settings.catalog_uri is not None:
        env[CATALOG_ENV_VAR] = settings.catalog_uri
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _wait_ready(settings: StorageSettings, api_key: str, process: subprocess.Popen) -> ServerHandle:
    deadline = time.monotonic() + settings.startup_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (settings.logs_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"tiled server exited with {process.returncode}:\n{tail}")
        record = read_server_file(settings)
        if record and record["pid"] == process.pid:
            handle = ServerHandle(process.pid, record["port"], process)
            if answers(handle.base_url, api_key, timeout_s=1.0):
                return handle
        time.sleep(0.1)
    raise TimeoutError(f"tiled server did not answer within {settings.startup_timeout_s} s")


def terminate(pid: int, process: subprocess.Popen | None, timeout_s: float = 15.0) -> None:
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
