"""The segmentation model registry: architecture names → smp classes, and one factory.

Models always take one channel (a greyscale SEM/FIB image) and are always built
without pretrained weights: nothing is downloaded, ever. Trained weights come from our
own checkpoints (``checkpoint.py``).
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

#: architecture name (as written in a config's ``model_type``) → smp class
ARCHITECTURES: dict[str, type[nn.Module]] = {
    "unet": smp.Unet,
    "unetplusplus": smp.UnetPlusPlus,
    "fpn": smp.FPN,
    "linknet": smp.Linknet,
    "deeplabv3plus": smp.DeepLabV3Plus,
}

#: smp encoders reduce the input by 2**5: heights and widths must be multiples of this
SIZE_MULTIPLE = 32


class ModelSpec(BaseModel):
    """What is needed to rebuild a model before loading its weights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_type: str = "unet"
    encoder: str = "resnet34"
    num_classes: int = Field(ge=2)
    in_channels: int = 1
    decoder_channels: tuple[int, ...] | None = None
    """U-Net family decoder widths, deepest first (None: smp's default); small decoders
    make fast models."""

    @field_validator("model_type")
    @classmethod
    def _known_architecture(cls, value: str) -> str:
        name = value.lower()
        if name not in ARCHITECTURES:
            raise ValueError(f"unknown model_type {value!r}; known: {sorted(ARCHITECTURES)}")
        return name


def build_model(spec: ModelSpec) -> nn.Module:
    """An untrained model for ``spec``; ``encoder_weights=None`` so nothing is downloaded."""
    model_class = ARCHITECTURES[spec.model_type]
    extra = {} if spec.decoder_channels is None else {"decoder_channels": spec.decoder_channels}
    try:
        return model_class(
            encoder_name=spec.encoder,
            encoder_weights=None,
            in_channels=spec.in_channels,
            classes=spec.num_classes,
            **extra,
        )
    except TypeError as error:
        raise ValueError(
            f"decoder_channels {spec.decoder_channels} not accepted by {spec.model_type}: {error}"
        ) from error
    except (KeyError, ValueError, RuntimeError) as error:
        raise ValueError(f"cannot build encoder {spec.encoder!r}: {error}") from error
