"""Helpers for the interlock tests: run device actions together on the RunEngine's event
loop (where the devices live), pose the microscope for a tiny mill, and name every
forbidden state the microscope is in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import bluesky.plan_stubs as bps
from bluesky import RunEngine

from fibsem_ophyd.backend import VacuumState
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.milling import MillingParameters, MillingStage, RectanglePattern

T = TypeVar("T")

MILLING_CURRENT_A = 0.74e-9  # one of the twin's ion currents
MILLING_HFW_M = 50e-6

Action = Callable[[], Awaitable[Any]]

# Starting each needle's insertion, and what a vent refused meanwhile says about it.
INSERTIONS: dict[str, tuple[Callable[[Microscope], Awaitable[Any]], str]] = {
    # The refusal names the needle as going in or already in: which one depends on how
    # far the insertion got when the vent was asked for (both forbid venting).
    "gis": (lambda m: m.gis.insert(), r"gas injection needle is (being )?inserted"),
    "manipulator": (
        lambda m: m.manipulator.insert("eucentric"),
        r"manipulator is (being )?inserted",
    ),
}


def on_loop(RE: RunEngine, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
    """Run `coro` on the RunEngine's event loop and return its result."""
    return asyncio.run_coroutine_threadsafe(coro, RE.loop).result(timeout_s)


def do(RE: RunEngine, action: Action, timeout_s: float = 60.0) -> Any:
    """Start `action` (e.g. `lambda: m.gis.insert()`) on the RunEngine's loop; wait."""

    async def run() -> Any:
        return await action()

    return on_loop(RE, run(), timeout_s)


async def together(*actions: Action) -> list[BaseException | None]:
    """Start every action, in order, and wait for all: each one's error, or None."""
    started = [asyncio.ensure_future(action()) for action in actions]
    results = await asyncio.gather(*started, return_exceptions=True)
    return [r if isinstance(r, BaseException) else None for r in results]


def tiny_stage(name: str = "tiny") -> MillingStage:
    """A 2 x 1 x 0.2 µm rectangle: about 2 s of twin milling time in ten chunks."""
    return MillingStage(
        name=name,
        patterns=[RectanglePattern(x_m=0.0, y_m=0.0, width_m=2e-6, height_m=1e-6, depth_m=0.2e-6)],
        parameters=MillingParameters(
            milling_current_a=MILLING_CURRENT_A, hfw_m=MILLING_HFW_M, application_file="Si"
        ),
    )


def pose_for_milling(RE: RunEngine, m: Microscope) -> None:
    """At the first lamella site (t = 35°, inside the insertion envelope), ion beam set
    up to draw `tiny_stage()`."""
    RE(bps.mv(m.stage, m.sites["lamella_01"]))
    RE(bps.mv(m.ion_beam.resolution, "768x512", m.ion_beam.hfw_m, MILLING_HFW_M))
    RE(bps.mv(m.ion_beam.current_a, MILLING_CURRENT_A))


def needles_inserted(m: Microscope) -> list[str]:
    b = m.backend
    return [n for n, on in (("manipulator", b.manipulator.inserted), ("GIS", b.gis.inserted)) if on]


def physical_violations(m: Microscope) -> list[str]:
    """Forbidden states of the chamber, needles, beams and stage (never allowed, not
    even for an instant)."""
    b = m.backend
    chamber = VacuumState(b.chamber.state)
    needles = needles_inserted(m)
    beams = [name for name in ("electron", "ion") if getattr(b, name).on]
    found = []
    if chamber is not VacuumState.PUMPED:
        found += [f"chamber {chamber.value} with the {n} inserted" for n in needles]
        found += [f"chamber {chamber.value} with the {n} beam on" for n in beams]
        if b.milling.running:
            found.append(f"chamber {chamber.value} while milling")
    pose = b.stage.position()
    lo, hi = m.limits.manipulator.safe_tilt_deg
    z_max = m.limits.manipulator.safe_z_max_m
    outside = not (lo <= (pose.t_deg or 0.0) <= hi) or (pose.z_m or 0.0) > z_max
    if needles and outside:
        found.append(f"{needles} inserted with the stage outside the envelope ({pose})")
    return found


def violations(m: Microscope) -> list[str]:
    """Every forbidden state, milling included: judge it once the loop has settled (a
    stopped mill ends at its next chunk, a few loop turns after the stop)."""
    found = physical_violations(m)
    milling = m.milling.busy or m.backend.milling.running
    if milling and not m.backend.ion.on:
        found.append("milling in progress (or paused) with the ion beam off")
    if milling and VacuumState(m.backend.chamber.state) is not VacuumState.PUMPED:
        found.append("milling in progress (or paused) without vacuum")
    return found


async def settle(turns: int = 10) -> None:
    """Give the event loop a few turns (stops and wake-ups take effect)."""
    for _ in range(turns):
        await asyncio.sleep(0)
