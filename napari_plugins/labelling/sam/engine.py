"""SAM for labelling: embed an image once (disk-cached), then prompts -> masks fast.

``embed`` runs the image encoder (the slow part) and is safe to call from a background
thread; ``predict`` runs only the prompt encoder and mask decoder on a cached embedding.
The decoder works on the embedding's own grid, which need not be square (the TinyViT
encoder is not padded to a square): position encodings and the "no mask" embedding are
SAM's full-grid ones cropped to that grid, which keeps prompt coordinates consistent.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from napari_plugins.labelling.sam.build import load_sam, model_id
from napari_plugins.labelling.sam.cache import EmbeddingCache, ImageEmbedding, image_sha256
from napari_plugins.labelling.sam.config import SamConfig, VitEncoderSpec
from napari_plugins.labelling.sam.prompts import SamPrompts
from napari_plugins.labelling.sam.transforms import (
    encoder_input,
    logits_to_image,
    mask_to_prompt_logits,
    to_input_coords,
)


@dataclass(frozen=True)
class SamMasks:
    """The decoder's K candidates (3 with multimask, else 1), brought to image size on
    demand: the user looks at one at a time, and each costs a full-size resampling."""

    low_res_logits: torch.Tensor
    """(K, 4gh, 4gw) mask logits on the encoder's grid."""
    scores: np.ndarray
    """(K,) the decoder's predicted IoU of each candidate."""
    input_hw: tuple[int, int]
    original_hw: tuple[int, int]
    threads: int = 1

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def best(self) -> int:
        return int(np.argmax(self.scores))

    def mask(self, candidate: int) -> np.ndarray:
        """(H, W) bool mask of one candidate."""
        if not 0 <= candidate < len(self):
            raise IndexError(f"candidate must be 0..{len(self) - 1}, got {candidate}")
        with torch_threads(self.threads):
            logits = logits_to_image(
                self.low_res_logits[candidate : candidate + 1], self.input_hw, self.original_hw
            )
            return (logits[0] > 0).numpy()


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def native_bfloat16() -> bool:
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


