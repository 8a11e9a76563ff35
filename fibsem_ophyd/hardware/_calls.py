"""`VendorCalls`: how the bridge calls fibsem.

Slow calls run in one worker thread (vendor SDKs are not thread-safe, so they queue)
and are awaited with a timeout, so the RunEngine's event loop never blocks on them;
quick property reads and writes run inline (beam settings that take time on a
column, such as voltage and current, go through the worker:
`FibsemBeam.write_setting`). Either way a vendor exception becomes a `HardwareError`
naming the device and the action, and every call is counted in `log`, so a test (or
a user) can see what reached the vendor layer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from ._errors import HardwareError, HardwareTimeoutError

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 60.0  # a slow call with no better bound (move, insert, pump)


class VendorCalls:
    """The one path from the bridge to fibsem (see the module docstring)."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s}")
        self.timeout_s = timeout_s
        self.log: list[tuple[str, str]] = []  # (device, action) of every vendor call
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fibsem")
        self._stuck: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def now(self, device: str, action: str, fn: Callable[..., T], *args: Any) -> T:
        """A quick call, inline (property reads/writes, stop requests)."""
        self._record(device, action)
        try:
            return fn(*args)
        except Exception as exc:
            raise HardwareError(device, action, f"{type(exc).__name__}: {exc}") from exc

    async def slow(
        self,
        device: str,
        action: str,
        fn: Callable[..., T],
        *args: Any,
        timeout_s: float | None = None,
    ) -> T:
        """A call that takes time, in the worker thread, bounded by `timeout_s` seconds
        (default: this object's `timeout_s`)."""
        if self._stuck is not None:
            d, a = self._stuck
            raise HardwareError(
                device, action, f"refused: an earlier call {d}.{a} timed out and has not returned"
            )
        self._record(device, action)
        limit = self.timeout_s if timeout_s is None else timeout_s
        future: Future[T] = self._executor.submit(fn, *args)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation (a pause or abort) that lands as the call returns (decision 10).
            async with asyncio.timeout(limit):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            if not future.done():
                self._stuck = (device, action)
                future.add_done_callback(lambda _: self._clear_stuck())
            raise HardwareTimeoutError(
                device, action, f"no answer from the microscope within {limit:g} s"
            ) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise HardwareError(device, action, f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _record(self, device: str, action: str) -> None:
        with self._lock:
            self.log.append((device, action))

    def _clear_stuck(self) -> None:
        self._stuck = None
