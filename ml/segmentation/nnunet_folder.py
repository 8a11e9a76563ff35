"""Read an nnU-Net v2 trained-model folder without nnunetv2 and without running its pickles.

A folder (``<Trainer>__<Plans>__<configuration>``) holds ``plans.json``,
``dataset.json`` and ``fold_<N>/checkpoint_final.pth``. The checkpoint is a pickle; it
is read with ``torch.load(weights_only=True)``. nnU-Net stores its training log as numpy
scalars, which the weights-only loader refuses by default; those (numpy scalar and dtype
reconstruction, which cannot run code) are the only extra names allowed. A checkpoint
that names anything else is refused and the names are listed.

The network is rebuilt with ``dynamic_network_architectures`` (the package nnU-Net
builds its networks with; light, no nnunetv2 needed) from a fixed list of classes —
``plans.json`` names classes, and they are never imported by an arbitrary name.
"""

from __future__ import annotations

import copy
import importlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

CHECKPOINT_NAME = "checkpoint_final.pth"

#: network classes plans.json may name → (module, class) we import ourselves
ARCHITECTURES = {
    "dynamic_network_architectures.architectures.unet.PlainConvUNet": (
        "dynamic_network_architectures.architectures.unet", "PlainConvUNet"),
    "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet": (
        "dynamic_network_architectures.architectures.unet", "ResidualEncoderUNet"),
}  # fmt: skip

#: normalisation schemes the nnU-Net predictor reproduces (nnU-Net's class names)
NORMALIZATIONS = (
    "ZScoreNormalization", "CTNormalization", "NoNormalization",
    "RescaleTo01Normalization", "RGBTo01Normalization",
)  # fmt: skip

#: what numpy scalars in nnU-Net's training log need: reconstruction only, no code
_NUMPY_SAFE = (
    {
        f"{module}.{name}": obj
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name, obj in (("scalar", np._core.multiarray.scalar),)  # type: ignore[attr-defined]
    }
    | {"numpy.dtype": np.dtype}
    | {
        f"numpy.dtypes.{cls.__name__}": cls
        for cls in (
            type(np.dtype(t)) for t in ("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u1", "?")
        )
    }
)


class NnunetFolderError(ValueError):
    """An nnU-Net folder that cannot be exported; the message names the file and key."""


@dataclass
class NnunetModel:
    network: nn.Module
    configuration_name: str
    configuration: dict[str, Any]
    plans: dict[str, Any]
    dataset: dict[str, Any]
    labels: dict[str, int]
    checkpoint: Path
    trainer: str
    mirror_axes: tuple[int, ...]
    """Axes nnU-Net allows test-time mirroring along (image axes, 0 = rows)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise NnunetFolderError(f"{path}: missing (an nnU-Net model folder has it)") from error
    except (OSError, ValueError) as error:
        raise NnunetFolderError(f"{path}: not readable JSON: {error}") from error
    if not isinstance(data, dict):
        raise NnunetFolderError(f"{path}: expected a JSON object")
    return data


def load_nnunet_checkpoint(path: str | Path) -> dict[str, Any]:
    """nnU-Net's checkpoint dict, read weights-only; refuses any code-carrying global."""
    path = Path(path)
    if not path.is_file():
        raise NnunetFolderError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # below: which globals does it need?
    except Exception as error:
        raise NnunetFolderError(
            f"{path}: not a readable torch checkpoint (corrupt or truncated): "
            f"{type(error).__name__}: {str(error)[:200]}"
        ) from error
    try:
        needed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as error:
        raise NnunetFolderError(f"{path}: not a readable torch checkpoint: {error}") from error
    refused = sorted(set(needed) - set(_NUMPY_SAFE))
    if refused:
        raise NnunetFolderError(
            f"{path}: refused, the pickle names {refused}, which could run code; load it in "
            "a trusted environment and re-save only its 'network_weights' (plus "
            "'init_args': {'configuration': ...}) with torch.save"
        )
    # a dtype's class (Float64DType...) is reached through numpy.dtype, not named: allow all
    with torch.serialization.safe_globals(list({id(o): o for o in _NUMPY_SAFE.values()}.values())):
        return torch.load(path, map_location="cpu", weights_only=True)


def resolve_configuration(plans: dict[str, Any], name: str, source: Path) -> dict[str, Any]:
    """A configuration of plans.json with ``inherits_from`` applied."""
    configurations = plans.get("configurations") or {}
    seen: list[str] = []
    chain: list[dict[str, Any]] = []
    while name is not None:
        if name in seen:
            raise NnunetFolderError(f"{source}: configurations inherit in a circle: {seen}")
        if name not in configurations:
            raise NnunetFolderError(
                f"{source}: configurations: no {name!r}; known: {sorted(configurations)}"
            )
        seen.append(name)
        chain.append(configurations[name])
        name = configurations[name].get("inherits_from")
    merged: dict[str, Any] = {}
    for configuration in reversed(chain):
        merged.update(copy.deepcopy(configuration))
    return merged


