"""From one run's documents to what goes into a dataset: its images (with the model's
masks and detections, the beam and pixel size they were taken with) and the
supervisor's answers, each answer tied to the detection it judged."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ml.layout import FEATURES

from . import _conventions as conv
from ._run_docs import FrameRef, RunDocuments

logger = logging.getLogger("ml.data_engine")

TRAIN, TEST = "train", "test"
CORRECTED, ACCEPTED, REJECTED = "corrected", "accepted", "rejected"
_FEATURE_KEY = re.compile(r"^(?P<feature>[A-Za-z]+?)(?:_(?P<instance>\d+))?_x_px$")


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


def _first(mapping: dict[str, Any], keys: tuple[str, ...]) -> str:
    value = next((mapping[k] for k in keys if isinstance(mapping.get(k), str | int)), "")
    return str(value)


def _provenance(docs: RunDocuments) -> dict[str, Any]:
    start, stop = docs.start, docs.stop or {}
    return {
        "run_uid": docs.uid,
        "source": f"run:{docs.uid}",
        "site": _first(start, conv.SITE_KEYS),
        "stage": _first(start, conv.STAGE_KEYS),
        "experiment": _first(start, conv.EXPERIMENT_KEYS),
        "seed": _first(start, ("seed",)),
        "plan_name": str(start.get("plan_name", "")),
        "scan_id": start.get("scan_id", ""),
        "exit_status": str(stop.get("exit_status", "")),
        "start_checkpoint_hash": str(start.get("checkpoint_hash", "")),
    }


def _is_frame_key(data_key: dict[str, Any]) -> bool:
    shape = [n for n in data_key.get("shape") or [] if n != 1]
    return str(data_key.get("external", "")).startswith("STREAM") and len(shape) == 2


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _beam_settings(
    key: str, event: dict[str, Any], descriptor: dict[str, Any], start: dict[str, Any]
) -> tuple[str, float, float]:
    """(beam, hfw_m, pixel_size_m) of image `key` in `event` (NaN when not recorded)."""
    beam, hfw, pixel = "", math.nan, math.nan
    raw = event["data"].get(f"{key}{conv.FRAME_METADATA_SUFFIX}")
    if isinstance(raw, str) and raw.strip():
        meta = json.loads(raw)
        beam = str(meta.get("beam") or "")
        pixel = _float(meta.get("pixel_size_x_m"))
        hfw = _float((meta.get("reported") or {}).get("hfw_m"))
    obj = descriptor["data_keys"][key].get("object_name", key)
    config = descriptor.get("configuration", {}).get(obj, {}).get("data", {})
    for name, value in config.items():
        prefix = next((p for p in conv.BEAM_PREFIXES if name.startswith(p)), None)
        if prefix and not beam:
            beam = conv.BEAM_PREFIXES[prefix]
        if name.endswith("-pixel_size_m") and not math.isfinite(pixel):
            pixel = _float(value)
        if name.endswith("-hfw_m") and not math.isfinite(hfw):
            hfw = _float(value)
    return beam or str(start.get("beam", "")), hfw, pixel


def _shape(data_key: dict[str, Any]) -> tuple[int, int]:
    h, w = [int(n) for n in data_key["shape"] if n != 1][-2:]
    return h, w


def _device_detections(
    obj: str, keys: list[str], event: dict[str, Any], descriptor: dict[str, Any], start_hash: str
) -> list[Detection]:
    data = event["data"]
    config = descriptor.get("configuration", {}).get(obj, {}).get("data", {})
    checkpoint = next(
        (str(v) for k, v in {**config, **data}.items() if k.endswith(conv.CHECKPOINT_SUFFIX)),
        start_hash,
    )
    found: list[Detection] = []
    if f"{obj}-x_px" in keys and f"{obj}-y_px" in keys:
        target = str(config.get(f"{obj}-target", ""))
        feature = "NeedleTip" if obj.endswith(conv.NEEDLE_SUFFIX) else None
        feature = feature or conv.TARGET_FEATURES.get(target)
        if feature is None:
            logger.warning(
                "%s: detections of target %r name no known feature; left out", obj, target
            )
        else:
            found.append(
                Detection(
                    feature,
                    0,
                    _float(data[f"{obj}-x_px"]),
                    _float(data[f"{obj}-y_px"]),
                    _float(data.get(f"{obj}-score")),
                    obj,
                    checkpoint,
                )
            )
    for key in keys:
        match = _FEATURE_KEY.match(key[len(obj) + 1 :])
        if match is None or match["feature"] not in FEATURES:
            continue
        stem = key[: -len("_x_px")]
        if f"{stem}_y_px" not in data:
            continue
        found.append(
            Detection(
                match["feature"],
                int(match["instance"] or 0),
                _float(data[key]),
                _float(data[f"{stem}_y_px"]),
                _float(data.get(f"{stem}_score")),
                obj,
                checkpoint,
            )
        )
    return found


def _supervision_answer(run_uid: str, obj: str, event: dict[str, Any]) -> Answer | None:
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


def _image_name(uid: str, stream: str, key: str, seq: int) -> str:
    return f"{uid}_{stream}_{key}_{seq:04d}.tif"


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


def _attach(answer: Answer, images: list[ImageRecord]) -> None:
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


def extract(docs: RunDocuments) -> RunRecord:
    """Images, detections and answers of a run, with its provenance."""
    provenance = _provenance(docs)
    refs = docs.frame_refs()
    images: list[ImageRecord] = []
    answers: list[Answer] = []
    for event in docs.ordered_events():
        descriptor = docs.descriptors[event["descriptor"]]
        stream = str(descriptor.get("name", "primary"))
        data_keys: dict[str, Any] = descriptor["data_keys"]
        frames = [k for k, dk in data_keys.items() if _is_frame_key(dk)]
        masks = [k for k in frames if k.endswith(conv.MASK_SUFFIXES)]
        pictures = [k for k in frames if k not in masks]
        objects: dict[str, list[str]] = descriptor.get("object_keys", {})
        event_images: list[ImageRecord] = []
        for key in pictures:
            seq = int(event["seq_num"])
            ref = refs.get((descriptor["uid"], key, seq))
            if ref is None:
                raise ValueError(
                    f"run {docs.uid}: event {seq} of stream {stream!r} has no "
                    f"stream datum for its frame {key!r}"
                )
            mine = [m for m in masks if len(pictures) == 1 or m.startswith(f"{key}_")]
            mask_key = mine[0] if mine else ""
            beam, hfw, pixel = _beam_settings(key, event, descriptor, docs.start)
            h, w = _shape(data_keys[key])
            event_images.append(
                ImageRecord(
                    name=_image_name(docs.uid, stream, key, seq),
                    stream=stream,
                    data_key=key,
                    seq_num=seq,
                    time=float(event["time"]),
                    frame=ref,
                    mask=refs.get((descriptor["uid"], mask_key, seq)) if mask_key else None,
                    mask_key=mask_key,
                    beam=beam,
                    hfw_m=hfw,
                    pixel_size_m=pixel,
                    height_px=h,
                    width_px=w,
                )
            )
        frame_objects = {data_keys[k].get("object_name", k) for k in frames}
        for obj, keys in objects.items():
            if obj in frame_objects:
                continue
            answer = _supervision_answer(docs.uid, obj, event)
            if answer is not None:
                answers.append(answer)
                _attach(answer, images)
                continue
            if not event_images:
                continue
            owner = (
                event_images[0]
                if len(event_images) == 1
                else next((im for im in event_images if obj.startswith(f"{im.data_key}_")), None)
            )
            if owner is not None:
                owner.detections += _device_detections(
                    obj, keys, event, descriptor, provenance["start_checkpoint_hash"]
                )
        images.extend(event_images)
    return RunRecord(docs.uid, provenance, images, answers)
