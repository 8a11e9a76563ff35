"""The training config: the issue's keys, floats from YAML, wandb keys optional, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ml.segmentation.config import ConfigError, TrainConfig, load_config, parse_config
from tests.ml.segmentation.conftest import base_config

ISSUE_KEYS = {
    "data_paths", "label_paths", "save_path", "checkpoint", "encoder", "num_classes",
    "epochs", "split", "batch_size", "lr", "apply_transforms", "train_log_freq",
    "val_log_freq", "wandb", "wandb_project", "wandb_entity", "model_type", "note",
}  # fmt: skip


def test_config_has_exactly_the_issue_keys() -> None:
    # plus optional keys: the U-Net decoder widths (small, fast models) and the
    # learning-rate schedule (constant by default, so configs without it train as before),
    # freezing BatchNorm to fine-tune a model rebuilt from ONNX (off by default), and
    # DataLoader worker processes (0 by default: the training process reads)
    extra = {"decoder_channels", "lr_schedule", "lr_min", "freeze_batchnorm", "loader_workers"}
    assert set(TrainConfig.model_fields) == ISSUE_KEYS | extra


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


YAML = """\
data_paths: data/images
label_paths: [data/labels]
save_path: runs/a
encoder: mobilenet_v2
num_classes: 6
epochs: 10
lr: 3e-4
apply_transforms: false
"""


def test_lr_written_3e_4_is_a_float(tmp_path: Path) -> None:
    # PyYAML (YAML 1.1) reads 3e-4 without a dot as a string: the reference's bug
    assert yaml.safe_load("lr: 3e-4")["lr"] == "3e-4"
    config = load_config(write_yaml(tmp_path / "c.yaml", YAML))
    assert isinstance(config.lr, float)
    assert config.lr == pytest.approx(3e-4)
    assert config.data_paths == [Path("data/images")]
    assert config.apply_transforms is False


def test_wandb_keys_not_needed_when_wandb_is_off(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path / "c.yaml", YAML + "wandb: false\n"))
    assert config.wandb is False and config.wandb_project is None


def test_wandb_on_needs_a_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wandb_project"):
        load_config(write_yaml(tmp_path / "c.yaml", YAML + "wandb: true\n"))


@pytest.mark.parametrize(
    ("key", "value"),
    [("epochs", "ten"), ("split", 1.5), ("lr", -1), ("num_classes", 1), ("model_type", "vit")],
)
def test_bad_value_names_its_key(tmp_path: Path, key: str, value: object) -> None:
    data = base_config(tmp_path, tmp_path, tmp_path, **{key: value})
    with pytest.raises(ConfigError, match=key):
        parse_config(data)


def test_unknown_key_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="learning_rate"):
        parse_config(base_config(tmp_path, tmp_path, tmp_path, learning_rate=0.1))


def test_unpaired_folders_are_refused(tmp_path: Path) -> None:
    data = base_config(tmp_path, tmp_path, tmp_path, label_paths=["a", "b"])
    with pytest.raises(ConfigError, match="pair"):
        parse_config(data)


def test_shipped_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "ml" / "segmentation" / "example_config.yaml"
    config = load_config(example)
    assert config.lr == pytest.approx(3e-4) and config.wandb is False
