"""The top-level microscope configuration."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field, model_validator

from fibsem_ophyd.backend._types import BeamName

from ._base import Section, raise_issues
from ._beam import BeamConfig
from ._beam_defaults import ELECTRON_DEFAULTS, ION_DEFAULTS
from ._chamber import ChamberConfig
from ._coating import GISConfig, SputterCoaterConfig
from ._info import MANUFACTURERS, InfoConfig
from ._stage import StageConfig
from ._subsystems import FluorescenceConfig, ManipulatorConfig

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
    advanced: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Settings for one backend, by manufacturer ('Demo', 'Thermo', 'Tescan'): "
        "handed to the backend that info.manufacturer picks, which checks them ('Demo': "
        "digital-twin parameters); other manufacturers' settings are kept, unused.",
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

    @model_validator(mode="after")
    def _advanced_by_manufacturer(self) -> MicroscopeConfig:
        unknown = [key for key in self.advanced if key not in MANUFACTURERS]
        raise_issues(
            [(f"advanced.{key}", f"not a manufacturer; allowed: {list(MANUFACTURERS)}")
             for key in unknown]
        )  # fmt: skip
        return self

    def backend_settings(self) -> dict[str, Any]:
        """The `advanced` settings of the backend this configuration connects to."""
        return dict(self.advanced.get(self.info.manufacturer, {}))

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
