"""Accuracy of a quantized build against the float model: SQNR, top-1 agreement, max errors.

`hhbc run` prints one `OutputAccuracy.line()` per output of a quantized build; the peer
comparison (tests/quantize/accuracy.py) uses the same functions, so hhbc and onnxruntime / TFLite
are measured alike.

Definitions (every function takes the float reference first):
- SQNR = 10 log10(sum ref^2 / sum (ref - got)^2) in dB, over all elements given. Equal arrays
  give +inf; a nonzero error on an all-zero reference gives -inf (no signal, only noise).
- top-1 agreement: the fraction of samples whose argmax over the last axis is the same. Ties
  go to the first maximum, as numpy's argmax does.
- max rel: max |ref - got| over max |ref| (relative to the reference's range, not per element,
  so that elements near zero do not make it explode); 0 when both are all zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


def _pair(ref, got) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(ref, dtype=np.float64)
    g = np.asarray(got, dtype=np.float64)
    if r.shape != g.shape:
        raise ValueError(f"shapes differ: reference {r.shape}, compared {g.shape}")
    return r, g


def sqnr_db(ref, got) -> float:
    """Signal-to-quantization-noise ratio of `got` against `ref`, in dB."""
    r, g = _pair(ref, got)
    noise = float(np.sum((r - g) ** 2))
    signal = float(np.sum(r ** 2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def top1_agreement(ref_batch, got_batch) -> float:
    """Fraction (0..1) of samples whose argmax over the last axis agrees. A batch of shape
    (N, ..., C) holds N*... samples; a 1-D array is one sample."""
    r, g = _pair(ref_batch, got_batch)
    if r.ndim == 0 or r.size == 0:
        raise ValueError("top-1 agreement needs at least one class axis")
    r = r.reshape(-1, r.shape[-1])
    g = g.reshape(-1, g.shape[-1])
    return float(np.mean(np.argmax(r, axis=-1) == np.argmax(g, axis=-1)))


def max_abs(ref, got) -> float:
    r, g = _pair(ref, got)
    return float(np.max(np.abs(r - g))) if r.size else 0.0


def max_rel(ref, got) -> float:
    """max |ref - got| / max |ref|; +inf when the reference is all zero and `got` is not."""
    r, g = _pair(ref, got)
    err = max_abs(r, g)
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    if err == 0.0:
        return 0.0
    return err / scale if scale > 0.0 else math.inf


@dataclass(frozen=True)
class OutputAccuracy:
    """One output of a quantized build against the float framework, over several inputs."""

    name: str
    samples: int
    sqnr_db: float
    top1: float | None      # None when the output has a single element per sample (no classes)
    max_abs: float
    max_rel: float
    what: str = "int8 build vs float framework"

    def line(self) -> str:
        parts = [f"SQNR {_db(self.sqnr_db)}"]
        if self.top1 is not None:
            parts.append(f"top-1 agreement {100.0 * self.top1:.1f}%")
        parts.append(f"max abs {self.max_abs:.3g}")
        parts.append(f"max rel {_pct(self.max_rel)}")
        plural = "input" if self.samples == 1 else "inputs"
        return f"output '{self.name}' ({self.what}, {self.samples} {plural}): " + ", ".join(parts)


def _db(x: float) -> str:
    if math.isinf(x):
        return "inf dB" if x > 0 else "-inf dB"
    return f"{x:.1f} dB"


def _pct(x: float) -> str:
    return "inf" if math.isinf(x) else f"{100.0 * x:.1f}%"


def accuracy(name: str, refs: Sequence[np.ndarray], gots: Sequence[np.ndarray],
             what: str = "int8 build vs float framework") -> OutputAccuracy:
    """One output over several samples: `refs[i]` and `gots[i]` are sample i's float and
    quantized values of the output. SQNR and max errors are over all samples together; top-1
    is per sample (argmax over the last axis that is not 1) unless the output has one element
    per sample."""
    if len(refs) != len(gots):
        raise ValueError(f"output '{name}': {len(refs)} reference samples, {len(gots)} compared")
    if not refs:
        raise ValueError(f"output '{name}': no samples")
    r = np.stack([np.asarray(x, np.float64) for x in refs])
    g = np.stack([np.asarray(x, np.float64) for x in gots])
    if r.shape != g.shape:
        raise ValueError(f"output '{name}': shapes differ: reference {r.shape[1:]}, compared {g.shape[1:]}")
    # Trailing unit axes (an NCHW classifier's (1, C, 1, 1)) are not the class axis.
    keep = r.ndim
    while keep > 1 and r.shape[keep - 1] == 1:
        keep -= 1
    r_cls, g_cls = r.reshape(r.shape[:keep]), g.reshape(g.shape[:keep])
    classes = r_cls.shape[-1] if keep > 1 else 1
    top1 = top1_agreement(r_cls, g_cls) if classes > 1 else None
    return OutputAccuracy(name=name, samples=len(refs), sqnr_db=sqnr_db(r, g), top1=top1,
                          max_abs=max_abs(r, g), max_rel=max_rel(r, g), what=what)
