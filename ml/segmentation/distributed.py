"""Training on several processes with PyTorch's own launcher (`torchrun`, DDP).

`torchrun --nproc-per-node N -m ml.segmentation.train --config CONFIG` starts N
processes; each one finds its rank in the environment torchrun sets (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT). On GPUs each process takes the GPU of its
local rank and talks NCCL; on CPUs they talk gloo. Without torchrun nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Distributed:
    """Where this process stands: rank 0 of 1 when not launched by torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """The process that validates, logs and saves checkpoints."""
        return self.rank == 0


def start_distributed() -> Distributed:
    """Join torchrun's process group when launched by it (WORLD_SIZE > 1)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world_size <= 1:
        return Distributed(device="cuda" if cuda else "cpu")
    if "RANK" not in os.environ or "LOCAL_RANK" not in os.environ:
        raise RuntimeError(
            f"WORLD_SIZE={world_size} but RANK/LOCAL_RANK are not set: launch with torchrun"
        )
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    device = f"cuda:{local_rank}" if cuda else "cpu"
    return Distributed(rank, world_size, local_rank, device)


def wrap_model(model: nn.Module, where: Distributed) -> nn.Module:
    """DDP around `model` when distributed (gradients averaged across processes)."""
    if not where.enabled:
        return model
    device_ids = [where.local_rank] if where.device.startswith("cuda") else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def barrier(where: Distributed) -> None:
    if where.enabled:
        dist.barrier()


def check_in_sync(model: nn.Module, where: Distributed) -> None:
    """Every process must hold the same weights after training; raise if not."""
    if not where.enabled:
        return
    total = torch.stack([p.detach().double().sum() for p in unwrap(model).parameters()]).sum()
    sums = [torch.zeros_like(total) for _ in range(where.world_size)]
    dist.all_gather(sums, total)
    if any(not torch.allclose(s, sums[0], rtol=0, atol=1e-9) for s in sums):
        raise RuntimeError(f"DDP processes diverged: weight sums {[float(s) for s in sums]}")


def stop_distributed(where: Distributed) -> None:
    if where.enabled and dist.is_initialized():
        dist.destroy_process_group()


__all__ = [
    "Distributed",
    "barrier",
    "check_in_sync",
    "start_distributed",
    "stop_distributed",
    "unwrap",
    "wrap_model",
]
