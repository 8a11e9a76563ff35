"""The CSV rows one run adds to a dataset, and their columns."""

from __future__ import annotations

import math
from typing import Any

from ._records import RunRecord

METADATA_EXTRA = (
    "run_uid",
    "stream",
    "data_key",
    "seq_num",
    "time",
    "experiment",
    "plan_name",
    "scan_id",
    "exit_status",
    "checkpoint_hash",
    "mask_key",
    "review",
    "flag",
)

DETECTION_COLUMNS = (
    "image",
    "feature",
    "instance",
    "detector",
    "x_px",
    "y_px",
    "score",
    "checkpoint_hash",
    "action",
    "kept_x_px",
    "kept_y_px",
)

SUPERVISION_COLUMNS = (
    "run_uid",
    "seq_num",
    "time",
    "kind",
    "site",
    "stage",
    "message",
    "problem",
    "proposal_x_m",
    "proposal_y_m",
    "action",
    "dx_m",
    "dy_m",
    "note",
    "image",
    "feature",
)


def keypoint_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for image in record.images:
        for d in image.detections:
            kept = image.keypoint(d)
            if kept is not None:
                rows.append(
                    {
                        "image": image.name,
                        "feature": d.feature,
                        "instance": d.instance,
                        "x_px": kept[0],
                        "y_px": kept[1],
                    }
                )
    return rows


def detection_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for image in record.images:
        for d in image.detections:
            kept = image.keypoint(d) or (math.nan, math.nan)
            rows.append(
                {
                    "image": image.name,
                    "feature": d.feature,
                    "instance": d.instance,
                    "detector": d.detector,
                    "x_px": d.x_px,
                    "y_px": d.y_px,
                    "score": d.score,
                    "checkpoint_hash": d.checkpoint_hash,
                    "action": d.answer.action if d.answer else "",
                    "kept_x_px": kept[0],
                    "kept_y_px": kept[1],
                }
            )
    return rows


def answer_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for a in record.answers:
        q = a.question
        rows.append(
            {
                "run_uid": a.run_uid,
                "seq_num": a.seq_num,
                "time": a.time,
                "kind": q.get("kind", ""),
                "site": q.get("site", "") or record.provenance["site"],
                "stage": q.get("stage", "") or record.provenance["stage"],
                "message": q.get("message", ""),
                "problem": q.get("problem", ""),
                "proposal_x_m": q.get("proposal_x_m"),
                "proposal_y_m": q.get("proposal_y_m"),
                "action": a.action,
                "dx_m": a.dx_m,
                "dy_m": a.dy_m,
                "note": a.note,
                "image": a.image,
                "feature": a.feature,
            }
        )
    return rows


def metadata_rows(record: RunRecord, with_labels: set[str]) -> list[dict[str, Any]]:
    p = record.provenance
    rows = []
    for image in record.images:
        site, stage = p["site"], p["stage"]
        judged = [d.answer for d in image.detections if d.answer is not None]
        if judged:  # the question names the site and stage it was asked at
            site = site or judged[0].question.get("site", "")
            stage = stage or judged[0].question.get("stage", "")
        rows.append(
            {
                "image": image.name,
                "beam": image.beam,
                "hfw_m": image.hfw_m,
                "pixel_size_m": image.pixel_size_m,
                "height_px": image.height_px,
                "width_px": image.width_px,
                "site": site,
                "stage": stage,
                "seed": p["seed"],
                "source": p["source"],
                "run_uid": p["run_uid"],
                "stream": image.stream,
                "data_key": image.data_key,
                "seq_num": image.seq_num,
                "time": image.time,
                "experiment": p["experiment"],
                "plan_name": p["plan_name"],
                "scan_id": p["scan_id"],
                "exit_status": p["exit_status"],
                "checkpoint_hash": image.checkpoint_hash or p["start_checkpoint_hash"],
                "mask_key": image.mask_key if image.name in with_labels else "",
                "review": image.review,
                "flag": image.flag,
            }
        )
    return rows
