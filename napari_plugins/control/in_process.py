"""`InProcessRunner`: a real bluesky RunEngine in this process, fed from a queue by one
worker thread, so a widget's click never waits for the microscope."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from bluesky import RunEngine
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd.devices.microscope import Microscope

from .catalogue import PlanFactory, build
from .runner import DocumentCallback, PlanOutcome, PlanRequest

_STOP_WORKER = object()


def _cause(error: BaseException) -> BaseException:
    """The device's own error inside bluesky's `FailedStatus` (whose text is the
    status object's repr), else `error`."""
    from bluesky.utils import FailedStatus

    if isinstance(error, FailedStatus) and error.args:
        exception = getattr(error.args[0], "exception", None)
        inner = exception() if callable(exception) else None
        if isinstance(inner, BaseException):
            return inner
    return error


def user_message(error: BaseException) -> str:
    """One line for the widget: the exception's text (devices and plans name the field
    and the allowed range), prefixed by its kind when that helps (interlocks)."""
    error = _cause(error)
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    kind = type(error).__name__
    if kind in ("ValueError", "ValidationError", "KeyError") or not text:
        return text or kind
    return f"{kind}: {text}"


class InProcessRunner:
    """Runs catalogue plans on `RE` against `microscope`, one at a time, in order.

    The RunEngine must not install its Ctrl-C handler (that needs the main thread):
    create it with ``RunEngine(context_managers=[])``; this class empties the list."""

    def __init__(
        self,
        RE: RunEngine,
        microscope: Microscope,
        catalogue: dict[str, PlanFactory] | None = None,
    ) -> None:
        RE.context_managers = []
        self.RE = RE
        self.microscope = microscope
        self._catalogue = catalogue
        self._subscribers: list[DocumentCallback] = []
        self._received: list[PlanRequest] = []
        self._queue: queue.Queue[Any] = queue.Queue()
        self._running = threading.Event()
        self._stop_reason = ""
        self._worker = threading.Thread(target=self._work, name="plan-runner", daemon=True)
        self._worker.start()

    # --- PlanRunner -----------------------------------------------------------------
    def submit(
        self, request: PlanRequest, done: Callable[[PlanOutcome], None] | None = None
    ) -> None:
        self._received.append(request)
        self._queue.put((request, done))

    def subscribe(self, callback: DocumentCallback) -> None:
        self._subscribers.append(callback)

    def stop(self, reason: str = "stopped from the widget") -> None:
        if not self._running.is_set() or self.RE.state == "idle":
            return
        self._stop_reason = reason
        self.RE.abort(reason)

    @property
    def busy(self) -> bool:
        return self._running.is_set() or not self._queue.empty()

    @property
    def received(self) -> list[PlanRequest]:
        return list(self._received)

    # --- housekeeping ---------------------------------------------------------------
    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Block until every submitted plan has ended (tests, scripts)."""
        done = threading.Event()
        self._queue.put((None, lambda _outcome: done.set()))
        if not done.wait(timeout_s):
            raise TimeoutError(f"plans still running after {timeout_s} s")

    def close(self) -> None:
        self.stop("runner closed")
        self._queue.put(_STOP_WORKER)
        self._worker.join(timeout=30)

    def _dispatch(self, name: str, doc: dict) -> None:
        for callback in list(self._subscribers):
            callback(name, doc)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP_WORKER:
                return
            request, done = item
            if request is None:  # a wait_idle marker
                done(None)
                continue
            self._running.set()
            try:
                outcome = self._run(request)
            finally:
                self._running.clear()
            if done is not None:
                done(outcome)

    def _run(self, request: PlanRequest) -> PlanOutcome:
        self._stop_reason = ""
        try:
            generator = build(self.microscope, request.plan, request.kwargs, self._catalogue)
            result = self.RE(generator, self._dispatch)
        except RunEngineInterrupted:
            return PlanOutcome(request, False, error=self._stop_reason or "interrupted",
                               exit_status="abort")  # fmt: skip
        except Exception as error:  # the plan's or device's refusal, for the user to read
            return PlanOutcome(request, False, error=user_message(error), exit_status="fail")
        status = getattr(result, "exit_status", "success")
        if self._stop_reason or status == "abort":
            reason = self._stop_reason or getattr(result, "reason", "") or "aborted"
            return PlanOutcome(request, False, error=reason, exit_status="abort")
        return PlanOutcome(request, True, result=getattr(result, "plan_result", result))
