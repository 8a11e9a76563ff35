"""`InProcessRunner`: a real bluesky RunEngine in this process, fed from a queue by one
worker thread, so a widget's click never waits for the microscope."""

from __future__ import annotations

from bluesky import RunEngine
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd.devices.microscope import Microscope

from .catalogue import PlanFactory, build
from .queued import QueuedRunner
from .runner import PlanOutcome, PlanRequest


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


class InProcessRunner(QueuedRunner):
    """Runs catalogue plans on `RE` against `microscope`, one at a time, in order.

    The RunEngine must not install its Ctrl-C handler (that needs the main thread):
    create it with ``RunEngine(context_managers=[])``; this class empties the list."""

    def __init__(
        self,
        RE: RunEngine,
        microscope: Microscope,
        catalogue: dict[str, PlanFactory] | None = None,
    ) -> None:
        super().__init__()
        RE.context_managers = []
        self.RE = RE
        self.microscope = microscope
        self._catalogue = catalogue
        self._start_worker("plan-runner")

    def stop(self, reason: str = "stopped from the widget") -> None:
        if not self._running.is_set() or self.RE.state == "idle":
            return
        self._stop_reason = reason
        self.RE.abort(reason)

    def close(self) -> None:
        self.stop("runner closed")
        self._end_worker()

    def _outcome(self, request: PlanRequest) -> PlanOutcome:
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
