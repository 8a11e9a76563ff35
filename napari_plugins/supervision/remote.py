"""`RemoteDesk`: the supervision desk when plans run on a queueserver. The worker's
supervisor is switched to its remote mode (`profiles/remote/functions.py`); the desk
polls the waiting questions and hands each new one to its listener (the widget), and
the widget's answer goes back through the worker's `answer_supervisor` — the plan then
records question and answer as event data, as with a local desk."""

from __future__ import annotations

import threading
from typing import Any

from fibsem_ophyd.supervision import Answer, Question
from profiles.remote.client import RemoteClient

POLL_S = 0.5


class RemoteDesk:
    """Same surface as `SupervisionDesk` (`on_question`, `pending`, `answer`, `history`)."""

    name = "remote"

    def __init__(self, client: RemoteClient, poll_s: float = POLL_S) -> None:
        self.client = client
        self.on_question: Any = None
        self.history: list[tuple[Question, Answer]] = []
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._pending: tuple[str, Question] | None = None
        self._seen: set[str] = set()
        self._remote_mode = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="remote-desk", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> Question | None:
        with self._lock:
            return self._pending[1] if self._pending else None

    def answer(self, answer: Answer) -> None:
        """Answer the waiting question (ValueError with the reason when that fails)."""
        with self._lock:
            if self._pending is None:
                raise ValueError("no question is waiting for an answer")
            question_id, question = self._pending
        checked = Answer.model_validate(answer)
        try:
            self.client.answer(question_id, checked)
        except Exception as error:  # gone (the plan was stopped) or the server went
            raise ValueError(f"the answer did not reach the plan: {error}") from None
        with self._lock:
            self._pending = None
        self.history.append((question, checked))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                if not self._remote_mode:  # once the worker's environment is open
                    self.client.use_supervisor("remote")
                    self._remote_mode = True
                waiting = self.client.questions()
            except Exception:  # environment not open yet, or the server away: retry
                self._remote_mode = False
                continue
            ids = {question_id for question_id, _ in waiting}
            with self._lock:
                if self._pending is not None and self._pending[0] not in ids:
                    self._pending = None  # answered elsewhere, or its plan stopped
                new = None
                if self._pending is None:
                    new = next(((i, q) for i, q in waiting if i not in self._seen), None)
                    if new is not None:
                        self._pending = new
                        self._seen.add(new[0])
            if new is not None and self.on_question is not None:
                self.on_question(new[1])


__all__ = ["RemoteDesk"]
