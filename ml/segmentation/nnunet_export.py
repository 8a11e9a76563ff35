"""Export an nnU-Net v2 trained-model folder to an ONNX file that ``load_model`` reads.

    python -m ml.segmentation.nnunet_export --model_folder \\
        nnUNet_results/Dataset501_Lamella/nnUNetTrainer__nnUNetPlans__2d --fold 0 \\
        --output lamella_nnunet.onnx

The network (2-D configurations only) is rebuilt from plans.json, its weights read
weights-only from ``fold_N/checkpoint_final.pth``, exported with dynamic height and width
and checked against torch (same argmax on ≥ 99.9 % of pixels). What inference needs
besides the weights — normalisation scheme and intensity statistics, the axis transpose,
the size the image must be a multiple of, the labels — goes into the ONNX file's
metadata under ``METADATA_KEY``; that key is how ``load_model`` knows the file is an
nnU-Net model. nnunetv2 itself is not needed; dynamic-network-architectures is.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.segmentation.export import MIN_AGREEMENT, export_verified
from ml.segmentation.nnunet_folder import CHECKPOINT_NAME, NnunetModel, read_model_folder

METADATA_KEY = "fibsem_ophyd.nnunet"
FORMAT = "fibsem-ophyd-nnunet"
VERSION = 1


def size_multiple(configuration: dict[str, Any]) -> tuple[int, int]:
    """Per axis, the product of the network's pooling strides: inputs must be multiples."""
    strides = configuration["architecture"]["arch_kwargs"]["strides"]
    per_axis = [[s] * 2 if isinstance(s, int) else list(s) for s in strides]
    return (math.prod(s[0] for s in per_axis), math.prod(s[1] for s in per_axis))


def inference_metadata(
    model: NnunetModel, fold: int | str, mirroring: bool = False
) -> dict[str, Any]:
    configuration = model.configuration
    channel = next(iter(model.dataset["channel_names"]))
    intensities = (model.plans.get("foreground_intensity_properties_per_channel") or {}).get(
        str(channel), {}
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "labels": model.labels,
        "normalization": configuration["normalization_schemes"][0],
        "intensity_properties": intensities,
        "transpose_forward": list(model.plans.get("transpose_forward", [0, 1, 2])),
        "patch_size": list(configuration["patch_size"]),
        # test-time mirroring as nnUNetv2_predict does it (costs 2**len forward passes)
        "mirror_axes": list(model.mirror_axes) if mirroring else [],
        "size_multiple": list(size_multiple(configuration)),
        "spacing": list(configuration.get("spacing") or []),
        "configuration": model.configuration_name,
        "trainer": model.trainer,
        "fold": str(fold),
        "dataset_name": str(model.plans.get("dataset_name", "")),
    }


def export_nnunet(
    model_folder: str | Path,
    output: str | Path,
    fold: int | str = 0,
    checkpoint_name: str = CHECKPOINT_NAME,
    min_agreement: float = MIN_AGREEMENT,
    mirroring: bool = False,
) -> float:
    """Write the ONNX model with its preprocessing metadata; returns the worst agreement.
    ``mirroring`` makes ``load_model`` average over the flips nnU-Net allows."""
    model = read_model_folder(model_folder, fold, checkpoint_name)
    metadata = inference_metadata(model, fold, mirroring)
    multiple = tuple(metadata["size_multiple"])
    size = tuple(
        max(m, -(-p // m) * m) for p, m in zip(metadata["patch_size"], multiple, strict=True)
    )
    return export_verified(
        model.network, output, size, multiple, min_agreement=min_agreement,  # type: ignore[arg-type]
        metadata={METADATA_KEY: json.dumps(metadata)},
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_folder", required=True, type=Path,
                        help="<Trainer>__<Plans>__<configuration> with plans.json")  # fmt: skip
    parser.add_argument("--fold", default="0", help="fold_N folder to read (or 'all')")
    parser.add_argument("--checkpoint_name", default=CHECKPOINT_NAME)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument(
        "--mirroring", action="store_true", help="test-time mirroring, as nnUNetv2_predict"
    )
    args = parser.parse_args(argv)
    agreement = export_nnunet(
        args.model_folder, args.output, args.fold, args.checkpoint_name, mirroring=args.mirroring
    )
    print(f"wrote {args.output} (argmax agreement with torch: {agreement:.4%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
