"""Kernel table rows of the rvv variant: RVV 1.0 kernels (kernels/rvv/, C intrinsics, VLEN-agnostic): targets c908 and rvv.

Rows within a variant are tried in order: special cases (1x1, 3x3) before general ones.
"""

from __future__ import annotations

from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.packing import conv_gkkio, dense_kn, is_depthwise_multiplier1, is_pointwise  # noqa: F401

F32 = ("float32", "float32")
F16 = ("float16", "float16")

ROWS: list[KernelImpl] = [
    # convolution, dense

    # pooling, elementwise, data movement

]
