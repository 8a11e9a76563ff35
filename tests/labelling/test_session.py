"""Segmentation labelling session: paint, model-assisted, SAM commit, provenance, reload."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.segmentation.checkpoint import Checkpoint, save_checkpoint
from ml.segmentation.models import ModelSpec, build_model
from ml.segmentation.predictor import load_model
from napari_plugins.labelling.sam.prompts import PointPrompt, SamPrompts
from napari_plugins.labelling.session import SegmentationSession


def random_checkpoint(path: Path, num_classes: int = 3) -> Path:
    """An untrained tiny smp model: predicts something, which is all this test needs."""
    torch.manual_seed(0)
    spec = ModelSpec(encoder="tu-mobilenetv3_small_050", num_classes=num_classes)
    state = {k: v.clone() for k, v in build_model(spec).state_dict().items()}
    save_checkpoint(Checkpoint(spec=spec, state_dict=state, input_size=(64, 64)), path)
    return path


def test_painting_is_saved_with_a_manual_step_and_reloads(mixed_folder):
    session = SegmentationSession.open(mixed_folder)
    labels = session.labels  # napari paints the layer's array in place
    labels[2:6, 3:9] = 1
    assert session.dirty
    session.save(labels)
    provenance = json.loads((mixed_folder / "labels" / "a.json").read_text())
    assert provenance["image"] == "a.png"
    assert (
        provenance["image_sha256"]
        == hashlib.sha256((mixed_folder / "a.png").read_bytes()).hexdigest()
    )
    [step] = provenance["steps"]
    assert step["source"] == "manual" and step["pixels_changed"] == 24 and step["by"]
    assert not session.dirty

    session.go(1)
    assert session.labels.shape == (48, 32) and not session.labels.any()
    session.go(0)
    assert int(session.labels.sum()) == 24 and len(session.provenance.steps) == 1


def test_model_prediction_fills_labels_then_user_corrects(mixed_folder, tmp_path):
    checkpoint = random_checkpoint(tmp_path / "model.pt")
    session = SegmentationSession.open(mixed_folder)
    predicted = session.predict_with_model(checkpoint, session.labels)
    expected = load_model(checkpoint).predict(session.image).mask
    np.testing.assert_array_equal(predicted, expected)
    corrected = predicted.copy()
    corrected[:5, :5] = 2  # the user's correction
    session.save(corrected)
    steps = json.loads((mixed_folder / "labels" / "a.json").read_text())["steps"]
    assert [s["source"] for s in steps] == ["model", "manual"]
    assert steps[0]["checkpoint_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert steps[0]["backend"] == "smp"
    assert steps[1]["pixels_changed"] == int(np.count_nonzero(corrected != predicted))


def test_a_model_with_more_classes_than_the_table_is_refused(mixed_folder, tmp_path):
    checkpoint = random_checkpoint(tmp_path / "big.pt", num_classes=7)
    session = SegmentationSession.open(mixed_folder)
    with pytest.raises(ValueError, match="predicts 7 classes but the class table has 6"):
        session.predict_with_model(checkpoint, session.labels)
    assert session.provenance.steps == []


def test_sam_commit_is_class_aware_and_recorded_with_its_prompts(mixed_folder):
    session = SegmentationSession.open(mixed_folder)
    labels = session.labels.copy()
    labels[:, :10] = 3  # landing_post painted by hand
    mask = np.zeros_like(labels, bool)
    mask[5:15, 5:25] = True
    prompts = SamPrompts(points=(PointPrompt(x_px=15, y_px=10),))
    changed = session.commit_sam(
        mask,
        "lamella",
        prompts,
        labels,
        sam_model_id="m-1",
        backend="mobile_sam",
        weights_sha256=None,
    )
    assert changed == 10 * 15
    assert (session.labels[:, :10] == 3).all() and (session.labels[5:15, 10:25] == 1).all()
    session.save()
    steps = json.loads((mixed_folder / "labels" / "a.json").read_text())["steps"]
    assert [s["source"] for s in steps] == ["manual", "sam"]
    assert steps[1]["prompts"]["points"] == [{"x_px": 15.0, "y_px": 10.0, "positive": True}]
    assert steps[1]["class_name"] == "lamella" and steps[1]["overwrite"] is False
    with pytest.raises(ValueError, match="not 'background'"):
        session.commit_sam(
            mask,
            "background",
            prompts,
            session.labels,
            sam_model_id="m",
            backend="b",
            weights_sha256=None,
        )
