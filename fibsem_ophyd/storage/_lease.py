"""Leases: which sessions use the local tiled server of a data folder.

Every session that starts or adopts the server holds a lease: a file in
`leases/` on which it keeps an exclusive `flock` while it lives. The kernel
drops the lock when the process dies, however it dies, so a lease whose lock
can be taken is stale and is removed; neither a reused PID nor a crash can
keep a server alive for nobody, or stop it under somebody. A session that
closes gives its lease back, and stops the server only if no live lease is
left (the last one out), all under the folder's `server.lock`.

A lease is locked before it gets its `.lease` name (rename is atomic), so a
visible lease without a lock always means its session is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from pathlib import Path

from ._private import open_file

logger = logging.getLogger("fibsem_ophyd.storage")

SUFFIX = ".lease"


class Lease:
    """This session's claim on the data folder's server; `release()` gives it back."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, leases_dir: Path) -> Lease:
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        tmp = leases_dir / f".{name}.tmp"
        fd = open_file(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, private=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode())
            path = leases_dir / f"{name}{SUFFIX}"
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lease (still locked, so nobody sees it stale), then unlock it."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _is_live(path: Path) -> bool:
    """True if a living process holds the lease's lock (also one in this process)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also unlocks
    return False


def live_leases(leases_dir: Path) -> list[Path]:
    """The leases of living sessions; stale ones (their session died) are removed."""
    live: list[Path] = []
    with contextlib.suppress(FileNotFoundError):
        for path in sorted(leases_dir.glob(f"*{SUFFIX}")):
            if _is_live(path):
                live.append(path)
            else:
                logger.info("removing stale lease %s (its session is gone)", path.name)
                path.unlink(missing_ok=True)
    return live
