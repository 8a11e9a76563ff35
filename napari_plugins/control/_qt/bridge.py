"""Runner callbacks (documents, outcomes, frames) re-emitted as Qt signals, so the
widgets handle them on the Qt thread."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from qtpy.QtCore import QObject, Signal

from ..frames import FrameCollector
from ..runner import PlanOutcome, PlanRequest, PlanRunner


class RunnerBridge(QObject):
    document = Signal(str, object)
    frame = Signal(object)
    detections = Signal(object)
    _finished = Signal(int, object)

    def __init__(self, runner: PlanRunner) -> None:
        super().__init__()
        self.runner = runner
        self.collector = FrameCollector(self.frame.emit, self.detections.emit)
        runner.subscribe(self.collector)
        runner.subscribe(self.document.emit)
        self._callbacks: dict[int, Callable[[PlanOutcome], None]] = {}
        self._tokens = itertools.count()
        self._finished.connect(self._on_finished)

    def submit(
        self, request: PlanRequest, done: Callable[[PlanOutcome], None] | None = None
    ) -> None:
        """Submit; `done(outcome)` is called on the Qt thread."""
        token = next(self._tokens)
        if done is not None:
            self._callbacks[token] = done
        self.runner.submit(request, lambda outcome: self._finished.emit(token, outcome))

    def _on_finished(self, token: int, outcome: PlanOutcome) -> None:
        callback = self._callbacks.pop(token, None)
        if callback is not None:
            callback(outcome)
