"""The Microscope: every subsystem of one FIB-SEM, built on one backend.

    microscope.electron_beam, microscope.ion_beam           imaging settings
    microscope.sem, microscope.fib, microscope.fm_camera    detectors (HDF5 frames)
    microscope.stage, microscope.manipulator, microscope.gis,
    microscope.sputter_coater, microscope.chamber, microscope.fluorescence
    microscope.milling                                      ion-beam patterning
    microscope.milling_verifier                             milled region vs patterns
    microscope.sem_aligner, microscope.fib_aligner          registration processors
    microscope.sem_features, microscope.fib_features        keypoint processors
    microscope.sem_needle, microscope.fib_needle            needle-tip processors
    microscope.sem_keypoints, microscope.fib_keypoints      keypoint-model processors
                                                            (after `add_keypoints`)
    microscope.sem_metrics, microscope.fib_metrics          sharpness / grey levels
    microscope.supervisor                                   decisions at decision points
    microscope.clock_s                                      microscope time (s)

It is a container of ophyd-async devices rather than a Device itself: bluesky reserves
the attribute name `stage` on devices (the Stageable protocol), and a microscope is
never read or staged as a whole — plans use its parts. `fingerprint` says what the
backend reports; plans put it in every run's start document (`run_metadata`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ophyd_async.core import Device, PathProvider, SignalR

from ..backend import BeamName, MicroscopeBackend, StagePosition, SystemFingerprint
from ..geometry import StageGeometry, source_direction, specimen_normal
from ._backed import backed_r
from .aligner import ImageAligner
from .beam import Beam
from .chamber import Chamber
from .electron_beam import ElectronBeam
from .feature_detector import FeatureDetector
from .fluorescence import FluorescenceMicroscope, fluorescence_camera
from .frame_metrics import FrameMetrics
from .gas_injection import GasInjection
from .imaging_detector import ImagingDetector
from .interlocks import Interlocks
from .ion_beam import IonBeam
from .keypoint_processor import KeypointProcessor, KeypointSource
from .limits import MicroscopeLimits
from .manipulator import Manipulator
from .manipulator_calibration import load_calibration
from .milling import Milling
from .milling_verifier import MillingVerifier
from .sputter_coater import SputterCoater
from .stage import Stage
from .supervisor import Supervisor


class Microscope:
    def __init__(
        self,
        backend: MicroscopeBackend,
        limits: MicroscopeLimits,
        path_provider: PathProvider,
        geometry: StageGeometry | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        self.limits = limits
        self.geometry = geometry or StageGeometry()
        # Start-document metadata from the connection (which microscope, the fingerprint
        # check's decision); see `run_metadata`.
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.interlocks = Interlocks(backend, limits.manipulator, limits.chamber.pumped_pressure_pa)
        il = self.interlocks
        self.electron_beam = ElectronBeam(backend.electron, limits.electron, il)
        self.ion_beam = IonBeam(backend.ion, limits.ion, il)
        self.sem = ImagingDetector(self.electron_beam, backend.imaging, il, path_provider)
        self.fib = ImagingDetector(self.ion_beam, backend.imaging, il, path_provider)
        self.stage = Stage(backend.stage, limits.stage, il)
        self.manipulator = Manipulator(
            backend.manipulator,
            limits.manipulator,
            il,
            image_view=self.image_view,
            calibration=load_calibration(limits.manipulator.calibration_file),
        )
        self.gis = GasInjection(backend.gis, il, limits.gis)
        self.sputter_coater = SputterCoater(backend.sputter_coater, il, limits.sputter_coater)
        self.chamber = Chamber(backend.chamber, il, limits.chamber)
        self.fluorescence = FluorescenceMicroscope(backend.fluorescence, limits.fluorescence)
        self.fm_camera = fluorescence_camera(self.fluorescence, il, path_provider)
        self.sem_aligner = ImageAligner(self.sem)
        self.fib_aligner = ImageAligner(self.fib)
        self.sem_features = FeatureDetector(self.sem, lambda: self.foreshortening("electron"))
        self.fib_features = FeatureDetector(self.fib, lambda: self.foreshortening("ion"))
        self.sem_needle = FeatureDetector(self.sem)
        self.fib_needle = FeatureDetector(self.fib)
        # Built by `add_keypoints` when the session has a keypoint model.
        self.sem_keypoints: KeypointProcessor | None = None
        self.fib_keypoints: KeypointProcessor | None = None
        self.sem_metrics = FrameMetrics(self.sem)
        self.fib_metrics = FrameMetrics(self.fib)
        self.supervisor = Supervisor()
        self.milling = Milling(backend.milling, backend.ion, il)
        il.milling = self.milling  # venting refuses while it mills; ion off stops it
        self.milling_verifier = MillingVerifier(self.fib, self.milling)
        self.clock_s: SignalR[float] = backed_r(float, backend.clock_s, units="s")
        self.fingerprint: SystemFingerprint = backend.fingerprint()
        # Named stage positions (lamella sites), raw coordinates.
        self.sites: dict[str, StagePosition] = {}
        # Other named stage positions (e.g. "landing_post" for lift-out), raw coordinates.
        self.positions: dict[str, StagePosition] = {}
        for name, device in self.devices().items():
            device.set_name(name)

    def emergency_stop(self) -> None:
        """Stop milling and blank both beams, now and synchronously: for `RE.halt()`,
        after which bluesky runs no cleanup plan (`profiles.safety` calls this from the
        RunEngine's state hook). Unblank (`bps.mv(beam.blanked, False)`) to go on."""
        self.milling.interrupt("halted: emergency stop")
        self.backend.milling.stop()
        self.backend.electron.blanked = True
        self.backend.ion.blanked = True

    def devices(self) -> dict[str, Device]:
        """Every device, by the name it has in documents."""
        return {
            name: value
            for name, value in vars(self).items()
            if isinstance(value, Device) and name != "clock_s"
        } | {"clock": self.clock_s}

    async def connect(self, mock: bool = False, timeout: float = 10.0) -> None:
        """Connect every device (the backend's subsystem first, where it says when it
        answers); ConnectionError naming each device that did not within `timeout` s."""
        names = list(self.devices())
        results = await asyncio.gather(
            *(self._connect_one(n, d, mock, timeout) for n, d in self.devices().items()),
            return_exceptions=True,
        )
        failed = [f"{n}: {e}" for n, e in zip(names, results, strict=True) if e is not None]
        if failed:
            raise ConnectionError("could not connect the microscope: " + "; ".join(failed))

    async def _connect_one(self, name: str, device: Device, mock: bool, timeout: float) -> None:
        ready = getattr(self.backend, "connect_subsystem", None)
        if ready is not None and not mock:
            try:
                async with asyncio.timeout(timeout):
                    await ready(name)
            except TimeoutError:
                raise TimeoutError(f"did not answer within {timeout:g} s") from None
        await device.connect(mock=mock, timeout=timeout)

    def beam(self, beam: BeamName) -> Beam:
        if beam == "electron":
            return self.electron_beam
        if beam == "ion":
            return self.ion_beam
        raise ValueError(f"beam={beam!r} is not allowed; use 'electron' or 'ion'")

    def detector(self, beam: BeamName) -> ImagingDetector:
        self.beam(beam)  # validates the name
        return self.sem if beam == "electron" else self.fib

    def aligner(self, beam: BeamName) -> ImageAligner:
        self.beam(beam)
        return self.sem_aligner if beam == "electron" else self.fib_aligner

    def features(self, beam: BeamName) -> FeatureDetector:
        self.beam(beam)
        return self.sem_features if beam == "electron" else self.fib_features

    def needle_features(self, beam: BeamName) -> FeatureDetector:
        self.beam(beam)
        return self.sem_needle if beam == "electron" else self.fib_needle

    async def add_keypoints(self, source: KeypointSource) -> None:
        """Keypoint-model processors beside the SEM and FIB detectors, running `source`
        (the session builds it from a model: `profiles.keypoints.wire_keypoints`);
        replaces any earlier ones."""
        for name, detector in (("sem_keypoints", self.sem), ("fib_keypoints", self.fib)):
            processor = KeypointProcessor(detector, source, name=name)
            await processor.connect()
            setattr(self, name, processor)

    def keypoints(self, beam: BeamName) -> KeypointProcessor:
        self.beam(beam)
        processor = self.sem_keypoints if beam == "electron" else self.fib_keypoints
        if processor is None:
            raise RuntimeError(
                "no keypoint model in this session: add one with "
                "profiles.keypoints.wire_keypoints(microscope, checkpoint)"
            )
        return processor

    def metrics(self, beam: BeamName) -> FrameMetrics:
        self.beam(beam)
        return self.sem_metrics if beam == "electron" else self.fib_metrics

    def image_view(self, beam: BeamName) -> tuple[float, float]:
        """(column tilt, scan rotation) of `beam`, degrees: how its image sees the chamber."""
        return self.geometry.column_tilt_deg(beam), float(self.beam(beam).backend.scan_rotation_deg)

    def foreshortening(self, beam: BeamName) -> float:
        """|n·s|: how much the specimen plane is shortened along the image vertical in
        `beam`'s view at the present pose (1 when the surface faces the beam)."""
        pose = self.backend.stage.position()
        n = specimen_normal(pose, self.geometry)
        s = source_direction(self.geometry.column_tilt_deg(beam))
        return float(abs(n @ s))

    def run_metadata(self) -> dict[str, Any]:
        """Metadata for every run's start document: the system fingerprint, and what the
        connection recorded (`metadata`: the configured microscope, the fingerprint
        check's decision).

        Start-document keys may not contain dots, so ranges named "subsystem.field"
        are nested as {"subsystem": {"field": [min, max]}}."""
        fp = self.fingerprint.model_dump(mode="json")
        nested: dict[str, dict[str, Any]] = {}
        for key, rng in fp.pop("ranges").items():
            group, _, field = key.rpartition(".")
            nested.setdefault(group or "general", {})[field] = rng
        fp["ranges"] = nested
        return {"fingerprint": fp, **self.metadata}
