"""Protocols a microscope backend implements, one per subsystem.

Attributes are plain read/write properties in SI units; a backend may raise on a
write it cannot honour. Validation against the configured ranges happens in the
devices *before* a value reaches the backend.

Every call that takes time on a real microscope is `async`: acquiring a frame,
drawing and milling patterns, stage and needle moves, insertion, pump/vent,
deposition, coating, temperature changes (docs/decisions.md: "Slow calls are async").
A backend never blocks the event loop in them: a vendor SDK's blocking call runs in a
worker thread (`asyncio.to_thread`), the twin awaits its clock (which sleeps in
realtime mode). Everything else is synchronous and quick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ._types import (
    BeamName,
    FrameMetadata,
    ManipulatorPosition,
    ReducedArea,
    StagePosition,
    SystemFingerprint,
    VacuumState,
)

if TYPE_CHECKING:
    from ..milling import MillingStage


@runtime_checkable
class BeamBackend(Protocol):
    """One charged-particle column and its active imaging detector."""

    voltage_v: float
    current_a: float
    hfw_m: float
    resolution_x_px: int
    resolution_y_px: int
    dwell_time_s: float
    working_distance_m: float
    stigmation_x: float
    stigmation_y: float
    beam_shift_x_m: float
    beam_shift_y_m: float
    scan_rotation_deg: float
    line_integration: int
    frame_integration: int
    blanked: bool
    on: bool
    detector_type: str
    detector_mode: str
    detector_contrast: float  # 0..1
    detector_brightness: float  # 0..1


@runtime_checkable
class ImagingBackend(Protocol):
    async def acquire(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        """Scan one frame with the beam's current settings; return a 2-D uint8 array
        of shape (resolution_y_px, resolution_x_px) (or the reduced area of it). Takes
        the scan's time without blocking the event loop."""
        ...

    def frame_time_s(self, beam: BeamName) -> float:
        """Time one frame takes at the current settings (dwell × pixels × integration)."""
        ...

    def frame_metadata(self, beam: BeamName) -> FrameMetadata | None:
        """What the backend reported with `beam`'s latest frame (None before the first)."""
        ...


@runtime_checkable
class StageBackend(Protocol):
    def position(self) -> StagePosition:
        """The encoder readback (all axes set)."""
        ...

    async def move_to(self, target: StagePosition) -> None:
        """Absolute raw move of the axes that are not None."""
        ...

    def stop(self) -> None: ...

    def move_time_s(self, target: StagePosition) -> float:
        """How long `move_to(target)` would take."""
        ...


@runtime_checkable
class ManipulatorBackend(Protocol):
    """The needle in its raw axes. Where the tip really is for a raw pose is what
    calibration finds out (`plans.calibrate_manipulator`); the backend does not know."""

    inserted: bool

    def position(self) -> ManipulatorPosition: ...

    async def move_to(self, target: ManipulatorPosition) -> None:
        """Move an inserted needle (refused when retracted)."""
        ...

    async def insert(self, target: ManipulatorPosition) -> None:
        """Insert the needle, then go to the raw pose `target`."""
        ...

    async def retract(self) -> None: ...

    async def move_retracted(self, target: ManipulatorPosition) -> None:
        """Move a retracted needle (to and from the exchange position); refused when
        inserted."""
        ...


@runtime_checkable
class GasInjectionBackend(Protocol):
    gas: str  # the selected gas (precursor) the valve delivers
    inserted: bool
    heater_on: bool
    heater_temperature_k: float  # reservoir setpoint while the heater is on
    temperature_k: float  # reservoir temperature (readback)

    async def insert(self) -> None: ...

    async def retract(self) -> None: ...

    async def open_for(self, duration_s: float) -> None:
        """Open the valve for `duration_s`, depositing where the needle points."""
        ...


@runtime_checkable
class SputterCoaterBackend(Protocol):
    async def coat(self, duration_s: float, current_a: float) -> None: ...


@runtime_checkable
class ChamberBackend(Protocol):
    state: VacuumState
    pressure_pa: float
    cryo_temperature_k: float  # stage temperature (readback)
    cryo_target_k: float  # stage temperature setpoint; the stage ramps toward it
    cryo_rate_k_per_min: float  # ramp rate toward the setpoint (> 0)

    async def pump(self) -> None: ...

    async def vent(self) -> None: ...

    async def wait_for_temperature(self, timeout_s: float) -> bool:
        """Return once the stage is at `cryo_target_k` (True), or after `timeout_s` seconds
        of microscope time (False, still ramping)."""
        ...


@runtime_checkable
class FluorescenceBackend(Protocol):
    objective_position_m: float
    channel: str
    exposure_time_s: float
    excitation_power: float  # 0..1

    async def move_objective(self, position_m: float) -> None:
        """Move the objective (focus) to `position_m` metres; returns when it is there,
        without blocking the event loop."""
        ...

    async def acquire(self) -> np.ndarray:
        """One widefield frame (2-D uint16) with the current objective/channel/exposure;
        takes the exposure time without blocking the event loop."""
        ...

    def frame_shape(self) -> tuple[int, int]:
        """(rows, columns) of the frames `acquire` returns."""
        ...


@runtime_checkable
class MillingBackend(Protocol):
    """Ion-beam patterning. Patterns are in the ion image plane (metres, x right, y up
    from the image centre, docs/coordinates.md) at the ion beam's present hfw; milling
    runs at the ion beam's present current and voltage."""

    running: bool
    paused: bool  # True once a requested pause has taken effect (beam off the specimen)

    async def draw(self, stage: MillingStage) -> float:
        """Replace the drawn patterns with `stage`'s; return its estimated time (s)."""
        ...

    def clear(self) -> None: ...

    async def mill(self, progress: Callable[[float, float], None]) -> None:
        """Mill what is drawn, calling progress(fraction_done, time_remaining_s) as it
        goes; returns when done, or early after `stop()`."""
        ...

    def stop(self) -> None:
        """Stop milling now (the beam is blanked); also ends a paused mill."""
        ...

    def pause(self) -> None:
        """Request that the running mill be suspended (beam blanked, position kept);
        `paused` turns True when it is; `mill` keeps waiting meanwhile."""
        ...

    def resume(self) -> None:
        """Continue a paused (or pause-requested) mill where it stopped."""
        ...


@runtime_checkable
class MicroscopeBackend(Protocol):
    electron: BeamBackend
    ion: BeamBackend
    imaging: ImagingBackend
    stage: StageBackend
    manipulator: ManipulatorBackend
    gis: GasInjectionBackend
    sputter_coater: SputterCoaterBackend
    chamber: ChamberBackend
    fluorescence: FluorescenceBackend
    milling: MillingBackend

    def fingerprint(self) -> SystemFingerprint: ...

    def clock_s(self) -> float:
        """Microscope time in seconds (the twin's clock, or wall time on hardware)."""
        ...
