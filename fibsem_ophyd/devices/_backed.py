"""Signals backed by a backend attribute (ophyd-async decision 0019 style).

`backed_rw(float, backend, "hfw_m", units="m", check=...)` makes a SignalRW whose
get reads `backend.hfw_m` and whose set first runs `check(value)` (which raises a
clear error naming the field and its allowed range) and only then writes the
backend. A refused value never reaches the hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ophyd_async.core import SignalR, SignalRW, soft_signal_r_and_setter, soft_signal_rw

T = TypeVar("T")

Check = Callable[[Any], None]


def backed_rw(
    datatype: type[T],
    backend: object,
    attr: str,
    *,
    units: str | None = None,
    precision: int | None = None,
    check: Check | None = None,
    name: str = "",
) -> SignalRW[T]:
    """A read/write signal bound to `backend.<attr>`, validated by `check` on set."""

    def getter() -> T:
        return datatype(getattr(backend, attr))  # type: ignore[call-arg]

    def setter(value: T) -> None:
        if check is not None:
            check(value)
        setattr(backend, attr, value)

    return soft_signal_rw(
        datatype,
        getter(),
        units=units,
        precision=precision,
        getter=getter,
        setter=setter,
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


def check_range(field: str, lo: float, hi: float, unit: str) -> Check:
    """A check that refuses values outside [lo, hi] and non-finite values."""

    def _check(value: float) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{field}={value!r} is not a number ({unit or 'no unit'})") from None
        if not (lo <= v <= hi):  # also false for NaN
            raise ValueError(
                f"{field}={value!r} {unit} is outside the allowed range [{lo:g}, {hi:g}] {unit}"
            )

    return _check


def check_choice(field: str, allowed: list[Any], unit: str = "", rel_tol: float = 1e-3) -> Check:
    """A check that accepts only members of `allowed` (numbers within rel_tol)."""

    def _check(value: Any) -> None:
        for a in allowed:
            if isinstance(a, (int, float)) and not isinstance(a, bool):
                try:
                    if abs(float(value) - a) <= rel_tol * abs(a):
                        return
                except (TypeError, ValueError):
                    break
            elif value == a:
                return
        shown = ", ".join(f"{a:g}" if isinstance(a, float) else str(a) for a in allowed)
        raise ValueError(f"{field}={value!r} {unit} is not available; allowed: [{shown}] {unit}")

    return _check
