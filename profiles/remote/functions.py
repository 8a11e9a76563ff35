"""Functions a remote client runs in the queueserver worker (`function_execute`):
choose the supervisor, list waiting questions, answer one; where the documents are
published; what a catalogue plan returned. Their values are JSON."""

from __future__ import annotations

from typing import Any

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.supervision import AutoSupervisor

from .supervisor import RemoteSupervisor

SUPERVISOR_MODES = ("automatic", "remote")


class RemoteFunctions:
    """Bound to the worker's microscope; the startup profile puts the methods in the
    worker's namespace under their own names."""

    def __init__(self, microscope: Microscope, documents: str | None = None) -> None:
        self._microscope = microscope
        self._documents = documents
        self.remote = RemoteSupervisor()
        self.results: dict[str, Any] = {}  # catalogue plan name -> its last return value

    def use_supervisor(self, mode: str) -> str:
        """'remote': questions wait for a client's answer; 'automatic': the default."""
        if mode not in SUPERVISOR_MODES:
            raise ValueError(f"mode: got {mode!r}; allowed: {', '.join(SUPERVISOR_MODES)}")
        backend = self.remote if mode == "remote" else AutoSupervisor()
        self._microscope.supervisor.use(backend)
        return backend.name

    def supervisor_questions(self) -> list[dict[str, Any]]:
        """The questions waiting for an answer (each with its `id`)."""
        return self.remote.questions()

    def answer_supervisor(
        self,
        question_id: str,
        action: str = "accept",
        dx_m: float = 0.0,
        dy_m: float = 0.0,
        note: str = "",
    ) -> str:
        """Answer a waiting question: accept, move by (dx_m, dy_m) metres, or abort."""
        self.remote.answer(
            question_id, {"action": action, "dx_m": dx_m, "dy_m": dy_m, "note": note}
        )
        return question_id

    def document_address(self) -> str | None:
        """The 0MQ address the worker publishes its documents on (profiles/remote/documents.py)."""
        return self._documents

    def plan_result(self, plan: str) -> Any:
        """What the catalogue plan `plan` returned when it last ran (None before)."""
        return self.results.get(plan)

    def namespace(self) -> dict[str, Any]:
        return {
            "use_supervisor": self.use_supervisor,
            "supervisor_questions": self.supervisor_questions,
            "answer_supervisor": self.answer_supervisor,
            "document_address": self.document_address,
            "plan_result": self.plan_result,
        }


__all__ = ["SUPERVISOR_MODES", "RemoteFunctions"]
