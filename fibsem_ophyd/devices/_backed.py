"""Signals backed by a backend attribute (ophyd-async decision 0019 style).

`backed_rw(float, backend, "hfw_m", field="electron.hfw_m", units="m", check=...)`
makes a SignalRW whose get reads `backend.hfw_m` and whose set first checks the
value's type (`fibsem_ophyd.values.typed`: no strings for numbers, no "False" for a
bool), then runs `check(value)` (a clear error naming the field and its allowed
range, `fibsem_ophyd.ranges`), and only then writes the backend. A refused value reaches neither the
hardware nor the signal: its setpoint (`locate()`) and readback keep the old value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ophyd_async.core import (
    SignalR,
    SignalRW,
    SoftSignalBackend,
    soft_signal_r_and_setter,
)

from ..ranges import Check
from ..values import typed

T = TypeVar("T")


class _ValidatedBackend(SoftSignalBackend[T]):
    """A soft backend that validates a put before anything is cached or written.

    SoftSignalBackend caches the setpoint (coerced: "True" -> True) before it calls
    the setter; here the value is checked first, and the setpoint is restored if the
    setter fails, so a refusal leaves the signal exactly as it was."""

    validate: Callable[[Any], T]

    async def put(self, value: Any) -> None:
        checked = self.validate(value)
        previous = self._setpoint
        try:
            await super().put(checked)
        except BaseException:
            self._setpoint = previous
            raise


def validator(
    field: str, datatype: type[T], units: str | None, check: Check | None
) -> Callable[[Any], T]:
    """The type rule, then `check`: returns the value as `datatype` or raises."""

    def validate(value: Any) -> T:
        converted = typed(field, datatype, value, units)
        if check is not None:
            check(converted)
        return converted

    return validate


async def write_attr(backend: object, attr: str, value: Any) -> None:
    """`backend.<attr> = value`, or `await backend.write_setting(attr, value)` where the
    backend has one (a hardware bridge whose setting changes take time runs them off
    the event loop; the twin's attributes are set directly)."""
    write = getattr(backend, "write_setting", None)
    if write is None:
        setattr(backend, attr, value)
    else:
        await write(attr, value)


def checked_rw(
    datatype: type[T],
    field: str,
    getter: Callable[[], T],
    setter: Callable[[T], Any],
    *,
    units: str | None = None,
    precision: int | None = None,
    check: Check | None = None,
    name: str = "",
) -> SignalRW[T]:
    """A read/write signal over `getter`/`setter`; `setter` only sees checked values."""
    backend = _ValidatedBackend(datatype, getter(), units, precision, getter=getter, setter=setter)
    backend.validate = validator(field, datatype, units, check)
    return SignalRW(backend=backend, name=name)


def backed_rw(
    datatype: type[T],
    backend: object,
    attr: str,
    *,
    field: str | None = None,
    units: str | None = None,
    precision: int | None = None,
    check: Check | None = None,
    name: str = "",
) -> SignalRW[T]:
    """A read/write signal bound to `backend.<attr>`; errors name `field` (default attr)."""

    def getter() -> T:
        return datatype(getattr(backend, attr))  # type: ignore[call-arg]

    async def setter(value: T) -> None:
        await write_attr(backend, attr, value)

    return checked_rw(
        datatype,
        field or attr,
        getter,
        setter,
        units=units,
        precision=precision,
        check=check,
        name=name,
    )


def backed_r(
    datatype: type[T],
    read: Callable[[], T],
    *,
    units: str | None = None,
    precision: int | None = None,
    name: str = "",
) -> SignalR[T]:
    """A read-only signal whose value comes from `read()` on every get."""
    sig, _ = soft_signal_r_and_setter(
        datatype, read(), name=name, units=units, precision=precision, getter=read
    )
    return sig
