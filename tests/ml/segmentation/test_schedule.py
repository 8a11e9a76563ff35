"""The learning-rate schedule: its values, its config keys, and resume continuing it."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

import ml.segmentation.train as train_module
from ml.segmentation.checkpoint import Checkpoint, load_checkpoint
from ml.segmentation.config import ConfigError, parse_config
from ml.segmentation.schedule import scheduled_lr
from ml.segmentation.train import train
from tests.ml.segmentation.conftest import base_config


def test_cosine_falls_from_lr_to_the_floor_and_constant_stays() -> None:
    lr, floor, total = 1e-3, 1e-5, 11
    cosine = [scheduled_lr("cosine", lr, floor, step, total) for step in range(total)]
    assert cosine[0] == pytest.approx(lr)
    assert cosine[-1] == pytest.approx(floor)
    assert cosine[5] == pytest.approx((lr + floor) / 2)  # halfway down half a cosine
    assert all(a > b for a, b in itertools.pairwise(cosine))
    assert cosine[1] == pytest.approx(floor + (lr - floor) * (1 + math.cos(math.pi / 10)) / 2)
    assert scheduled_lr("cosine", lr, floor, 50, total) == pytest.approx(floor)  # past the end
    assert {scheduled_lr("constant", lr, floor, s, total) for s in range(total)} == {lr}
    with pytest.raises(ValueError, match="unknown lr_schedule"):
        scheduled_lr("step", lr, floor, 0, total)  # type: ignore[arg-type]


def test_config_schedule_keys_default_and_errors(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    plain = parse_config(base_config(images, labels, tmp_path))
    assert plain.lr_schedule == "constant" and plain.final_lr() == pytest.approx(1e-3)
    cosine = parse_config(base_config(images, labels, tmp_path, lr_schedule="cosine"))
    assert cosine.final_lr() == pytest.approx(1e-5)  # lr / 100 when lr_min is not given
    floor = base_config(images, labels, tmp_path, lr_schedule="cosine", lr_min="2e-4")
    assert parse_config(floor).final_lr() == pytest.approx(2e-4)  # a YAML-1.1 string too
    with pytest.raises(ConfigError, match=r"lr_schedule.*'constant' or 'cosine'"):
        parse_config(base_config(images, labels, tmp_path, lr_schedule="linear"))
    with pytest.raises(ConfigError, match="lr_min is the cosine schedule's floor"):
        parse_config(base_config(images, labels, tmp_path, lr_min=1e-5))
    with pytest.raises(ConfigError, match=r"lr_min \(0.002\) must be below lr"):
        parse_config(base_config(images, labels, tmp_path, lr_schedule="cosine", lr_min=2e-3))


def _step_lrs(log: Path) -> list[tuple[int, int, float]]:
    records = [json.loads(line) for line in log.read_text().splitlines()]
    return [(r["epoch"], r["step"], r["lr"]) for r in records if "train_loss" in r]


def test_training_follows_the_schedule_and_a_resumed_run_continues_it(
    dataset_dirs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images, labels = dataset_dirs
    overrides = {"epochs": 3, "lr_schedule": "cosine", "lr_min": 1e-4, "split": 0.25}
    whole = train(
        parse_config(base_config(images, labels, tmp_path / "a", **overrides)), progress=False
    )
    expected = _step_lrs(tmp_path / "a" / "log.jsonl")
    steps = len(expected) // 3  # 6 training images, batches of 4: 2 steps per epoch
    assert whole.epochs_run == [1, 2, 3] and steps == 2
    assert [lr for *_, lr in expected] == pytest.approx(
        [scheduled_lr("cosine", 1e-3, 1e-4, s, 3 * steps) for s in range(3 * steps)]
    )

    class Stopped(Exception):
        pass

    save = train_module.save_checkpoint

    def save_then_stop(checkpoint: Checkpoint, path: Path) -> None:
        save(checkpoint, path)
        if Path(path).name == "last.pt" and checkpoint.epoch == 1:
            raise Stopped  # the run is stopped after its first epoch

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_stop)
    with pytest.raises(Stopped):
        train(
            parse_config(base_config(images, labels, tmp_path / "b", **overrides)), progress=False
        )
    monkeypatch.setattr(train_module, "save_checkpoint", save)
    last = tmp_path / "b" / "last.pt"
    assert load_checkpoint(last).epoch == 1
    resumed = base_config(images, labels, tmp_path / "b", checkpoint=str(last), **overrides)
    assert train(parse_config(resumed), progress=False).epochs_run == [2, 3]
    # epoch 1 from the stopped run, 2-3 from the resumed one: the same curve as one run
    assert _step_lrs(tmp_path / "b" / "log.jsonl") == [
        (e, s, pytest.approx(lr)) for e, s, lr in expected
    ]
