"""The training configuration: one YAML file, validated, with clear errors.

Keys (all of them, nothing else): data_paths, label_paths, save_path, checkpoint,
encoder, num_classes, epochs, split, batch_size, lr, apply_transforms, train_log_freq,
val_log_freq, wandb, wandb_project, wandb_entity, model_type, note; optionally
decoder_channels (the U-Net decoder widths, for small fast models), lr_schedule
(``constant``, the default, or ``cosine``: from ``lr`` down to ``lr_min`` over ``epochs``)
and lr_min (the cosine floor; default ``lr`` / 100).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ml.segmentation.models import ModelSpec
from ml.segmentation.schedule import DEFAULT_FLOOR_FRACTION, LrSchedule


class ConfigError(ValueError):
    """A training configuration that cannot be used; the message names the key."""


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_paths: list[Path] = Field(min_length=1)
    label_paths: list[Path] = Field(min_length=1)
    save_path: Path
    checkpoint: Path | None = None
    """A checkpoint written by this training, to resume from."""
    encoder: str = "resnet34"
    num_classes: int = Field(ge=2)
    epochs: int = Field(ge=1)
    split: float = Field(default=0.15, gt=0.0, lt=1.0)
    """Fraction of the image pairs held out for validation (chosen at random, seeded)."""
    batch_size: int = Field(default=4, ge=1)
    loader_workers: int = Field(default=0, ge=0, le=64)
    """Processes that read and augment training images (0: the training process itself).
    On a GPU one process cannot keep up with a small model; each worker augments with
    its own random sequence (``reseed_augment``)."""
    lr: float = Field(default=3e-4, gt=0.0)
    lr_schedule: LrSchedule = "constant"
    """``constant``: ``lr`` throughout; ``cosine``: from ``lr`` down to ``lr_min`` over
    ``epochs`` (per optimizer step; a resumed run continues the same curve)."""
    lr_min: float | None = Field(default=None, ge=0.0)
    """The cosine schedule's final rate; None: ``lr`` / 100. Only with ``cosine``."""
    apply_transforms: bool = True
    train_log_freq: int = Field(default=10, ge=1)
    """Log the training loss every this many batches."""
    val_log_freq: int = Field(default=1, ge=1)
    """Validate (and log IoU/Dice, keep the best checkpoint) every this many epochs."""
    wandb: bool = False
    wandb_project: str | None = None
    wandb_entity: str | None = None
    model_type: str = "unet"
    decoder_channels: list[int] | None = None
    """Optional: U-Net decoder widths, deepest first (5 for the U-Net); None: smp's default."""
    freeze_batchnorm: bool = False
    """Keep every BatchNorm's running statistics (eval mode) while the rest trains: to
    fine-tune a model rebuilt from an ONNX file (onnx_import.py), whose BatchNorms hold
    the statistics folded into its convolutions and must not be replaced by batch ones."""
    note: str = ""

    @field_validator("data_paths", "label_paths", mode="before")
    @classmethod
    def _one_path_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if len(self.data_paths) != len(self.label_paths):
            raise ValueError(
                f"data_paths has {len(self.data_paths)} folders but label_paths "
                f"has {len(self.label_paths)}; they pair up one to one"
            )
        if self.wandb and not self.wandb_project:
            raise ValueError("wandb_project is required when wandb is true")
        if self.lr_min is not None:
            if self.lr_schedule != "cosine":
                raise ValueError(
                    f"lr_min is the cosine schedule's floor; lr_schedule is "
                    f"{self.lr_schedule!r} (set lr_schedule: cosine, or drop lr_min)"
                )
            if self.lr_min >= self.lr:
                raise ValueError(f"lr_min ({self.lr_min}) must be below lr ({self.lr})")
        self.model_spec()
        return self

    def final_lr(self) -> float:
        """The rate the schedule ends at: ``lr`` for constant, the floor for cosine."""
        if self.lr_schedule == "constant":
            return self.lr
        return self.lr * DEFAULT_FLOOR_FRACTION if self.lr_min is None else self.lr_min

    def model_spec(self) -> ModelSpec:
        return ModelSpec(
            model_type=self.model_type,
            encoder=self.encoder,
            num_classes=self.num_classes,
            decoder_channels=None
            if self.decoder_channels is None
            else tuple(self.decoder_channels),
        )


def parse_config(data: dict[str, Any]) -> TrainConfig:
    """Validate a config mapping; errors name each bad key."""
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"invalid training config: {problems}") from error


def load_config(path: str | Path) -> TrainConfig:
    """Read and validate a training YAML."""
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a training config is a mapping of keys to values")
    return parse_config(data)
