"""Configuration of the manipulator and the fluorescence microscope."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from fibsem_ophyd.backend._types import ManipulatorPosition

from ._base import AxisRange, Number, PositiveNumber, Section, fmt, raise_issues


class ManipulatorPose(Section):
    """A manipulator pose in its raw axes."""

    x_m: Number = Field(0.0, description="x, metres (m).")
    y_m: Number = Field(0.0, description="y, metres (m).")
    z_m: Number = Field(0.0, description="z, metres (m).")
    r_deg: Number = Field(0.0, description="Rotation, degrees (deg).")

    def to_position(self) -> ManipulatorPosition:
        """As the backend value type."""
        return ManipulatorPosition(x_m=self.x_m, y_m=self.y_m, z_m=self.z_m, r_deg=self.r_deg)


class ManipulatorLimits(Section):
    """Soft limits of the manipulator raw axes."""

    x_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="x range, m.")
    y_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="y range, m.")
    z_m: AxisRange = Field(AxisRange(min=-5.0e-3, max=5.0e-3), description="z range, m.")
    r_deg: AxisRange = Field(AxisRange(min=0.0, max=360.0), description="Rotation range, deg.")


class InsertionEnvelope(Section):
    """Stage poses inside which a needle (manipulator or GIS) may be in the chamber."""

    stage_tilt_deg: AxisRange = Field(
        AxisRange(min=-1.0, max=40.0), description="Allowed stage tilt range, degrees (deg)."
    )
    stage_z_max_m: Number = Field(6.0e-3, description="Highest stage z, metres (m).")


class ManipulatorConfig(Section):
    """The lift-out needle (e.g. EasyLift)."""

    enabled: StrictBool = Field(True, description="Whether a manipulator is installed.")
    park_position: ManipulatorPose = Field(
        ManipulatorPose(x_m=0.0, y_m=0.0, z_m=200e-6, r_deg=0.0),
        description="Inserted park pose (tip high above the eucentric point), raw axes (m, deg).",
    )
    eucentric_position: ManipulatorPose = Field(
        ManipulatorPose(),
        description="Pose that puts the tip at the eucentric point (m, deg); replaced by "
        "the calibration in `calibration_file` when there is one.",
    )
    exchange_position: ManipulatorPose = Field(
        ManipulatorPose(x_m=0.0, y_m=0.0, z_m=4.0e-3, r_deg=0.0),
        description="Retracted pose where the needle is exchanged, raw axes (m, deg).",
    )
    calibration_file: str | None = Field(
        None,
        description="JSON file holding the calibrated eucentric position (written by "
        "plans.calibrate_manipulator, read on connect); null: calibrations last one session.",
    )
    insertion_envelope: InsertionEnvelope = Field(default_factory=InsertionEnvelope)
    limits: ManipulatorLimits = Field(default_factory=ManipulatorLimits)

    @model_validator(mode="after")
    def _poses_within_limits(self) -> ManipulatorConfig:
        issues = []
        for pose_name in ("park_position", "eucentric_position", "exchange_position"):
            pose = getattr(self, pose_name)
            for axis in ("x_m", "y_m", "z_m", "r_deg"):
                rng: AxisRange = getattr(self.limits, axis)
                val = getattr(pose, axis)
                if not rng.contains(val):
                    unit = axis.rsplit("_", 1)[1]
                    issues.append(
                        (
                            f"{pose_name}.{axis}",
                            f"got {fmt(val)} {unit}; outside limits.{axis} "
                            f"[{fmt(rng.min)}, {fmt(rng.max)}] {unit}",
                        )
                    )
        raise_issues(issues)
        return self


class FluorescenceChannel(Section):
    """One excitation/emission channel of the integrated fluorescence microscope."""

    name: str = Field(min_length=1, description="Channel name, e.g. 'green'.")
    excitation_wavelength_m: PositiveNumber = Field(description="Excitation, metres (m).")
    emission_wavelength_m: PositiveNumber | None = Field(
        description="Emission filter centre, metres (m); null for reflection."
    )


class Offset(Section):
    """A translation in the raw stage frame, metres."""

    x_m: Number = Field(0.0, description="x, metres (m).")
    y_m: Number = Field(0.0, description="y, metres (m).")
    z_m: Number = Field(0.0, description="z, metres (m).")


class FluorescenceConfig(Section):
    """Integrated fluorescence (light) microscope, if any."""

    enabled: StrictBool = Field(False, description="Whether an integrated FM is installed.")
    objective_range_m: AxisRange = Field(
        AxisRange(min=0.0, max=10.0e-3), description="Objective focus travel, metres (m)."
    )
    channels: list[FluorescenceChannel] = Field(
        default_factory=lambda: [
            FluorescenceChannel(
                name="reflection", excitation_wavelength_m=550e-9, emission_wavelength_m=None
            ),
            FluorescenceChannel(
                name="green", excitation_wavelength_m=488e-9, emission_wavelength_m=525e-9
            ),
            FluorescenceChannel(
                name="red", excitation_wavelength_m=561e-9, emission_wavelength_m=620e-9
            ),
        ],
        description="Available channels (wavelengths in metres).",
    )
    exposure_range_s: AxisRange = Field(
        AxisRange(min=1.0e-4, max=10.0), description="Allowed camera exposure times, seconds (s)."
    )
    stage_offset: Offset | None = Field(
        None, description="Raw stage translation from the eucentric point to the FM view (m)."
    )

    @model_validator(mode="after")
    def _positive_exposure(self) -> FluorescenceConfig:
        low = self.exposure_range_s.min
        if low <= 0:
            raise_issues([("exposure_range_s.min", f"got {fmt(low)} s; must be > 0 s")])
        return self
