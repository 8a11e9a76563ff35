"""Pressing the RunEngine's controls as a user at the keyboard would: from another
thread, once the document stream shows the moment (a callback runs in the RunEngine's
own thread and must never block it)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable

from bluesky import RunEngine
from bluesky.utils import RunEngineInterrupted

Predicate = Callable[[str, dict], bool]
Action = Callable[[RunEngine], object]


class Presser:
    """Subscribe it (`RE(plan, presser)`). Steps run in order: when `when(name, doc)`
    first holds for the current step, its action runs in another thread (e.g.
    `lambda R: R.request_pause()`), then the next step is watched for."""

    def __init__(
        self, RE: RunEngine, *steps: tuple[Predicate, Action], each_pauses: bool = False
    ) -> None:
        """`each_pauses`: every action pauses the RunEngine, and a step is watched for
        only once the previous step's pause has been resumed (`run_resuming` says so):
        on a loaded machine a document can otherwise match the next step before the
        previous pause request has landed, and the second request falls on a RunEngine
        already pausing."""
        self.docs: list[tuple[str, dict]] = []
        self.pressed: list[int] = []  # indices of docs at which each step fired
        self._steps = list(steps)
        self._hits = [threading.Event() for _ in steps]
        self._current = 0
        self._each_pauses = each_pauses
        self._resumes = 0

        def press() -> None:
            for i, (_when, action) in enumerate(self._steps):
                if not self._hits[i].wait(timeout=180):
                    return
                action(RE)

        self._thread = threading.Thread(target=press, daemon=True)
        self._thread.start()

    def __call__(self, name: str, doc: dict) -> None:
        self.docs.append((name, doc))
        i = self._current
        if self._each_pauses and self._resumes < i:
            return  # the previous step's pause has not been resumed yet
        if i < len(self._steps) and self._steps[i][0](name, doc):
            self._current += 1
            self.pressed.append(len(self.docs))
            self._hits[i].set()

    def resumed(self) -> None:
        """Called by `run_resuming` before each resume."""
        self._resumes += 1

    @property
    def done(self) -> bool:
        return self._current == len(self._steps)

    def stops(self) -> list[dict]:
        return [d for n, d in self.docs if n == "stop"]

    def starts(self) -> list[dict]:
        return [d for n, d in self.docs if n == "start"]


def milling_progress(key: str, low: float = 0.2, high: float = 0.8) -> Predicate:
    """An event showing milling progress between `low` and `high` (data key `key`)."""

    def when(name: str, doc: dict) -> bool:
        value = doc.get("data", {}).get(key) if name == "event" else None
        return value is not None and low < value < high

    return when


def run_resuming(RE: RunEngine, plan: Iterable, presser: Presser, on_pause=None) -> int:
    """Run `plan`; at every pause call `on_pause()` (checks) and resume. Returns the
    number of pauses."""
    pauses = 0
    with contextlib.suppress(RunEngineInterrupted):
        RE(plan, presser)
    while RE.state == "paused":
        pauses += 1
        if on_pause is not None:
            on_pause()
        presser.resumed()
        with contextlib.suppress(RunEngineInterrupted):
            RE.resume()
    return pauses
