"""What a run contributes to a dataset: its images (with the model's masks and
detections, the beam and pixel size they were taken with) and the supervisor's answers,
each answer tied to the detection it judged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._run_docs import FrameRef

TRAIN, TEST = "train", "test"
CORRECTED, ACCEPTED, REJECTED = "corrected", "accepted", "rejected"


def as_float(value: Any) -> float:
    """`value` as a float; NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass
class Detection:
    """One keypoint a device reported; x/y NaN when it found nothing."""

    feature: str
    instance: int
    x_px: float
    y_px: float
    score: float
    detector: str
    checkpoint_hash: str = ""
    answer: Answer | None = None

    @property
    def found(self) -> bool:
        return math.isfinite(self.x_px) and math.isfinite(self.y_px)


@dataclass
class Answer:
    """A supervisor's answer with the question it answered."""

    run_uid: str
    seq_num: int
    time: float
    question: dict[str, Any]
    action: str
    dx_m: float
    dy_m: float
    note: str
    image: str = ""  # the image whose detection it judged ("" when none)
    feature: str = ""


@dataclass
class ImageRecord:
    name: str
    stream: str
    data_key: str
    seq_num: int
    time: float
    frame: FrameRef
    mask: FrameRef | None
    mask_key: str
    beam: str
    hfw_m: float
    pixel_size_m: float
    height_px: int
    width_px: int
    detections: list[Detection] = field(default_factory=list)

    def keypoint(self, d: Detection) -> tuple[float, float] | None:
        """Where the feature is: the supervisor's correction when there is one, the
        detection when it was accepted or not supervised; None when not known."""
        if d.answer is None or d.answer.action == "accept":
            return (d.x_px, d.y_px) if d.found else None
        if d.answer.action != "move" or not math.isfinite(self.pixel_size_m):
            return None
        # The plan moved to proposal + correction (image plane, metres, y up).
        q = d.answer.question
        ox = float(q.get("proposal_x_m", 0.0)) + d.answer.dx_m
        oy = float(q.get("proposal_y_m", 0.0)) + d.answer.dy_m
        cx, cy = (self.width_px - 1) / 2, (self.height_px - 1) / 2
        return cx + ox / self.pixel_size_m, cy - oy / self.pixel_size_m

    @property
    def review(self) -> str:
        actions = {d.answer.action for d in self.detections if d.answer is not None}
        if "move" in actions:
            return CORRECTED
        if "abort" in actions:
            return REJECTED
        return ACCEPTED if "accept" in actions else ""

    @property
    def flag(self) -> str:
        """Corrected: a training example; accepted: a test example."""
        return {CORRECTED: TRAIN, ACCEPTED: TEST}.get(self.review, "")

    @property
    def checkpoint_hash(self) -> str:
        return next((d.checkpoint_hash for d in self.detections if d.checkpoint_hash), "")


@dataclass
class RunRecord:
    uid: str
    provenance: dict[str, Any]  # metadata.csv columns shared by every image of the run
    images: list[ImageRecord]
    answers: list[Answer]
