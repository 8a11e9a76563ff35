"""Lift-out settings of a lamella protocol (``method: liftout``)."""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt, field_validator

from ._base import Model, Positive
from .applications import application_file


class LiftoutSettings(Model):
    """Needle approach, welds, the sever cuts, lift, landing on the post and release.

    The sever cuts are two rectangles across the gap between the trenches, one at each
    end of the lamella (image x = ±(lamella width + cut width) / 2), milled at the
    trench orientation; with the trenches they free the lamella.
    """

    enabled: StrictBool = Field(True, description="Run the lift-out and landing stages.")
    hfw_m: Positive = Field(80e-6, description="Ion field width while milling, metres (m).")
    voltage_v: Positive = Field(30e3, description="Ion accelerating voltage, volts (V).")
    application_file: str = Field("Si", description="Milling recipe name.")
    supervise: StrictBool = Field(False, description="Ask the supervisor about the cuts.")
    alignment_attempts: StrictInt = Field(3, ge=1, description="Alignments before milling.")
    approach_steps: StrictInt = Field(4, ge=1, description="Needle moves to the standoff.")
    standoff_m: Positive = Field(5e-6, description="Needle stop above the lamella, metres.")
    contact_step_m: Positive = Field(0.1e-6, description="Final approach step, metres (m).")
    weld_time_s: Positive = Field(10.0, description="GIS open time per weld, seconds (s).")
    sever_current_a: Positive = Field(2e-9, description="Sever milling current, amperes.")
    sever_width_m: Positive = Field(1e-6, description="Width of each sever cut, metres.")
    sever_overlap_m: Positive = Field(1e-6, description="Cut extent into each trench, m.")
    sever_depth_m: Positive = Field(1.5e-6, description="Sever depth, metres (m).")
    lift_m: Positive = Field(20e-6, description="Lift height after the sever, metres (m).")
    release_current_a: Positive = Field(0.2e-9, description="Release milling current, A.")
    release_width_m: Positive = Field(3e-6, description="Release cut width, metres (m).")
    release_height_m: Positive = Field(0.5e-6, description="Release cut height, metres.")
    release_depth_m: Positive = Field(0.5e-6, description="Release cut depth, metres (m).")

    @field_validator("application_file")
    @classmethod
    def _known(cls, name: str) -> str:
        application_file(name)
        return name
