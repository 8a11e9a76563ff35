"""Milling parameters: the beam settings a stage mills with, and its time estimate.

Time estimate: t = Σ_shapes (area_m2 × depth_m) / (rate_m3_per_a_s × milling_current_a),
i.e. milled volume divided by the volume removed per second. Passes and dwell only
distribute the same dose, so they do not change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import Field, StrictInt, field_validator

from fibsem_ophyd.config import CURRENT_RTOL

from ._base import CrossSection, Model, PatterningMode, Positive, ScanDirection, fmt
from .applications import application_file
from .patterns import PatternBase

if TYPE_CHECKING:
    from fibsem_ophyd.config import BeamConfig


class MillingParameters(Model):
    """Ion-beam settings for milling (defaults: a typical 0.74 nA rough mill at 30 kV)."""

    milling_current_a: Positive = Field(0.74e-9, description="Milling current, amperes (A).")
    milling_voltage_v: Positive = Field(30e3, description="Accelerating voltage, volts (V).")
    hfw_m: Positive = Field(80e-6, description="Horizontal field width, metres (m).")
    application_file: str = Field("Si", description="Named milling recipe (see applications).")
    rate_m3_per_a_s: Positive | None = Field(
        None, description="Override of the application file's rate, m³/(A·s) = m³/C."
    )
    dwell_time_s: Positive = Field(1e-6, description="Pixel dwell time, seconds (s).")
    spot_size_m: Positive | None = Field(None, description="Beam spot size, metres; None=auto.")
    scan_direction: ScanDirection = Field(ScanDirection.TOP_TO_BOTTOM, description="Default.")
    cross_section: CrossSection = Field(CrossSection.RECTANGLE, description="Default.")
    patterning_mode: PatterningMode = Field(PatterningMode.SERIAL, description="Serial/parallel.")
    passes: StrictInt | None = Field(None, ge=1, description="Passes (≥ 1); None = from depth.")

    @field_validator("application_file")
    @classmethod
    def _known(cls, name: str) -> str:
        application_file(name)
        return name

    @property
    def rate(self) -> float:
        """Effective volume per charge, m³/(A·s): the override or the application file's."""
        if self.rate_m3_per_a_s is not None:
            return self.rate_m3_per_a_s
        return application_file(self.application_file).rate_m3_per_a_s

    def estimated_time_s(self, patterns: Iterable[PatternBase]) -> float:
        """Milling time, seconds: Σ volume_m3 / (rate × milling_current_a)."""
        volume = sum(p.volume_m3() for p in patterns)
        return volume / (self.rate * self.milling_current_a)

    def check_against(self, beam: BeamConfig) -> None:
        """Raise ValueError unless current, voltage and hfw are available on ``beam``
        (the ion column's ``BeamConfig``); the message names the allowed values."""
        issues = []
        if not _member(self.milling_current_a, beam.currents_a):
            issues.append(
                f"milling_current_a: {fmt(self.milling_current_a)} A is not available; "
                f"allowed currents_a (A): {fmt(list(beam.currents_a))}"
            )
        if not _member(self.milling_voltage_v, beam.voltages_v):
            issues.append(
                f"milling_voltage_v: {fmt(self.milling_voltage_v)} V is not available; "
                f"allowed voltages_v (V): {fmt(list(beam.voltages_v))}"
            )
        if not beam.hfw_min_m <= self.hfw_m <= beam.hfw_max_m:
            issues.append(
                f"hfw_m: {fmt(self.hfw_m)} m out of range; allowed "
                f"[{fmt(beam.hfw_min_m)}, {fmt(beam.hfw_max_m)}] m"
            )
        if issues:
            raise ValueError("; ".join(issues))


def _member(value: float, allowed: Iterable[float]) -> bool:
    return any(abs(value - a) <= CURRENT_RTOL * abs(a) for a in allowed)
