"""The PlanRunner interface: how widgets get plans run, without touching devices.

A widget builds a `PlanRequest` (a plan's name in the catalogue, `plans.catalogue`, and
JSON-able keyword arguments; the microscope is implied) and submits it. The runner runs
it somewhere — in this process on a RunEngine in a background thread
(`InProcessRunner`), or on the project's bluesky-queueserver (`QueueServerRunner`,
chosen by `session.current_runner` when ``$FIBSEM_OPHYD_QUEUESERVER`` names one): it
queues ``BPlan(request.plan, **request.kwargs)`` (the worker offers the catalogue bound
to its microscope), relays the documents the worker publishes (profiles/remote/
documents.py) to the subscribers, and calls `done` once the item has left the queue,
with ok / error / exit_status from its history entry and a read-out's return value from
the worker; `stop` pauses the run at once and aborts it. Refusals — bad input, an
unknown plan, a server that does not answer — come back as `PlanOutcome.error`, one
line, either way.

Callbacks (`done`, document subscribers) are called on the runner's own thread; a Qt
widget re-emits them on the Qt thread (`napari_plugins.control._qt.bridge`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

DocumentCallback = Callable[[str, dict], None]


@dataclass(frozen=True)
class PlanRequest:
    """A plan by catalogue name with keyword arguments (JSON-able: a queueserver can
    carry them); `label` is what a widget shows while it runs."""

    plan: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.plan


@dataclass(frozen=True)
class PlanOutcome:
    """How a submitted plan ended. `error` is a one-line message for the user (the
    exception's own text, which names the field and the allowed range), empty on
    success; `exit_status` is the run's ("success", "abort", "fail") where it opened
    one, else "success"/"fail"."""

    request: PlanRequest
    ok: bool
    result: Any = None
    error: str = ""
    exit_status: str = "success"


class PlanRunner(Protocol):
    """What the widgets need from whoever runs plans."""

    def submit(
        self, request: PlanRequest, done: Callable[[PlanOutcome], None] | None = None
    ) -> None:
        """Queue `request`; call `done(outcome)` when it has ended (any way)."""
        ...

    def subscribe(self, callback: DocumentCallback) -> None:
        """Receive every document of every run the runner executes."""
        ...

    def stop(self, reason: str = "stopped from the widget") -> None:
        """Abort the plan that is running (cleanup runs, the run ends 'abort')."""
        ...

    @property
    def busy(self) -> bool: ...

    @property
    def received(self) -> list[PlanRequest]:
        """Every request submitted, in order (what the widgets asked for)."""
        ...
