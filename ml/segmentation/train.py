"""Train a segmentation model from a YAML config.

    python -m ml.segmentation.train --config config.yaml

Writes ``last.pt`` (every epoch, to resume from) and ``best.pt`` (highest mean
foreground IoU on the validation split) into ``save_path``, plus ``log.jsonl``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from ml.segmentation.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from ml.segmentation.config import TrainConfig, load_config
from ml.segmentation.dataset import SegmentationDataset, find_pairs, split_indices
from ml.segmentation.distributed import (
    Distributed,
    barrier,
    check_in_sync,
    start_distributed,
    stop_distributed,
    wrap_model,
)
from ml.segmentation.losses import CombinedLoss
from ml.segmentation.metrics import ConfusionMatrix
from ml.segmentation.models import build_model
from ml.segmentation.run_log import FanOut, JsonLinesLogger, RunLogger, WandbLogger
from ml.segmentation.schedule import scheduled_lr
from ml.segmentation.transforms import EMAugment

T = TypeVar("T")


@dataclass
class TrainResult:
    best_path: Path
    last_path: Path
    epochs_run: list[int]
    history: list[dict[str, Any]]
    """The validation record of each validated epoch."""


def _progress(items: Iterable[T], enabled: bool, desc: str) -> Iterator[T]:
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:  # the bar is a nicety, not a dependency
            pass
        else:
            yield from tqdm(items, desc=desc, leave=False)
            return
    yield from items


def evaluate(
    model: nn.Module, loader: DataLoader, num_classes: int, loss_fn: nn.Module, device: str
) -> dict[str, float]:
    """Validation loss, per-class IoU/Dice and their foreground means."""
    model.eval()
    matrix = ConfusionMatrix(num_classes)
    losses: list[float] = []
    with torch.no_grad():
        for images, masks in loader:
            logits = model(images.to(device))
            losses.append(float(loss_fn(logits, masks.to(device))))
            matrix.update(logits.argmax(1).cpu(), masks)
    return {"val_loss": float(np.mean(losses)), **matrix.summary("val")}


def _make_logger(config: TrainConfig) -> RunLogger:
    loggers: list[RunLogger] = [JsonLinesLogger(config.save_path / "log.jsonl")]
    if config.wandb:
        assert config.wandb_project is not None  # the config validator guarantees it
        loggers.append(
            WandbLogger(
                config.wandb_project,
                config.wandb_entity,
                config.model_dump(mode="json"),
                config.save_path,
            )
        )
    return FanOut(loggers)


def reseed_augment(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: without it every worker would start from a copy of
    the same augmentation generator and repeat the others' transforms. torch gives each
    worker its own seed, drawn from the loader's seeded generator, so runs still repeat."""
    info = torch.utils.data.get_worker_info()
    augment = getattr(info.dataset, "augment", None) if info is not None else None
    if isinstance(augment, EMAugment):
        augment.rng = np.random.default_rng([torch.initial_seed() % 2**63, worker_id])


def make_datasets(
    config: TrainConfig, seed: int = 0
) -> tuple[SegmentationDataset, SegmentationDataset]:
    """(train, validation) datasets: a shuffled seeded split; augmentation only on the
    training side and only when ``apply_transforms`` is true."""
    pairs = find_pairs(config.data_paths, config.label_paths)
    train_idx, val_idx = split_indices(len(pairs), config.split, seed)
    augment = EMAugment(seed) if config.apply_transforms else None
    train_set = SegmentationDataset([pairs[i] for i in train_idx], config.num_classes, augment)
    val_set = SegmentationDataset([pairs[i] for i in val_idx], config.num_classes, None)
    return train_set, val_set


def train(config: TrainConfig, seed: int = 0, progress: bool = True) -> TrainResult:
    """Train (or resume) as the config says; returns where the checkpoints are.
    Launched by torchrun, each process trains on its share of the training images
    (DDP averages the gradients); rank 0 validates, logs and saves."""
    where = start_distributed()
    try:
        return _train(config, seed, progress and where.is_main, where)
    finally:
        stop_distributed(where)


