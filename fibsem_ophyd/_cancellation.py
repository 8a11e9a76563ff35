"""Cancellation that is never lost: a fix for CPython 3.11's `asyncio.wait_for`.

On Python < 3.12, `asyncio.wait_for` swallows a cancellation of the awaiting task when
the awaited coroutine completes in the same event-loop turn (CPython gh-86296; 3.12
reimplemented it on `asyncio.timeout`). ophyd-async wraps every signal read, get and put
in `wait_for`, and a soft signal's read completes at once — so a RunEngine pause, abort
or stop requested while a plan reads signals (every `bps.rd`, every event) was simply
lost: the RunEngine stayed in 'pausing' while the plan ran on to its end.

`patch_ophyd_async()` gives ophyd-async's timeout helper the 3.12 behaviour (an
`asyncio.timeout` block in the same task, so a cancellation always reaches the caller).
It is applied when `fibsem_ophyd` is imported; on Python >= 3.12 it does nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(coro: Awaitable[T], timeout: float | None, source: str) -> T:
    """`await coro` with a timeout, raising TimeoutError(source); never swallows a
    cancellation of the calling task."""
    try:
        async with asyncio.timeout(timeout):
            return await coro
    except TimeoutError as exc:
        raise TimeoutError(source) from exc


def patch_ophyd_async() -> bool:
    """Replace ophyd-async's `_wait_for` where it is used; True when patched."""
    if sys.version_info >= (3, 12):
        return False
    from ophyd_async.core import _command, _signal, _utils

    patched = False
    for module in (_utils, _signal, _command):
        if getattr(module, "_wait_for", None) is not None:
            module._wait_for = wait_for  # type: ignore[attr-defined]
            patched = True
    return patched
