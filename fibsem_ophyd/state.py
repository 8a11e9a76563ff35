"""The whole microscope state as a validated model that round-trips to YAML and into
run metadata: stage pose, both beams' imaging settings, fluorescence settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from .backend import StagePosition


class BeamSettings(BaseModel):
    """Imaging settings of one beam (SI units; names carry the unit)."""

    model_config = ConfigDict(extra="forbid")

    voltage_v: float
    current_a: float
    hfw_m: float
    resolution: str = Field(description="'WIDTHxHEIGHT' in pixels")
    dwell_time_s: float
    working_distance_m: float
    stigmation_x: float = 0.0
    stigmation_y: float = 0.0
    beam_shift_x_m: float = 0.0
    beam_shift_y_m: float = 0.0
    scan_rotation_deg: float = 0.0
    line_integration: int = 1
    frame_integration: int = 1
    detector_type: str
    detector_mode: str
    detector_contrast: float
    detector_brightness: float
    blanked: bool = False
    on: bool = True


class FluorescenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objective_position_m: float
    channel: str
    exposure_time_s: float
    excitation_power: float


class MicroscopeState(BaseModel):
    """Everything needed to come back to the same view."""

    model_config = ConfigDict(extra="forbid")

    stage: StagePosition
    electron: BeamSettings
    ion: BeamSettings
    fluorescence: FluorescenceSettings | None = None
    clock_s: float | None = Field(None, description="Microscope clock when saved, seconds")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> MicroscopeState:
        return cls.model_validate(yaml.safe_load(text))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml())

    @classmethod
    def load(cls, path: str | Path) -> MicroscopeState:
        return cls.from_yaml(Path(path).read_text())

    def as_metadata(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


BEAM_FIELDS: tuple[str, ...] = tuple(BeamSettings.model_fields)
# Written first on restore: current and voltage change the column before the rest.
BEAM_RESTORE_ORDER: tuple[str, ...] = (
    "voltage_v",
    "current_a",
    *(f for f in BEAM_FIELDS if f not in ("voltage_v", "current_a", "on", "blanked")),
    "blanked",
    "on",
)
