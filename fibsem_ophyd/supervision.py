"""Supervisors: who answers a plan's question at a decision point.

A plan asks (where to mill, which detection to trust); a supervisor accepts, moves
the proposal (a correction in metres, image plane, x right, y up), or aborts.
`AutoSupervisor` accepts what passed its checks and fails the site on a failed check;
`TerminalSupervisor` prompts on the terminal;
`CallbackSupervisor` hands the question to any function — a napari widget, a web UI
or a test. The `Supervisor` device records every question and answer as event data.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .milling import Pattern


class Question(BaseModel):
    """What a plan asks at a decision point."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["patterns", "point", "continue"]
    site: str = ""
    stage: str = ""
    message: str = ""
    proposal_x_m: float = 0.0
    proposal_y_m: float = 0.0
    problem: str = Field(
        "",
        description="Why the plan could not decide by itself (a check its result failed); "
        "empty for a routine confirmation",
    )
    beam: Literal["electron", "ion"] | None = Field(
        None, description="The beam whose image the proposal is in (None: not tied to one)"
    )
    patterns: list[Pattern] = Field(
        default_factory=list,
        description="The proposed milling patterns (ion image plane, metres), for a "
        "supervisor that shows them; a 'move' answer shifts them all",
    )


class Answer(BaseModel):
    """The supervisor's decision. `move`: shift the proposal by (dx, dy) metres."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["accept", "move", "abort"] = "accept"
    dx_m: float = Field(0.0, description="Correction, metres, image x (right)")
    dy_m: float = Field(0.0, description="Correction, metres, image y (up)")
    note: str = ""

    @field_validator("dx_m", "dy_m")
    @classmethod
    def _finite(cls, v: float) -> float:
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("corrections must be finite numbers (metres)")
        return v


class SupervisorBackend(Protocol):
    name: str

    async def ask(self, question: Question) -> Answer: ...


class AutoSupervisor:
    """Automatic mode: accept every proposal that passed its checks; a question that
    comes with a problem (a failed check) has no one to answer it, so the site fails."""

    name = "automatic"

    async def ask(self, question: Question) -> Answer:
        if question.problem:
            return Answer(action="abort", note=f"automatic: {question.problem}")
        return Answer(action="accept", note="automatic")


class CallbackSupervisor:
    """Hand the question to `callback` (sync or async) and use its Answer."""

    name = "callback"

    def __init__(self, callback: Callable[[Question], Answer | Awaitable[Answer]]) -> None:
        self._callback = callback

    async def ask(self, question: Question) -> Answer:
        result = self._callback(question)
        if inspect.isawaitable(result):
            result = await result
        return Answer.model_validate(result)


def parse_terminal_answer(text: str) -> Answer:
    """'' or 'a' = accept; 'm DX DY' = move by DX, DY micrometres; 'x' = abort."""
    parts = text.strip().split()
    if not parts or parts[0] in ("a", "accept", "y", "yes"):
        return Answer(action="accept")
    if parts[0] in ("x", "abort", "q"):
        return Answer(action="abort")
    if parts[0] in ("m", "move") and len(parts) == 3:
        return Answer(action="move", dx_m=float(parts[1]) * 1e-6, dy_m=float(parts[2]) * 1e-6)
    raise ValueError(
        f"answer {text!r} not understood: use '' (accept), 'm DX DY' (move, µm) or 'x' (abort)"
    )


class TerminalSupervisor:
    """Prompt on the terminal (in a worker thread, so the RunEngine keeps running)."""

    name = "terminal"

    def __init__(self, prompt: Callable[[str], str] = input) -> None:
        self._prompt = prompt

    async def ask(self, question: Question) -> Answer:
        problem = f"\n  PROBLEM: {question.problem}" if question.problem else ""
        text = (
            f"[{question.site} {question.stage}] {question.message}{problem} "
            f"(proposal {question.proposal_x_m * 1e6:.2f}, {question.proposal_y_m * 1e6:.2f} µm)"
            "\n  accept [Enter] | move 'm DX DY' (µm) | abort 'x' > "
        )
        while True:
            reply = await asyncio.to_thread(self._prompt, text)
            try:
                return parse_terminal_answer(reply)
            except ValueError as err:
                print(err)
