"""Who or what made a label image, and when: a JSON file beside each label TIFF.

Each change that reached the saved labels is one step: ``manual`` (painted in napari),
``model`` (a segmentation checkpoint's prediction, with the file's sha256) or ``sam``
(a Segment Anything mask, with the SAM model id and the prompts). Steps are appended,
never rewritten, so a label's history survives reloads.
"""

from __future__ import annotations

import getpass
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from napari_plugins.labelling.sam.prompts import SamPrompts

FORMAT = "fibsem-ophyd-label-provenance"
Source = Literal["manual", "model", "sam"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): say so rather than guess
        return "unknown"


class ProvenanceStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    at: datetime = Field(default_factory=now_utc)
    by: str = Field(default_factory=current_user)
    pixels_changed: int = Field(ge=0)
    class_name: str | None = None
    """The class a SAM mask was committed as (None for whole-image steps)."""
    model_path: str | None = None
    checkpoint_sha256: str | None = None
    """sha256 of the segmentation checkpoint or of the SAM weights (None: random weights)."""
    backend: str | None = None
    """'smp' / 'onnx' for model steps; the SAM backend ('vit_b', 'mobile_sam', ...)."""
    sam_model_id: str | None = None
    prompts: SamPrompts | None = None
    overwrite: bool | None = None
    """SAM commits: whether other classes could be overwritten."""


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["fibsem-ophyd-label-provenance"] = FORMAT
    image: str
    """The image's file name (with suffix)."""
    image_sha256: str
    steps: list[ProvenanceStep] = Field(default_factory=list)
    saved_at: datetime | None = None


def read_provenance(path: Path) -> Provenance:
    try:
        return Provenance.model_validate_json(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path}: not a label provenance file: {error}") from error


def write_provenance(provenance: Provenance, path: Path) -> None:
    provenance.saved_at = now_utc()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(provenance.model_dump_json(indent=2, exclude_none=True) + "\n")
    tmp.replace(path)
