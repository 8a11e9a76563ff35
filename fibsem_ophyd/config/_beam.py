"""Configuration of one charged-particle column (electron or ion): what it can do,
and the imaging settings it starts with."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, StrictBool, StrictInt, model_validator

from ._base import Number, PositiveNumber, Section, fmt, raise_issues

# Relative tolerance when matching a requested current against the available list.
CURRENT_RTOL = 1e-3

Resolution = tuple[StrictInt, StrictInt]


class ImagingDefaults(Section):
    """Imaging settings a column is set to at start-up (and by 'reset imaging')."""

    voltage_v: PositiveNumber = Field(description="Accelerating voltage, volts (V).")
    current_a: PositiveNumber = Field(description="Beam current, amperes (A).")
    hfw_m: PositiveNumber = Field(description="Horizontal field width, metres (m).")
    resolution_px: Resolution = Field(description="Scan resolution [width, height], pixels.")
    dwell_time_s: PositiveNumber = Field(description="Pixel dwell time, seconds (s).")
    working_distance_m: PositiveNumber = Field(description="Working distance, metres (m).")
    scan_rotation_deg: Number = Field(0.0, description="Scan rotation, degrees (deg).")
    detector_type: str = Field(description="Active detector, one of detector_types.")
    detector_mode: str = Field(description="Active detector mode, one of detector_modes.")


class BeamConfig(Section):
    """One column. Shared by ``electron`` and ``ion``; their defaults differ."""

    enabled: StrictBool = Field(description="Whether this column is installed and used.")
    column_tilt_deg: Number = Field(
        ge=0.0, le=90.0, description="Column tilt from chamber z about chamber x, degrees."
    )
    eucentric_height_m: PositiveNumber = Field(
        description="Working distance at which the eucentric point is in focus, metres (m)."
    )
    voltages_v: list[PositiveNumber] = Field(
        min_length=1, description="Available accelerating voltages, volts (V)."
    )
    currents_a: list[PositiveNumber] = Field(
        min_length=1, description="Available beam currents, amperes (A)."
    )
    resolutions_px: list[Resolution] = Field(
        min_length=1, description="Available scan resolutions [width, height], pixels."
    )
    hfw_min_m: PositiveNumber = Field(description="Smallest horizontal field width, metres (m).")
    hfw_max_m: PositiveNumber = Field(description="Largest horizontal field width, metres (m).")
    dwell_time_min_s: PositiveNumber = Field(description="Shortest pixel dwell time, seconds.")
    dwell_time_max_s: PositiveNumber = Field(description="Longest pixel dwell time, seconds.")
    beam_shift_max_m: PositiveNumber = Field(
        description="Largest beam shift magnitude per image axis, metres (m)."
    )
    working_distance_min_m: PositiveNumber = Field(description="Shortest working distance, m.")
    working_distance_max_m: PositiveNumber = Field(description="Longest working distance, m.")
    stigmation_max: PositiveNumber = Field(
        description="Largest stigmator value per axis (normalised; -max..max)."
    )
    integration_max: StrictInt = Field(ge=1, description="Most lines/frames integrated.")
    detector_types: list[str] = Field(min_length=1, description="Available detectors.")
    detector_modes: list[str] = Field(min_length=1, description="Available detector modes.")
    imaging: ImagingDefaults = Field(description="Start-up imaging settings.")

    # Set by MicroscopeConfig ("electron" / "ion") so error messages name the column.
    _label: str = PrivateAttr(default="beam")

    @model_validator(mode="after")
    def _consistent(self) -> BeamConfig:
        issues: list[tuple[str, str]] = []
        if self.hfw_min_m > self.hfw_max_m:
            issues.append(("hfw_min_m", f"{fmt(self.hfw_min_m)} m > hfw_max_m"))
        if self.dwell_time_min_s > self.dwell_time_max_s:
            issues.append(("dwell_time_min_s", f"{fmt(self.dwell_time_min_s)} s > max"))
        wd_lo, wd_hi = self.working_distance_min_m, self.working_distance_max_m
        if wd_lo > wd_hi:
            issues.append(("working_distance_min_m", f"{fmt(wd_lo)} m > max"))
        elif not wd_lo <= self.imaging.working_distance_m <= wd_hi:
            wd = self.imaging.working_distance_m
            issues.append(
                (
                    "imaging.working_distance_m",
                    f"got {fmt(wd)} m; allowed [{fmt(wd_lo)}, {fmt(wd_hi)}] m",
                )
            )
        for i, (w, h) in enumerate(self.resolutions_px):
            if w <= 0 or h <= 0:
                issues.append((f"resolutions_px[{i}]", f"{[w, h]} must be positive pixels"))
        im = self.imaging
        if not _in_list(im.voltage_v, self.voltages_v):
            issues.append(_not_member("imaging.voltage_v", im.voltage_v, self.voltages_v, "V"))
        if not _in_list(im.current_a, self.currents_a):
            issues.append(_not_member("imaging.current_a", im.current_a, self.currents_a, "A"))
        if tuple(im.resolution_px) not in [tuple(r) for r in self.resolutions_px]:
            issues.append(
                _not_member("imaging.resolution_px", im.resolution_px, self.resolutions_px, "px")
            )
        if not self.hfw_min_m <= im.hfw_m <= self.hfw_max_m:
            issues.append(("imaging.hfw_m", f"got {fmt(im.hfw_m)} m; {self._hfw_range()}"))
        if not self.dwell_time_min_s <= im.dwell_time_s <= self.dwell_time_max_s:
            rng = f"[{fmt(self.dwell_time_min_s)}, {fmt(self.dwell_time_max_s)}] s"
            issues.append(("imaging.dwell_time_s", f"got {fmt(im.dwell_time_s)} s; allowed {rng}"))
        if im.detector_type not in self.detector_types:
            issues.append(
                _not_member("imaging.detector_type", im.detector_type, self.detector_types, "")
            )
        if im.detector_mode not in self.detector_modes:
            issues.append(
                _not_member("imaging.detector_mode", im.detector_mode, self.detector_modes, "")
            )
        raise_issues(issues)
        return self

    def _hfw_range(self) -> str:
        return f"allowed [{fmt(self.hfw_min_m)}, {fmt(self.hfw_max_m)}] m"

    def check_current(self, current_a: float) -> float:
        """Return the available current matching ``current_a`` (relative tolerance 1e-3).

        Raises ValueError naming the allowed currents; currents are never rounded to a
        'nearest' one, because milling with a wrong current damages the specimen.
        """
        for c in self.currents_a:
            if abs(current_a - c) <= CURRENT_RTOL * c:
                return c
        raise ValueError(
            f"{self._label}.current_a: {fmt(current_a)} A is not available; "
            f"allowed currents_a (A): {fmt(self.currents_a)}"
        )

    def check_voltage(self, voltage_v: float) -> float:
        """Return the available voltage matching ``voltage_v`` (relative tolerance 1e-3)."""
        for v in self.voltages_v:
            if abs(voltage_v - v) <= CURRENT_RTOL * v:
                return v
        raise ValueError(
            f"{self._label}.voltage_v: {fmt(voltage_v)} V is not available; "
            f"allowed voltages_v (V): {fmt(self.voltages_v)}"
        )

    def check_hfw(self, hfw_m: float) -> float:
        """Return ``hfw_m`` if within [hfw_min_m, hfw_max_m], else raise ValueError."""
        if not self.hfw_min_m <= hfw_m <= self.hfw_max_m:
            raise ValueError(
                f"{self._label}.hfw_m: {fmt(hfw_m)} m out of range; {self._hfw_range()}"
            )
        return hfw_m

    def check_dwell_time(self, dwell_time_s: float) -> float:
        """Return ``dwell_time_s`` if within [dwell_time_min_s, dwell_time_max_s]."""
        if not self.dwell_time_min_s <= dwell_time_s <= self.dwell_time_max_s:
            raise ValueError(
                f"{self._label}.dwell_time_s: {fmt(dwell_time_s)} s out of range; allowed "
                f"[{fmt(self.dwell_time_min_s)}, {fmt(self.dwell_time_max_s)}] s"
            )
        return dwell_time_s

    def check_resolution(self, resolution_px: tuple[int, int]) -> tuple[int, int]:
        """Return ``resolution_px`` as a tuple if it is one of ``resolutions_px``."""
        res = (int(resolution_px[0]), int(resolution_px[1]))
        if res not in [tuple(r) for r in self.resolutions_px]:
            raise ValueError(
                f"{self._label}.resolution_px: {list(res)} is not available; allowed "
                f"resolutions_px: {[list(r) for r in self.resolutions_px]}"
            )
        return res

    def check_beam_shift(self, shift_x_m: float, shift_y_m: float) -> tuple[float, float]:
        """Return the shift if each component is within ±beam_shift_max_m."""
        lim = self.beam_shift_max_m
        for axis, val in (("x", shift_x_m), ("y", shift_y_m)):
            if abs(val) > lim:
                raise ValueError(
                    f"{self._label}.beam_shift_{axis}_m: {fmt(val)} m out of range; "
                    f"allowed [{fmt(-lim)}, {fmt(lim)}] m"
                )
        return (shift_x_m, shift_y_m)


def _in_list(value: float, allowed: list[float]) -> bool:
    return any(abs(value - a) <= CURRENT_RTOL * abs(a) for a in allowed)


def _not_member(key: str, value: Any, allowed: list[Any], unit: str) -> tuple[str, str]:
    listed = key.split(".")[-1].removesuffix("_a").removesuffix("_v").removesuffix("_px")
    unit_txt = f" ({unit})" if unit else ""
    return (key, f"got {fmt(value)}; not one of the available {listed}s{unit_txt}: {fmt(allowed)}")
