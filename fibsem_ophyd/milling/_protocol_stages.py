"""Turning a protocol stage into concrete MillingStages centred on the lamella."""

from __future__ import annotations

from ._protocol_models import LamellaProtocol, StageSettings, ThinningSettings
from .parameters import MillingParameters
from .patterns import FiducialPattern, MicroExpansionPattern, TrenchPattern, UndercutPattern
from .stage import Exclusion, MillingStage, StageAlignment

STAGE_NAMES = ("trench", "undercut", "setup", "rough", "polish")


def _alignment(st: StageSettings, hfw_m: float) -> StageAlignment:
    return StageAlignment(
        hfw_m=hfw_m,
        drift_correction_interval_s=st.drift_correction_interval_s,
        max_drift_m=st.max_drift_m,
    )


def _params(st: StageSettings, current_a: float) -> MillingParameters:
    return MillingParameters(
        milling_current_a=current_a,
        milling_voltage_v=st.voltage_v,
        hfw_m=st.hfw_m,
        application_file=st.application_file,
    )


def _fiducial_exclusion(p: LamellaProtocol, x_m: float, y_m: float) -> list[Exclusion]:
    fid = p.stages.setup.fiducial
    if not (p.stages.setup.enabled and fid.enabled):
        return []
    size = fid.length_m * 1.5  # the cross's diagonal extent with a margin
    return [
        Exclusion(name="fiducial", x_m=x_m + fid.offset_x_m, y_m=y_m, width_m=size, height_m=size)
    ]


def _thinning(p: LamellaProtocol, name: str, x_m: float, y_m: float) -> list[MillingStage]:
    st: ThinningSettings = getattr(p.stages, name)
    ref = _alignment(st, p.stages.setup.alignment_hfw_m)
    out = []
    for i, step in enumerate(st.steps):
        trench = TrenchPattern(
            name=f"{name}-{i + 1}",
            x_m=x_m,
            y_m=y_m,
            width_m=p.lamella.width_m,
            trench_height_m=step.trench_height_m,
            spacing_m=step.spacing_m,
            depth_m=step.depth_m,
            cleaning_cross_section=step.cleaning_cross_section,
        )
        lamella = Exclusion(
            name="lamella", x_m=x_m, y_m=y_m, width_m=p.lamella.width_m, height_m=step.spacing_m
        )
        out.append(
            MillingStage(
                name=f"{name}-{i + 1}",
                patterns=[trench],
                parameters=_params(st, step.current_a),
                exclusions=[lamella, *_fiducial_exclusion(p, x_m, y_m)],
                alignment=ref,
            )
        )
    return out


def _setup(p: LamellaProtocol, x_m: float, y_m: float) -> list[MillingStage]:
    st, lam = p.stages.setup, p.lamella
    lamella = Exclusion(
        name="lamella", x_m=x_m, y_m=y_m, width_m=lam.width_m, height_m=lam.height_m
    )
    align = _alignment(st, st.alignment_hfw_m)
    out = []
    if st.fiducial.enabled:
        f = st.fiducial
        pattern = FiducialPattern(
            name="fiducial",
            x_m=x_m + f.offset_x_m,
            y_m=y_m,
            shape=f.shape,
            length_m=f.length_m,
            width_m=f.width_m,
            depth_m=f.depth_m,
        )
        out.append(
            MillingStage(
                name="fiducial",
                patterns=[pattern],
                parameters=_params(st, f.current_a),
                exclusions=[lamella],
                alignment=align,
            )
        )
    if st.stress_relief.enabled:
        s = st.stress_relief
        pattern = MicroExpansionPattern(
            name="stress-relief",
            x_m=x_m,
            y_m=y_m,
            lamella_width_m=lam.width_m,
            width_m=s.width_m,
            height_m=s.height_m,
            distance_m=s.distance_m,
            depth_m=s.depth_m,
        )
        out.append(
            MillingStage(
                name="stress-relief",
                patterns=[pattern],
                parameters=_params(st, s.current_a),
                exclusions=[lamella, *_fiducial_exclusion(p, x_m, y_m)],
                alignment=align,
            )
        )
    return out


def milling_stages(
    protocol: LamellaProtocol, stage_name: str, x_m: float = 0.0, y_m: float = 0.0
) -> list[MillingStage]:
    """Concrete MillingStages for protocol stage ``stage_name`` (one of STAGE_NAMES),
    centred on the lamella at image-plane (x_m, y_m) metres; [] when the stage is disabled.

    rough / polish give one stage per step ("rough-1", "rough-2", ...): a trench pair
    leaving the step's spacing, with the remaining lamella as an exclusion.
    """
    if stage_name not in STAGE_NAMES:
        raise ValueError(f"stage_name: got {stage_name!r}; allowed: {', '.join(STAGE_NAMES)}")
    settings: StageSettings = getattr(protocol.stages, stage_name)
    if not settings.enabled:
        return []
    if stage_name == "setup":
        return _setup(protocol, x_m, y_m)
    if stage_name in ("rough", "polish"):
        return _thinning(protocol, stage_name, x_m, y_m)
    align = _alignment(settings, settings.hfw_m)
    if stage_name == "trench":
        t = protocol.stages.trench
        pattern = TrenchPattern(
            name="trench",
            x_m=x_m,
            y_m=y_m,
            width_m=t.width_m,
            trench_height_m=t.trench_height_m,
            spacing_m=t.spacing_m,
            depth_m=t.depth_m,
            cleaning_cross_section=t.cleaning_cross_section,
        )
        return [
            MillingStage(
                name="trench",
                patterns=[pattern],
                parameters=_params(t, t.current_a),
                alignment=align,
            )
        ]
    u = protocol.stages.undercut
    pattern = UndercutPattern(
        name="undercut",
        x_m=x_m,
        y_m=y_m,
        width_m=u.width_m,
        height_m=u.height_m,
        depth_m=u.depth_m,
        offset_m=u.offset_m,
    )
    return [
        MillingStage(
            name="undercut", patterns=[pattern], parameters=_params(u, u.current_a), alignment=align
        )
    ]
