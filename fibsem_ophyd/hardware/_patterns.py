"""Our milling shapes as fibsem pattern settings (pure translation, no vendor calls).

Both sides keep image-plane metres from the image centre, x right, y up; fibsem wants
rotations in radians. Scan directions and cross-section names are the same strings on
both sides. What fibsem cannot hold: a line's width (fibsem lines are one beam wide).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..milling import MillingStage
from ..milling.shapes import (
    BitmapShape,
    CircleShape,
    LineShape,
    PolygonShape,
    RectangleShape,
    Shape,
)


def to_fibsem(shape: Shape, passes: int | None = None) -> Any:
    """fibsem's pattern settings for one resolved shape (scan direction and cross-section
    set, see `MillingStage.resolved_shapes`)."""
    from fibsem import structures as fs

    if isinstance(shape, RectangleShape):
        cross = fs.CrossSectionPattern[str(shape.cross_section or "Rectangle")]
        return fs.FibsemRectangleSettings(
            width=shape.width_m,
            height=shape.height_m,
            depth=shape.depth_m,
            centre_x=shape.x_m,
            centre_y=shape.y_m,
            rotation=math.radians(shape.rotation_deg),
            cleaning_cross_section=cross is fs.CrossSectionPattern.CleaningCrossSection,
            scan_direction=str(shape.scan_direction or "TopToBottom"),
            cross_section=cross,
            passes=passes or 0,
        )
    if isinstance(shape, LineShape):
        return fs.FibsemLineSettings(
            start_x=shape.start_x_m,
            end_x=shape.end_x_m,
            start_y=shape.start_y_m,
            end_y=shape.end_y_m,
            depth=shape.depth_m,
        )
    if isinstance(shape, CircleShape):
        return fs.FibsemCircleSettings(
            radius=shape.radius_m,
            depth=shape.depth_m,
            centre_x=shape.x_m,
            centre_y=shape.y_m,
            thickness=shape.thickness_m,
        )
    if isinstance(shape, PolygonShape):
        return fs.FibsemPolygonSettings(
            vertices=np.asarray(shape.vertices_m, dtype=float), depth=shape.depth_m
        )
    if isinstance(shape, BitmapShape):
        return fs.FibsemBitmapSettings(
            width=shape.width_m,
            height=shape.height_m,
            depth=shape.depth_m,
            centre_x=shape.x_m,
            centre_y=shape.y_m,
            rotation=math.radians(shape.rotation_deg),
            scan_direction=str(shape.scan_direction or "TopToBottom"),
            passes=passes or 0,
            array=np.asarray(shape.dose, dtype=float),
        )
    raise TypeError(f"no fibsem pattern for {type(shape).__name__}")


def stage_patterns(stage: MillingStage) -> list[Any]:
    """Every shape of `stage` as fibsem pattern settings, in drawing order."""
    return [to_fibsem(s, stage.parameters.passes) for s in stage.resolved_shapes()]


def milling_settings(stage: MillingStage, current_a: float, voltage_v: float, hfw_m: float) -> Any:
    """fibsem's milling settings: the ion beam's present current, voltage and field
    width (our protocol mills at what the beam is set to), the stage's recipe."""
    from fibsem.structures import BeamType, FibsemMillingSettings

    p = stage.parameters
    kwargs: dict[str, Any] = {
        "milling_current": current_a,
        "milling_voltage": voltage_v,
        "hfw": hfw_m,
        "application_file": p.application_file,
        "patterning_mode": str(p.patterning_mode),
        "dwell_time": p.dwell_time_s,
        "rate": p.rate,
        "milling_channel": BeamType.ION,
    }
    if p.spot_size_m is not None:
        kwargs["spot_size"] = p.spot_size_m
    return FibsemMillingSettings(**kwargs)
