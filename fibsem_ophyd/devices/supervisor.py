"""The supervisor as a device: a plan writes its question, triggers, and reads the
answer, so every decision and correction is event data in the run."""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, StandardReadable, soft_signal_r_and_setter, soft_signal_rw
from ophyd_async.core import StandardReadableFormat as Format

from ..supervision import AutoSupervisor, Question, SupervisorBackend


class Supervisor(StandardReadable):
    def __init__(self, backend: SupervisorBackend | None = None, name: str = "") -> None:
        self.backend: SupervisorBackend = backend or AutoSupervisor()
        self.question = soft_signal_rw(str, "")  # a Question as JSON
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.asked, self._set_asked = soft_signal_r_and_setter(str, "")
            self.action, self._set_action = soft_signal_r_and_setter(str, "")
            self.dx_m, self._set_dx = soft_signal_r_and_setter(float, 0.0, units="m")
            self.dy_m, self._set_dy = soft_signal_r_and_setter(float, 0.0, units="m")
            self.note, self._set_note = soft_signal_r_and_setter(str, "")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.mode, self._set_mode = soft_signal_r_and_setter(str, self.backend.name)
        super().__init__(name=name)

    def use(self, backend: SupervisorBackend) -> None:
        """Switch supervisor (automatic, terminal, a UI callback)."""
        self.backend = backend
        self._set_mode(backend.name)

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        question = Question.model_validate_json(await self.question.get_value())
        answer = await self.backend.ask(question)
        self._set_asked(question.model_dump_json())
        self._set_action(answer.action)
        self._set_dx(answer.dx_m)
        self._set_dy(answer.dy_m)
        self._set_note(answer.note)
