"""From one run's documents to its `RunRecord`: provenance, images, detections and
answers."""

from __future__ import annotations

from typing import Any

from . import _conventions as conv
from ._detections import (
    beam_settings,
    device_detections,
    frame_shape,
    image_name,
    mask_of,
    split_frame_keys,
)
from ._records import Answer, ImageRecord, RunRecord
from ._run_docs import RunDocuments
from ._supervision import attach, supervision_answer


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
        pictures, masks = split_frame_keys(descriptor)
        frames = pictures + masks
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
            mask_key = mask_of(key, pictures, masks)
            beam, hfw, pixel = beam_settings(key, event, descriptor, docs.start)
            h, w = frame_shape(data_keys[key])
            event_images.append(
                ImageRecord(
                    name=image_name(docs.uid, stream, key, seq),
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
            answer = supervision_answer(docs.uid, obj, event)
            if answer is not None:
                answers.append(answer)
                attach(answer, images)
                continue
            if not event_images:
                continue
            owner = (
                event_images[0]
                if len(event_images) == 1
                else next((im for im in event_images if obj.startswith(f"{im.data_key}_")), None)
            )
            if owner is not None:
                owner.detections += device_detections(
                    obj, keys, event, descriptor, provenance["start_checkpoint_hash"]
                )
        images.extend(event_images)
    return RunRecord(docs.uid, provenance, images, answers)
