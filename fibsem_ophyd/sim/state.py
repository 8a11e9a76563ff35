"""Plain state records of the twin's subsystems (SI units, angles in degrees)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import VacuumState


@dataclass
class BeamState:
    """One column and its detector; attribute names match `BeamBackend`."""

    voltage_v: float = 2000.0
    current_a: float = 50e-12
    hfw_m: float = 150e-6
    resolution_x_px: int = 1536
    resolution_y_px: int = 1024
    dwell_time_s: float = 1e-6
    working_distance_m: float = 4.0e-3
    stigmation_x: float = 0.0
    stigmation_y: float = 0.0
    beam_shift_x_m: float = 0.0
    beam_shift_y_m: float = 0.0
    scan_rotation_deg: float = 0.0
    line_integration: int = 1
    frame_integration: int = 1
    blanked: bool = False
    on: bool = True
    detector_type: str = "ETD"
    detector_mode: str = "SE"
    detector_contrast: float = 0.5  # 0..1
    detector_brightness: float = 0.5  # 0..1

    @classmethod
    def electron(cls) -> BeamState:
        return cls()

    @classmethod
    def ion(cls) -> BeamState:
        return cls(voltage_v=30e3, current_a=30e-12, working_distance_m=16.5e-3)

    def frame_time_s(self, n_pixels: int | None = None) -> float:
        n = self.resolution_x_px * self.resolution_y_px if n_pixels is None else n_pixels
        return self.dwell_time_s * n * self.line_integration * self.frame_integration


@dataclass
class ManipulatorState:
    """Needle tip at (x, y, z) metres in the chamber frame (from the eucentric point);
    the raw axes read this minus `params.manipulator_tip_offset_m`. A retracted needle
    keeps the pose it will come back to (it is not drawn)."""

    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 200e-6
    r_deg: float = 0.0
    inserted: bool = False


ROOM_TEMPERATURE_K = 293.0  # an unheated GIS reservoir, a stage without cooling


@dataclass
class GisState:
    gas: str = "Pt"
    inserted: bool = False
    heater_on: bool = False
    heater_temperature_k: float = ROOM_TEMPERATURE_K  # the reservoir's setpoint when heated
    open_time_s: float = 0.0  # total valve-open time
    deposits: list[tuple[str, float]] = field(default_factory=list)  # (gas, seconds open)

    @property
    def temperature_k(self) -> float:
        """The reservoir: at the heater setpoint when heated (no warm-up modelled)."""
        return self.heater_temperature_k if self.heater_on else ROOM_TEMPERATURE_K


VENTED_PRESSURE_PA = 1.0e5  # a vented chamber


@dataclass
class ChamberState:
    """Vacuum; the cryo stage's temperature lives in `sim/cryo.py` (it changes with time)."""

    pressure_pa: float  # pumped: TwinParameters.pumped_pressure_pa
    state: VacuumState = VacuumState.PUMPED


@dataclass
class FluorescenceState:
    objective_position_m: float = 0.0
    channel: str = "green"
    exposure_time_s: float = 0.1
    excitation_power: float = 0.5  # 0..1


@dataclass
class CoatingState:
    """Protective layers on the whole specimen, bottom first: (material, thickness_m).

    Materials: "sputter_pt" (sputter coater) and "gis_pt" (cryo GIS deposition); see
    `sim/coating.py` for rates and relative milling yields. Milling removes layers locally
    (per site patch); these are the as-deposited thicknesses.
    """

    layers: list[tuple[str, float]] = field(default_factory=list)
    history: list[tuple[float, float]] = field(default_factory=list)  # sputter (s, A)

    @property
    def thickness_m(self) -> float:
        """Total as-deposited thickness of all layers."""
        return float(sum(t for _, t in self.layers))

    def thickness_by_material_m(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for material, t in self.layers:
            out[material] = out.get(material, 0.0) + t
        return out

    def add(self, material: str, thickness_m: float) -> None:
        """Deposit a new layer on top (never merged: milled patches track each layer)."""
        if thickness_m > 0:
            self.layers.append((material, thickness_m))
