"""The microscope configuration: validated models, YAML loading, fingerprint checks.

``load_config()`` returns the shipped defaults (a typical cryo FIB-SEM run by the
digital twin); ``load_config(path)`` a user file, where keys left out keep their
defaults. Every problem is reported at once, as one ``ConfigError``.
"""

from ._base import AxisRange
from ._beam import CURRENT_RTOL, BeamConfig, ImagingDefaults
from ._beam_defaults import ELECTRON_DEFAULTS, ION_DEFAULTS
from ._errors import ConfigError
from ._fingerprint import compare_fingerprint
from ._load import (
    DEFAULT_CONFIG_PATH,
    config_from_dict,
    config_to_yaml,
    load_config,
    parse_yaml,
    read_yaml_text,
    save_config,
)
from ._microscope import MicroscopeConfig
from ._stage import StageConfig, StageLimits
from ._subsystems import (
    MANUFACTURERS,
    ChamberConfig,
    FluorescenceChannel,
    FluorescenceConfig,
    GISConfig,
    InfoConfig,
    ManipulatorConfig,
    ManipulatorLimits,
    ManipulatorPose,
    Offset,
    SputterCoaterConfig,
)

__all__ = [
    "CURRENT_RTOL",
    "DEFAULT_CONFIG_PATH",
    "ELECTRON_DEFAULTS",
    "ION_DEFAULTS",
    "MANUFACTURERS",
    "AxisRange",
    "BeamConfig",
    "ChamberConfig",
    "ConfigError",
    "FluorescenceChannel",
    "FluorescenceConfig",
    "GISConfig",
    "ImagingDefaults",
    "InfoConfig",
    "ManipulatorConfig",
    "ManipulatorLimits",
    "ManipulatorPose",
    "MicroscopeConfig",
    "Offset",
    "SputterCoaterConfig",
    "StageConfig",
    "StageLimits",
    "compare_fingerprint",
    "config_from_dict",
    "config_to_yaml",
    "load_config",
    "parse_yaml",
    "read_yaml_text",
    "save_config",
]
