"""Handwritten digits from scikit-learn's `load_digits` (8x8, 0..16), made to look like MNIST:
upsampled to 20x20 (bilinear), scaled to 0..255 and placed in a 28x28 frame with its centre of
mass at the centre, as MNIST's digits are. Exact duplicates are dropped before the split, so no
image is in both sets."""

from __future__ import annotations

import numpy as np


def _mnist_like(digit8: np.ndarray) -> np.ndarray:
    from scipy.ndimage import center_of_mass, shift
    from skimage.transform import resize

    big = resize(digit8 / 16.0, (20, 20), order=1, anti_aliasing=False) * 255.0
    frame = np.zeros((28, 28))
    frame[4:24, 4:24] = big
    cy, cx = center_of_mass(frame)
    frame = shift(frame, (round(13.5 - cy), round(13.5 - cx)), order=0, mode="constant")
    return np.clip(np.round(frame), 0, 255)


def digits(counts: dict[str, int], seed: int = 14) -> dict[str, np.ndarray]:
    """{"calib", "calib_labels", "eval", "eval_labels"}: float 0..255 [N, 28, 28] and digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    _, first = np.unique(data.data, axis=0, return_index=True)
    order = np.random.default_rng(seed).permutation(np.sort(first))
    out = {}
    start = 0
    for split in ("calib", "eval"):
        picks = order[start:start + counts[split]]
        start += counts[split]
        out[split] = np.stack([_mnist_like(data.images[i]) for i in picks]).astype(np.float32)
        out[f"{split}_labels"] = data.target[picks].astype(np.int64)
    return out
