"""The keypoint evaluation configuration: one YAML file, validated, errors naming the
file and the key.

Keys: data_path (keypoints CSV, ml/layout.py columns), images_path, save_path,
checkpoints (list of model files), thresholds (pixels, default 250, 100, 50, 25, 10),
thresholds_nm (default 1000, 500, 250, 100, 50), metadata_path (default: metadata.csv
beside data_path, if there), features (default: every feature in the CSV), min_area_px,
run_eval, plot_eval, show_det_plot, save_det_plot, show_eval_plot, save_eval_plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ml.layout import FEATURES, METADATA_CSV

DEFAULT_THRESHOLDS_PX = (250.0, 100.0, 50.0, 25.0, 10.0)
DEFAULT_THRESHOLDS_NM = (1000.0, 500.0, 250.0, 100.0, 50.0)


class EvalConfigError(ValueError):
    """A keypoint evaluation config that cannot be used; the message names file and key."""


class KeypointEvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_path: Path
    """keypoints.csv with the ground truth (image, feature, instance, x_px, y_px)."""
    images_path: Path
    save_path: Path
    checkpoints: list[Path] = Field(default_factory=list)
    thresholds: list[float] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS_PX))
    """Pixel distances; a prediction within one is correct at that threshold."""
    thresholds_nm: list[float] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS_NM))
    """The same in nanometres, for images whose pixel size metadata.csv gives."""
    metadata_path: Path | None = None
    features: list[str] | None = None
    """Features to evaluate (default: every feature in data_path)."""
    min_area_px: int = Field(default=20, ge=1)
    run_eval: bool = True
    """Predict and write predictions.csv and accuracy.csv; false: plot the saved ones."""
    plot_eval: bool = True
    show_det_plot: bool = False
    save_det_plot: bool = False
    show_eval_plot: bool = False
    save_eval_plot: bool = True

    @field_validator("checkpoints", mode="before")
    @classmethod
    def _one_checkpoint_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value

    @field_validator("thresholds", "thresholds_nm")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        bad = [v for v in value if not v > 0]
        if bad or not value:
            raise ValueError(f"must be a non-empty list of distances > 0, got {value}")
        return sorted(value, reverse=True)

    @field_validator("features")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = [f for f in value if f not in FEATURES]
            if unknown or not value:
                raise ValueError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
        return value

    @model_validator(mode="after")
    def _checkpoints_to_run(self) -> KeypointEvalConfig:
        if self.run_eval and not self.checkpoints:
            raise ValueError("checkpoints: at least one model file is needed when run_eval is true")
        if len(set(p.name for p in self.checkpoints)) != len(self.checkpoints):
            raise ValueError("checkpoints: file names must differ (they name the results)")
        return self

    def resolved_metadata_path(self) -> Path | None:
        if self.metadata_path is not None:
            return self.metadata_path
        beside = self.data_path.parent / METADATA_CSV
        return beside if beside.is_file() else None


def parse_eval_config(data: Any, source: str = "config") -> KeypointEvalConfig:
    if not isinstance(data, dict):
        raise EvalConfigError(f"{source}: a keypoint evaluation config is a mapping of keys")
    try:
        return KeypointEvalConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in error.errors()
        )
        raise EvalConfigError(
            f"{source}: invalid keypoint evaluation config: {problems}"
        ) from error


def load_eval_config(path: str | Path) -> KeypointEvalConfig:
    """Read and validate a keypoint evaluation YAML; relative paths stay as written
    (relative to the working directory)."""
    path = Path(path)
    if not path.is_file():
        raise EvalConfigError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise EvalConfigError(f"{path}: not valid YAML: {error}") from error
    return parse_eval_config(data, str(path))
