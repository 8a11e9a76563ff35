"""Training: per-class metrics, best checkpoint, resume, no downloads, offline logging."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch
import yaml

import ml.segmentation.models as models
from ml.segmentation.checkpoint import CheckpointError, load_checkpoint
from ml.segmentation.config import parse_config
from ml.segmentation.train import main, make_datasets, reseed_augment, train
from tests.ml.segmentation.conftest import NUM_CLASSES, TINY_ENCODER, base_config

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_training_reports_iou_and_dice_per_class_and_keeps_best(
    dataset_dirs, tmp_path: Path, no_network, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_with: list[object] = []
    unet = models.ARCHITECTURES["unet"]

    def spy(**kwargs: object) -> torch.nn.Module:
        built_with.append(kwargs["encoder_weights"])
        return unet(**kwargs)

    monkeypatch.setitem(models.ARCHITECTURES, "unet", spy)
    images, labels = dataset_dirs
    config = parse_config(base_config(images, labels, tmp_path / "run", epochs=2))
    result = train(config, progress=False)

    assert built_with == [None], "encoders are built without pretrained weights"
    assert result.epochs_run == [1, 2]
    log = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in log]
    val = [r for r in records if "val_mean_iou" in r]
    assert [r["epoch"] for r in val] == [1, 2]
    for record in val:
        for c in range(NUM_CLASSES):
            assert 0.0 <= record[f"val_iou_{c}"] <= 1.0
            assert 0.0 <= record[f"val_dice_{c}"] <= 1.0
    assert any("train_loss" in r for r in records)

    best = load_checkpoint(result.best_path)
    assert best.best_metric == max(r["val_mean_iou"] for r in val)
    assert best.spec.encoder == TINY_ENCODER and best.spec.num_classes == NUM_CLASSES
    assert best.input_size == (64, 96)
    assert best.config["lr"] == pytest.approx(1e-3)


def test_resume_from_its_own_checkpoint(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    first = train(parse_config(base_config(images, labels, tmp_path / "run")), progress=False)
    before = load_checkpoint(first.last_path)
    steps_before = next(iter(before.optimizer["state"].values()))["step"]

    resumed_config = base_config(
        images, labels, tmp_path / "run", epochs=2, checkpoint=str(first.last_path)
    )
    second = train(parse_config(resumed_config), progress=False)
    after = load_checkpoint(second.last_path)
    assert second.epochs_run == [2]
    assert after.epoch == 2
    steps_after = next(iter(after.optimizer["state"].values()))["step"]
    assert steps_after == 2 * steps_before, "Adam's state continues, it does not restart"
    assert any(
        not torch.equal(before.state_dict[k], after.state_dict[k]) for k in before.state_dict
    )


def test_resume_with_another_encoder_is_refused(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    first = train(parse_config(base_config(images, labels, tmp_path / "run")), progress=False)
    other = base_config(
        images, labels, tmp_path / "run2", epochs=2, encoder="tu-resnet10t",
        checkpoint=str(first.last_path),
    )  # fmt: skip
    with pytest.raises(CheckpointError, match="tu-resnet10t"):
        train(parse_config(other), progress=False)


def test_wandb_enabled_without_wandb_installed_is_a_clear_error(
    dataset_dirs, tmp_path: Path
) -> None:
    try:
        import wandb  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("wandb is installed here")
    images, labels = dataset_dirs
    config = base_config(images, labels, tmp_path / "run", wandb=True, wandb_project="p")
    with pytest.raises(RuntimeError, match="wandb is not installed"):
        train(parse_config(config), progress=False)


def test_command_line(dataset_dirs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images, labels = dataset_dirs
    config = base_config(images, labels, tmp_path / "run", lr="3e-4")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["--config", str(path), "--no-progress"]) == 0
    assert "val_mean_iou=" in capsys.readouterr().out
    assert (tmp_path / "run" / "best.pt").is_file()


def _batches(dataset, seed: int, workers: int) -> list[torch.Tensor]:
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=1,
        shuffle=False,
        generator=torch.Generator().manual_seed(seed),
        num_workers=workers,
        worker_init_fn=reseed_augment,
    )
    return [images for images, _ in loader]


def test_loader_workers_each_augment_differently_and_repeat_with_the_seed(
    dataset_dirs, tmp_path: Path
) -> None:
    images, labels = dataset_dirs
    config = parse_config(base_config(images, labels, tmp_path / "run"))
    train_set, _ = make_datasets(config, seed=3)
    train_set.pairs = [train_set.pairs[0]] * 4  # one image, so only the augmentation differs
    first = _batches(train_set, seed=11, workers=2)
    # worker 0 serves samples 0 and 2, worker 1 samples 1 and 3: copies of one generator
    # would give sample 1 the same transform as sample 0
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(first[2], first[3])
    again = _batches(train_set, seed=11, workers=2)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    other = _batches(train_set, seed=12, workers=2)
    assert any(not torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_training_with_loader_workers(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    config = base_config(images, labels, tmp_path / "run", epochs=2, loader_workers=2)
    result = train(parse_config(config), progress=False)
    assert result.epochs_run == [1, 2]
    assert 0.0 <= result.history[-1]["val_mean_iou"] <= 1.0
    with pytest.raises(ValueError, match="loader_workers"):
        parse_config(base_config(images, labels, tmp_path / "r", loader_workers=-1))
