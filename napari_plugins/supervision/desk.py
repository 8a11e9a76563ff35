"""`SupervisionDesk`: a supervisor backend (``m.supervisor.use(desk)``) whose questions
wait for a person's answer given in the widget.

The plan's `ask` triggers the Supervisor device, which awaits `desk.ask(question)` on
the RunEngine's event loop; the desk hands the question to its listener (the widget,
on its own thread) and waits — without blocking the loop — until `answer()` is called
from any thread. The device then records question and answer as event data.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence

import numpy as np

from fibsem_ophyd.supervision import Answer, Question


class SupervisionDesk:
    name = "napari"

    def __init__(self, on_question: Callable[[Question], None] | None = None) -> None:
        self.on_question = on_question
        self._lock = threading.Lock()
        self._pending: tuple[Question, concurrent.futures.Future[Answer]] | None = None
        self.history: list[tuple[Question, Answer]] = []

    @property
    def pending(self) -> Question | None:
        with self._lock:
            return self._pending[0] if self._pending else None

    async def ask(self, question: Question) -> Answer:
        future: concurrent.futures.Future[Answer] = concurrent.futures.Future()
        with self._lock:
            if self._pending is not None:
                raise RuntimeError("the supervision desk is already waiting for an answer")
            self._pending = (question, future)
        if self.on_question is not None:
            self.on_question(question)
        try:
            answer = await asyncio.wrap_future(future)
        finally:
            with self._lock:
                self._pending = None
        self.history.append((question, answer))
        return answer

    def answer(self, answer: Answer) -> None:
        """Give the answer to the waiting question (ValueError when none waits)."""
        with self._lock:
            if self._pending is None:
                raise ValueError("no question is waiting for an answer")
            future = self._pending[1]
        if not future.done():
            future.set_result(Answer.model_validate(answer))


def correction_from_moves(
    before_m: Sequence[tuple[float, float]], after_m: Sequence[tuple[float, float]]
) -> tuple[float, float]:
    """The one translation (dx, dy metres) a person's edits mean: the mean displacement
    of the edited items' centres. The supervisor's answer moves everything by one
    offset, so edits that disagree (e.g. two rectangles dragged opposite ways) are
    refused rather than averaged away."""
    if len(before_m) != len(after_m) or not before_m:
        raise ValueError(
            f"{len(after_m)} item(s) after editing, {len(before_m)} proposed: add or delete "
            "nothing, only move (or reset)"
        )
    moves = np.asarray(after_m, float) - np.asarray(before_m, float)
    mean = moves.mean(axis=0)
    spread = float(np.abs(moves - mean).max())
    if spread > max(1e-9, 0.05 * float(np.hypot(*mean))):
        raise ValueError(
            "the items were moved by different amounts; the supervisor can only shift them "
            "all by one offset: move them together (select all, drag) or reset"
        )
    return float(mean[0]), float(mean[1])


def pattern_outlines(question: Question) -> list[list[tuple[float, float]]]:
    """Outlines (x, y metres, image plane) of the proposed patterns' shapes: a
    rectangle's corners, else the shape's bounding box."""
    out = []
    for pattern in question.patterns:
        for shape in pattern.shapes():
            corners = getattr(shape, "corners", None)
            if corners is not None:
                out.append([(float(x), float(y)) for x, y in corners()])
            else:
                b = shape.bounding_box()
                out.append([(b.min_x_m, b.max_y_m), (b.max_x_m, b.max_y_m),
                            (b.max_x_m, b.min_y_m), (b.min_x_m, b.min_y_m)])  # fmt: skip
    return out
