"""Servers the remote-operation tests start themselves: on 127.0.0.1, free ports,
temporary folders, stopped afterwards. A missing server binary skips the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def binary(name: str, *folders: str) -> str:
    """The server binary `name` (on PATH or in `folders`), or skip with the reason."""
    found = shutil.which(name) or next(
        (str(Path(f) / name) for f in folders if (Path(f) / name).is_file()), None
    )
    if found is None:
        pytest.skip(f"{name} is not installed (`make sysdeps` installs the Debian packages)")
    return found


def wait_until(ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout_s} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def stop(process: subprocess.Popen, timeout_s: float = 20.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A private Redis (no persistence) on a free port; yields 'host:port'."""
    exe = binary("redis-server")
    port = free_port()
    args = [exe, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", str(folder)], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), 10.0, "redis-server")
        yield f"{HOST}:{port}"
    finally:
        stop(process)
