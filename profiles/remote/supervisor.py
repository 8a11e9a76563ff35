"""A supervisor answered from another process: questions wait here until a remote
client (the queueserver API, a napari widget) answers them.

In the queueserver worker, `RemoteSupervisor.ask` runs on the RunEngine's event loop
and waits; `answer` is called from the thread in which the queueserver executes a
function (`function_execute`), so it hands the answer to the loop thread-safely.
Each question is also printed as one line (`SUPERVISOR-QUESTION <id> <json>`), which
the manager publishes with the rest of the console output.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from fibsem_ophyd.supervision import Answer, Question

QUESTION_PREFIX = "SUPERVISOR-QUESTION"


@dataclass
class _Pending:
    question: Question
    future: asyncio.Future[Answer]
    loop: asyncio.AbstractEventLoop


class RemoteSupervisor:
    """Questions are kept until `answer(question_id, ...)` comes; a plan waits meanwhile
    (pause, abort and stop still work: the RunEngine cancels the wait)."""

    name = "remote"

    def __init__(self, announce: Callable[[str], None] | None = None) -> None:
        self._announce = announce or (lambda line: print(line, flush=True))
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    async def ask(self, question: Question) -> Answer:
        loop = asyncio.get_running_loop()
        question_id = uuid.uuid4().hex[:12]
        pending = _Pending(question, loop.create_future(), loop)
        with self._lock:
            self._pending[question_id] = pending
        self._announce(f"{QUESTION_PREFIX} {question_id} {question.model_dump_json()}")
        try:
            return await pending.future
        finally:
            with self._lock:
                self._pending.pop(question_id, None)

    def questions(self) -> list[dict[str, Any]]:
        """The questions waiting for an answer, oldest first (JSON-ready)."""
        with self._lock:
            return [{"id": qid, **p.question.model_dump()} for qid, p in self._pending.items()]

    def answer(self, question_id: str, answer: Answer | dict[str, Any]) -> None:
        """Answer a waiting question. An unknown id or an invalid answer is refused with
        the reason; nothing is answered then."""
        try:
            checked = Answer.model_validate(answer)
        except ValidationError as error:
            raise ValueError(f"answer to {question_id!r} refused: {error}") from None
        with self._lock:
            pending = self._pending.get(question_id)
            if pending is None:
                raise KeyError(
                    f"no waiting question {question_id!r}; waiting: {sorted(self._pending)}"
                )

        def deliver() -> None:
            if not pending.future.done():
                pending.future.set_result(checked)

        pending.loop.call_soon_threadsafe(deliver)


__all__ = ["QUESTION_PREFIX", "RemoteSupervisor"]
