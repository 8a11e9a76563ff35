"""The microscope configuration: validated models, YAML loading, fingerprint checks.

``load_config()`` returns the shipped defaults (a typical cryo FIB-SEM run by the
digital twin); ``load_config(path)`` a user file, where keys left out keep their
defaults. Every problem is reported at once, as one ``ConfigError``.
"""

from ._base import AxisRange
from ._beam import CURRENT_RTOL, BeamConfig, ImagingDefaults
from ._beam_defaults import ELECTRON_DEFAULTS, ION_DEFAULTS
from ._chamber import ChamberConfig
from ._coating import GISConfig, SputterCoaterConfig
from ._errors import ConfigError
from ._fingerprint import (
    FingerprintMismatchError,
    check_fingerprint,
    compare_fingerprint,
    compare_identity,
)
from ._info import MANUFACTURERS, ExpectedFingerprint, InfoConfig
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
    FluorescenceChannel,
    FluorescenceConfig,
    ManipulatorConfig,
    ManipulatorLimits,
    ManipulatorPose,
    Offset,
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
    "ExpectedFingerprint",
    "FingerprintMismatchError",
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
    "check_fingerprint",
    "compare_fingerprint",
    "compare_identity",
    "config_from_dict",
    "config_to_yaml",
    "load_config",
    "parse_yaml",
    "read_yaml_text",
    "save_config",
]
