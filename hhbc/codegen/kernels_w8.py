"""Weight-only int8 kernels: float activations, int8 weights kept in flash with per-channel
scales (TFLite's dynamic-range "hybrid" models, HHB's float16_w_int8 idea)."""

from __future__ import annotations