def _torch_op(name: str | None, key: str, source: Path) -> type[nn.Module] | None:
    if name is None:
        return None
    op = getattr(nn, str(name).rsplit(".", 1)[-1], None)
    if not str(name).startswith("torch.nn.") or not (
        isinstance(op, type) and issubclass(op, nn.Module)
    ):
        raise NnunetFolderError(
            f"{source}: architecture.arch_kwargs.{key}: {name!r} is not a torch.nn module"
        )
    return op


def build_network(
    configuration: dict[str, Any], in_channels: int, num_classes: int, source: Path
) -> nn.Module:
    architecture = configuration.get("architecture")
    if not isinstance(architecture, dict):
        raise NnunetFolderError(f"{source}: configuration has no 'architecture' (nnU-Net v2.4+)")
    class_name = architecture.get("network_class_name")
    if class_name not in ARCHITECTURES:
        raise NnunetFolderError(
            f"{source}: architecture.network_class_name {class_name!r} not supported; "
            f"supported: {sorted(ARCHITECTURES)}"
        )
    try:
        module = importlib.import_module(ARCHITECTURES[class_name][0])
    except ImportError as error:
        raise NnunetFolderError(
            "rebuilding an nnU-Net network needs dynamic-network-architectures "
            "(pip install -e '.[nnunet]')"
        ) from error
    kwargs = dict(architecture.get("arch_kwargs") or {})
    for key in architecture.get("_kw_requires_import") or ():
        kwargs[key] = _torch_op(kwargs.get(key), key, source)
    kwargs["deep_supervision"] = False
    try:
        network = getattr(module, ARCHITECTURES[class_name][1])(
            input_channels=in_channels, num_classes=num_classes, **kwargs
        )
    except (TypeError, ValueError, AssertionError) as error:
        raise NnunetFolderError(f"{source}: architecture.arch_kwargs: {error}") from error
    return network


def read_model_folder(
    folder: str | Path, fold: int | str = 0, checkpoint_name: str = CHECKPOINT_NAME
) -> NnunetModel:
    """The trained network (eval mode) and what inference needs, from an nnU-Net folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NnunetFolderError(f"{folder}: no such nnU-Net model folder")
    plans = _read_json(folder / "plans.json")
    dataset = _read_json(folder / "dataset.json")
    checkpoint_path = folder / f"fold_{fold}" / checkpoint_name
    checkpoint = load_nnunet_checkpoint(checkpoint_path)
    if not isinstance(checkpoint, dict) or "network_weights" not in checkpoint:
        raise NnunetFolderError(f"{checkpoint_path}: no 'network_weights' in the checkpoint")
    init_args = checkpoint.get("init_args") or {}
    name = init_args.get("configuration") or folder.name.rsplit("__", 1)[-1]
    configuration = resolve_configuration(plans, name, folder / "plans.json")
    patch_size = configuration.get("patch_size") or []
    if len(patch_size) != 2:
        raise NnunetFolderError(
            f"{folder / 'plans.json'}: configuration {name!r} has patch_size {patch_size}; "
            "only 2-D configurations are supported"
        )
    labels = dataset.get("labels") or {}
    if any(not isinstance(v, int) for v in labels.values()):
        raise NnunetFolderError(
            f"{folder / 'dataset.json'}: labels: region-based training is not supported"
        )
    channels = dataset.get("channel_names") or {}
    if len(channels) != 1:
        raise NnunetFolderError(
            f"{folder / 'dataset.json'}: channel_names: one channel supported, got {channels}"
        )
    for scheme in configuration.get("normalization_schemes") or []:
        if scheme not in NORMALIZATIONS:
            raise NnunetFolderError(
                f"{folder / 'plans.json'}: normalization {scheme!r} not "
                f"supported; supported: {NORMALIZATIONS}"
            )
    if any(configuration.get("use_mask_for_norm") or []):
        raise NnunetFolderError(
            f"{folder / 'plans.json'}: use_mask_for_norm (normalising inside a nonzero "
            "mask) is not supported"
        )
    network = build_network(configuration, 1, len(labels), folder / "plans.json")
    try:
        network.load_state_dict(checkpoint["network_weights"])
    except RuntimeError as error:
        raise NnunetFolderError(
            f"{checkpoint_path}: weights do not fit the plans' network: {str(error)[:300]}"
        ) from error
    return NnunetModel(
        network=network.eval(),
        configuration_name=name,
        configuration=configuration,
        plans=plans,
        dataset=dataset,
        labels={str(k): int(v) for k, v in labels.items()},
        checkpoint=checkpoint_path,
        trainer=str(checkpoint.get("trainer_name", "")),
        mirror_axes=tuple(int(a) for a in checkpoint.get("inference_allowed_mirroring_axes") or ()),
    )
