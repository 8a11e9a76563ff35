"""Small Qt helpers for the control widgets: number fields with units, and submitting a
request with its outcome reported in the widget's status line (the shared `StatusLine`:
a refusal is a message, never a traceback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtWidgets import QDoubleSpinBox

from ..._qt.common import StatusLine
from ..runner import PlanOutcome, PlanRequest

__all__ = ["StatusLine", "number", "submit"]


def number(value: float, low: float, high: float, decimals: int, suffix: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(f" {suffix}")
    box.setKeyboardTracking(False)
    return box


def submit(
    widget: Any,
    request: PlanRequest,
    then: Callable[[PlanOutcome], None] | None = None,
) -> None:
    """Submit through the widget's context; the status line says what runs and how it
    ended (the plan's own message on a refusal)."""
    widget.status.info(f"{request.title}: running…")

    def report(outcome: PlanOutcome) -> None:
        if outcome.ok:
            widget.status.info(f"{request.title}: done")
        elif outcome.exit_status == "abort":
            widget.status.error(f"{request.title}: stopped ({outcome.error})")
        else:
            widget.status.error(f"{request.title} refused/failed: {outcome.error}")
        if then is not None:
            then(outcome)

    widget.context.bridge.submit(request, report)
