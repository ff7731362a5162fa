"""The kernel registry: which C function implements each KernelGraph op, per variant.

Selection happens at compile time: for each node, the first variant in the
target's `kernel_variants` chain whose implementation supports the node wins.
A variant may repack constant operands into its own layout (`pack`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from hhbc.errors import HhbcError
from hhbc.lower.graph import Node
from hhbc.targets import Target

# Params struct fields per op, in struct order: (field, kind).
# kind: int | float | ints | act | enum:<PREFIX> | const:<key> (pointer, NULL if absent)
#       | array:int32 (inline compound literal)
PARAM_FIELDS: dict[str, list[tuple[str, str]]] = {
    "conv2d": [("weight", "const:weight"), ("bias", "const:bias"), ("kernel_h", "int"), ("kernel_w", "int"),
               ("stride_h", "int"), ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"),
               ("pad_top", "int"), ("pad_left", "int"), ("groups", "int"), ("act", "act")],
    "dense": [("weight", "const:weight"), ("bias", "const:bias"), ("m", "int"), ("n", "int"), ("k", "int"),
              ("act", "act")],
    "matmul": [("batch", "int"), ("m", "int"), ("n", "int"), ("k", "int"), ("a_batch_stride", "int"),
               ("b_batch_stride", "int")],
    "binary": [("op", "enum:HHBC_BIN_"), ("ndim", "int"), ("out_dim", "ints"), ("a_stride", "ints"),
               ("b_stride", "ints"), ("act", "act")],
    "unary": [("op", "enum:HHBC_UN_"), ("size", "int"), ("act", "act")],
    "prelu": [("slope", "const:slope"), ("outer", "int"), ("channels", "int"), ("inner", "int")],
    "pool2d": [("kind", "enum:HHBC_POOL_"), ("kernel_h", "int"), ("kernel_w", "int"), ("stride_h", "int"),
               ("stride_w", "int"), ("dilation_h", "int"), ("dilation_w", "int"), ("pad_top", "int"),
               ("pad_left", "int"), ("pad_bottom", "int"), ("pad_right", "int"), ("count_include_pad", "int")],
    "reduce": [("op", "enum:HHBC_RED_"), ("ndim", "int"), ("in_dim", "ints"), ("out_stride", "ints"),
               ("out_size", "int"), ("reduce_count", "int")],
    "concat": [("num_inputs", "int"), ("outer", "int"), ("inner", "int"), ("axis_dim", "array:int32")],
    "transpose": [("ndim", "int"), ("out_dim", "ints"), ("in_stride", "ints")],
    "pad": [("mode", "enum:HHBC_PAD_"), ("value", "float"), ("ndim", "int"), ("in_dim", "ints"),
            ("out_dim", "ints"), ("before", "ints")],
    "softmax": [("outer", "int"), ("axis_size", "int"), ("inner", "int"), ("log", "int")],
    "resize2d": [("mode", "enum:HHBC_RESIZE_"), ("y0", "const:y0"), ("y1", "const:y1"), ("x0", "const:x0"),
                 ("x1", "const:x1"), ("wy", "const:wy"), ("wx", "const:wx")],
    "copy": [],
}
PARAM_FIELDS["depthwise_conv2d"] = PARAM_FIELDS["conv2d"]
PARAM_FIELDS["deconv2d"] = PARAM_FIELDS["conv2d"]
PARAM_FIELDS["strided_slice"] = [("ndim", "int"), ("out_dim", "ints"), ("in_stride", "ints"), ("offset", "int")]
PARAM_FIELDS["lrn"] = [("outer", "int"), ("channels", "int"), ("inner", "int"), ("size", "int"),
                       ("pre_pad", "int"), ("alpha_over_size", "float"), ("k", "float"), ("beta", "float")]

@dataclass(frozen=True)
class KernelImpl:
    op: str
    variant: str
    function: str
    signature: str                       # unary: (in, out, p); binary: (a, b, out, p);
                                         # list: (ins[], out, p); plain: (in, out)
    sources: tuple[str, ...]             # paths under kernels/
    params_type: str | None
    supports: Callable[[Node], bool] = lambda node: True
    pack: Callable[[Node], dict[str, np.ndarray]] | None = None
    headers: tuple[str, ...] = ()        # beyond COMMON_HEADERS, under kernels/
    dtypes: tuple[str, str] = ("float32", "float32")   # the activations it reads, the one it writes


def _ref(op: str, signature: str = "unary") -> KernelImpl:
    params = None if signature == "plain" else f"hhbc_{'conv2d' if op == 'depthwise_conv2d' else op}_params"
    return KernelImpl(op, "ref", f"hhbc_{op}_f32", signature, (f"ref/{op}.c",), params)


REGISTRY: list[KernelImpl] = [
    _ref("conv2d"), _ref("depthwise_conv2d"), _ref("dense"), _ref("matmul", "binary"),
    _ref("binary", "binary"), _ref("unary"), _ref("prelu"), _ref("pool2d"), _ref("reduce"),
    _ref("concat", "list"), _ref("transpose"), _ref("pad"), _ref("softmax"), _ref("resize2d"),
    _ref("copy", "plain"),
    _ref("deconv2d"), _ref("strided_slice"), _ref("lrn"),
]

COMMON_HEADERS = ("include/hhbc_kernels.h", "include/hhbc_act.h")

# Kernel families in their own modules add their params and implementations to the tables above.
from hhbc.codegen import kernels_i8, kernels_w8  # noqa: E402,F401


def select_kernel(node: Node, target: Target) -> KernelImpl:
    """First implementation along the target's variant chain that takes this node. A kernel
    reads its data with one C type, so one for other dtypes is never chosen: a mismatch is an
    error, never garbage read through the wrong type."""
    for variant in target.kernel_variants:
        for impl in REGISTRY:
            if impl.op == node.op and impl.variant == variant and _reads(node, impl) and impl.supports(node):
                return impl
    got = sorted({t.dtype for t in node.inputs if t.kind != "const"})
    raise HhbcError(f"layer '{node.layer}': no kernel for {node.describe()} "
                    f"({'/'.join(got)} -> {node.output.dtype}) on target '{target.name}'")


def _reads(node: Node, impl: KernelImpl) -> bool:
    want_in, want_out = impl.dtypes
    return node.output.dtype == want_out and all(t.dtype == want_in for t in node.inputs if t.kind != "const")
