"""What both plan runners share: requests queue up and one worker thread of the runner
works through them in order (so a widget's click never waits), document subscribers,
the record of what was asked, and waiting until everything asked has ended."""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from .runner import DocumentCallback, PlanOutcome, PlanRequest

STOP_WORKER = object()  # put on the queue: the worker thread ends


class QueuedRunner(ABC):
    """Base of `InProcessRunner` and `QueueServerRunner`: its worker thread takes
    `(request, done)` items, has the subclass's `_outcome` run each request and calls
    `done(outcome)`; a `request` of None is a `wait_idle` marker; `STOP_WORKER` ends it."""

    wait_timeout_s = 60.0

    def __init__(self) -> None:
        self._subscribers: list[DocumentCallback] = []
        self._received: list[PlanRequest] = []
        self._queue: queue.Queue[Any] = queue.Queue()
        self._running = threading.Event()
        self._stop_reason = ""
        self._worker: threading.Thread | None = None

    def _start_worker(self, name: str) -> None:
        self._worker = threading.Thread(target=self._work, name=name, daemon=True)
        self._worker.start()

    def _end_worker(self) -> None:
        self._queue.put(STOP_WORKER)
        if self._worker is not None:
            self._worker.join(timeout=30)

    @abstractmethod
    def _outcome(self, request: PlanRequest) -> PlanOutcome:
        """Run `request` (each runner its own way) and say how it ended."""

    def _work(self) -> None:
        while (item := self._queue.get()) is not STOP_WORKER:
            request, done = item
            if request is None:  # a wait_idle marker
                done(None)
                continue
            self._running.set()
            try:
                outcome = self._outcome(request)
            finally:
                self._running.clear()
            if done is not None:
                done(outcome)

    # --- PlanRunner -----------------------------------------------------------------
    def submit(
        self, request: PlanRequest, done: Callable[[PlanOutcome], None] | None = None
    ) -> None:
        self._received.append(request)
        self._queue.put((request, done))

    def subscribe(self, callback: DocumentCallback) -> None:
        self._subscribers.append(callback)

    @property
    def busy(self) -> bool:
        return self._running.is_set() or not self._queue.empty()

    @property
    def received(self) -> list[PlanRequest]:
        return list(self._received)

    def wait_idle(self, timeout_s: float | None = None) -> None:
        """Block until every submitted plan has ended (tests, scripts)."""
        timeout_s = self.wait_timeout_s if timeout_s is None else timeout_s
        done = threading.Event()
        self._queue.put((None, lambda _outcome: done.set()))
        if not done.wait(timeout_s):
            raise TimeoutError(f"plans still running after {timeout_s} s")

    def _dispatch(self, name: str, doc: dict) -> None:
        for callback in list(self._subscribers):
            callback(name, doc)
