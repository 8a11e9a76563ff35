"""Keypoints as event data: the keypoint processors on the twin with a real RunEngine,
fed by a predictor with a known answer and by a real (tiny, untrained) checkpoint."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import bluesky.plan_stubs as bps
import numpy as np
import pytest
from bluesky.run_engine import call_in_bluesky_event_loop

from ml.classes import LAMELLA
from ml.detection.model_keypoints import ModelKeypoints
from ml.layout import FEATURES
from ml.segmentation.predictor import Prediction
from plans.keypoints import acquire_keypoints

BOX = (100, 150, 30, 120)  # top, left, height, width (in a 384 x 256 frame)


class BoxPredictor:
    """A predictor that sees one lamella box in every image."""

    backend = "test"
    num_classes = 6

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, image: np.ndarray) -> Prediction:
        self.calls += 1
        mask = np.zeros(image.shape, np.int64)
        top, left, h, w = BOX
        mask[top : top + h, left : left + w] = LAMELLA
        probs = np.full((6, *image.shape), 0.05, np.float32)
        probs[LAMELLA][mask == LAMELLA] = 0.75
        return Prediction(mask, probs)


def _events(RE, plan):
    docs: list[tuple[str, dict]] = []
    result = RE(plan, lambda name, doc: docs.append((name, doc)))
    return result.plan_result, docs


def test_detections_scores_and_model_id_are_event_data(RE, microscope):
    m = microscope
    predictor = BoxPredictor()
    call_in_bluesky_event_loop(m.add_keypoints(ModelKeypoints(predictor, "sha256:test")))
    RE(_set_small_frames(m))
    detections, docs = _events(RE, acquire_keypoints(m, "ion"))
    (event,) = [d for n, d in docs if n == "event"]
    (start,) = [d for n, d in docs if n == "start"]
    data = event["data"]
    assert start["keypoint_model"] == "sha256:test"
    assert data["fib_keypoints-model_id"] == "sha256:test"
    (descriptor,) = [d for n, d in docs if n == "descriptor"]
    assert "fib" in descriptor["data_keys"]  # the frame, in the same event
    height, width = m.fib.last_frame.shape
    pixel_m = json.loads(data["fib-frame_metadata"])["pixel_size_x_m"]
    assert pixel_m == pytest.approx(m.ion_beam.backend.hfw_m / width)
    assert data["fib_keypoints-pixel_size_m"] == pytest.approx(pixel_m)
    top, left, h, w = BOX
    cx, cy = left + (w - 1) / 2, top + (h - 1) / 2
    assert data["fib_keypoints-LamellaCentre-x_px"] == pytest.approx(cx)
    assert data["fib_keypoints-LamellaCentre-y_px"] == pytest.approx(cy)
    assert data["fib_keypoints-LamellaCentre-dx_m"] == pytest.approx(
        (cx - (width - 1) / 2) * pixel_m
    )
    assert data["fib_keypoints-LamellaCentre-dy_m"] == pytest.approx(
        ((height - 1) / 2 - cy) * pixel_m
    )
    assert data["fib_keypoints-LamellaCentre-score"] == pytest.approx(0.75)
    assert data["fib_keypoints-LamellaTopEdge-y_px"] == top
    assert data["fib_keypoints-LamellaBottomEdge-y_px"] == top + h - 1
    assert data["fib_keypoints-NeedleTip-found"] is False
    assert math.isnan(data["fib_keypoints-NeedleTip-x_px"])
    assert data["fib_keypoints-NeedleTip-reason"] == "no manipulator (needle) pixels in the mask"
    # what the plan returns is what the event holds
    assert detections.require("LamellaLeftEdge").x_px == left
    assert detections.model_id == "sha256:test"
    with pytest.raises(LookupError, match="LandingPost not found: no landing post pixels"):
        detections.require("LandingPost")
    assert predictor.calls == 1
    assert set(detections.features) == set(FEATURES)


def test_a_real_checkpoint_is_identified_by_its_file_hash(RE, microscope, tmp_path: Path):
    import torch

    from ml.segmentation.checkpoint import Checkpoint, save_checkpoint
    from ml.segmentation.models import ModelSpec, build_model
    from profiles.keypoints import wire_keypoints

    torch.manual_seed(0)
    torch.set_num_threads(2)
    spec = ModelSpec(encoder="tu-mobilenetv3_small_050", num_classes=6)
    path = tmp_path / "tiny.pt"
    save_checkpoint(Checkpoint(spec, build_model(spec).state_dict(), (64, 96)), path)
    m = microscope
    source = wire_keypoints(m, path)
    RE(_set_small_frames(m))
    detections, docs = _events(RE, acquire_keypoints(m, "electron", near_px=(10.0, 20.0)))
    (event,) = [d for n, d in docs if n == "event"]
    sha = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert event["data"]["sem_keypoints-model_id"] == sha == source.model_id
    assert m.fib_keypoints is not None and m.fib_keypoints.source is source
    # the untrained model's features are those of its own mask for the same frame
    expected = source.detect(m.sem.last_frame, detections.pixel_size_m, (10.0, 20.0))
    for name, result in expected.results.items():
        reading = detections.features[name]
        assert reading.found == (not hasattr(result, "reason")), name
        if reading.found:
            assert reading.x_px == pytest.approx(result.keypoint.x_px)
            assert reading.y_px == pytest.approx(result.keypoint.y_px)
        else:
            assert reading.reason == result.reason


def _set_small_frames(m):
    yield from bps.mv(m.electron_beam.resolution, "384x256", m.ion_beam.resolution, "384x256")


def test_no_keypoint_model_is_refused_before_the_run(RE, microscope):
    docs: list = []
    with pytest.raises(RuntimeError, match="no keypoint model in this session"):
        RE(acquire_keypoints(microscope, "ion"), lambda name, doc: docs.append(name))
    assert docs == []


def test_a_source_missing_a_feature_fails_the_trigger_and_publishes_nothing(RE, microscope):
    class Partial:
        features = ("LamellaCentre", "NeedleTip")
        model_id = "sha256:partial"

        def __call__(self, image, pixel_size_m, near_px):
            return {"LamellaCentre": (1.0, 2.0, 0.5)}

    call_in_bluesky_event_loop(microscope.add_keypoints(Partial()))
    RE(_set_small_frames(microscope))
    with pytest.raises(Exception, match="no result for \\['NeedleTip'\\]"):
        RE(acquire_keypoints(microscope, "ion"))
    reason = call_in_bluesky_event_loop(microscope.fib_keypoints.LamellaCentre.reason.get_value())
    assert reason == "not run"
