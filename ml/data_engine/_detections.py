"""Reading one image event: the beam settings of a frame, and the keypoints the
processing devices read with it (ml/data_engine/_conventions.py says by which names)."""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from ml.layout import FEATURES

from . import _conventions as conv
from ._records import Detection
from ._records import as_float as _float

logger = logging.getLogger("ml.data_engine")
_FEATURE_KEY = re.compile(r"^(?P<feature>[A-Za-z]+?)(?:_(?P<instance>\d+))?_x_px$")


def is_frame_key(data_key: dict[str, Any]) -> bool:
    shape = [n for n in data_key.get("shape") or [] if n != 1]
    return str(data_key.get("external", "")).startswith("STREAM") and len(shape) == 2


def split_frame_keys(descriptor: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(image keys, mask keys) of a descriptor: its external 2-D data keys."""
    frames = [k for k, dk in descriptor["data_keys"].items() if is_frame_key(dk)]
    masks = [k for k in frames if k.endswith(conv.MASK_SUFFIXES)]
    return [k for k in frames if k not in masks], masks


def mask_of(key: str, pictures: list[str], masks: list[str]) -> str:
    """The mask key of image `key` ("" when none): the event's mask when it has one
    image, else the mask named after the image (``fib`` -> ``fib_mask``)."""
    mine = [m for m in masks if len(pictures) == 1 or m.startswith(f"{key}_")]
    return mine[0] if mine else ""


def image_name(uid: str, stream: str, key: str, seq: int) -> str:
    """The file name of an image in images/ (and of its mask in labels/)."""
    return f"{uid}_{stream}_{key}_{seq:04d}.tif"


def frame_shape(data_key: dict[str, Any]) -> tuple[int, int]:
    h, w = [int(n) for n in data_key["shape"] if n != 1][-2:]
    return h, w


def beam_settings(
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


def device_detections(
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
