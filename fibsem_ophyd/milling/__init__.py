"""Milling as pure data and geometry: patterns, parameters, stages and the lamella protocol.

No devices and no hardware here: plans turn these models into microscope actions, the
twin uses ``mask``/``dose`` rasters and ``MillingParameters`` rates for its physics.
"""

from ._base import BoundingBox, CrossSection, PatterningMode, ScanDirection
from .applications import APPLICATION_FILES, ApplicationFile, application_file
from .parameters import MillingParameters
from .patterns import (
    ArrayPattern,
    BitmapPattern,
    CirclePattern,
    FiducialPattern,
    LinePattern,
    MicroExpansionPattern,
    NotchPattern,
    Pattern,
    PatternBase,
    PolygonPattern,
    RectanglePattern,
    TrenchPattern,
    UndercutPattern,
    load_patterns,
)
from .protocol import (
    LamellaProtocol,
    ProtocolError,
    default_protocol,
    load_protocol,
    milling_stages,
    protocol_from_dict,
    protocol_to_yaml,
    save_protocol,
)
from .shapes import BitmapShape, CircleShape, LineShape, PolygonShape, RectangleShape, Shape
from .stage import Exclusion, MillingStage, MillingVerification, StageAlignment, StageImaging

__all__ = [
    "APPLICATION_FILES",
    "ApplicationFile",
    "ArrayPattern",
    "BitmapPattern",
    "BitmapShape",
    "BoundingBox",
    "CirclePattern",
    "CircleShape",
    "CrossSection",
    "Exclusion",
    "FiducialPattern",
    "LamellaProtocol",
    "LinePattern",
    "LineShape",
    "MicroExpansionPattern",
    "MillingParameters",
    "MillingStage",
    "MillingVerification",
    "NotchPattern",
    "Pattern",
    "PatternBase",
    "PatterningMode",
    "PolygonPattern",
    "PolygonShape",
    "ProtocolError",
    "RectanglePattern",
    "RectangleShape",
    "ScanDirection",
    "Shape",
    "StageAlignment",
    "StageImaging",
    "TrenchPattern",
    "UndercutPattern",
    "application_file",
    "default_protocol",
    "load_patterns",
    "load_protocol",
    "milling_stages",
    "protocol_from_dict",
    "protocol_to_yaml",
    "save_protocol",
]
