"""File modes of the store: private to the user (folders 0700, files 0600) by default.

Three mechanisms, one per writer:
- the tiled server process runs with umask 077, so catalog.db, the writable
  folder and server.json are created private (`SERVER_UMASK`);
- files this process writes (journals, logs, locks, leases) are created with
  mode 0600 (`open_file`, `PrivateRotatingFileHandler`);
- frames are written by detectors (h5py, in this process) into folders made
  0700 here, and each file is chmod-ed 0600 when its stream resource document
  passes through the store's writer (`restrict`); the folder's mode keeps it
  unreachable by others in between.
The session's own umask is left alone: it governs the user's other files too.
`restrict_tree` tightens what older versions (or a shared setting) left readable.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from pathlib import Path

logger = logging.getLogger("fibsem_ophyd.storage")

SERVER_UMASK = 0o077
_OTHERS = 0o077  # group and other permission bits


def restrict(path: Path) -> None:
    """Remove group/other permission bits of `path` (not following a symlink); a path
    owned by another user, or gone meanwhile, is left as it is."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or not stat.S_IMODE(info.st_mode) & _OTHERS:
            return
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            logger.warning("%s belongs to another user; its mode is left as it is", path)
            return
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~_OTHERS)
    except FileNotFoundError:
        return
    except OSError as exc:  # e.g. a file system without Unix modes
        logger.warning("cannot make %s private: %s", path, exc)


def restrict_tree(root: Path) -> None:
    """`restrict` `root` and everything under it (symlinks are not followed)."""
    restrict(root)
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    for entry in entries:
        restrict(Path(entry.path))
        if entry.is_dir(follow_symlinks=False):
            restrict_tree(Path(entry.path))


def make_dir(path: Path, private: bool) -> None:
    """Create `path` (and missing parents); private: `path` itself is made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    if private:
        restrict(path)


def open_file(path: Path, flags: int, private: bool) -> int:
    """`os.open` creating a missing file 0600 when private (an existing one is tightened)."""
    fd = os.open(path, flags, 0o600 if private else 0o666)
    if private:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & _OTHERS:
            os.fchmod(fd, mode & ~_OTHERS)
    return fd


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files (also those made at rotation) are 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in self.mode else os.O_TRUNC)
        fd = open_file(Path(self.baseFilename), flags, private=True)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)
