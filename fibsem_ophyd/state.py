"""The whole microscope state as a validated model that round-trips to YAML and into
run metadata: stage pose, both beams' imaging settings (`BeamSettings`, the one list
of them, lives with the backend types), fluorescence settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from .backend import BEAM_SETTINGS, BeamSettings, StagePosition


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


BEAM_FIELDS: tuple[str, ...] = tuple(BEAM_SETTINGS)
# Written first on restore: current and voltage change the column before the rest.
BEAM_RESTORE_ORDER: tuple[str, ...] = (
    "voltage_v",
    "current_a",
    *(f for f in BEAM_FIELDS if f not in ("voltage_v", "current_a", "on", "blanked")),
    "blanked",
    "on",
)

__all__ = [
    "BEAM_FIELDS",
    "BEAM_RESTORE_ORDER",
    "BeamSettings",
    "FluorescenceSettings",
    "MicroscopeState",
]
