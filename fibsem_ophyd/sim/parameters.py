"""Configuration of the digital twin: geometry, stage behaviour, identity, seed.

Parameters that describe the microscope (geometry, stage speeds, pump and vent times,
cryo) are set from the microscope configuration by `fibsem_ophyd.connect`; their
defaults here are the shipped configuration's, read from it (one source), for twins
built directly (`TwinWorld()`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..config import MicroscopeConfig

_CFG = MicroscopeConfig()


class TwinParameters(BaseModel):
    """Everything that makes one twin differ from another (SI units, angles in degrees)."""

    model_config = ConfigDict(frozen=True)

    # Geometry (docs/coordinates.md).
    electron_column_tilt_deg: float = _CFG.electron.column_tilt_deg
    ion_column_tilt_deg: float = _CFG.ion.column_tilt_deg
    shuttle_pre_tilt_deg: float = _CFG.stage.shuttle_pre_tilt_deg
    rotation_reference_deg: float = _CFG.stage.rotation_reference_deg
    rotation_180_deg: float = _CFG.stage.rotation_180_deg
    eucentric_z_m: float = _CFG.stage.eucentric_z_m
    electron_eucentric_working_distance_m: float = _CFG.electron.eucentric_height_m
    ion_eucentric_working_distance_m: float = _CFG.ion.eucentric_height_m
    electron_convergence_semi_angle_rad: float = 5e-3
    ion_convergence_semi_angle_rad: float = 2e-3

    # Stage behaviour.
    stage_position_error_m: float = Field(0.0, ge=0.0, description="1-sigma per move, x/y/z")
    stage_rotation_error_deg: float = Field(0.0, ge=0.0, description="1-sigma per move, r/t")
    stage_error_full_distance_m: float = Field(
        100e-6,
        gt=0.0,
        description="Moves this long or longer get the full position error; "
        "shorter ones a proportional part (relative moves are more precise)",
    )
    stage_error_full_angle_deg: float = Field(
        5.0, gt=0.0, description="Rotations/tilts this large get the full angular error"
    )
    stage_drift_m_per_s: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stage_linear_speed_m_per_s: float = Field(_CFG.stage.max_speed_m_per_s, gt=0.0)
    stage_rotation_speed_deg_per_s: float = Field(_CFG.stage.max_rotation_speed_deg_per_s, gt=0.0)
    stage_tilt_speed_deg_per_s: float = Field(_CFG.stage.max_tilt_speed_deg_per_s, gt=0.0)
    stage_settle_s: float = Field(0.2, ge=0.0)
    manipulator_speed_m_per_s: float = Field(0.5e-3, gt=0.0)
    manipulator_insert_time_s: float = Field(0.0, ge=0.0, description="Insert/retract stroke (s)")
    manipulator_tip_offset_m: tuple[float, float, float] = Field(
        (0.0, 0.0, 0.0),
        description="Where the tip really is relative to what the raw axes read (a bent or "
        "exchanged needle), chamber frame; hidden from the devices, found by calibration",
    )
    realtime: bool = Field(False, description="Sleep in wall time as long as the twin clock moves")

    # Chamber and cryo stage.
    pump_time_s: float = Field(_CFG.chamber.pump_time_s, ge=0.0)
    vent_time_s: float = Field(_CFG.chamber.vent_time_s, ge=0.0)
    pumped_pressure_pa: float = Field(
        _CFG.chamber.pumped_pressure_pa, gt=0.0, description="Pressure reached by pumping"
    )
    cryo: bool = Field(_CFG.chamber.cryo_enabled, description="A cryo stage is fitted")
    cryo_temperature_k: float = Field(
        _CFG.chamber.cryo_temperature_k, gt=0.0, description="Stage temperature at start (cryo)"
    )

    # Milling (sim/milling.py). Effects are seeded and off by default.
    milling_time_scale: float = Field(
        0.0, ge=0.0, description="Wall seconds slept per twin second of milling (0 = none)"
    )
    milling_redeposition_fraction: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of milled volume redeposited at trench edges"
    )
    milling_beam_drift_m_per_s: float = Field(
        0.0, ge=0.0, description="Ion beam drift in the image plane while milling (seeded dir.)"
    )

    # Specimen.
    seed: int = 0
    grid_diameter_m: float = 3.0e-3
    grid_pitch_m: float = 125e-6
    grid_bar_width_m: float = 35e-6
    n_sites: int = Field(5, ge=1, le=16)
    patch_size_m: float = Field(40e-6, gt=0.0, description="Side of a site's editable raster")
    patch_pixel_m: float = Field(10e-9, gt=0.0, description="Pixel of a site's editable raster")

    # Imaging.
    noise_scale: float = Field(1.0, ge=0.0, description="Multiplies the shot-noise amplitude")
    fluorescence: bool = True
    fluorescence_pixel_m: float = 150e-9
    fluorescence_resolution_px: tuple[int, int] = (512, 512)

    # Identity (SystemFingerprint).
    model: str = "Digital Twin FIB-SEM"
    serial_number: str = "TWIN-0001"
    software_version: str = "twin-0.1"

    def column_tilt_deg(self, beam: str) -> float:
        """Column tilt of `beam` ("electron" or "ion")."""
        return self.ion_column_tilt_deg if beam == "ion" else self.electron_column_tilt_deg

    def eucentric_working_distance_m(self, beam: str) -> float:
        if beam == "ion":
            return self.ion_eucentric_working_distance_m
        return self.electron_eucentric_working_distance_m

    def convergence_semi_angle_rad(self, beam: str) -> float:
        if beam == "ion":
            return self.ion_convergence_semi_angle_rad
        return self.electron_convergence_semi_angle_rad
