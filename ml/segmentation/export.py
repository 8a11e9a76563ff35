"""Export a segmentation checkpoint to ONNX (dynamic height and width), verified.

    python -m ml.segmentation.export --checkpoint best.pt --output model.onnx

After export the ONNX model is run beside the torch model on test images; export
fails unless both give the same class on at least ``min_agreement`` of the pixels.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ml.segmentation.checkpoint import load_checkpoint
from ml.segmentation.models import SIZE_MULTIPLE

MIN_AGREEMENT = 0.999


class ExportMismatch(RuntimeError):
    """The exported ONNX model does not reproduce the torch model."""


def export_onnx(
    checkpoint_path: str | Path,
    output: str | Path,
    min_agreement: float = MIN_AGREEMENT,
    seed: int = 0,
) -> float:
    """Write the ONNX model and return the worst argmax agreement measured."""
    checkpoint = load_checkpoint(checkpoint_path)
    height, width = (
        max(SIZE_MULTIPLE, -(-s // SIZE_MULTIPLE) * SIZE_MULTIPLE) for s in checkpoint.input_size
    )
    return export_verified(
        checkpoint.build(), output, (height, width), (SIZE_MULTIPLE, SIZE_MULTIPLE),
        min_agreement=min_agreement, seed=seed,
    )  # fmt: skip


def export_verified(
    model: torch.nn.Module,
    output: str | Path,
    size_hw: tuple[int, int],
    multiple_hw: tuple[int, int],
    min_agreement: float = MIN_AGREEMENT,
    seed: int = 0,
    metadata: dict[str, str] | None = None,
) -> float:
    """Export a one-channel model with dynamic height/width, store ``metadata`` in the
    ONNX file's metadata_props, and check onnxruntime against torch at ``size_hw`` and a
    larger size (both multiples of ``multiple_hw``). Returns the worst agreement."""
    import onnx
    import onnxruntime

    height, width = size_hw
    sample = torch.rand(1, 1, height, width, generator=torch.Generator().manual_seed(seed))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated but handles dynamic H/W of smp models
        # without the shape guards torch.export adds; its output is checked below
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (sample,),
            str(output),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={
                "image": {0: "batch", 2: "height", 3: "width"},
                "logits": {0: "batch", 2: "height", 3: "width"},
            },
            opset_version=17,
            dynamo=False,
        )
    if metadata:
        proto = onnx.load_model(str(output))
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save_model(proto, str(output))
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    # the export size and a different size: the dynamic axes must really be dynamic
    sizes = [(height, width), (height + multiple_hw[0], width * 2)]
    worst = 1.0
    for h, w in sizes:
        image = rng.random((1, 1, h, w), dtype=np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(image)).numpy().argmax(1)
        got = session.run(None, {"image": image})[0].argmax(1)
        worst = min(worst, float((got == expected).mean()))
    if worst < min_agreement:
        output.unlink(missing_ok=True)
        raise ExportMismatch(
            f"ONNX and torch agree on {worst:.4%} of pixels, below {min_agreement:.2%}"
        )
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args(argv)
    agreement = export_onnx(args.checkpoint, args.output)
    print(f"wrote {args.output} (argmax agreement with torch: {agreement:.4%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
