"""One background thread running submitted jobs in order, with a bounded queue.

`submit` blocks while the queue is full (backpressure keeps memory bounded when
the consumer is slower than the producer); `flush` waits until every job
submitted so far has run. The thread is a daemon, started on the first job and
stopped by `stop`; whoever owns it drains it at exit (see `DurableTiledWriter`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("fibsem_ophyd.storage")

Job = Callable[[], None]


class OrderedWorker:
    """Run jobs one at a time, in submission order, on a single daemon thread."""

    def __init__(self, name: str, maxsize: int = 4096):
        self._name = name
        self._maxsize = maxsize
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=maxsize)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # submitted and not yet run
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished."""
        with self._lock:
            return self._pending

    def submit(self, job: Job) -> None:
        """Queue `job`; blocks while `maxsize` jobs are waiting."""
        with self._lock:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                # a queue per thread: a stopping thread's end marker stays in its own
                self._queue = queue.Queue(maxsize=self._maxsize)
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name=self._name, daemon=True
                )
                self._thread.start()
            jobs = self._queue
        jobs.put(job)

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every submitted job has run; False if `timeout_s` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self, timeout_s: float | None = None) -> bool:
        """Drain, then end the thread; False (thread left running) if not drained in time.
        A later `submit` starts a new thread."""
        if not self.flush(timeout_s):
            return False
        with self._lock:
            thread, self._thread, jobs = self._thread, None, self._queue
        if thread is not None and thread.is_alive():
            jobs.put(None)
            thread.join(timeout_s)
        return True

    def _run(self, jobs: queue.Queue[Job | None]) -> None:
        while (job := jobs.get()) is not None:
            try:
                job()
            except Exception:  # a job handles its own errors; this is the last guard
                logger.exception("%s: job failed", self._name)
            finally:
                with self._idle:
                    self._pending -= 1
                    if not self._pending:
                        self._idle.notify_all()
