"""The top-level microscope configuration."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field, model_validator

from fibsem_ophyd.backend._protocols import BeamName

from ._base import Section
from ._beam import BeamConfig
from ._beam_defaults import ELECTRON_DEFAULTS, ION_DEFAULTS
from ._stage import StageConfig
from ._subsystems import (
    ChamberConfig,
    FluorescenceConfig,
    GISConfig,
    InfoConfig,
    ManipulatorConfig,
    SputterCoaterConfig,
)

_BEAM_DEFAULTS: dict[str, dict[str, Any]] = {"electron": ELECTRON_DEFAULTS, "ion": ION_DEFAULTS}


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``; nested dicts merge, everything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class MicroscopeConfig(Section):
    """A whole microscope: a typical cryo FIB-SEM by default (ion column 52°,
    35° shuttle pre-tilt, the digital twin as backend)."""

    info: InfoConfig = Field(default_factory=InfoConfig)
    stage: StageConfig = Field(default_factory=StageConfig)
    electron: BeamConfig = Field(default_factory=lambda: BeamConfig(**ELECTRON_DEFAULTS))
    ion: BeamConfig = Field(default_factory=lambda: BeamConfig(**ION_DEFAULTS))
    manipulator: ManipulatorConfig = Field(default_factory=ManipulatorConfig)
    gis: GISConfig = Field(default_factory=GISConfig)
    sputter_coater: SputterCoaterConfig = Field(default_factory=SputterCoaterConfig)
    chamber: ChamberConfig = Field(default_factory=ChamberConfig)
    fluorescence: FluorescenceConfig = Field(default_factory=FluorescenceConfig)
    advanced: dict[str, Any] = Field(
        default_factory=dict,
        description="Free-form manufacturer-specific settings (the only unchecked section).",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_beam_defaults(cls, data: Any) -> Any:
        # A partial electron/ion section only states what differs from the defaults.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, defaults in _BEAM_DEFAULTS.items():
            section = data.get(name)
            if isinstance(section, dict):
                data[name] = _deep_merge(defaults, section)
        return data

    def model_post_init(self, context: Any, /) -> None:
        self.electron._label = "electron"
        self.ion._label = "ion"

    def beam(self, name: BeamName) -> BeamConfig:
        """The configuration of column ``name`` ("electron" or "ion")."""
        if name == "electron":
            return self.electron
        if name == "ion":
            return self.ion
        raise ValueError(f"beam: got {name!r}; allowed: 'electron', 'ion'")
