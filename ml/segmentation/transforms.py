"""EM-suited augmentations, applied to an image and its mask together.

Geometric transforms (rotation, flips) move image and mask alike — the mask with
nearest-neighbour so class indices stay integers. Intensity transforms (autocontrast,
equalize, gaussian blur, brightness/contrast jitter) touch the image only. Used for
training samples only, and only when the config's ``apply_transforms`` is true.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage import exposure


class EMAugment:
    """A random augmentation per call; ``seed`` makes the sequence reproducible."""

    def __init__(
        self,
        seed: int | None = None,
        max_rotation_deg: float = 15.0,
        p_flip: float = 0.5,
        p_autocontrast: float = 0.2,
        p_equalize: float = 0.1,
        p_blur: float = 0.2,
        max_blur_sigma_px: float = 1.5,
        brightness: float = 0.1,
        contrast: float = 0.2,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.max_rotation_deg = max_rotation_deg
        self.p_flip = p_flip
        self.p_autocontrast = p_autocontrast
        self.p_equalize = p_equalize
        self.p_blur = p_blur
        self.max_blur_sigma_px = max_blur_sigma_px
        self.brightness = brightness
        self.contrast = contrast

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image, mask = self._geometry(image.astype(np.float32), mask)
        return np.clip(self._intensity(image), 0.0, 1.0).astype(np.float32), mask

    def _geometry(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        if rng.random() < self.p_flip:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if rng.random() < self.p_flip:
            image, mask = image[::-1, :], mask[::-1, :]
        if image.shape[0] == image.shape[1] and rng.random() < 0.5:
            turns = int(rng.integers(1, 4))
            image, mask = np.rot90(image, turns), np.rot90(mask, turns)
        angle = float(rng.uniform(-self.max_rotation_deg, self.max_rotation_deg))
        if self.max_rotation_deg > 0 and abs(angle) > 0.5:
            image = ndimage.rotate(image, angle, reshape=False, order=1, mode="reflect")
            mask = ndimage.rotate(mask, angle, reshape=False, order=0, mode="reflect")
        return np.ascontiguousarray(image), np.ascontiguousarray(mask)

    def _intensity(self, image: np.ndarray) -> np.ndarray:
        rng = self.rng
        if rng.random() < self.p_autocontrast:
            low, high = np.percentile(image, (1, 99))
            if high > low:
                image = (image - low) / (high - low)
        if rng.random() < self.p_equalize:
            image = exposure.equalize_hist(image).astype(np.float32)
        if rng.random() < self.p_blur:
            sigma = float(rng.uniform(0.3, self.max_blur_sigma_px))
            image = ndimage.gaussian_filter(image, sigma)
        gain = 1.0 + float(rng.uniform(-self.contrast, self.contrast))
        offset = float(rng.uniform(-self.brightness, self.brightness))
        mean = float(image.mean())
        return (image - mean) * gain + mean + offset
