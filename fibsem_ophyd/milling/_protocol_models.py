"""The lamella workflow protocol as validated models (see ``protocol`` for YAML I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from fibsem_ophyd.config import CURRENT_RTOL

from ._base import Model, NonNegative, Number, Positive, fmt
from ._errors import ProtocolError, raise_issues
from ._liftout_settings import LiftoutSettings
from .applications import application_file

if TYPE_CHECKING:
    from fibsem_ophyd.config import MicroscopeConfig

Method = Literal["on-grid", "waffle", "liftout"]


class LamellaSettings(Model):
    """The lamella to make."""

    width_m: Positive = Field(description="Lamella width (image x), metres (m); ~10e-6.")
    height_m: Positive = Field(
        description="Extent of the lamella region along the image vertical, kept free of "
        "fiducial and stress-relief cuts, metres (m)."
    )
    target_thickness_m: Positive = Field(description="Final thickness, metres (m); ~200e-9.")


class StageSettings(Model):
    """What every protocol stage has."""

    enabled: StrictBool = Field(True, description="Run this stage.")
    hfw_m: Positive = Field(80e-6, description="Ion field width while milling, metres (m).")
    voltage_v: Positive = Field(30e3, description="Ion accelerating voltage, volts (V).")
    application_file: str = Field("Si", description="Milling recipe name.")
    supervise: StrictBool = Field(True, description="Ask the supervisor at this stage.")
    alignment_attempts: StrictInt = Field(3, ge=1, description="Alignments before milling, ≥ 1.")
    drift_correction_interval_s: NonNegative = Field(
        0.0, description="Milling time between drift corrections, seconds (s); 0 = none."
    )
    max_drift_m: Positive | None = Field(
        None, description="Largest drift allowed between two corrections, metres (m)."
    )

    @field_validator("application_file")
    @classmethod
    def _known(cls, name: str) -> str:
        application_file(name)
        return name


class TrenchSettings(StageSettings):
    """Trench milling around the lamella (waffle / liftout)."""

    current_a: Positive = Field(description="Milling current, amperes (A).")
    depth_m: Positive = Field(1.25e-6, description="Milling depth, metres (m).")
    width_m: Positive = Field(22e-6, description="Trench width, metres (m).")
    trench_height_m: Positive = Field(32e-6, description="Height of each trench, metres (m).")
    spacing_m: Positive = Field(25e-6, description="Gap between the trenches, metres (m).")
    cleaning_cross_section: StrictBool = Field(True, description="Clean faces.")


class UndercutSettings(StageSettings):
    """Undercut below the lamella, at ``undercut_tilt_deg``."""

    current_a: Positive = Field(description="Milling current, amperes (A).")
    depth_m: Positive = Field(1.2e-6, description="Milling depth, metres (m).")
    width_m: Positive = Field(16e-6, description="Cut width, metres (m).")
    height_m: Positive = Field(4e-6, description="Cut height, metres (m).")
    offset_m: Number = Field(5e-6, description="Lamella centre to cut centre, down, metres.")


class FiducialSettings(Model):
    """The alignment fiducial milled beside the lamella."""

    enabled: StrictBool = Field(True, description="Mill a fiducial.")
    current_a: Positive = Field(description="Milling current, amperes (A).")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")
    length_m: Positive = Field(10e-6, description="Bar length, metres (m).")
    width_m: Positive = Field(1e-6, description="Bar width, metres (m).")
    shape: Literal["cross", "bar"] = Field("cross", description="Cross or single bar.")
    offset_x_m: Number = Field(25e-6, description="Lamella centre to fiducial, image x, m.")


class StressReliefSettings(Model):
    """Micro-expansion joints beside the lamella."""

    enabled: StrictBool = Field(True, description="Mill stress-relief cuts.")
    current_a: Positive = Field(description="Milling current, amperes (A).")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")
    width_m: Positive = Field(0.5e-6, description="Width of each cut, metres (m).")
    height_m: Positive = Field(18e-6, description="Height of each cut, metres (m).")
    distance_m: Positive = Field(1e-6, description="Lamella side to cut, metres (m).")


class SetupSettings(StageSettings):
    """Setup: fiducial, stress relief and the alignment reference."""

    alignment_hfw_m: Positive = Field(80e-6, description="Reference image field width, m.")
    fiducial: FiducialSettings
    stress_relief: StressReliefSettings


class ThinningStep(Model):
    """One trench pair milled at one current, leaving ``spacing_m``."""

    current_a: Positive = Field(description="Milling current, amperes (A).")
    spacing_m: Positive = Field(description="Lamella thickness left, metres (m).")
    trench_height_m: Positive = Field(description="Height of each trench, metres (m).")
    depth_m: Positive = Field(description="Milling depth, metres (m).")
    cleaning_cross_section: StrictBool = Field(False, description="Clean the lamella faces.")


class ThinningSettings(StageSettings):
    """Rough milling or polishing: trench pairs of decreasing spacing."""

    steps: list[ThinningStep] = Field(min_length=1, description="Steps in order, ≥ 1.")


class ProtocolStages(Model):
    """The stages of the workflow, in the order they run."""

    trench: TrenchSettings
    undercut: UndercutSettings
    setup: SetupSettings
    rough: ThinningSettings
    polish: ThinningSettings


class LamellaProtocol(Model):
    """A lamella workflow protocol (AutoLamella-like)."""

    name: str = Field(min_length=1, description="Protocol name.")
    method: Method = Field(description="Workflow: 'on-grid', 'waffle' or 'liftout'.")
    milling_angle_deg: Number = Field(
        ge=5.0, le=30.0, description="Ion beam to specimen surface, degrees; allowed 5 to 30."
    )
    undercut_tilt_deg: Number = Field(
        -10.0, ge=-45.0, le=45.0, description="Tilt change for the undercut, deg; -45 to 45."
    )
    lamella: LamellaSettings
    stages: ProtocolStages
    liftout: LiftoutSettings | None = Field(
        None, description="Lift-out settings; required by the 'liftout' method."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        issues: list[tuple[str, str]] = []
        if self.method == "waffle" and not self.stages.trench.enabled:
            issues.append(("stages.trench.enabled", "the waffle method needs the trench stage"))
        if self.method == "liftout":
            issues += self._liftout_issues()
        previous = None
        for stage in ("rough", "polish"):
            settings: ThinningSettings = getattr(self.stages, stage)
            if not settings.enabled:
                continue
            for i, step in enumerate(settings.steps):
                if previous is not None and step.spacing_m > previous:
                    issues.append(
                        (
                            f"stages.{stage}.steps[{i}].spacing_m",
                            f"got {fmt(step.spacing_m)} m; must be <= the previous step's "
                            f"{fmt(previous)} m (thinning only removes material)",
                        )
                    )
                previous = step.spacing_m
        final = self.lamella.target_thickness_m
        if previous is not None and abs(previous - final) > 0.05 * final:
            # The last thinning step leaves exactly its spacing: that is the lamella.
            issues.append(
                (
                    "lamella.target_thickness_m",
                    f"{fmt(final)} m differs from the last thinning step's spacing "
                    f"{fmt(previous)} m; they must agree within 5 %",
                )
            )
        raise_issues(issues)
        return self

    def _liftout_issues(self) -> list[tuple[str, str]]:
        trench, lo = self.stages.trench, self.liftout
        if not trench.enabled:
            return [("stages.trench.enabled", "the liftout method needs the trench stage")]
        if lo is None:
            return [("liftout", "the liftout method needs a 'liftout' section")]
        need = self.lamella.width_m + 2 * lo.sever_width_m
        if need > trench.width_m:
            return [
                (
                    "liftout.sever_width_m",
                    f"lamella width + 2 sever cuts = {fmt(need)} m exceeds the trench "
                    f"width {fmt(trench.width_m)} m",
                )
            ]
        return []

    def currents(self) -> list[tuple[str, float]]:
        """(dotted key, current_a) of every enabled stage's milling current."""
        s = self.stages
        out: list[tuple[str, float]] = []
        for key in ("trench", "undercut"):
            if getattr(s, key).enabled:
                out.append((f"stages.{key}.current_a", getattr(s, key).current_a))
        if s.setup.enabled:
            for key in ("fiducial", "stress_relief"):
                if getattr(s.setup, key).enabled:
                    out.append((f"stages.setup.{key}.current_a", getattr(s.setup, key).current_a))
        for key in ("rough", "polish"):
            if getattr(s, key).enabled:
                out += [
                    (f"stages.{key}.steps[{i}].current_a", st.current_a)
                    for i, st in enumerate(getattr(s, key).steps)
                ]
        return out

    def check_against(self, config: MicroscopeConfig) -> None:
        """Raise one ProtocolError naming every enabled stage's current, voltage or hfw
        the microscope's ion column (``config.ion``) does not offer."""
        ion = config.ion
        problems = [
            f"{key}: {fmt(current)} A is not an available ion current; "
            f"allowed ion.currents_a (A): {fmt(list(ion.currents_a))}"
            for key, current in self.currents()
            if not any(abs(current - c) <= CURRENT_RTOL * c for c in ion.currents_a)
        ]
        for name in ("trench", "undercut", "setup", "rough", "polish"):
            st: StageSettings = getattr(self.stages, name)
            if not st.enabled:
                continue
            if not any(abs(st.voltage_v - v) <= CURRENT_RTOL * v for v in ion.voltages_v):
                problems.append(
                    f"stages.{name}.voltage_v: {fmt(st.voltage_v)} V is not available; "
                    f"allowed ion.voltages_v (V): {fmt(list(ion.voltages_v))}"
                )
            if not ion.hfw_min_m <= st.hfw_m <= ion.hfw_max_m:
                problems.append(
                    f"stages.{name}.hfw_m: {fmt(st.hfw_m)} m out of range; allowed "
                    f"[{fmt(ion.hfw_min_m)}, {fmt(ion.hfw_max_m)}] m"
                )
        if problems:
            body = "\n".join(f"  - {p}" for p in problems)
            raise ProtocolError(
                f"lamella protocol {self.name!r} does not fit the microscope "
                f"({len(problems)} problem(s)):\n{body}"
            )
