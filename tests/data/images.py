"""Photographs bundled with scikit-image, cut into random square crops (scale 20-100% of the short
side, random position, random horizontal flip) and resized with Pillow's bilinear filter (which
anti-aliases when it shrinks); uint8 RGB HWC.
Calibration and evaluation crops come from different photographs. The MTCNN sets mix in the
faces and non-faces of `skimage.data.lfw_subset()` (25x25 grey, 100 + 100), split between
calibration and evaluation by image."""

from __future__ import annotations

import numpy as np

# Different photographs for each split (grey ones are repeated into three channels). Both splits
# hold one photograph of a person (camera: the cameraman; astronaut).
PHOTOS = {
    "calib": ("camera", "coffee", "rocket", "grass", "brick", "hubble_deep_field"),
    "eval": ("astronaut", "chelsea", "motorcycle_left", "coins", "gravel", "moon", "retina"),
}


def _photo(name: str) -> np.ndarray:
    import skimage.data

    image = np.asarray(skimage.data.stereo_motorcycle()[0] if name == "motorcycle_left"
                       else getattr(skimage.data, name)())
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    if image.dtype != np.uint8:   # e.g. boolean or float images: to 0..255
        image = np.round(255 * (image.astype(np.float64) / max(float(image.max()), 1e-9))).astype(np.uint8)
    return image


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Pillow's bilinear resize (its filter widens when it shrinks, so it anti-aliases)."""
    from PIL import Image

    resized = Image.fromarray(np.ascontiguousarray(image)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, np.uint8)


def _crop(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    side = max(size, int(round(min(h, w) * rng.uniform(0.2, 1.0))))
    side = min(side, h, w)
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = image[y:y + side, x:x + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return _resize(crop, size)


def crops(size: int, counts: dict[str, int], seed: int = 14) -> dict[str, np.ndarray]:
    """{"calib", "eval"}: uint8 [N, size, size, 3] crops, the photographs of each split in turn."""
    out = {}
    for k, split in enumerate(("calib", "eval")):
        rng = np.random.default_rng([seed, size, k])
        photos = [_photo(name) for name in PHOTOS[split]]
        out[split] = np.stack([_crop(rng, photos[i % len(photos)], size) for i in range(counts[split])])
    return out


def lfw(size: int, split: str) -> tuple[np.ndarray, np.ndarray]:
    """LFW subset faces (label 1) and non-faces (0) of one split, uint8 [N, size, size, 3]:
    calibration takes images 0-49 of each half, evaluation 50-99."""
    import skimage.data

    images = skimage.data.lfw_subset()   # [200, 25, 25] float in [0, 1]: 100 faces, 100 non-faces
    picks = list(range(0, 50)) + list(range(100, 150)) if split == "calib" else \
        list(range(50, 100)) + list(range(150, 200))
    out = []
    for i in picks:
        grey = np.round(images[i] * 255).astype(np.uint8)
        out.append(_resize(np.repeat(grey[:, :, None], 3, axis=2), size))
    return np.stack(out), np.array([1 if i < 100 else 0 for i in picks])
