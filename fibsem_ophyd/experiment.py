"""An experiment on disk: the lamellae of one grid, what has been done to each, and
their alignment references — what makes `autolamella` resumable.

    experiment/
      experiment.yaml          lamellae, poses, stages done, history
      references/<lamella>-<orientation>.npy
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .backend import StagePosition

WORKFLOW_STAGES: tuple[str, ...] = (
    "select", "trench", "undercut", "liftout", "landing", "setup", "rough", "polish",
)  # fmt: skip


class StageRecord(BaseModel):
    """One workflow stage done (or failed) at one lamella."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    outcome: Literal["success", "fail", "interrupted"] = Field(
        description="'success', 'fail' (the lamella is given up, `note` says why) or "
        "'interrupted' (abort/stop/halt: run again when the experiment is resumed)"
    )
    clock_start_s: float
    clock_stop_s: float
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_legacy_run_uids(cls, data: Any) -> Any:
        """Experiments saved before the unused `run_uids` key was removed still load."""
        if isinstance(data, dict) and "run_uids" in data:
            data = {k: v for k, v in data.items() if k != "run_uids"}
        return data


class Lamella(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    site: StagePosition = Field(description="The pose the site was chosen at (raw)")
    poses: dict[str, StagePosition] = Field(
        default_factory=dict, description="Confirmed, centred pose per orientation"
    )
    reference_hfw_m: dict[str, float] = Field(
        default_factory=dict, description="Field width of each orientation's reference, m"
    )
    landing_position: str | None = Field(
        None, description="Lift-out: the named position (microscope.positions) of the post "
        "the lamella was landed on; taken by no other lamella",
    )  # fmt: skip
    landed_at: StagePosition | None = Field(
        None, description="Lift-out: that position's pose (raw): where the lamella is "
        "thinned (orientation 'post')",
    )  # fmt: skip
    stages_done: list[str] = Field(default_factory=list)
    failed: str | None = None
    history: list[StageRecord] = Field(default_factory=list)

    def done(self, stage: str) -> bool:
        return stage in self.stages_done


class Experiment(BaseModel):
    """Lamellae and their progress, saved to `folder/experiment.yaml` after each stage."""

    model_config = ConfigDict(extra="forbid")

    name: str
    folder: Path
    protocol: str = ""
    lamellae: dict[str, Lamella] = Field(default_factory=dict)

    @classmethod
    def create(
        cls, folder: str | Path, sites: dict[str, StagePosition], name: str = "experiment"
    ) -> Experiment:
        """A new experiment, or the saved one in `folder` (new sites are added)."""
        path = Path(folder)
        exp = cls.load(path) if (path / "experiment.yaml").exists() else cls(name=name, folder=path)
        for site_name, pose in sites.items():
            exp.lamellae.setdefault(site_name, Lamella(name=site_name, site=pose))
        exp.save()
        return exp

    @classmethod
    def load(cls, folder: str | Path) -> Experiment:
        path = Path(folder) / "experiment.yaml"
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not an experiment file")
        data["folder"] = str(Path(folder))
        return cls.model_validate(data)

    def save(self) -> None:
        """Write atomically: a crash never leaves a half-written file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = self.model_dump(mode="json", exclude={"folder"})
        tmp = self.folder / "experiment.yaml.tmp"
        tmp.write_text(yaml.safe_dump(data, sort_keys=False))
        os.replace(tmp, self.folder / "experiment.yaml")

    def reference_path(self, lamella: str, orientation: str) -> Path:
        return self.folder / "references" / f"{lamella}-{orientation}.npy"

    def save_reference(
        self, lamella: str, orientation: str, image: np.ndarray, hfw_m: float | None = None
    ) -> None:
        """Keep `image` (taken at field width `hfw_m`) as the lamella's reference for
        `orientation`; later visits align to it at the same field width."""
        path = self.reference_path(lamella, orientation)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.asarray(image))
        if hfw_m is not None:
            self.lamellae[lamella].reference_hfw_m[orientation] = float(hfw_m)
            self.save()

    def reference(self, lamella: str, orientation: str) -> np.ndarray | None:
        path = self.reference_path(lamella, orientation)
        return np.load(path, allow_pickle=False) if path.exists() else None

    def record(self, lamella: str, record: StageRecord) -> None:
        lam = self.lamellae[lamella]
        lam.history.append(record)
        if record.outcome == "success" and record.stage not in lam.stages_done:
            lam.stages_done.append(record.stage)
        if record.outcome == "fail":
            lam.failed = f"{record.stage}: {record.note}"
        self.save()
