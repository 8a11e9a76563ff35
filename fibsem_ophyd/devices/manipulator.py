"""The manipulator (lift-out needle): raw axes x, y, z (metres), r (degrees); insert to
the configured park pose or to the (calibrated) eucentric pose, retract, park, the
needle-exchange position and back, and moves of the tip as seen in a beam's image.

Insertion is refused outside the configured insertion envelope and while vented,
venting or pumping; while the needle goes in, venting and stage moves out of the
envelope are refused (see `interlocks`). The eucentric pose is the configuration's
until a calibration (`plans.calibrate_manipulator`, `manipulator_calibration`)
replaces it; every run's descriptor carries the one in use (`eucentric_*`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import BeamName, ManipulatorBackend, ManipulatorPosition
from ..geometry import needle_image_delta
from ._backed import backed_r
from .axis import Axis, check_axis_target
from .interlocks import InterlockError, Interlocks
from .limits import ManipulatorLimits
from .manipulator_calibration import ManipulatorCalibration, save_calibration

_LINEAR = ("x_m", "y_m", "z_m")
ImageView = Callable[[BeamName], tuple[float, float]]
"""view(beam) -> (column tilt, scan rotation) in degrees: how a beam's image sees the chamber."""


class Manipulator(StandardReadable):
    def __init__(
        self,
        backend: ManipulatorBackend,
        limits: ManipulatorLimits,
        interlocks: Interlocks,
        image_view: ImageView,
        calibration: ManipulatorCalibration | None = None,
        name: str = "",
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        self._image_view = image_view
        self.calibration = calibration
        self._eucentric = calibration.position() if calibration else limits.eucentric
        self._return_pose: ManipulatorPosition | None = None  # set while at the exchange
        with self.add_children_as_readables():
            self.x = self._axis("x_m")
            self.y = self._axis("y_m")
            self.z = self._axis("z_m")
            self.r = self._axis("r_deg")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.inserted = backed_r(bool, lambda: bool(backend.inserted))
            self.calibrated = backed_r(bool, lambda: self.calibration is not None)
            self.at_exchange = backed_r(bool, lambda: self._return_pose is not None)
            self.eucentric_x_m = backed_r(float, lambda: float(self._eucentric.x_m), units="m")
            self.eucentric_y_m = backed_r(float, lambda: float(self._eucentric.y_m), units="m")
            self.eucentric_z_m = backed_r(float, lambda: float(self._eucentric.z_m), units="m")
        super().__init__(name=name)

    @property
    def eucentric_position(self) -> ManipulatorPosition:
        """The raw pose that puts the tip at the eucentric point (calibrated if done)."""
        return self._eucentric

    def _axis(self, field: str) -> Axis:
        async def move(value: float) -> None:
            await self.backend.move_to(ManipulatorPosition(**{field: value}))

        def must_be_inserted(_value: float) -> None:
            self._require_inserted(f"move manipulator.{field}")

        return Axis(
            f"manipulator.{field}",
            getattr(self.limits, field),
            read=lambda: float(getattr(self.backend.position(), field)),
            move=move,
            extra_check=must_be_inserted,
        )

    def _require_inserted(self, action: str) -> None:
        if not self.backend.inserted:
            raise InterlockError(f"refused to {action}: the needle is retracted; insert it")

    def _check_pose(self, what: str, pose: ManipulatorPosition) -> None:
        for field, value in pose:
            if value is not None:
                check_axis_target(f"{what}.{field}", value, getattr(self.limits, field))

    async def _refresh(self) -> None:
        for sig in (self.x.readback, self.y.readback, self.z.readback, self.r.readback):
            await sig.read(cached=False)
        for flag in (self.inserted, self.at_exchange, self.calibrated):
            await flag.read(cached=False)

    @AsyncStatus.wrap
    async def insert(self, position: Literal["park", "eucentric"] = "park") -> None:
        """Insert the needle to the configured park pose (safe, high) or to the eucentric
        pose (the tip at the eucentric point once calibrated)."""
        if position not in ("park", "eucentric"):
            raise ValueError(f"insert position {position!r} not allowed; use 'park' or 'eucentric'")
        if self._return_pose is not None:
            raise InterlockError(
                "refused to insert the manipulator: it is at the exchange position; "
                "return_from_exchange() first"
            )
        target = self.limits.park if position == "park" else self._eucentric
        self._check_pose(f"manipulator {position} position", target)
        with self._interlocks.inserting("manipulator"):
            await self.backend.insert(target)
        await self._refresh()

    @AsyncStatus.wrap
    async def retract(self) -> None:
        await self.backend.retract()
        await self._refresh()

    @AsyncStatus.wrap
    async def park(self) -> None:
        """Move an inserted needle back to its configured park pose."""
        self._require_inserted("park")
        await self.backend.move_to(self.limits.park)
        await self._refresh()

    @AsyncStatus.wrap
    async def move_to_exchange(self) -> None:
        """Retract (if inserted) and take the retracted needle to the configured exchange
        pose; `return_from_exchange` brings it back to where it was."""
        if self._return_pose is not None:
            return  # already there
        self._check_pose("manipulator exchange position", self.limits.exchange)
        if self.backend.inserted:
            await self.backend.retract()
        before = self.backend.position()
        await self.backend.move_retracted(self.limits.exchange)
        self._return_pose = before
        await self._refresh()

    @AsyncStatus.wrap
    async def return_from_exchange(self) -> None:
        """Back from the exchange pose to the retracted pose the needle left (a new
        needle needs a new calibration: `calibrated` reads False until then)."""
        if self._return_pose is None:
            raise InterlockError("refused to return from the exchange: the needle is not there")
        await self.backend.move_retracted(self._return_pose)
        self._return_pose = None
        self.calibration = None
        await self._refresh()

    @AsyncStatus.wrap
    async def move_in_image(
        self, dx_m: float, dy_m: float, beam: BeamName, keep: BeamName | None = None
    ) -> None:
        """Move the tip by (dx_m right, dy_m up) as seen in `beam`'s image, in the plane
        perpendicular to that beam; with `keep`, along the `keep` beam's axis instead
        (its view of the tip does not change; only a vertical dy_m is possible)."""
        self._require_inserted(f"move the needle in the {beam} image")
        tilt, scan_rotation = self._image_view(beam)
        keep_tilt = self._image_view(keep)[0] if keep is not None else None
        delta = needle_image_delta(dx_m, dy_m, tilt, scan_rotation, keep_tilt)
        now = self.backend.position()
        target = ManipulatorPosition(
            **{f: float(getattr(now, f)) + float(d) for f, d in zip(_LINEAR, delta, strict=True)}
        )
        self._check_pose("manipulator", target)
        await self.backend.move_to(target)
        await self._refresh()

    @AsyncStatus.wrap
    async def set_calibration(self, calibration: ManipulatorCalibration) -> None:
        """Use `calibration` for insertions from now on, and keep it in the configured
        calibration file (when there is one) for later sessions."""
        self._check_pose("calibrated eucentric position", calibration.position())
        if self.limits.calibration_file is not None:
            save_calibration(self.limits.calibration_file, calibration)
        self.calibration = calibration
        self._eucentric = calibration.position()
        for sig in (self.eucentric_x_m, self.eucentric_y_m, self.eucentric_z_m):
            await sig.read(cached=False)
        await self._refresh()
