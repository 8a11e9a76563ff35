"""Training logs that work offline: JSON lines always, wandb (offline) when asked."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol


class RunLogger(Protocol):
    def log(self, record: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class JsonLinesLogger:
    """One JSON object per line in ``<save_path>/log.jsonl`` (appended on resume)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a")

    def log(self, record: dict[str, Any]) -> None:
        # NaN (a class absent from prediction and truth) is written as null: standard JSON
        clean = {
            k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()
        }
        self._file.write(json.dumps(clean, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class WandbLogger:
    """wandb in offline mode (sync later with ``wandb sync``); never needs the network."""

    def __init__(self, project: str, entity: str | None, config: dict[str, Any], folder: Path):
        try:
            import wandb
        except ImportError as error:
            raise RuntimeError(
                "the config sets wandb: true but wandb is not installed; "
                "`pip install wandb` or set wandb: false (a local log is always written)"
            ) from error
        self._run = wandb.init(
            project=project, entity=entity, config=config, dir=str(folder), mode="offline"
        )

    def log(self, record: dict[str, Any]) -> None:
        self._run.log(record)

    def close(self) -> None:
        self._run.finish()


class FanOut:
    def __init__(self, loggers: list[RunLogger]) -> None:
        self.loggers = loggers

    def log(self, record: dict[str, Any]) -> None:
        for logger in self.loggers:
            logger.log(record)

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()
