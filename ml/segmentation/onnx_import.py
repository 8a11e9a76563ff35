"""A trainable checkpoint from an exported ONNX model, to fine-tune a model that ships
only as ONNX (the shipped model; the data engine's corrected frames are its new data).

``torch.onnx.export`` in eval mode folds every BatchNorm into the convolution before it:
the file holds one weight and bias per convolution and no BatchNorm. The weights are put
back by order: the ONNX graph lists its convolutions in the order the traced model ran
them, which is the order the rebuilt model (same ``ModelSpec``) calls its ``Conv2d``
modules. Each must agree in shape; a folded convolution's bias goes to its BatchNorm,
whose scale becomes 1 and whose running statistics become the identity (mean 0, variance
1 - eps). The result computes what the ONNX file computes — checked on a random input
before it is returned — so long as its BatchNorms stay in eval mode: train it with
``freeze_batchnorm: true`` (config.py), or batch statistics replace the folded ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ml.segmentation.checkpoint import Checkpoint, CheckpointError, save_checkpoint
from ml.segmentation.models import SIZE_MULTIPLE, ModelSpec, build_model

MAX_LOGIT_DIFFERENCE = 1e-3


def _call_order(model: nn.Module, size_hw: tuple[int, int]) -> list[nn.Module]:
    """The leaf modules and BatchNorms in the order a forward pass starts them (timm's
    BatchNorms hold their activation as a child, which runs after the normalisation)."""
    order: list[nn.Module] = []
    hooks = [
        m.register_forward_pre_hook(lambda module, _i: order.append(module))
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d) or not list(m.children())
    ]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 1, *size_hw))
    finally:
        for hook in hooks:
            hook.remove()
    return order


def _onnx_convolutions(path: Path) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight, bias or None) of each Conv node, in graph order."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load_model(str(path)).graph
    except Exception as error:  # onnx raises DecodeError and others for damaged files
        raise CheckpointError(f"{path}: not a readable ONNX model: {error}") from error
    tensors = {t.name: numpy_helper.to_array(t).copy() for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in tensors:
            raise CheckpointError(f"{path}: convolution {node.name} has no stored weight")
        bias = tensors.get(node.input[2]) if len(node.input) > 2 else None
        out.append((tensors[node.input[1]], bias))
    return out


def checkpoint_from_onnx(
    path: str | Path, spec: ModelSpec, input_size: tuple[int, int]
) -> Checkpoint:
    """The weights of the ONNX model at ``path`` in the ``spec`` architecture (epoch 0, no
    optimizer state); ``input_size`` (height, width) is the size it was trained at. A
    CheckpointError when the file does not fit the architecture or computes otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such ONNX file")
    height, width = input_size
    if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE or height <= 0 or width <= 0:
        raise CheckpointError(
            f"input_size must be positive multiples of {SIZE_MULTIPLE} px, got {input_size}"
        )
    model = build_model(spec).eval()
    order = _call_order(model, (height, width))
    convs = [i for i, m in enumerate(order) if isinstance(m, nn.Conv2d)]
    stored = _onnx_convolutions(path)
    if len(stored) != len(convs):
        raise CheckpointError(
            f"{path}: {len(stored)} convolutions, the {spec.model_type}/{spec.encoder} "
            f"architecture has {len(convs)}: not this architecture"
        )
    with torch.no_grad():
        for n, (i, (weight, bias)) in enumerate(zip(convs, stored, strict=True)):
            conv = order[i]
            assert isinstance(conv, nn.Conv2d)
            if tuple(weight.shape) != tuple(conv.weight.shape):
                raise CheckpointError(
                    f"{path}: convolution {n} has weight {tuple(weight.shape)}, the "
                    f"architecture's has {tuple(conv.weight.shape)}"
                )
            conv.weight.copy_(torch.from_numpy(weight))
            after = order[i + 1] if i + 1 < len(order) else None
            # where the folded bias goes: the BatchNorm after the conv (made the identity
            # but for it), else the conv's own bias
            target = after.bias if isinstance(after, nn.BatchNorm2d) else conv.bias
            if isinstance(after, nn.BatchNorm2d):
                after.weight.fill_(1.0)
                after.running_mean.zero_()
                after.running_var.fill_(1.0 - after.eps)
                if conv.bias is not None:
                    conv.bias.zero_()
            if target is None:
                if bias is not None and np.any(bias):
                    raise CheckpointError(
                        f"{path}: convolution {n} has a bias the architecture has no place for"
                    )
            elif bias is None:
                target.zero_()
            else:
                target.copy_(torch.from_numpy(bias))
    _check_same_output(path, model, (height, width))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return Checkpoint(spec=spec, state_dict=state, input_size=(height, width))


def _check_same_output(path: Path, model: nn.Module, size_hw: tuple[int, int]) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).random((1, 1, *size_hw), dtype=np.float32)
    expected = session.run(None, {session.get_inputs()[0].name: image})[0]
    with torch.inference_mode():
        got = model(torch.from_numpy(image)).numpy()
    worst = float(np.abs(got - expected).max())
    if worst > MAX_LOGIT_DIFFERENCE:
        raise CheckpointError(
            f"{path}: the rebuilt model's logits differ from the file's by up to {worst:.3g} "
            f"(allowed {MAX_LOGIT_DIFFERENCE}): not this architecture"
        )


def main(argv: list[str] | None = None) -> int:
    from ml.segmentation.shipped import SHIPPED_DIR, shipped_info, shipped_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=SHIPPED_DIR, help="a model card's folder")
    parser.add_argument(
        "--onnx", type=Path, help="another ONNX file of the card's architecture (default: its file)"
    )
    parser.add_argument("--output", type=Path, required=True, help=".pt or .safetensors")
    args = parser.parse_args(argv)
    info = shipped_info(args.model_dir)
    arch = dict(info["architecture"])
    arch.pop("encoder_weights", None)
    spec = ModelSpec(num_classes=len(info["classes"]), **arch)
    size = tuple(int(v) for v in info["input_size_px"])
    source = args.onnx or shipped_model_path(args.model_dir)
    checkpoint = checkpoint_from_onnx(source, spec, size)
    save_checkpoint(checkpoint, args.output)
    print(f"{args.output}: {spec.model_type}/{spec.encoder}, {len(checkpoint.state_dict)} tensors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
