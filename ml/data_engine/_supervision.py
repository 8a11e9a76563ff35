"""The supervisor's answers: read from the event that recorded them, and tied to the
detection each one judged."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from . import _conventions as conv
from ._records import Answer, Detection, ImageRecord
from ._records import as_float as _float

logger = logging.getLogger("ml.data_engine")


def supervision_answer(run_uid: str, obj: str, event: dict[str, Any]) -> Answer | None:
    data = event["data"]
    if not all(f"{obj}{s}" in data for s in conv.SUPERVISION_SUFFIXES):
        return None
    asked = data[f"{obj}-asked"]
    return Answer(
        run_uid=run_uid,
        seq_num=int(event["seq_num"]),
        time=float(event["time"]),
        question=json.loads(asked) if asked else {},
        action=str(data[f"{obj}-action"]),
        dx_m=_float(data[f"{obj}-dx_m"]),
        dy_m=_float(data[f"{obj}-dy_m"]),
        note=str(data[f"{obj}-note"]),
    )


def _judged(image: ImageRecord, d: Detection, q: dict[str, Any]) -> bool:
    """Did question `q` propose detection `d` (its offset from the image centre)?"""
    px, py = _float(q.get("proposal_x_m")), _float(q.get("proposal_y_m"))
    if not d.found:  # a failed detection is proposed as the image centre, with a problem
        return px == 0.0 and py == 0.0 and bool(q.get("problem"))
    pixel = image.pixel_size_m
    if not math.isfinite(pixel):
        return False
    dx = (d.x_px - (image.width_px - 1) / 2) * pixel
    dy = -(d.y_px - (image.height_px - 1) / 2) * pixel
    return abs(dx - px) <= pixel / 2 and abs(dy - py) <= pixel / 2


def attach(answer: Answer, images: list[ImageRecord]) -> None:
    """Tie a point answer to the latest detection taken before it that it proposed."""
    if answer.question.get("kind") != "point":
        return
    before = [im for im in images if im.time <= answer.time and im.detections]
    if not before:
        return
    latest = max(before, key=lambda im: im.time)
    for d in latest.detections:
        if d.answer is None and _judged(latest, d, answer.question):
            d.answer, answer.image, answer.feature = answer, latest.name, d.feature
            return
    logger.warning(
        "run %s: supervisor answer %d matches no detection of %s; kept unattached",
        answer.run_uid,
        answer.seq_num,
        latest.name,
    )