def _train(config: TrainConfig, seed: int, progress: bool, where: Distributed) -> TrainResult:
    torch.manual_seed(seed)  # the same initial weights in every process
    device = where.device
    spec = config.model_spec()
    train_set, val_set = make_datasets(config, seed)
    input_size = train_set.read(0)[0].shape

    net = build_model(spec).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    start_epoch, best = 0, -math.inf
    if config.checkpoint is not None:
        previous = load_checkpoint(config.checkpoint)
        if previous.spec != spec:
            raise CheckpointError(
                f"checkpoint: {config.checkpoint} holds {previous.spec}, the config asks for {spec}"
            )
        net.load_state_dict(previous.state_dict)
        if previous.optimizer is not None:
            optimizer.load_state_dict(previous.optimizer)
        start_epoch, best = previous.epoch, previous.best_metric

    model = wrap_model(net, where)
    generator = torch.Generator().manual_seed(seed + start_epoch)
    sampler = (
        DistributedSampler(train_set, where.world_size, where.rank, shuffle=True, seed=seed)
        if where.enabled
        else None
    )
    train_loader = DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        generator=generator,
        num_workers=config.loader_workers,
        persistent_workers=config.loader_workers > 0,
        worker_init_fn=reseed_augment if config.loader_workers > 0 else None,
        pin_memory=device.startswith("cuda"),
    )
    val_loader = DataLoader(
        val_set,
        batch_size=config.batch_size,
        shuffle=False,
        num_workers=config.loader_workers,
        persistent_workers=config.loader_workers > 0,
    )
    loss_fn = CombinedLoss()
    save_path = Path(config.save_path)
    best_path, last_path = save_path / "best.pt", save_path / "last.pt"
    logger: RunLogger = _make_logger(config) if where.is_main else FanOut([])
    logger.log(
        {
            "event": "start",
            "start_epoch": start_epoch,
            "note": config.note,
            "train_images": len(train_set),
            "val_images": len(val_set),
            "processes": where.world_size,
            "steps_per_epoch": len(train_loader),
            "lr_schedule": config.lr_schedule,
        }
    )
    steps_per_epoch, total_steps = len(train_loader), config.epochs * len(train_loader)
    final_lr = config.final_lr()
    epochs_run: list[int] = []
    history: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    started, lr = time.monotonic(), config.lr
    try:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            model.train()
            if config.freeze_batchnorm:
                for module in model.modules():
                    if isinstance(module, nn.BatchNorm2d):
                        module.eval()
            if sampler is not None:
                sampler.set_epoch(epoch)
            for step, (images, masks) in enumerate(
                _progress(train_loader, progress, f"epoch {epoch}/{config.epochs}"), 1
            ):
                # from the epoch and step alone, so a resumed run continues the same curve
                lr = scheduled_lr(
                    config.lr_schedule,
                    config.lr,
                    final_lr,
                    (epoch - 1) * steps_per_epoch + step - 1,
                    total_steps,
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad()
                loss = loss_fn(model(images.to(device)), masks.to(device))
                loss.backward()
                optimizer.step()
                if step % config.train_log_freq == 0:
                    logger.log({"epoch": epoch, "step": step, "train_loss": loss.item(), "lr": lr})
            epochs_run.append(epoch)
            validate = epoch % config.val_log_freq == 0 or epoch == config.epochs
            if not where.is_main:
                barrier(where)  # rank 0 validates and saves meanwhile
                continue
            if validate:
                metrics = evaluate(net, val_loader, config.num_classes, loss_fn, device)
                record = {
                    "epoch": epoch,
                    "lr": lr,
                    "wall_s": round(time.monotonic() - started, 1),
                    **metrics,
                }
                logger.log(record)
                history.append(record)
            checkpoint = Checkpoint(
                spec=spec,
                state_dict={k: v.detach().cpu() for k, v in net.state_dict().items()},
                input_size=(int(input_size[0]), int(input_size[1])),
                epoch=epoch,
                config=config.model_dump(mode="json"),
                optimizer=optimizer.state_dict(),
                metrics=metrics,
                best_metric=best,
            )
            if validate and metrics["val_mean_iou"] > best:
                best = checkpoint.best_metric = metrics["val_mean_iou"]
                save_checkpoint(checkpoint, best_path)
            save_checkpoint(checkpoint, last_path)
            barrier(where)
        check_in_sync(model, where)
    finally:
        logger.close()
    return TrainResult(best_path, last_path, epochs_run, history)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="training YAML")
    parser.add_argument("--seed", type=int, default=0, help="split, shuffling and augmentation")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    result = train(load_config(args.config), seed=args.seed, progress=not args.no_progress)
    if result.history:
        last = result.history[-1]
        print(f"epoch {last['epoch']}: val_mean_iou={last['val_mean_iou']:.4f}")
    print(f"best checkpoint: {result.best_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
