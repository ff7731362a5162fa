"""Mirror padding for the TFLite and TensorFlow frontends (MIRROR_PAD, MirrorPad).

REFLECT (the border element not repeated) is the pad kernel's reflect mode. SYMMETRIC (the
border repeated, as numpy's 'symmetric') is one gather per padded axis with constant indices
[before - 1 ... 0, 0 ... n - 1, n - 1 ... n - after]: the gather kernel, no pad-kernel mode
of its own.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError


def check(shape: list[int], paddings: np.ndarray, mode: str) -> str | None:
    """What is wrong with these paddings for this mode (TensorFlow's limits), or None."""
    paddings = np.asarray(paddings, np.int64).reshape(-1, 2)
    if paddings.shape[0] != len(shape) or (paddings < 0).any():
        return f"paddings {paddings.tolist()} do not fit rank {len(shape)}"
    if mode not in ("REFLECT", "SYMMETRIC"):
        return f"mode {mode} is not supported (REFLECT, SYMMETRIC)"
    # REFLECT pads must be < the axis, SYMMETRIC pads <= the axis.
    wide = [int(p) > d - (mode == "REFLECT") for p, d in zip(paddings.max(axis=1), shape)]
    if any(wide):
        return f"{mode} paddings {paddings.tolist()} too wide for the input {list(shape)}"
    return None


def mirror_pad(x, shape: list[int], paddings: np.ndarray, mode: str, label: str):
    """The Relax expression of x padded by `paddings` ([rank, 2], before/after) in `mode`;
    wrong paddings are an HhbcError starting with `label`."""
    from tvm import relax

    problem = check(shape, paddings, mode)
    if problem is not None:
        raise HhbcError(f"{label}: {problem}")
    paddings = np.asarray(paddings, np.int64).reshape(-1, 2)
    if mode == "REFLECT":
        return relax.op.nn.pad(x, [int(v) for v in paddings.reshape(-1)], "reflect")
    out = x
    for axis, (before, after) in enumerate(paddings.tolist()):
        if before == 0 and after == 0:
            continue
        n = shape[axis]
        index = np.concatenate([np.arange(before)[::-1], np.arange(n), n - 1 - np.arange(after)])
        out = relax.op.take(out, relax.const(index.astype(np.int64), "int64"), axis=axis)
    return out


def numpy_mirror_pad(x: np.ndarray, paddings: np.ndarray, mode: str) -> np.ndarray:
    """The same on a constant."""
    return np.pad(x, np.asarray(paddings).reshape(-1, 2), mode="reflect" if mode == "REFLECT" else "symmetric")
