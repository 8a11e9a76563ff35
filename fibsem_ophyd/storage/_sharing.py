"""Sessions sharing one data folder's tiled server: the last one out stops it.

Every session that starts or adopts the server holds a lease (`_lease.py`):
`start_server` takes one and `release_server` gives it back, stopping the
server only when no live lease is left. Both run under the folder's
`server.lock`, so two sessions starting at once get one server, and a session
that is starting (or replaying journals in `recover()`) already holds its
lease when another one closes: the server stays up for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator

from ._lease import Lease, live_leases
from ._private import open_file
from ._process import (
    ServerHandle,
    find_running,
    is_server_of,
    read_server_file,
    spawn,
    terminate,
)
from ._settings import StorageSettings

logger = logging.getLogger("fibsem_ophyd.storage")


@contextlib.contextmanager
def locked(settings: StorageSettings) -> Iterator[None]:
    """Serialise start/stop between processes sharing one data folder."""
    fd = open_file(settings.data_dir / "server.lock", os.O_RDWR | os.O_CREAT, settings.private)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # also unlocks


def start_server(settings: StorageSettings, api_key: str) -> ServerHandle:
    """Take a lease and adopt the folder's running server, or start one and wait until
    it answers. Give it back with `release_server`."""
    with locked(settings):
        lease = Lease.take(settings.leases_dir)
        try:
            handle = find_running(settings, api_key)
            if handle is not None:
                logger.info("adopted tiled server pid %d on port %d", handle.pid, handle.port)
            else:
                handle = spawn(settings, api_key)
                logger.info("started tiled server pid %d on port %d", handle.pid, handle.port)
        except BaseException:
            lease.release()
            raise
    handle.lease = lease
    return handle


def release_server(settings: StorageSettings, handle: ServerHandle) -> bool:
    """Give this session's lease back; stop the server if no other session holds a
    live lease (the last one out). Returns True if the server was stopped."""
    with locked(settings):
        if handle.lease is not None:
            handle.lease.release()
            handle.lease = None
        others = live_leases(settings.leases_dir)
        if not others:
            _stop_locked(settings, handle)
            return True
    logger.info("left tiled server pid %d to %d other session(s)", handle.pid, len(others))
    if handle.process is not None:
        # We are its parent: reap it whenever the last session stops it.
        threading.Thread(
            target=handle.process.wait, name="tiled-server-reaper", daemon=True
        ).start()
    return False


def stop_server(settings: StorageSettings, handle: ServerHandle) -> None:
    """Stop the server now, whoever uses it (SIGTERM, then SIGKILL after 15 s)."""
    with locked(settings):
        _stop_locked(settings, handle)


def _stop_locked(settings: StorageSettings, handle: ServerHandle) -> None:
    if handle.process is None and not is_server_of(handle.pid, settings):
        logger.info("tiled server pid %d is gone already", handle.pid)
    else:
        terminate(handle.pid, handle.process)
        logger.info("stopped tiled server pid %d", handle.pid)
    record = read_server_file(settings)
    if record and record["pid"] == handle.pid:
        settings.server_file.unlink(missing_ok=True)
