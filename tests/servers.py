"""Servers the remote-operation tests start themselves: on 127.0.0.1, free ports,
temporary folders, stopped afterwards. A missing server binary skips the test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
SHARED_POSTGRES_ENV = "FIBSEM_TEST_POSTGRES"  # a cluster shared by the suite's processes


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


def stop(process: subprocess.Popen, timeout_s: float = 20.0, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
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


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster (trust authentication, 127.0.0.1 only)."""

    port: int
    bindir: Path
    user: str = "fibsem"
    template: str | None = None  # a database that new ones copy

    def uri(self, database: str) -> str:
        return f"postgresql://{self.user}@{HOST}:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of the database `template`); its URI.
        Copies made at once by several processes (xdist workers sharing the cluster) can
        find the template busy for a moment: that is retried."""
        name = f"catalog_{uuid.uuid4().hex[:12]}"
        sql = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        psql = [str(self.bindir / "psql"), "-h", HOST, "-p", str(self.port), "-U", self.user]
        deadline = time.monotonic() + 30.0
        while True:
            done = subprocess.run(
                [*psql, "-d", "postgres", "-qc", sql], capture_output=True, text=True
            )
            if done.returncode == 0:
                return self.uri(name)
            if "being accessed by other users" not in done.stderr or time.monotonic() > deadline:
                raise RuntimeError(f"{sql} failed: {done.stderr.strip()}")
            time.sleep(0.2)

    def to_env(self) -> str:
        """This cluster, for other processes of the suite (`SHARED_POSTGRES_ENV`)."""
        return json.dumps(
            {"port": self.port, "bindir": str(self.bindir), "template": self.template}
        )

    @classmethod
    def from_env(cls) -> PostgresServer | None:
        """The cluster `make test` started for the whole suite, if any."""
        text = os.environ.get(SHARED_POSTGRES_ENV)
        if not text:
            return None
        record = json.loads(text)
        return cls(int(record["port"]), Path(record["bindir"]), template=record["template"])


def postgres_bindir() -> Path:
    """Debian's PostgreSQL programs (the newest version), or skip with the reason."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        pytest.skip("PostgreSQL is not installed (`make sysdeps` installs Debian's postgresql)")
    return found[-1].parent


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb + postgres on a free port in a temporary folder; stopped and removed after.
    PostgreSQL refuses to run as root: as root, it runs as the `postgres` user."""
    bindir = postgres_bindir()
    folder = Path(tempfile.mkdtemp(prefix="fibsem-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    server = PostgresServer(free_port(), bindir)
    data = folder / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", server.user, "-A", "trust",
         "-E", "UTF8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    process = subprocess.Popen(
        [*as_user, str(bindir / "postgres"), "-D", str(data), "-h", HOST, "-p", str(server.port),
         "-k", str(folder), "-F", "-c", "full_page_writes=off"],
        stdout=subprocess.DEVNULL, stderr=(folder / "log").open("w"),
    )  # fmt: skip
    try:
        ready = [str(bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(server.port)]
        wait_until(lambda: subprocess.run(ready).returncode == 0, 30.0, "postgres")
        yield server
    finally:
        # PostgreSQL's fast shutdown, to the postmaster itself (runuser passes no signal on)
        pid_file = data / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        stop(process, sig=signal.SIGINT)
        shutil.rmtree(folder, ignore_errors=True)


def make_catalog_template(server: PostgresServer, data_dir: Path) -> str:
    """An empty tiled catalog in a new database of `server`, for tests to copy (tiled's
    catalog initialisation costs seconds; a copy costs milliseconds); its name."""
    from fibsem_ophyd.storage import EmbeddedStore, StorageSettings

    uri = server.new_database()
    EmbeddedStore(StorageSettings(data_dir=data_dir, catalog_uri=uri)).start().stop()
    return uri.rsplit("/", 1)[1]
