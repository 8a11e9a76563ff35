"""The twin's world model: specimen, stage (commanded vs true pose), beams, needles,
chamber, clock; and the renders that follow from that state. Not an ophyd device."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ..backend import BeamName, ReducedArea, StagePosition, VacuumState
from .clock import TwinClock
from .cryo import START_RATE_K_PER_MIN, CryoStage
from .faults import TwinFaults
from .fluorescence import make_targets, render_fluorescence
from .lamella import LamellaReport, measure_lamella
from .landed import landed_site
from .liftout import LiftoutModel
from .mill_physics import plane_affine, unit_geometry
from .parameters import TwinParameters
from .projection import StagePose, chamber_to_image, specimen_to_chamber
from .render import Renderer, Scene
from .specimen import Specimen
from .state import (
    ROOM_TEMPERATURE_K,
    VENTED_PRESSURE_PA,
    BeamState,
    ChamberState,
    FluorescenceState,
    GisState,
    ManipulatorState,
)

_LINEAR = ("x_m", "y_m", "z_m")


# One thread renders every twin frame, in order: the event loop stays free while a
# frame is computed (a view over a new region fills the tile cache: ~0.5 s), and frames
# never render at the same time (the tile cache and the noise generator are not
# thread-safe).
RENDER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-render")


class TwinWorld:
    """Seeded, deterministic state of a simulated FIB-SEM and its specimen."""

    def __init__(self, params: TwinParameters | None = None) -> None:
        self.params = params or TwinParameters()
        p = self.params
        self.clock = TwinClock(realtime=p.realtime)
        self.specimen = Specimen(p)
        self.renderer = Renderer(self.specimen, p)
        self.electron = BeamState.electron()
        self.electron.working_distance_m = p.electron_eucentric_working_distance_m
        self.ion = BeamState.ion()
        self.ion.working_distance_m = p.ion_eucentric_working_distance_m
        self.manipulator = ManipulatorState()
        self.gis = GisState()
        self.chamber = ChamberState(pressure_pa=p.pumped_pressure_pa)
        start_k = p.cryo_temperature_k if p.cryo else ROOM_TEMPERATURE_K
        self.cryo = CryoStage(
            temperature_k=start_k, target_k=start_k, rate_k_per_min=START_RATE_K_PER_MIN
        )
        self.fluorescence = FluorescenceState()
        self.coating = self.specimen.coating  # protective layers (sim/coating.py)
        self.faults = TwinFaults()  # injected faults (sim/faults.py)
        self.clock.listeners.append(self._timed_faults)
        self.liftout = LiftoutModel()  # lifted-out lamellae (sim/liftout.py)
        self.targets = make_targets(self.specimen, p.seed)
        self._stage_rng = np.random.default_rng(p.seed + 1)
        self._fl_rng = np.random.default_rng(p.seed + 2)
        # Electron-flat at the eucentric height, shuttle centre under the beams.
        self.commanded_pose = StagePose(
            z_m=p.eucentric_z_m, r_deg=p.rotation_reference_deg, t_deg=p.shuttle_pre_tilt_deg
        )
        self._error = StagePose(0.0, 0.0, 0.0, 0.0, 0.0)
        self._settled_at_s = 0.0

    # --- timed faults ---

    def _timed_faults(self, now_s: float) -> None:
        lost_at = self.faults.vacuum_lost_at_s
        if lost_at is not None and now_s >= lost_at:
            self.faults.vacuum_lost_at_s = None  # it happens once
            self.lose_vacuum()

    def lose_vacuum(self) -> None:
        """The chamber loses its vacuum (a leak, a pump failure): vented, and both beams
        off, as the microscope's own vacuum interlock does."""
        self.chamber.state = VacuumState.VENTED
        self.chamber.pressure_pa = VENTED_PRESSURE_PA
        self.electron.on = False
        self.ion.on = False

    # --- beams ---

    def beam(self, name: BeamName) -> BeamState:
        if name == "electron":
            return self.electron
        if name == "ion":
            return self.ion
        raise ValueError(f"beam must be 'electron' or 'ion', got {name!r}")

    # --- stage ---

    def true_pose(self) -> StagePose:
        """Where the stage really is: command + per-move error + drift since the last move."""
        c, e = self.commanded_pose, self._error
        dt = self.clock.now_s() - self._settled_at_s
        dx, dy, dz = (v * dt for v in self.params.stage_drift_m_per_s)
        return StagePose(
            c.x_m + e.x_m + dx,
            c.y_m + e.y_m + dy,
            c.z_m + e.z_m + dz,
            c.r_deg + e.r_deg,
            c.t_deg + e.t_deg,
        )

    def stage_readback(self) -> StagePosition:
        """The encoders report the commanded pose (they do not see error or drift)."""
        c = self.commanded_pose
        return StagePosition(x_m=c.x_m, y_m=c.y_m, z_m=c.z_m, r_deg=c.r_deg, t_deg=c.t_deg)

    def stage_move_time_s(self, target: StagePosition) -> float:
        """Axes move together, each at its own speed (`stage_*_speed_*` parameters, from
        the configuration's `stage.max_*speed*`); then the stage settles."""
        c, p = self.commanded_pose, self.params
        speeds = {
            "x_m": p.stage_linear_speed_m_per_s,
            "y_m": p.stage_linear_speed_m_per_s,
            "z_m": p.stage_linear_speed_m_per_s,
            "r_deg": p.stage_rotation_speed_deg_per_s,
            "t_deg": p.stage_tilt_speed_deg_per_s,
        }
        times = [
            abs(value - getattr(c, axis)) / speeds[axis]
            for axis, value in target
            if value is not None and value != getattr(c, axis)
        ]
        return max(times) + p.stage_settle_s if times else 0.0

    def stage_temperature_k(self) -> float:
        """The cryo stage's temperature now (it follows its setpoint with twin time)."""
        return self.cryo.temperature_at(self.clock.now_s())

    def set_stage(self, target: StagePosition) -> None:
        """Apply a move instantly (the caller advances the clock): new command, new error.

        Axes in `faults.stage_stuck_axes` ignore the command (and keep their error)."""
        stuck = self.faults.stuck_fields()
        for k, v in target:
            if v is None:
                continue
            if not np.isfinite(v):
                raise ValueError(f"stage {k} must be finite, got {v}")
        changes = {k: v for k, v in target if v is not None and k not in stuck}
        before = self.commanded_pose
        self.commanded_pose = replace(self.commanded_pose, **changes)
        errors = {}
        p = self.params
        for k, v in changes.items():
            delta = abs(v - getattr(before, k))
            if delta == 0.0:
                continue  # an axis that does not move keeps its error
            linear = k in _LINEAR
            sigma = p.stage_position_error_m if linear else p.stage_rotation_error_deg
            full = p.stage_error_full_distance_m if linear else p.stage_error_full_angle_deg
            # Large moves land anywhere within the repeatability; small relative moves
            # keep most of the old error and add an error in proportion to their size.
            f = min(1.0, delta / full)
            fresh = float(self._stage_rng.normal(0.0, sigma * f)) if sigma > 0 else 0.0
            errors[k] = (1.0 - f) * getattr(self._error, k) + fresh
        self._error = replace(self._error, **errors)
        self._settled_at_s = self.clock.now_s()

    # --- milling results ---

    def lamella_report(self, site_name: str) -> LamellaReport:
        """The lamella of `site_name` (see `sim/lamella.py`), measured in the ion image
        plane of the last mill into its raster (or of the present ion view if never
        milled): at its site, or — once lifted out and landed — on its post
        (sim/landed.py). For a landed lamella, `centre_u_m`/`centre_v_m` are where the
        thinned lamella is, and `centre_error_m` is the distance of that centre from the
        landed chunk's centre (where the chunk's top landed); the thickness is measured
        perpendicular to the ion beam, as at a site."""
        site = self.specimen.site(site_name)
        lifted = self.liftout.sites.get(site_name)
        if lifted is not None and lifted.landed is not None:
            site, patch = landed_site(self, site_name, lifted.landed)
        else:
            patch = self.specimen.local_patch(site)
        lin = patch.milling_map
        if lin is None:
            affine = plane_affine(
                self.renderer, self.true_pose(), unit_geometry(self.ion, self.params)
            )
            lin = np.diag([1.0, -1.0]) @ affine[:, :2]
        return measure_lamella(patch, site, lin)

    def liftout_state(self, site_name: str) -> str:
        """'in_trench', 'free', 'attached' (on the needle) or 'landed' (on the post)."""
        self.specimen.site(site_name)
        return self.liftout.site(site_name).state

    def lamella_position(self, site_name: str) -> np.ndarray:
        """Chamber point (metres) of the lamella's top centre, wherever it is now."""
        return self.liftout.top_point(self, site_name)

    # --- imaging ---

    def scene(self) -> Scene:
        m = self.manipulator
        tip = np.array([m.x_m, m.y_m, m.z_m]) if m.inserted else None
        return Scene(self.true_pose(), tip, self.gis.inserted, tuple(self.liftout.boxes(self)))

    def _check_imaging(self, name: BeamName) -> BeamState:
        beam = self.beam(name)
        if beam.resolution_x_px < 1 or beam.resolution_y_px < 1 or beam.hfw_m <= 0:
            raise ValueError(f"{name}: resolution and hfw_m must be positive")
        return beam

    def _frame_inputs(self, beam: BeamName) -> tuple[BeamState, Scene]:
        """The beam settings (a copy) and the scene a frame taken now shows. With the
        chamber vented the beams cannot run: the frame is dark noise."""
        state = replace(self._check_imaging(beam))
        if self.chamber.state != "pumped":
            state = replace(state, on=False)
        return state, self.scene()

    def specimen_point_px(self, beam: BeamName, u_m: float, v_m: float) -> tuple[float, float]:
        """Where the specimen point (u, v) truly lies in `beam`'s frame (column, row in
        pixels), at the height of the surface in the view's centre, for the true stage
        pose: the ground truth a finder's answer is measured against."""
        geom = self.renderer.geometry(beam, self.beam(beam))
        pose = self.true_pose()
        h_m = self.renderer.surface_centre(pose, geom)[2]
        col, row = chamber_to_image(specimen_to_chamber(u_m, v_m, h_m, pose, self.params), geom)
        return float(col), float(row)

    def render(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        """One frame (uint8) of `beam` at the current state; does not advance the clock."""
        state, scene = self._frame_inputs(beam)
        return self.renderer.render(beam, state, scene, reduced_area)

    def render_labels(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        """Ground-truth material labels (uint8) in the same geometry as `render`."""
        state = self._check_imaging(beam)
        return self.renderer.render(beam, state, self.scene(), reduced_area, labels=True)

    async def acquire(self, beam: BeamName, reduced_area: ReducedArea | None = None) -> np.ndarray:
        """A frame of the state at the start of the scan, rendered in the render thread,
        then the scan time on the clock (in realtime mode the frame takes its wall time);
        the event loop stays free throughout."""
        state, scene = self._frame_inputs(beam)
        img = await asyncio.get_running_loop().run_in_executor(
            RENDER_THREAD, self.renderer.render, beam, state, scene, reduced_area
        )
        await self.clock.advance_async(state.frame_time_s(img.size))
        return img

    def render_fluorescence(self) -> np.ndarray:
        """One uint16 widefield frame; advances nothing (see `acquire_fluorescence`)."""
        if not self.params.fluorescence:
            raise ValueError("this twin has no fluorescence microscope (params.fluorescence)")
        return render_fluorescence(
            self.specimen,
            self.targets,
            self.params,
            self.true_pose(),
            self.fluorescence,
            self._fl_rng,
        )

    async def acquire_fluorescence(self) -> np.ndarray:
        loop = asyncio.get_running_loop()
        img = await loop.run_in_executor(RENDER_THREAD, self.render_fluorescence)
        await self.clock.advance_async(self.fluorescence.exposure_time_s)
        return img
