"""The segmentation model registry: architecture names → smp classes, and one factory.

Models always take one channel (a greyscale SEM/FIB image) and are always built
without pretrained weights: nothing is downloaded, ever. Trained weights come from our
own checkpoints (``checkpoint.py``).
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import nn

#: architecture name (as written in a config's ``model_type``) → smp class
ARCHITECTURES: dict[str, type[nn.Module]] = {
    "unet": smp.Unet,
    "unetplusplus": smp.UnetPlusPlus,
    "fpn": smp.FPN,
    "linknet": smp.Linknet,
    "deeplabv3plus": smp.DeepLabV3Plus,
}

#: architectures whose decoder widths a config may set, and how many stages they have
DECODER_CHANNELS_ARCHITECTURES = frozenset({"unet", "unetplusplus"})
DECODER_STAGES = 5

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

    @model_validator(mode="after")
    def _decoder_fits(self) -> ModelSpec:
        widths = self.decoder_channels
        if widths is None:
            return self
        if self.model_type not in DECODER_CHANNELS_ARCHITECTURES:
            raise ValueError(
                f"decoder_channels is for {sorted(DECODER_CHANNELS_ARCHITECTURES)}, "
                f"not {self.model_type!r}"
            )
        if len(widths) != DECODER_STAGES or min(widths) < 1:
            raise ValueError(
                f"decoder_channels {list(widths)}: give {DECODER_STAGES} positive widths, "
                "one per decoder stage, deepest first"
            )
        return self


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
    except (TypeError, KeyError, ValueError, RuntimeError) as error:
        what = f"encoder {spec.encoder!r}"
        if spec.decoder_channels is not None:
            what += f" with decoder_channels {list(spec.decoder_channels)}"
        raise ValueError(f"cannot build {spec.model_type} {what}: {error}") from error
