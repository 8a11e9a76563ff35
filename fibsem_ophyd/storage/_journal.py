"""Append-only document journal: one JSON-lines file per run, flushed per document.

TiledWriter keeps a run's events and stream datums in memory until the run
ends; the journal is what survives a killed process. Each line is flushed
to the operating system, which keeps it even when the process is killed
(fsync per line is optional: it only matters for power loss).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._private import open_file

logger = logging.getLogger("fibsem_ophyd.storage")

SUFFIX = ".jsonl"


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(name: str, doc: dict) -> str:
    """One journal line for a document (numpy arrays and scalars become JSON)."""
    return json.dumps({"name": name, "doc": doc}, default=_default, separators=(",", ":"))


class RunJournal:
    """The journal file of one run; documents are appended as they are emitted."""

    def __init__(
        self,
        directory: Path,
        run_uid: str,
        fsync_every_document: bool = False,
        private: bool = True,
    ):
        self.path = directory / f"{run_uid}{SUFFIX}"
        self._fsync_all = fsync_every_document
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        fd = open_file(self.path, flags, private)  # 0600: runs' metadata are the user's
        self._file = open(fd, "a", encoding="utf-8")  # noqa: SIM115 (lives for the run)
        # Held while the run is live; the kernel drops it when the process dies,
        # which is how recovery tells a killed run from one still running.
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def append(self, name: str, doc: dict) -> None:
        self._file.write(dumps(name, doc) + "\n")
        self._file.flush()
        # fsync what is rare and structural; per-frame fsync only on request
        if self._fsync_all or name in ("start", "descriptor", "stream_resource", "stop"):
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def discard(self) -> None:
        """The run is safely in tiled: the journal is no longer needed."""
        self.close()
        self.path.unlink(missing_ok=True)


def read_journal(path: Path) -> list[tuple[str, dict]]:
    """Documents of a journal; a line cut short by a kill, or otherwise corrupt (not
    JSON, not a `{"name": str, "doc": dict}` entry, not UTF-8), is dropped and logged
    with the run's uid (the file's name) and the line's number."""
    docs: list[tuple[str, dict]] = []
    with open(path, "rb") as file:
        for number, raw in enumerate(file, 1):
            try:
                entry = json.loads(raw.decode("utf-8"))
                name, doc = entry["name"], entry["doc"]
                if not isinstance(name, str) or not isinstance(doc, dict):
                    raise TypeError("not a document entry")
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
                logger.warning(
                    "run %s: journal %s line %d is corrupt (%s); skipped",
                    path.stem,
                    path,
                    number,
                    type(err).__name__,
                )
                continue
            docs.append((name, doc))
    return docs


@contextlib.contextmanager
def claimed(path: Path) -> Iterator[bool]:
    """Hold the journal's lock while replaying it; yields False if someone else holds it."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:  # recovered meanwhile by another process
        yield False
        return
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def is_live(path: Path) -> bool:
    """True if a living process still holds the journal (its run is going on)."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return True  # gone: recovered or finished meanwhile; not ours to touch
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
        return False


def pending_journals(directory: Path) -> Iterator[Path]:
    """Journals of runs that ended without reaching tiled (no live writer), oldest first."""
    if directory.is_dir():
        paths = sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        yield from (path for path in paths if not is_live(path))
