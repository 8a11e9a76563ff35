"""A seeded random walk over device actions, one at a time and two started together,
that checks the microscope never reaches a forbidden state: a chamber not pumped with a
needle in, a beam on or a mill in progress; a mill with the ion beam off; a needle in
with the stage outside the insertion envelope. The chamber, needle, beam and stage
states are checked at every turn of the event loop while the actions run, the milling
ones once the step has settled. A refusal is fine; any other error fails the walk."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.interlocks import InterlockError
from fibsem_ophyd.devices.microscope import Microscope

from ._interlock_helpers import (
    on_loop,
    physical_violations,
    pose_for_milling,
    settle,
    tiny_stage,
    together,
    violations,
)

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial

STEPS = 300  # each one or a few steps
# Actions that conflict (and those that make the next conflict possible: pump, ion on)
# come up more often than the rest, which weigh 1.
WEIGHTS = {
    "vent": 4,
    "pump": 4,
    "gis insert": 3,
    "needle insert (park)": 2,
    "needle insert (eucentric)": 2,
    "ion on": 4,
    "ion off": 2,
    "draw + mill": 4,
    "draw + mill 0.5 s": 3,
    "tilt outside": 2,
    "stage tilt outside": 2,
    "back to site": 4,
    "tilt inside": 2,
    "gis retract": 3,
    "needle retract": 4,
}
# Pairs whose interlocks race when started together: the walk picks one of these for
# 40% of its steps, half of them after the READY steps (needles out, at the site,
# pumped, ion beam on), so that each comes up often from a state where both can start.
READY = ("needle retract", "gis retract", "back to site", "pump", "ion on")
RACES = [
    ("vent", "gis insert"),
    ("vent", "needle insert (park)"),
    ("vent", "needle insert (eucentric)"),
    ("vent", "draw + mill"),
    ("vent", "pump"),
    ("vent", "sputter coat"),
    ("sputter coat", "gis insert"),
    ("ion off", "draw + mill"),
    ("beams off", "draw + mill"),
    ("stage tilt outside", "needle insert (eucentric)"),
    ("stage tilt outside", "gis insert"),
    ("tilt outside", "gis insert"),
    ("z outside", "needle insert (park)"),
]
# Two of these are never started together: a second mill() while one waits takes over
# the first one's segment, and the first then waits for ever (a Milling bug, see
# test_two_mills_started_together_both_end in test_interlocks_concurrent.py).
MILLS = {"draw + mill", "draw + mill 0.5 s", "mill on"}
# The milling device's own refusals (RuntimeError): nothing drawn, a mill in progress,
# a mill that an interlock stopped.
MILLING_REFUSALS = ("nothing is drawn", "halt it first", "was stopped at")


def _actions(m: Microscope, rng: random.Random) -> dict[str, Callable[[], Awaitable[Any]]]:
    site = m.sites["lamella_01"]
    z_out_m = m.limits.manipulator.safe_z_max_m + 1e-3

    async def mill(duration_s: float | None) -> None:
        await m.milling.draw(tiny_stage())
        await m.milling.mill(duration_s)

    async def beams_off() -> None:
        m.interlocks.switch_beams_off("walk")

    return {
        "pump": m.chamber.pump,
        "vent": m.chamber.vent,
        "gis insert": m.gis.insert,
        "gis retract": m.gis.retract,
        "gis open": lambda: m.gis.open_for(1.0),
        "sputter coat": lambda: m.sputter_coater.coat(1.0),
        "needle insert (park)": lambda: m.manipulator.insert("park"),
        "needle insert (eucentric)": lambda: m.manipulator.insert("eucentric"),
        "needle retract": m.manipulator.retract,
        "electron on": lambda: m.electron_beam.on.set(True),
        "electron off": lambda: m.electron_beam.on.set(False),
        "ion on": lambda: m.ion_beam.on.set(True),
        "ion off": lambda: m.ion_beam.on.set(False),
        "beams off": beams_off,
        "tilt inside": lambda: m.stage.t.set(round(rng.uniform(0.0, 39.0), 1)),
        "tilt outside": lambda: m.stage.t.set(55.0),
        "stage tilt outside": lambda: m.stage.move_to(StagePosition(t_deg=50.0)),
        "z outside": lambda: m.stage.z.set(z_out_m),
        "back to site": lambda: m.stage.move_to(site),
        "draw + mill": lambda: mill(None),
        "draw + mill 0.5 s": lambda: mill(0.5),
        "mill on": m.milling.mill,
        "halt": m.milling.halt,
    }


def _acceptable(error: BaseException | None) -> bool:
    if error is None or isinstance(error, (InterlockError, ValueError)):
        return True
    return isinstance(error, RuntimeError) and any(r in str(error) for r in MILLING_REFUSALS)


async def _step(m: Microscope, actions: list[Callable[[], Awaitable[Any]]]) -> tuple[list, list]:
    """Run `actions` together, watching the physical state at every loop turn."""
    seen: list[str] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            seen.extend(physical_violations(m))
            await asyncio.sleep(0)

    watcher = asyncio.ensure_future(watch())
    try:
        errors = await together(*actions)
    finally:
        done.set()
        await watcher
    await settle()
    return errors, seen + violations(m)


def _plan(rng: random.Random, names: list[str], weights: list[int]) -> list[list[str]]:
    """The next steps: mostly one or two random actions; 40% of the time a racing pair,
    half of those from where both could start (needles out, pumped, at the site)."""
    if rng.random() < 0.4:
        race = rng.sample(rng.choice(RACES), k=2)
        return ([[n] for n in READY] if rng.random() < 0.5 else []) + [race]
    chosen = rng.choices(names, weights, k=rng.choice((1, 2)))
    if len(chosen) == 2 and all(n in MILLS for n in chosen):
        chosen = chosen[:1]
    return [chosen]


async def _walk(m: Microscope, seed: int) -> tuple[list[str], Counter, Counter]:
    rng = random.Random(seed)
    actions = _actions(m, rng)
    names = sorted(actions)
    weights = [WEIGHTS.get(n, 1) for n in names]
    log: list[str] = []
    done: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for _ in range(STEPS):
        for chosen in _plan(rng, names, weights):
            errors, bad = await _step(m, [actions[n] for n in chosen])
            outcome = [
                f"{n}: {'ok' if e is None else repr(e)}"
                for n, e in zip(chosen, errors, strict=True)
            ]
            log.append(f"{len(log)}: " + " | ".join(outcome))
            unexpected = [e for e in errors if not _acceptable(e)]
            if bad or unexpected:
                lines = [*log[-15:], f"forbidden: {bad[:3]}", f"unexpected: {unexpected}"]
                raise AssertionError("\n".join(lines))
            for n, e in zip(chosen, errors, strict=True):
                (done if e is None else refused)[n] += 1
    await m.milling.halt()  # leave no paused mill behind
    return log, done, refused


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_walk_never_reaches_a_forbidden_state(RE, microscope, seed):
    m = microscope
    pose_for_milling(RE, m)
    _log, done, refused = on_loop(RE, _walk(m, seed), timeout_s=120.0)
    # The walk really went through the states it is meant to check.
    for name in ("vent", "pump", "gis insert", "needle insert (park)", "draw + mill"):
        assert done[name] > 0, (name, done)
    for name in ("vent", "gis insert", "tilt outside", "draw + mill"):
        assert refused[name] > 0, (name, refused)
