"""Training on 2 processes with torchrun (DDP, gloo on CPU): each trains on half of the
images, the weights stay identical, rank 0 alone logs and saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ml.segmentation.checkpoint import load_checkpoint
from tests.ml.segmentation.conftest import base_config, write_dataset

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)

REPO = Path(__file__).resolve().parents[3]


def test_torchrun_two_processes_on_cpu(tmp_path: Path) -> None:
    images, labels = write_dataset(tmp_path / "data", 12)
    config = base_config(images, labels, tmp_path / "run", epochs=2, apply_transforms=False)
    config_path = tmp_path / "train.yaml"
    config_path.write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
        "CUDA_VISIBLE_DEVICES": "",
    }
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "ml.segmentation.train",
               "--config", str(config_path), "--no-progress"]  # fmt: skip
    out = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]

    records = [
        json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    ]
    start = [r for r in records if r.get("event") == "start"]
    assert len(start) == 1  # rank 0 alone logs
    assert start[0]["processes"] == 2
    # 9 training images, 2 processes, batch 4: 5 images (2 batches) per process an epoch
    assert start[0]["train_images"] == 9 and start[0]["steps_per_epoch"] == 2
    assert [r["epoch"] for r in records if "val_mean_iou" in r] == [1, 2]
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last.epoch == 2
    assert not any(k.startswith("module.") for k in last.state_dict)  # loads without DDP
