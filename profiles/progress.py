"""A compact progress display: one line when a run starts, one when it stops."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class RunProgress:
    """Document callback printing `run <uid> <plan> ... done (N events, t s)`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._start: dict[str, Any] | None = None
        self._events = 0
        self._t0 = 0.0

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            self._start, self._events, self._t0 = doc, 0, time.monotonic()
            where = doc.get("site") or doc.get("lamella") or ""
            print(
                f"run {doc['uid'][:8]} {doc.get('plan_name', '?')} {where}".rstrip(),
                file=self._stream,
                flush=True,
            )
        elif name in ("event", "event_page"):
            n = len(doc["seq_num"]) if name == "event_page" else 1
            self._events += n
        elif name == "stop" and self._start is not None:
            dt = time.monotonic() - self._t0
            status = doc.get("exit_status", "?")
            reason = f": {doc['reason']}" if doc.get("reason") else ""
            print(
                f"    {status} ({self._events} events, {dt:.2f} s){reason}",
                file=self._stream,
                flush=True,
            )
            self._start = None
