"""Image embeddings on disk, keyed by the image's content hash and the SAM model id.

One ``.npz`` (no pickle) per image and model: the features and the sizes needed to map
masks back to the image. A file that cannot be read is treated as absent and replaced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ImageEmbedding:
    features: np.ndarray
    """(1, 256, grid_h, grid_w) float32."""
    input_hw: tuple[int, int]
    """The resized image's size inside the padded encoder input, pixels."""
    original_hw: tuple[int, int]
    image_sha256: str
    model_id: str


def image_sha256(image: np.ndarray) -> str:
    """A hash of the pixels (dtype and shape included), independent of file name or format."""
    array = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


class EmbeddingCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, image_hash: str, model: str) -> Path:
        return self.root / model / f"{image_hash}.npz"

    def load(self, image_hash: str, model: str) -> ImageEmbedding | None:
        path = self.path(image_hash, model)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return ImageEmbedding(
                    features=data["features"],
                    input_hw=(int(data["input_hw"][0]), int(data["input_hw"][1])),
                    original_hw=(int(data["original_hw"][0]), int(data["original_hw"][1])),
                    image_sha256=image_hash,
                    model_id=model,
                )
        except (OSError, ValueError, KeyError):  # damaged or partial file: recompute
            return None

    def save(self, embedding: ImageEmbedding) -> Path:
        path = self.path(embedding.image_sha256, embedding.model_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.partial.npz")
        np.savez(
            tmp,
            features=embedding.features,
            input_hw=np.array(embedding.input_hw),
            original_hw=np.array(embedding.original_hw),
        )
        tmp.replace(path)
        return path
