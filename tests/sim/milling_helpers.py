"""Helpers for the twin milling tests: a backend posed for milling and stage builders."""

from __future__ import annotations

from twin_helpers import centre_site_surface, make_world

from fibsem_ophyd.milling import MillingParameters, MillingStage
from fibsem_ophyd.milling.patterns import PatternBase, RectanglePattern, TrenchPattern
from fibsem_ophyd.sim import TwinBackend

CURRENT_A = 0.74e-9
HFW_M = 50e-6


def milling_backend(tilt_deg: float = 15.0, **overrides: object) -> TwinBackend:
    """Site 0's surface at the eucentric point, r = r_ref, tilt 15° (milling angle 18°)."""
    backend = TwinBackend(make_world(**overrides))
    centre_site_surface(backend.world, 0, 0.0, tilt_deg)
    backend.world.ion.current_a = CURRENT_A
    return backend


def stage_of(*patterns: PatternBase, application_file: str = "Si") -> MillingStage:
    return MillingStage(
        patterns=list(patterns),
        parameters=MillingParameters(
            milling_current_a=CURRENT_A, hfw_m=HFW_M, application_file=application_file
        ),
    )


def rectangle(
    x_m: float = 0.0,
    y_m: float = 0.0,
    w_m: float = 4e-6,
    h_m: float = 2e-6,
    depth_m: float = 0.5e-6,
) -> RectanglePattern:
    return RectanglePattern(x_m=x_m, y_m=y_m, width_m=w_m, height_m=h_m, depth_m=depth_m)


def trench(spacing_m: float, x_m: float = 0.0, y_m: float = 0.0) -> TrenchPattern:
    return TrenchPattern(
        x_m=x_m, y_m=y_m, width_m=10e-6, trench_height_m=3e-6, spacing_m=spacing_m, depth_m=1e-6
    )


async def mill(backend: TwinBackend, stage: MillingStage) -> list[tuple[float, float]]:
    """Draw and mill `stage`; return the progress calls."""
    calls: list[tuple[float, float]] = []
    await backend.milling.draw(stage)
    await backend.milling.mill(lambda f, r: calls.append((f, r)))
    return calls
