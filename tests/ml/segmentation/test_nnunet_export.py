"""nnU-Net v2 model folder -> ONNX -> load_model("nnunet"), without nnunetv2.

The folder is made here the way nnU-Net writes one: plans.json with a 2-D configuration
and its architecture block, dataset.json, and fold_0/checkpoint_final.pth holding
nnU-Net's checkpoint dict (numpy scalars in the training log, a torch.device in
init_args). The network is a real dynamic-network-architectures PlainConvUNet, the
package nnU-Net itself builds networks with.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch

pytest.importorskip(
    "dynamic_network_architectures",
    reason="dynamic-network-architectures is not installed (extra 'nnunet')",
)

from ml.segmentation.nnunet_export import METADATA_KEY, export_nnunet, main
from ml.segmentation.nnunet_folder import (
    NnunetFolderError,
    build_network,
    load_nnunet_checkpoint,
    read_model_folder,
)
from ml.segmentation.predictor import clear_model_cache, detect_backend, load_model

LABELS = {"background": 0, "lamella": 1, "manipulator": 2}
INTENSITIES = {"max": 255.0, "mean": 140.0, "median": 130.0, "min": 0.0,
               "percentile_00_5": 10.0, "percentile_99_5": 240.0, "std": 60.0}  # fmt: skip


# as nnU-Net 2.8.1's planner wrote them for 64x96 twin-like images (used by nnU-Net's own
# predictor in the comparison test; the exporter does not read them)
KINDS = ("data", "seg", "probabilities")
RESAMPLING = {f"resampling_fn_{kind}": "resample_data_or_seg_to_shape" for kind in KINDS} | {
    f"resampling_fn_{kind}_kwargs": {"is_seg": kind == "seg", "order": order, "order_z": 0,
                                      "force_separate_z": None}
    for kind, order in (("data", 3), ("seg", 1), ("probabilities", 1))
}  # fmt: skip


def plans(normalization: str = "ZScoreNormalization") -> dict[str, Any]:
    architecture = {
        "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
        "arch_kwargs": {
            "n_stages": 3, "features_per_stage": [4, 8, 16],
            "conv_op": "torch.nn.modules.conv.Conv2d",
            "kernel_sizes": [[3, 3]] * 3, "strides": [[1, 1], [2, 2], [2, 2]],
            "n_conv_per_stage": [1, 1, 1], "n_conv_per_stage_decoder": [1, 1],
            "conv_bias": True, "norm_op": "torch.nn.modules.instancenorm.InstanceNorm2d",
            "norm_op_kwargs": {"eps": 1e-05, "affine": True},
            "dropout_op": None, "dropout_op_kwargs": None,
            "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True},
        },
        "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
    }  # fmt: skip
    return {
        "dataset_name": "Dataset501_Lamella",
        "plans_name": "nnUNetPlans",
        "transpose_forward": [0, 1, 2],
        "transpose_backward": [0, 1, 2],
        "image_reader_writer": "NaturalImage2DIO",
        "configurations": {
            "2d": {
                "data_identifier": "nnUNetPlans_2d",
                "preprocessor_name": "DefaultPreprocessor",
                "batch_size": 2,
                "patch_size": [64, 96],
                "spacing": [1.0, 1.0],
                "normalization_schemes": [normalization],
                "use_mask_for_norm": [False],
                "median_image_size_in_voxels": [64.0, 96.0],
                "batch_dice": True,
                **RESAMPLING,
                "architecture": architecture,
            },
            "2d_bigger_batch": {"inherits_from": "2d", "batch_size": 4},
        },
        "foreground_intensity_properties_per_channel": {"0": INTENSITIES},
        "original_median_spacing_after_transp": [999.0, 1.0, 1.0],
        "original_median_shape_after_transp": [1, 64, 96],
        "experiment_planner_used": "ExperimentPlanner",
        "label_manager": "LabelManager",
    }


def make_folder(root: Path, normalization: str = "ZScoreNormalization", **extra: Any) -> Path:
    folder = root / "nnUNetTrainer__nnUNetPlans__2d"
    (folder / "fold_0").mkdir(parents=True)
    plan = plans(normalization)
    dataset = {"channel_names": {"0": "EM"}, "labels": LABELS, "numTraining": 3,
               "file_ending": ".tif"}  # fmt: skip
    (folder / "plans.json").write_text(json.dumps(plan))
    (folder / "dataset.json").write_text(json.dumps(dataset))
    torch.manual_seed(0)
    network = build_network(plan["configurations"]["2d"], 1, len(LABELS), folder)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.99, nesterov=True)
    network(torch.rand(2, 1, 64, 96)).mean().backward()  # a step, for a real optimizer state
    optimizer.step()
    checkpoint = {  # the keys and value types nnU-Net's trainer saves
        "network_weights": network.state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "grad_scaler_state": None,
        "logging": {
            "mean_fg_dice": [np.float64(0.51)],
            "ema_fg_dice": [np.float64(0.5)],
            "dice_per_class_or_region": [[np.float64(0.4), np.float64(0.6)]],
            "train_losses": [np.float32(-0.2)],
            "lrs": [0.01],
        },
        "_best_ema": np.float64(0.5),
        "current_epoch": 1,
        "init_args": {
            "plans": plan,
            "configuration": "2d",
            "fold": 0,
            "dataset_json": dataset,
            "device": torch.device("cpu"),
        },
        "trainer_name": "nnUNetTrainer",
        "inference_allowed_mirroring_axes": (0, 1),
        **extra,
    }
    torch.save(checkpoint, folder / "fold_0" / "checkpoint_final.pth")
    return folder


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


def test_real_nnunet_checkpoint_needs_more_than_plain_weights_only(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    path = folder / "fold_0" / "checkpoint_final.pth"
    with pytest.raises(Exception, match="numpy"):  # what plain weights_only says to it
        torch.load(path, weights_only=True)
    checkpoint = load_nnunet_checkpoint(path)  # numpy scalar reconstruction allowed, no more
    assert checkpoint["_best_ema"] == pytest.approx(0.5)


def test_exported_model_loads_as_nnunet_and_matches_torch(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    output = tmp_path / "lamella.model"  # no telling suffix: found by content
    assert export_nnunet(folder, output) >= 0.999
    meta = json.loads({p.key: p.value for p in onnx.load(str(output)).metadata_props}[METADATA_KEY])
    assert meta["labels"] == LABELS and meta["size_multiple"] == [4, 4]
    assert meta["normalization"] == "ZScoreNormalization" and meta["configuration"] == "2d"
    assert detect_backend(output) == "nnunet"
    predictor = load_model(output)
    assert predictor.backend == "nnunet" and predictor.num_classes == 3

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (64, 96)).astype(np.uint8)
    network = read_model_folder(folder).network
    z = (image - image.mean()) / image.std()  # nnU-Net's z-score of raw intensities
    with torch.inference_mode():
        logits = network(torch.from_numpy(z.astype(np.float32))[None, None])[0]
    expected = torch.softmax(logits, 0).numpy()
    prediction = predictor.predict(image)
    # onnxruntime and torch round differently: probabilities to 3e-3, classes to 99.9 %
    np.testing.assert_allclose(prediction.probabilities, expected, atol=3e-3)
    assert (prediction.mask == expected.argmax(0)).mean() >= 0.999

    odd = predictor.predict(image[:50, :70])  # not a multiple of 4: padded, cropped back
    assert odd.mask.shape == (50, 70) and odd.probabilities.shape == (3, 50, 70)
    np.testing.assert_allclose(odd.probabilities.sum(0), 1.0, atol=1e-5)


def test_ct_normalization_uses_the_plans_statistics(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, normalization="CTNormalization")
    output = tmp_path / "ct.onnx"
    assert main(["--model_folder", str(folder), "--output", str(output)]) == 0
    image = np.random.default_rng(4).integers(0, 256, (64, 96)).astype(np.uint8)  # one tile
    clipped = np.clip(image.astype(np.float32), 10.0, 240.0)
    z = (clipped - INTENSITIES["mean"]) / INTENSITIES["std"]
    with torch.inference_mode():
        logits = read_model_folder(folder).network(torch.from_numpy(z)[None, None])[0]
    got = load_model(output).predict(image).probabilities
    np.testing.assert_allclose(got, torch.softmax(logits, 0).numpy(), atol=3e-3)


def test_mirroring_averages_the_flips(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    output = tmp_path / "mirrored.onnx"
    export_nnunet(folder, output, mirroring=True)
    image = np.random.default_rng(5).integers(0, 256, (64, 96)).astype(np.uint8)
    z = torch.from_numpy(((image - image.mean()) / image.std()).astype(np.float32))[None, None]
    network = read_model_folder(folder).network
    with torch.inference_mode():
        flips = [[], [2], [3], [2, 3]]
        logits = sum(torch.flip(network(torch.flip(z, f)), f) for f in flips) / 4
    got = load_model(output).predict(image).probabilities
    np.testing.assert_allclose(got, torch.softmax(logits[0], 0).numpy(), atol=3e-3)


def test_same_masks_as_nnunet_predictor_when_installed(tmp_path: Path) -> None:
    predict = pytest.importorskip(
        "nnunetv2.inference.predict_from_raw_data",
        reason="nnunetv2 is not installed (optional extra 'nnunet')",
    )
    folder = make_folder(tmp_path)
    export_nnunet(folder, tmp_path / "plain.onnx")
    export_nnunet(folder, tmp_path / "mirrored.onnx", mirroring=True)
    image = np.random.default_rng(6).integers(0, 256, (120, 180)).astype(np.uint8)
    for mirroring, name in ((False, "plain.onnx"), (True, "mirrored.onnx")):
        reference = predict.nnUNetPredictor(
            use_mirroring=mirroring, device=torch.device("cpu"),
            perform_everything_on_device=False, allow_tqdm=False,
        )  # fmt: skip
        reference.initialize_from_trained_model_folder(str(folder), use_folds=(0,))
        expected, _ = reference.predict_single_npy_array(
            image[None, None].astype(np.float32), {"spacing": [999, 1, 1]}, None, None, True
        )
        got = load_model(tmp_path / name).predict(image).mask
        assert (got == expected[0]).mean() >= 0.999, name


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a hostile checkpoint does when unpickled
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_carrying_code_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    folder = make_folder(tmp_path, hook=_Payload(marker))
    with pytest.raises(
        NnunetFolderError, match=r"refused, the pickle names \['(posix|nt)\.system'\]"
    ):
        read_model_folder(folder)
    assert not marker.exists(), "the payload must not have run"


def test_plans_naming_other_classes_are_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    plan = json.loads((folder / "plans.json").read_text())
    architecture = plan["configurations"]["2d"]["architecture"]
    architecture["arch_kwargs"]["nonlin"] = "os.system"
    (folder / "plans.json").write_text(json.dumps(plan))
    with pytest.raises(NnunetFolderError, match=r"nonlin: 'os\.system' is not a torch\.nn module"):
        read_model_folder(folder)
    architecture["arch_kwargs"]["nonlin"] = "torch.nn.LeakyReLU"
    architecture["network_class_name"] = "builtins.eval"
    (folder / "plans.json").write_text(json.dumps(plan))
    with pytest.raises(
        NnunetFolderError, match=r"network_class_name 'builtins\.eval' not supported"
    ):
        read_model_folder(folder)


def test_broken_folders_name_the_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    checkpoint = folder / "fold_0" / "checkpoint_final.pth"
    checkpoint.write_bytes(checkpoint.read_bytes()[:3000])
    with pytest.raises(NnunetFolderError, match=r"checkpoint_final\.pth: not a readable"):
        read_model_folder(folder)
    with pytest.raises(NnunetFolderError, match=r"fold_1.checkpoint_final\.pth: no such"):
        read_model_folder(folder, fold=1)
    (folder / "dataset.json").unlink()
    with pytest.raises(NnunetFolderError, match=r"dataset\.json: missing"):
        read_model_folder(folder)
    with pytest.raises(ValueError, match="nnU-Net training folder; export it first"):
        load_model(folder)


def test_inherited_configuration_and_3d_refusal(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    plan = json.loads((folder / "plans.json").read_text())
    plan["configurations"]["2d"]["patch_size"] = [16, 64, 96]
    (folder / "plans.json").write_text(json.dumps(plan))
    with pytest.raises(NnunetFolderError, match="only 2-D configurations"):
        read_model_folder(folder)
