"""The manipulator's calibration: the raw pose that puts the needle tip at the eucentric
point, found by `plans.calibrate_manipulator` and kept in a small JSON file (the
configuration's `manipulator.calibration_file`) so later sessions insert with it."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..backend import ManipulatorPosition


class ManipulatorCalibration(BaseModel):
    """A calibrated eucentric pose (raw axes, metres and degrees) and how it was found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    x_m: float
    y_m: float
    z_m: float
    r_deg: float
    residual_electron_m: float = Field(ge=0.0, description="Tip to SEM image centre at the end")
    residual_ion_m: float = Field(ge=0.0, description="Tip to FIB image centre at the end")
    clock_s: float = Field(description="Microscope clock when it was calibrated (s)")
    run_uid: str = ""

    def position(self) -> ManipulatorPosition:
        return ManipulatorPosition(x_m=self.x_m, y_m=self.y_m, z_m=self.z_m, r_deg=self.r_deg)


def load_calibration(path: str | None) -> ManipulatorCalibration | None:
    """The calibration stored at `path` (None when no file is configured or none has been
    written yet); a file that cannot be read is an error naming it, never ignored."""
    if path is None or not Path(path).exists():
        return None
    try:
        data = json.loads(Path(path).read_text())
        cal = ManipulatorCalibration.model_validate(data)
    except (OSError, ValueError, ValidationError) as exc:
        raise ValueError(
            f"manipulator.calibration_file {path!r} cannot be read as a calibration: {exc}; "
            "fix or delete it and calibrate again (plans.calibrate_manipulator)"
        ) from None
    if not all(math.isfinite(v) for v in (cal.x_m, cal.y_m, cal.z_m, cal.r_deg)):
        raise ValueError(f"manipulator.calibration_file {path!r}: the pose is not finite")
    return cal


def save_calibration(path: str, calibration: ManipulatorCalibration) -> None:
    """Write atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(calibration.model_dump(), indent=2))
    tmp.replace(target)