class SamEngine:
    def __init__(self, config: SamConfig, config_source: str = "the SAM config") -> None:
        self.config = config
        self.model, self.weights_sha256 = load_sam(config, config_source)
        self.model_id = model_id(config, self.weights_sha256)
        self.cache = EmbeddingCache(config.cache_dir)
        self._square = isinstance(config.encoder_spec, VitEncoderSpec)
        self._bfloat16 = native_bfloat16() if config.bfloat16 is None else config.bfloat16
        if not self._square:  # convolutional body: oneDNN is faster on NHWC
            self.model.image_encoder.to(memory_format=torch.channels_last)
        # the decoder as a bfloat16 copy: autocast would re-cast its weights and the
        # image embedding on every prompt (a third of the decoder's time)
        self._decoder_dtype = torch.bfloat16 if self._bfloat16 else torch.float32
        self._decoder = copy.deepcopy(self.model.mask_decoder).to(self._decoder_dtype).eval()
        self._encoder_lock = threading.Lock()
        with torch.inference_mode():
            self._dense_pe = self.model.prompt_encoder.get_dense_pe().to(self._decoder_dtype)
        self.encodings = 0
        """How many images the encoder ran on (cache hits excluded)."""

    @property
    def backend(self) -> str:
        return self.config.backend

    def cached(self, image: np.ndarray) -> ImageEmbedding | None:
        return self.cache.load(image_sha256(image), self.model_id)

    def embed(self, image: np.ndarray) -> ImageEmbedding:
        """The image's embedding, from the disk cache or computed once and stored there."""
        digest = image_sha256(image)
        found = self.cache.load(digest, self.model_id)
        if found is not None:
            return found
        tensor, input_hw = encoder_input(image, self.config.image_size_px, self._square, 32)
        with self._encoder_lock:
            found = self.cache.load(digest, self.model_id)  # another thread may have done it
            if found is not None:
                return found
            with (
                torch_threads(self.config.threads),
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bfloat16),
            ):
                encoded = self.model.image_encoder(
                    tensor.contiguous(memory_format=torch.channels_last)
                )
            features = np.ascontiguousarray(encoded.float().numpy(), dtype=np.float32)
            self.encodings += 1
            embedding = ImageEmbedding(
                features,
                input_hw,
                (int(image.shape[0]), int(image.shape[1])),
                digest,
                self.model_id,
            )
            self.cache.save(embedding)
        return embedding

    def predict(
        self,
        embedding: ImageEmbedding,
        prompts: SamPrompts,
        mask_prompt: np.ndarray | None = None,
        multimask: bool = True,
        previous_logits: torch.Tensor | None = None,
    ) -> SamMasks:
        """Masks for the prompts; ``mask_prompt`` is an image-size binary mask (e.g. a
        model's prediction of one class), named in ``prompts.mask_source``."""
        if embedding.model_id != self.model_id:
            raise ValueError(
                f"embedding made by {embedding.model_id}, this engine is {self.model_id}"
            )
        height, width = embedding.original_hw
        prompts.check_inside(height, width)
        if (mask_prompt is None) != (prompts.mask_source is None):
            raise ValueError("give a mask prompt together with its mask_source, or neither")
        if prompts.refines_previous != (previous_logits is not None):
            raise ValueError("give previous_logits exactly when prompts.refines_previous")
        if previous_logits is not None and mask_prompt is not None:
            raise ValueError("one mask input at a time: a mask prompt or the previous mask")
        grid_hw = embedding.features.shape[-2:]
        if previous_logits is not None and previous_logits.shape != (
            grid_hw[0] * 4,
            grid_hw[1] * 4,
        ):
            raise ValueError(
                f"previous logits of shape {tuple(previous_logits.shape)}, expected "
                f"{(grid_hw[0] * 4, grid_hw[1] * 4)} for this embedding"
            )
        if mask_prompt is not None and mask_prompt.shape != embedding.original_hw:
            raise ValueError(
                f"mask prompt of shape {mask_prompt.shape}, image is {embedding.original_hw}"
            )
        if prompts.empty:
            raise ValueError("no prompt: add a point, a box or a mask prompt")
        points = boxes = masks = None
        if prompts.points:
            xy = np.array([[p.x_px, p.y_px] for p in prompts.points])
            coords = to_input_coords(xy, embedding.original_hw, embedding.input_hw)
            labels = np.array([1 if p.positive else 0 for p in prompts.points])
            points = (
                torch.as_tensor(coords, dtype=torch.float32)[None],
                torch.as_tensor(labels, dtype=torch.int64)[None],
            )
        if prompts.box is not None:
            b = prompts.box
            corners = to_input_coords(
                np.array([[b.x0_px, b.y0_px], [b.x1_px, b.y1_px]]),
                embedding.original_hw,
                embedding.input_hw,
            )
            boxes = torch.as_tensor(corners.reshape(1, 4), dtype=torch.float32)
        if mask_prompt is not None:
            masks = mask_to_prompt_logits(mask_prompt, embedding.input_hw, grid_hw)
        elif previous_logits is not None:  # SAM's iterative refinement
            masks = previous_logits.float()[None, None]
        dtype = self._decoder_dtype
        with torch_threads(self.config.threads), torch.inference_mode():
            sparse, dense = self.model.prompt_encoder(points=points, boxes=boxes, masks=masks)
            dense = dense[..., : grid_hw[0], : grid_hw[1]]
            low_res, scores = self._decoder(
                image_embeddings=torch.from_numpy(embedding.features).to(dtype),
                image_pe=self._dense_pe[..., : grid_hw[0], : grid_hw[1]],
                sparse_prompt_embeddings=sparse.to(dtype),
                dense_prompt_embeddings=dense.to(dtype),
                multimask_output=multimask,
            )
        return SamMasks(
            low_res[0].float(),
            scores[0].float().numpy(),
            embedding.input_hw,
            embedding.original_hw,
            self.config.threads,
        )
