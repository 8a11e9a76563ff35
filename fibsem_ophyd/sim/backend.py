"""`TwinBackend`: the digital twin behind the `fibsem_ophyd.backend.MicroscopeBackend`
protocols. Devices drive it exactly as they would drive a vendor backend."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import numpy as np

from ..backend import BeamName, FrameMetadata, ReducedArea, StagePosition, SystemFingerprint
from .chamber import TwinChamber
from .milling import TwinMilling
from .subsystems import (
    TwinFluorescence,
    TwinGis,
    TwinManipulator,
    TwinSputterCoater,
)
from .world import TwinWorld


class TwinBeam:
    """A column as the backend protocol sees it: reads/writes go to the world's
    `BeamState`, except that the ion `current_a` readback obeys
    `faults.ion_current_readback_factor` (the beam itself runs at the setpoint)."""

    def __init__(self, world: TwinWorld, name: BeamName) -> None:
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> object:
        return getattr(self._world.beam(self._name), attr)

    def __setattr__(self, attr: str, value: object) -> None:
        setattr(self._world.beam(self._name), attr, value)

    @property
    def current_a(self) -> float:
        setpoint = self._world.beam(self._name).current_a
        if self._name == "ion":
            return setpoint * self._world.faults.ion_current_readback_factor
        return setpoint


class TwinImaging:
    def __init__(self, world: TwinWorld) -> None:
        self._world = world
        self._metadata: dict[BeamName, FrameMetadata] = {}

    async def acquire(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        state = asdict(self._world.beam(beam))  # the settings the frame is rendered with
        start_s = self._world.clock.now_s()
        if self._world.faults.beam_trips == beam:
            await self._trip(beam)
        frame = await self._world.acquire(beam, reduced_area)
        pixel_m = state["hfw_m"] / state["resolution_x_px"]
        self._metadata[beam] = FrameMetadata(
            source="twin",
            beam=beam,
            time_s=start_s,
            pixel_size_x_m=pixel_m,
            pixel_size_y_m=pixel_m,
            reported={
                **state,
                "reduced_area": None if reduced_area is None else reduced_area.model_dump(),
            },
        )
        return frame

    async def _trip(self, beam: BeamName) -> None:
        """`faults.beam_trips`: half the frame's scan time, then the beam is off and the
        acquisition fails, as a vendor's acquire does when its beam trips."""
        world = self._world
        world.faults.beam_trips = None  # one-shot
        await world.clock.advance_async(world.beam(beam).frame_time_s() / 2)
        world.beam(beam).on = False
        raise RuntimeError(f"the {beam} beam tripped off during the frame; the frame is lost")

    def frame_metadata(self, beam: BeamName) -> FrameMetadata | None:
        return self._metadata.get(beam)

    def frame_time_s(self, beam: BeamName) -> float:
        return self._world.beam(beam).frame_time_s()


class TwinStage:
    def __init__(self, world: TwinWorld) -> None:
        self._world = world
        self._stopped: asyncio.Event | None = None  # set by stop() while a move hangs

    def position(self) -> StagePosition:
        return self._world.stage_readback()

    async def move_to(self, target: StagePosition) -> None:
        duration = self._world.stage_move_time_s(target)
        await self._world.clock.advance_async(duration)
        if self._world.faults.stage_move_hangs:
            # never arrives: the stage stays put, the move runs until stop()
            self._stopped = asyncio.Event()
            try:
                await self._stopped.wait()
            finally:
                self._stopped = None
            return
        self._world.set_stage(target)

    def stop(self) -> None:
        """Ends a hanging move (`faults.stage_move_hangs`); other twin moves complete
        atomically in twin time, so nothing is left to stop."""
        if self._stopped is not None:
            self._stopped.set()

    def move_time_s(self, target: StagePosition) -> float:
        return self._world.stage_move_time_s(target)


class TwinBackend:
    """All subsystems of a `TwinWorld`, as `MicroscopeBackend` wants them."""

    def __init__(self, world: TwinWorld | None = None) -> None:
        self.world = world or TwinWorld()
        self.electron = TwinBeam(self.world, "electron")
        self.ion = TwinBeam(self.world, "ion")
        self.imaging = TwinImaging(self.world)
        self.stage = TwinStage(self.world)
        self.manipulator = TwinManipulator(self.world)
        self.gis = TwinGis(self.world)
        self.sputter_coater = TwinSputterCoater(self.world)
        self.chamber = TwinChamber(self.world)
        self.fluorescence = TwinFluorescence(self.world)
        self.milling = TwinMilling(self.world)

    async def connect_subsystem(self, name: str) -> None:
        """Answers at once, except a subsystem in `faults.unconnectable`: never."""
        if name in self.world.faults.unconnectable:
            await asyncio.Event().wait()

    def fingerprint(self) -> SystemFingerprint:
        p = self.world.params
        return SystemFingerprint(
            manufacturer="Demo",
            model=p.model,
            serial_number=p.serial_number,
            software_version=p.software_version,
            subsystems={
                "electron": True,
                "ion": True,
                "stage": True,
                "manipulator": True,
                "gis": True,
                "sputter_coater": True,
                "chamber": True,
                "fluorescence": p.fluorescence,
                "cryo": p.cryo,
                "milling": True,
            },
            ranges={
                "electron.hfw_m": (1e-6, 3e-3),
                "ion.hfw_m": (1e-6, 3e-3),
                "electron.dwell_time_s": (25e-9, 25e-3),
                "ion.dwell_time_s": (25e-9, 25e-3),
                "stage.x_m": (-5e-3, 5e-3),
                "stage.y_m": (-5e-3, 5e-3),
                "stage.z_m": (0.0, 10e-3),
                "stage.t_deg": (-10.0, 60.0),
            },
        )

    def clock_s(self) -> float:
        return self.world.clock.now_s()
