"""The segmentation classes (``ml/classes.yaml``): names, indices and colours."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CLASSES_YAML = Path(__file__).with_name("classes.yaml")


class SegmentationClass(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0, le=255)
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    colour: tuple[int, int, int]

    @model_validator(mode="after")
    def _colour_in_range(self) -> SegmentationClass:
        if any(not 0 <= c <= 255 for c in self.colour):
            raise ValueError(
                f"colour of {self.name!r} must be 0..255 per channel, got {self.colour}"
            )
        return self


class ClassTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: tuple[SegmentationClass, ...]

    @model_validator(mode="after")
    def _consecutive(self) -> ClassTable:
        indices = [c.index for c in self.classes]
        if indices != list(range(len(indices))):
            raise ValueError(
                f"classes: indices must be 0..{len(indices) - 1} in order, got {indices}"
            )
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names):
            raise ValueError(f"classes: names must be unique, got {names}")
        if names and names[0] != "background":
            raise ValueError(f"classes: index 0 must be 'background', got {names[0]!r}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def index(self, name: str) -> int:
        for c in self.classes:
            if c.name == name:
                return c.index
        raise KeyError(f"unknown class {name!r}; known: {', '.join(self.names)}")


def read_class_table(path: Path | str) -> ClassTable:
    """Read and check a classes YAML; errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return ClassTable.model_validate(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


@cache
def class_table() -> ClassTable:
    """The project's class table (``ml/classes.yaml``)."""
    return read_class_table(CLASSES_YAML)


BACKGROUND, LAMELLA, MANIPULATOR, LANDING_POST, COPPER_ADAPTOR, VOLUME_BLOCK = range(6)
