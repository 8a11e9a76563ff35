"""Sessions sharing one data folder's server: it stays up while any of them uses it, the
last one out stops it, and a killed session's lease does not keep it up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from bluesky import RunEngine
from bluesky.plans import count

from fibsem_ophyd.storage import EmbeddedStore, read_images
from fibsem_ophyd.storage._process import answers

ROOT = Path(__file__).resolve().parents[2]
SESSION = """
import sys, time
from fibsem_ophyd.storage import EmbeddedStore
store = EmbeddedStore(data_dir=sys.argv[1]).start(recover=False)
print("ready", store._server.pid, flush=True)
time.sleep(600)
"""


def _session_process(data_dir: Path) -> subprocess.Popen:
    """Another session (its own process) on `data_dir`; prints "ready PID" once started."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-c", SESSION, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )


def _gone(pid: int, timeout_s: float = 20.0) -> bool:
    """True once `pid` has exited (a zombie counts as exited)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def _leases(store: EmbeddedStore) -> list[str]:
    return sorted(p.name for p in store.settings.leases_dir.glob("*.lease"))


def _count(store: EmbeddedStore, RE: RunEngine, detector_for, num: int = 2) -> str:
    det = detector_for(store)
    token = store.subscribe(RE)
    (uid,) = RE(count([det], num=num))
    RE.unsubscribe(token)
    store.flush()
    return uid


def test_first_out_leaves_the_server_to_the_second(
    tmp_path: Path, RE: RunEngine, detector_for
) -> None:
    first = EmbeddedStore(data_dir=tmp_path / "data").start()
    second = EmbeddedStore(first.settings).start()
    try:
        assert first._server and first._server.process is not None  # started it
        assert second._server and second._server.process is None  # adopted it
        assert second.uri == first.uri and len(_leases(first)) == 2
        pid, key = first._server.pid, first.api_key
        earlier = _count(first, RE, detector_for)
        first.stop()  # the starter leaves first
        assert not _gone(pid, timeout_s=0.5) and answers(second.uri[: -len("/api/v1")], key)
        assert len(_leases(second)) == 1
        later = _count(second, RE, detector_for, num=3)  # the second still writes ...
        client = second.client()  # ... and reads, also what the first one wrote
        assert read_images(client, earlier).images["det"].shape[0] == 2
        again = read_images(client, later)
        assert again.images["det"].shape[0] == 3 and again.stop["exit_status"] == "success"
    finally:
        first.stop()
        second.stop()  # the last one out stops it
    assert _gone(pid)
    assert not second.settings.server_file.exists() and _leases(second) == []


def test_closing_while_another_session_recovers(tmp_path: Path) -> None:
    first = EmbeddedStore(data_dir=tmp_path / "data").start()
    second = EmbeddedStore(first.settings)
    recover = second.recover

    def first_closes_then_recover() -> list[str]:
        first.stop()  # the timing that crashed recover(): the server went away
        return recover()

    second.recover = first_closes_then_recover  # type: ignore[method-assign]
    try:
        second.start()  # holds its lease before recover(): the server stays up
        assert first._server is None and len(second.client()) == 0
    finally:
        second.stop()


def test_sessions_starting_at_once_share_one_server(tmp_path: Path) -> None:
    stores = [EmbeddedStore(data_dir=tmp_path / "data") for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda s: s.start(), stores))
    try:
        handles = [s._server for s in stores]
        assert all(h is not None for h in handles)
        assert len({h.pid for h in handles if h}) == 1
        assert sum(h.process is not None for h in handles if h) == 1
        pid = stores[0]._server.pid if stores[0]._server else 0
        for store in stores[:-1]:
            store.stop()
            assert not _gone(pid, timeout_s=0.2)
    finally:
        for store in stores:
            store.stop()
    assert _gone(pid)


def test_killed_sessions_lease_is_ignored(tmp_path: Path) -> None:
    first = EmbeddedStore(data_dir=tmp_path / "data").start()
    child = _session_process(first.settings.data_dir)
    try:
        assert child.stdout is not None
        word, pid = child.stdout.readline().split()
        assert word == "ready" and first._server and int(pid) == first._server.pid
        first.stop()  # the child still uses it
        assert not _gone(int(pid), timeout_s=0.5) and len(_leases(first)) == 1
        child.send_signal(signal.SIGKILL)  # dies holding its lease
        child.wait(timeout=30)
        third = EmbeddedStore(first.settings).start()  # adopts the orphaned server
        assert third._server and third._server.pid == int(pid)
        third.stop()  # the killed session's lease is stale: this was the last one
        assert _gone(int(pid)) and _leases(third) == []
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        first.stop()


def test_adopted_server_outlives_the_starter_process(tmp_path: Path) -> None:
    """The starter's process exits while another session still reads: nothing breaks,
    and that session's close stops the (now orphaned) server."""
    child = _session_process(tmp_path / "data")
    assert child.stdout is not None
    pid = int(child.stdout.readline().split()[1])
    second = EmbeddedStore(data_dir=tmp_path / "data").start()
    try:
        child.terminate()  # the starter's session ends (SIGTERM: no clean close)
        child.wait(timeout=30)
        auth = {"Authorization": f"Apikey {second.api_key}"}
        with httpx.Client(trust_env=False) as http:
            assert http.get(f"{second.uri}/metadata/", headers=auth).status_code == 200
        assert len(second.client()) == 0
    finally:
        second.stop()
    assert _gone(pid)


def test_busy_server_is_waited_for_not_doubled(tmp_path: Path) -> None:
    """A server too busy to answer at once (here: stopped for 3 s) is adopted, not
    joined by a second server on the same catalog."""
    first = EmbeddedStore(data_dir=tmp_path / "data").start()
    assert first._server is not None
    pid = first._server.pid
    second = EmbeddedStore(first.settings)
    wake = threading.Timer(3.0, os.kill, (pid, signal.SIGCONT))
    try:
        os.kill(pid, signal.SIGSTOP)
        wake.start()
        second.start()
        assert second._server is not None and second._server.pid == pid
    finally:
        wake.cancel()
        os.kill(pid, signal.SIGCONT)
        second.stop()
        first.stop()
    assert _gone(pid)
