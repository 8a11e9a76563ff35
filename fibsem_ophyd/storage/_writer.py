"""The RunEngine callback that journals every document, then has TiledWriter write it.

The journal append happens in the RunEngine's thread, before the callback
returns: that is the durability promise, and it is cheap (one buffered line,
fsync only for structural documents). Writing to tiled (TiledWriter batches a
run's events and writes them at its end, over HTTP) happens on one background
thread, in document order, so the RunEngine does not wait for it.

A failure to write to tiled never stops the experiment: it is logged, the
run's journal is kept, and `EmbeddedStore.recover()` replays it later. A run's
journal stays locked (so recovery leaves it alone) until tiled has the run.
Call `flush()` (or `EmbeddedStore.flush()`) before reading back runs just taken,
or `wait_for_run(uid)` for one run: it says when tiled had the whole run (the
moment any reader's request gets it) or that its write failed.

With `private_frames`, each frame file under that folder is made 0600 as its
stream resource document passes (the detector created it with the session's
umask, inside the 0700 frames folder that kept it private until then).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ._journal import RunJournal
from ._private import restrict
from ._tiled_writer import tiled_writer
from ._worker import OrderedWorker

logger = logging.getLogger("fibsem_ophyd.storage")

QUEUE_SIZE = 4096  # documents waiting for tiled before the RunEngine is held back
EXIT_TIMEOUT_S = 60.0  # how long interpreter exit waits for tiled; the journal keeps the rest
RUNS_REMEMBERED = 10_000  # finished runs whose outcome `wait_for_run` can still report


@dataclass(frozen=True)
class RunWritten:
    """How the write of one run to tiled ended."""

    uid: str
    in_tiled: bool
    """True: tiled has every document of the run. False: a write failed; the run's
    journal keeps it for `recover()`."""
    time: float
    """When the writer finished with the run (seconds since the epoch, like a stop
    document's ``time``)."""


_live_writers: weakref.WeakSet[DurableTiledWriter] = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


def _drain_at_exit() -> None:
    for writer in list(_live_writers):
        writer.close(EXIT_TIMEOUT_S)


def _register(writer: DurableTiledWriter) -> None:
    global _exit_hook_registered
    with _exit_hook_lock:
        _live_writers.add(writer)
        if not _exit_hook_registered:
            atexit.register(_drain_at_exit)
            _exit_hook_registered = True


def _run_uid_of(name: str, doc: dict, run_of_descriptor: dict[str, str]) -> str | None:
    if name == "start":
        return doc["uid"]
    if "run_start" in doc:
        return doc["run_start"]
    if name in ("event", "event_page", "stream_datum"):
        return run_of_descriptor.get(doc["descriptor"])
    if name in ("datum", "datum_page"):
        return None  # legacy assets carry no run uid; they go to every open run
    return None


class DurableTiledWriter:
    """Journal (optional, synchronous) + TiledWriter (background thread, in order)."""

    def __init__(
        self,
        client: Any,
        journal_dir: Path | None,
        fsync_every_document: bool = False,
        queue_size: int = QUEUE_SIZE,
        private_frames: Path | None = None,
        private_journal: bool = True,
        close_streams: bool = True,
    ):
        # close_streams=False only for a server that neither streams nor calls
        # webhooks (the embedded one): see _tiled_writer.py
        self._writer = tiled_writer(client, close_streams)
        self._journal_dir = journal_dir
        self._fsync = fsync_every_document
        self._private_frames = private_frames
        self._private_journal = private_journal
        self._lock = threading.Lock()  # guards the two dicts below (RunEngine thread, close)
        self._journals: dict[str, RunJournal] = {}  # open runs
        self._run_of_descriptor: dict[str, str] = {}
        self._failed: set[str] = set()  # worker thread only
        self._done: OrderedDict[str, RunWritten] = OrderedDict()  # guarded by _written
        self._seen: OrderedDict[str, None] = OrderedDict()  # started runs, guarded by _written
        self._written = threading.Condition(threading.Lock())
        self._worker = OrderedWorker("fibsem-ophyd-tiled-writer", queue_size)
        _register(self)

    def __call__(self, name: str, doc: dict) -> None:
        if name == "start":
            with self._written:
                self._seen[doc["uid"]] = None
                while len(self._seen) > RUNS_REMEMBERED:
                    self._seen.popitem(last=False)
        with self._lock:
            run_uid = _run_uid_of(name, doc, self._run_of_descriptor)
            runs = [run_uid] if run_uid is not None else list(self._journals)
            if name == "start" and self._journal_dir is not None:
                self._journals[doc["uid"]] = RunJournal(
                    self._journal_dir, doc["uid"], self._fsync, self._private_journal
                )
            if name == "descriptor":
                self._run_of_descriptor[doc["uid"]] = doc["run_start"]
            for uid in runs:
                if uid in self._journals:
                    self._journals[uid].append(name, doc)
            finished: RunJournal | None = None
            if name == "stop":
                finished = self._journals.pop(doc["run_start"], None)
                self._run_of_descriptor = {
                    d: r for d, r in self._run_of_descriptor.items() if r != doc["run_start"]
                }
        if name == "stream_resource" and self._private_frames is not None:
            self._restrict_frames(doc)
        # blocks only when QUEUE_SIZE documents are waiting (bounded memory)
        self._worker.submit(partial(self._write, name, doc, runs, finished))

    def _restrict_frames(self, resource: dict) -> None:
        uri = urlparse(resource.get("uri", ""))
        path = Path(uri.path)
        if uri.scheme == "file" and self._private_frames in path.parents:
            restrict(path)

    @property
    def pending(self) -> int:
        """Documents handed over and not yet written to tiled (or given up on)."""
        return self._worker.pending

    def flush(self, timeout_s: float | None = 60.0) -> bool:
        """Wait until every document so far is written to tiled (or, after a failure,
        left in its journal for replay); False if `timeout_s` passed first."""
        return self._worker.flush(timeout_s)

    def has_seen(self, run_uid: str) -> bool:
        """Whether this writer was given the start document of `run_uid` (one of the
        last `RUNS_REMEMBERED` runs)."""
        with self._written:
            return run_uid in self._seen

    def wait_for_run(self, run_uid: str, timeout_s: float = 60.0) -> RunWritten:
        """Wait until the writer has finished with the run `run_uid` (its stop document
        written, or a write failed); raises TimeoutError if `timeout_s` passes first.
        Only runs whose stop document this writer has been given finish."""
        deadline = time.monotonic() + timeout_s
        with self._written:
            while run_uid not in self._done:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"run {run_uid} not written to tiled within {timeout_s} s "
                        f"({self.pending} document(s) still waiting)"
                    )
                self._written.wait(left)
            return self._done[run_uid]

    def close(self, timeout_s: float | None = 60.0) -> bool:
        """Drain the queue, end the worker thread, and close journals of runs still
        open (they stay pending for recovery). False if not drained in `timeout_s`:
        what is left stays in the journals. The writer can still be called after."""
        drained = self._worker.stop(timeout_s)
        if not drained:
            left = self.pending
            logger.warning("%d document(s) not in tiled yet; their journals keep them", left)
        with self._lock:
            journals, self._journals = list(self._journals.values()), {}
        for journal in journals:
            journal.close()
        return drained

    # -- worker thread -------------------------------------------------------
    def _write(self, name: str, doc: dict, runs: list[str], finished: RunJournal | None) -> None:
        if not runs or any(uid not in self._failed for uid in runs):
            try:
                self._writer(name, doc)
            except Exception:
                logger.exception("tiled write of %s failed; run %s kept in journal", name, runs)
                self._failed.update(runs)
        if name == "stop":
            self._finish(doc["run_start"], finished)

    def _finish(self, run_uid: str, journal: RunJournal | None) -> None:
        in_tiled = run_uid not in self._failed
        # the journal is settled before anyone waiting is told: a failed run's journal
        # must already be pending (unlocked) when wait_for_run returns, so that a
        # recover() called right after it replays the run. They are told even if
        # settling it raises (the worker logs that), rather than left to time out.
        try:
            if not in_tiled:
                self._failed.discard(run_uid)
                if journal is not None:
                    journal.close()
                    logger.warning("run %s is not in tiled yet: recover() will replay it", run_uid)
            elif journal is not None:
                journal.discard()
        finally:
            with self._written:
                self._done[run_uid] = RunWritten(run_uid, in_tiled, time.time())
                while len(self._done) > RUNS_REMEMBERED:
                    self._done.popitem(last=False)
                self._written.notify_all()
