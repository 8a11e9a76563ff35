"""Reading and writing the configuration YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ._errors import ConfigError, config_error
from ._microscope import MicroscopeConfig

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")


# libyaml's parser when PyYAML has it (ten times faster: every twin reads the default
# configuration), the same safe constructor either way.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that also reads ``1e-9`` / ``5e3`` as floats.

    YAML 1.1 (PyYAML) needs a dot and a signed exponent for a float, so ``1e-9``
    would otherwise be the *string* "1e-9" — and then be refused as not a number.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML text; a syntax error becomes a ConfigError naming source and line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"malformed YAML in {where}: {problem}") from None


def read_yaml_text(file: Path, what: str) -> str:
    """The text of the YAML file `file` (`what` it is, for messages), or ConfigError: for a
    file that cannot be read, and for one that is not UTF-8 text (e.g. a binary file)."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {file}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {file} is not a UTF-8 YAML text file (byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start} is not UTF-8; is it a binary file?)"
        ) from None


def config_from_dict(data: Any, source: str = "<dict>") -> MicroscopeConfig:
    """Validate a mapping (e.g. parsed YAML) into a MicroscopeConfig, or raise ConfigError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"invalid microscope configuration {source}: the top level must be a mapping "
            f"of sections, got {type(data).__name__}"
        )
    try:
        return MicroscopeConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, MicroscopeConfig, source) from None


def load_config(path: str | Path | None = None) -> MicroscopeConfig:
    """Load and validate a configuration YAML file; ``None`` loads the shipped defaults.

    Keys left out take their default values; unknown keys are errors (except under
    ``advanced``). Every problem is reported at once in one ConfigError.
    """
    file = DEFAULT_CONFIG_PATH if path is None else Path(path)
    text = read_yaml_text(file, "microscope configuration")
    return config_from_dict(parse_yaml(text, str(file)), str(file))


def config_to_yaml(config: MicroscopeConfig) -> str:
    """The configuration as YAML text that ``load_config`` reads back to an equal config."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def save_config(config: MicroscopeConfig, path: str | Path) -> None:
    """Write ``config_to_yaml(config)`` to ``path``."""
    Path(path).write_text(config_to_yaml(config), encoding="utf-8")
