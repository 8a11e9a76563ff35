"""Plain value types shared by backends and devices (SI units, angles in degrees)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# The two columns. Here, not beside the protocols, so that config, geometry and milling
# can name a beam without importing the backend protocols (which name milling stages).
BeamName = Literal["electron", "ion"]
BEAM_NAMES: tuple[BeamName, ...] = get_args(BeamName)


class VacuumState(StrEnum):
    PUMPED = "pumped"
    PUMPING = "pumping"
    VENTED = "vented"
    VENTING = "venting"


class StagePosition(BaseModel):
    """A raw stage pose. Any axis left as None is not moved."""

    model_config = ConfigDict(frozen=True)

    x_m: float | None = None
    y_m: float | None = None
    z_m: float | None = None
    r_deg: float | None = None
    t_deg: float | None = None

    def merged(self, base: StagePosition) -> StagePosition:
        """This pose with every None axis taken from `base`."""
        return StagePosition(**{k: (v if v is not None else getattr(base, k)) for k, v in self})


class ManipulatorPosition(BaseModel):
    """A manipulator (needle) pose in its own raw axes. None = not moved."""

    model_config = ConfigDict(frozen=True)

    x_m: float | None = None
    y_m: float | None = None
    z_m: float | None = None
    r_deg: float | None = None


class ReducedArea(BaseModel):
    """A sub-rectangle of the scan field, as fractions (0..1) of the full frame."""

    model_config = ConfigDict(frozen=True)

    left: float = Field(ge=0.0, le=1.0)
    top: float = Field(ge=0.0, le=1.0)
    width: float = Field(gt=0.0, le=1.0)
    height: float = Field(gt=0.0, le=1.0)


class SystemFingerprint(BaseModel):
    """What the connected backend reports about itself.

    Stored in every run's start document, so a run says which machine made it.
    """

    manufacturer: str
    model: str
    serial_number: str
    software_version: str
    subsystems: dict[str, bool]
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Named ranges the hardware reports, e.g. 'electron.hfw_m': (min, max).",
    )


class FrameMetadata(BaseModel):
    """What a backend reports with one frame. Each imaging detector writes it, as JSON,
    into the event of the frame (field ``<detector>-frame_metadata``), so a run keeps
    how every frame was taken, as the microscope saw it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Who reported it: 'twin', or 'fibsem' for the bridge.")
    beam: BeamName
    time_s: float = Field(description="When the frame began, on the backend's clock (s).")
    pixel_size_x_m: float = Field(description="Pixel width in the image plane (m).")
    pixel_size_y_m: float = Field(description="Pixel height in the image plane (m).")
    reported: dict[str, Any] = Field(
        default_factory=dict,
        description="The backend's own record, as plain data (fibsem: its image metadata; "
        "the twin: the beam state the frame was rendered with).",
    )
