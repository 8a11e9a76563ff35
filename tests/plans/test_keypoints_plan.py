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


class CutPredictor(BoxPredictor):
    """A lamella 120 px long running 50 px past the frame's left border."""

    def predict(self, image: np.ndarray) -> Prediction:
        self.calls += 1
        mask = np.zeros(image.shape, np.int64)
        mask[100:130, 0:70] = LAMELLA
        probs = np.full((6, *image.shape), 0.05, np.float32)
        probs[LAMELLA][mask == LAMELLA] = 0.75
        return Prediction(mask, probs)


def test_the_protocol_length_places_a_lamella_cut_by_the_border(RE, microscope):
    """The hints are configuration of the processor (in the descriptor) and reach the
    model: without the length the centre is the middle of what shows (col 34.5), with it
    60 px back from the end in view (col 69 - 59.5); they are reset by the next plan."""
    m = microscope
    call_in_bluesky_event_loop(m.add_keypoints(ModelKeypoints(CutPredictor(), "sha256:cut")))
    RE(_set_small_frames(m))
    _, docs = _events(RE, acquire_keypoints(m, "ion"))
    (event,) = [d for n, d in docs if n == "event"]
    assert event["data"]["fib_keypoints-LamellaCentre-x_px"] == pytest.approx(34.5)
    assert event["data"]["fib_keypoints-LamellaLeftEdge-found"] is False
    pixel_m = event["data"]["fib_keypoints-pixel_size_m"]
    detections, docs = _events(RE, acquire_keypoints(m, "ion", lamella_length_m=120 * pixel_m))
    assert detections.require("LamellaCentre").x_px == pytest.approx(69 - 59.5, abs=0.6)
    assert detections.require("LamellaTopEdge").x_px == pytest.approx(69 - 59.5, abs=0.6)
    (descriptor,) = [d for n, d in docs if n == "descriptor"]
    config = descriptor["configuration"]["fib_keypoints"]["data"]
    assert config["fib_keypoints-lamella_length_m"] == pytest.approx(120 * pixel_m)
    assert config["fib_keypoints-post_view"] == "auto"
    assert math.isnan(config["fib_keypoints-post_length_m"])
    (start,) = [d for n, d in docs if n == "start"]
    assert float(start["plan_args"]["lamella_length_m"]) == pytest.approx(120 * pixel_m)
    again, _ = _events(RE, acquire_keypoints(m, "ion"))
    assert again.require("LamellaCentre").x_px == pytest.approx(34.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lamella_length_m": -1e-6}, "lamella_length_m"),
        ({"lamella_length_m": 10.0}, "lamella_length_m"),  # metres, not micrometres
        ({"lamella_length_m": float("inf")}, "lamella_length_m"),
        ({"post_view": "above"}, "post_view"),
        ({"post_size_m": (20e-6, 60.0)}, "post_size_m"),
        ({"post_size_m": (20e-6,)}, "post_size_m"),
    ],
)
def test_bad_hints_are_refused_before_the_run(RE, microscope, kwargs, field):
    call_in_bluesky_event_loop(microscope.add_keypoints(ModelKeypoints(BoxPredictor(), "x")))
    docs: list = []
    with pytest.raises(ValueError, match=field):
        RE(acquire_keypoints(microscope, "ion", **kwargs), lambda name, doc: docs.append(name))
    assert docs == []
