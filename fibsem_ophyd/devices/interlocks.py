"""Safety interlocks, enforced by the devices before any command reaches the backend.

A refused command raises `InterlockError` with the reason, and changes nothing.

The checks hold for the whole of an action, not only at its start. An action that takes
time and that others must not overlap (venting, pumping, inserting a needle, moving the
stage, sputter coating) runs inside one of the contexts below, which checks it and
registers it as in progress in one synchronous step: every device runs on the one
RunEngine event loop, so nothing slips in between and no thread lock is needed. The
other actions' checks look at what is in progress as well as at the backend's state.

A conflicting action is refused, never queued behind the one in progress: waiting would
run it later in a state its caller never saw (an insertion that waited for a vent would
find the chamber vented), while a refusal says at once why, and the plan decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from ..backend import MicroscopeBackend, StagePosition, VacuumState
from .limits import ManipulatorLimits

Needle = Literal["manipulator", "gas injection needle"]
T = TypeVar("T")


class InterlockError(RuntimeError):
    """A command was refused because it is unsafe in the present state."""


class Interruptible(Protocol):
    """What the interlocks need of the milling device (a protocol: milling imports this
    module, so it cannot be imported here)."""

    @property
    def busy(self) -> bool: ...

    def interrupt(self, reason: str) -> None: ...


@contextmanager
def _held(items: list[T], item: T) -> Iterator[None]:
    items.append(item)
    try:
        yield
    finally:
        items.remove(item)


@dataclass
class Interlocks:
    backend: MicroscopeBackend
    manipulator_limits: ManipulatorLimits
    # Highest pressure regarded as pumped (`chamber.pumped_pressure_pa` in the config).
    pumped_pressure_pa: float
    # The milling device, set by the Microscope once it is built: venting is refused
    # while it is busy, and the ion beam going off interrupts it.
    milling: Interruptible | None = None
    _chamber_actions: list[VacuumState] = field(default_factory=list, init=False, repr=False)
    _insertions: list[Needle] = field(default_factory=list, init=False, repr=False)
    _stage_targets: list[StagePosition] = field(default_factory=list, init=False, repr=False)
    _coatings: list[str] = field(default_factory=list, init=False, repr=False)

    def vacuum_state(self) -> VacuumState:
        """The chamber's state, counting a pump or vent in progress that the backend may
        not report yet (hardware can take a while to leave 'pumped')."""
        if self._chamber_actions:
            return self._chamber_actions[0]
        return VacuumState(self.backend.chamber.state)

    def require_vacuum(self, action: str) -> None:
        """Imaging, milling, beams on, deposition, insertion: only with the chamber pumped
        (and its pressure at most `pumped_pressure_pa`) and no vent or pump in progress."""
        state = self.vacuum_state()
        if state is not VacuumState.PUMPED:
            raise InterlockError(
                f"refused to {action}: the chamber is {state.value}; pump it first (chamber.pump())"
            )
        pressure_pa = float(self.backend.chamber.pressure_pa)
        if not pressure_pa <= self.pumped_pressure_pa:
            raise InterlockError(
                f"refused to {action}: the chamber pressure {pressure_pa:.3g} Pa is above "
                f"chamber.pumped_pressure_pa ({self.pumped_pressure_pa:.3g} Pa in the "
                "configuration): not regarded as pumped"
            )

    def needles_in(self) -> list[str]:
        """Each needle that is inserted or being inserted, described for a message."""
        found = []
        for needle, inserted in (
            ("manipulator", self.backend.manipulator.inserted),
            ("gas injection needle", self.backend.gis.inserted),
        ):
            if inserted:
                found.append(f"the {needle} is inserted")
            elif needle in self._insertions:
                found.append(f"the {needle} is being inserted")
        return found

    def require_needles_retracted(self, action: str) -> None:
        """Venting and sputter coating only with every needle retracted (none going in)."""
        needles = self.needles_in()
        if needles:
            raise InterlockError(f"refused to {action}: {' and '.join(needles)}; retract first")

    def _outside_envelope(self, t_deg: float | None, z_m: float | None) -> str | None:
        """Why a stage tilt/height (None: not moved) is outside the insertion envelope."""
        lo, hi = self.manipulator_limits.safe_tilt_deg
        z_max = self.manipulator_limits.safe_z_max_m
        if t_deg is not None and not (lo <= t_deg <= hi):
            return f"stage t_deg={t_deg:.2f} deg is outside the safe envelope [{lo:g}, {hi:g}] deg"
        if z_m is not None and not (z_m <= z_max):
            return f"stage z_m={z_m:.6g} m is above the safe envelope (z_m <= {z_max:g} m)"
        return None

    def require_safe_for_insertion(self, needle: Needle) -> None:
        """A needle goes in only pumped, with the stage inside the safe envelope — where
        it is and where any stage move in progress is taking it."""
        self.require_vacuum(f"insert the {needle}")
        self._require_no_coating(f"insert the {needle}")
        pose = self.backend.stage.position()
        now = self._outside_envelope(pose.t_deg or 0.0, pose.z_m or 0.0)
        if now is not None:
            raise InterlockError(f"refused to insert the {needle}: {now}")
        for target in self._stage_targets:
            going = self._outside_envelope(target.t_deg, target.z_m)
            if going is not None:
                raise InterlockError(
                    f"refused to insert the {needle}: a stage move is in progress to {going}"
                )

    def require_stage_target_safe(self, target: StagePosition) -> None:
        """With a needle in (or going in), the stage stays inside the insertion envelope:
        a tilt or height outside it would drive the specimen into the needle."""
        needles = self.needles_in()
        problem = self._outside_envelope(target.t_deg, target.z_m)
        if needles and problem is not None:
            raise InterlockError(
                f"refused to move the stage: {problem} and {' and '.join(needles)}; retract first"
            )

    def _require_chamber_idle(self, action: str) -> None:
        state = self.vacuum_state()
        if state in (VacuumState.PUMPING, VacuumState.VENTING):
            raise InterlockError(
                f"refused to {action}: the chamber is {state.value}; wait until it is done"
            )

    def _require_no_coating(self, action: str) -> None:
        if self._coatings:
            raise InterlockError(f"refused to {action}: sputter coating is in progress")

    @contextmanager
    def venting(self) -> Iterator[None]:
        """Check and hold a vent: refused with a needle in (or going in), a mill in
        progress or paused, or a pump or vent running; switches both beams off first."""
        self._require_chamber_idle("vent the chamber")
        self.require_needles_retracted("vent the chamber")
        self._require_no_coating("vent the chamber")
        if self.milling is not None and self.milling.busy:
            raise InterlockError(
                "refused to vent the chamber: milling is in progress (or paused); "
                "halt the milling first (milling.halt())"
            )
        self.switch_beams_off("the chamber is venting")
        with _held(self._chamber_actions, VacuumState.VENTING):
            yield

    @contextmanager
    def pumping(self) -> Iterator[None]:
        """Check and hold a pump-down: refused while a vent (or another pump) runs."""
        self._require_chamber_idle("pump the chamber")
        with _held(self._chamber_actions, VacuumState.PUMPING):
            yield

    @contextmanager
    def inserting(self, needle: Needle) -> Iterator[None]:
        """Check and hold an insertion; venting and stage moves see it as a needle in."""
        self.require_safe_for_insertion(needle)
        with _held(self._insertions, needle):
            yield

    @contextmanager
    def coating(self) -> Iterator[None]:
        """Check and hold a sputter coat: it needs the vacuum and must not coat a needle,
        so venting and insertions are refused until it ends."""
        self.require_vacuum("sputter coat")
        self.require_needles_retracted("sputter coat")
        with _held(self._coatings, "sputter coating"):
            yield

    @contextmanager
    def stage_moving(self, target: StagePosition) -> Iterator[None]:
        """Check and hold a stage move; an insertion checks where it is going."""
        self.require_stage_target_safe(target)
        with _held(self._stage_targets, target):
            yield

    def ion_beam_going_off(self, reason: str) -> None:
        """A mill (running or paused) is stopped before its beam goes off: it must never
        be left to continue, or resume, without it."""
        if self.milling is not None:
            self.milling.interrupt(f"milling interrupted: {reason}")

    def switch_beams_off(self, reason: str = "the beams were switched off") -> None:
        """Before venting: both beams off (a column must never run vented)."""
        self.ion_beam_going_off(reason)
        self.backend.electron.on = False
        self.backend.ion.on = False
