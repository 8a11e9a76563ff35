"""The lamella workflow protocol: models, YAML loading/saving, shipped defaults and the
conversion of a protocol stage into MillingStages.

``load_protocol(path)`` validates like the microscope config: unknown keys are refused and
every problem is reported at once, as one ``ProtocolError`` naming the dotted key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from fibsem_ophyd.config import ConfigError, parse_yaml, read_yaml_text

from ._errors import ProtocolError, protocol_error
from ._protocol_models import (
    FiducialSettings,
    LamellaProtocol,
    LamellaSettings,
    Method,
    ProtocolStages,
    SetupSettings,
    StageSettings,
    StressReliefSettings,
    ThinningSettings,
    ThinningStep,
    TrenchSettings,
    UndercutSettings,
)
from ._protocol_stages import STAGE_NAMES, milling_stages

PROTOCOLS_DIR = Path(__file__).with_name("protocols")
SHIPPED_PROTOCOLS: dict[str, Path] = {
    "on-grid": PROTOCOLS_DIR / "autolamella-on-grid.yaml",
    "waffle": PROTOCOLS_DIR / "waffle.yaml",
    "liftout": PROTOCOLS_DIR / "liftout.yaml",
}


def protocol_from_dict(data: Any, source: str = "<dict>") -> LamellaProtocol:
    """Validate a mapping (e.g. parsed YAML) into a LamellaProtocol, or raise ProtocolError."""
    if not isinstance(data, dict):
        raise ProtocolError(
            f"invalid lamella protocol {source}: the top level must be a mapping, "
            f"got {type(data).__name__}"
        )
    try:
        return LamellaProtocol.model_validate(data)
    except ValidationError as exc:
        raise protocol_error(exc, LamellaProtocol, source) from None


def load_protocol(path: str | Path) -> LamellaProtocol:
    """Load and validate a protocol YAML file; malformed YAML names the file and line."""
    file = Path(path)
    try:
        text = read_yaml_text(file, "lamella protocol")  # unreadable, or not UTF-8 text
        data = parse_yaml(text, str(file))  # also reads 1e-9 as a float
    except ConfigError as exc:
        raise ProtocolError(str(exc)) from None
    return protocol_from_dict(data, str(file))


def protocol_to_yaml(protocol: LamellaProtocol) -> str:
    """YAML text that ``load_protocol`` reads back to an equal protocol."""
    return yaml.safe_dump(protocol.model_dump(mode="json"), sort_keys=False)


def save_protocol(protocol: LamellaProtocol, path: str | Path) -> None:
    """Write ``protocol_to_yaml(protocol)`` to ``path``."""
    Path(path).write_text(protocol_to_yaml(protocol), encoding="utf-8")


def default_protocol(
    method: Literal["on-grid", "waffle", "liftout"] = "on-grid",
) -> LamellaProtocol:
    """The shipped protocol for ``method`` (typical AutoLamella-like values)."""
    if method not in SHIPPED_PROTOCOLS:
        raise ValueError(f"method: got {method!r}; shipped: {', '.join(SHIPPED_PROTOCOLS)}")
    return load_protocol(SHIPPED_PROTOCOLS[method])


__all__ = [
    "PROTOCOLS_DIR",
    "SHIPPED_PROTOCOLS",
    "STAGE_NAMES",
    "FiducialSettings",
    "LamellaProtocol",
    "LamellaSettings",
    "Method",
    "ProtocolError",
    "ProtocolStages",
    "SetupSettings",
    "StageSettings",
    "StressReliefSettings",
    "ThinningSettings",
    "ThinningStep",
    "TrenchSettings",
    "UndercutSettings",
    "default_protocol",
    "load_protocol",
    "milling_stages",
    "protocol_from_dict",
    "protocol_to_yaml",
    "save_protocol",
]
