"""Compile-time constant layouts and shape predicates of the RVV 1.0 int8 kernels (kernels/rvv/*_i8.c).

The input zero point is folded into the bias here, once: sum w * (x - zp) = sum w * x - zp * sum w,
so the kernels' MAC loops read raw int8 inputs and never subtract the zero point. Padding taps then
have to read the zero point itself (w * zp cancels the folded term), which the kernels do. All sums
are int32 with wrap-around, like the kernels' accumulators, so the fold is exact modulo 2^32 (and the
true sums fit int32 anyway). A node without a bias constant can only be folded when input_zp is 0
(`foldable_i8`): codegen emits the constants a node has, packing cannot add one.
"""

from __future__ import annotations

import numpy as np

from hhbc.codegen.packing import consts_as_is
from hhbc.lower.graph import Node

# border pixels of the k x k kernel are gathered into a stack patch [KH][KW][IC] of at most this many bytes
# (HHBC_RVV_I8_PATCH in kernels/rvv/conv2d_i8.c)
CONV_PATCH_BYTES = 4096


def wrap_i32(v: np.ndarray) -> np.ndarray:
    """int64 values modulo 2^32 as int32."""
    return (np.asarray(v, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def fold_zero_point(bias: np.ndarray | None, wsum: np.ndarray, input_zp: int) -> np.ndarray:
    """bias - input_zp * wsum per output channel, int32 wrapping (bias None: 0)."""
    b = np.zeros(wsum.shape, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64)
    return wrap_i32(b - int(input_zp) * wsum.astype(np.int64))


def foldable_i8(node: Node) -> bool:
    """The input zero point can be folded: there is a bias constant, or nothing to fold."""
    return "bias" in node.consts or int(node.params["input_zp"]) == 0


def _with_folded_bias(packed: dict[str, np.ndarray], node: Node, wsum: np.ndarray) -> dict[str, np.ndarray]:
    if "bias" in node.consts:
        packed["bias"] = fold_zero_point(node.consts["bias"].data, wsum, node.params["input_zp"])
    return packed


def conv_i8_kkio(w: np.ndarray) -> np.ndarray:
    """conv2d_i8 (groups 1) weight [OC][KH][KW][IC] -> [KH][KW][IC][OC]: a strip of output channels
    of one tap and input channel is one unit-stride vector load."""
    return np.ascontiguousarray(w.transpose(1, 2, 3, 0))


def as_i16_bytes(w: np.ndarray) -> np.ndarray:
    """int8 weights sign-extended to int16, stored as their little-endian byte pairs in an int8
    array (last axis doubled): the rvv GEMM kernels load them with vle16 (no vsext per load)."""
    return np.ascontiguousarray(w.astype("<i2")).view(np.int8)


def conv_i8_wsum(w: np.ndarray) -> np.ndarray:
    """sum of each output channel's weights, conv2d_i8 layout [OC][KH][KW][IC] (int64)."""
    return w.reshape(w.shape[0], -1).astype(np.int64).sum(axis=1)


def depthwise_i8_wsum(w: np.ndarray) -> np.ndarray:
    """sum over the taps of each channel's weights, depthwise layout [KH][KW][C] (int64)."""
    return w.reshape(-1, w.shape[-1]).astype(np.int64).sum(axis=0)


def pack_conv_i8_kkio(node: Node) -> dict[str, np.ndarray]:
    """conv2d_i8 for hhbc_conv2d_i8_rvv: conv_i8_kkio weights as int16 bytes, bias with the zero point folded."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    packed["weight"] = as_i16_bytes(conv_i8_kkio(w))
    return _with_folded_bias(packed, node, conv_i8_wsum(w))


def pack_depthwise_i8(node: Node) -> dict[str, np.ndarray]:
    """depthwise_conv2d_i8: weight [KH][KW][C] (channels contiguous) as int16 bytes; bias: zero point folded."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    packed["weight"] = as_i16_bytes(w)
    return _with_folded_bias(packed, node, depthwise_i8_wsum(w))


def pack_dense_i8_kn(node: Node) -> dict[str, np.ndarray]:
    """dense_i8 weight [N][K] -> [K][N] (output features contiguous) as int16 bytes; bias: zero point folded."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    packed["weight"] = as_i16_bytes(w.T)
    return _with_folded_bias(packed, node, w.astype(np.int64).sum(axis=1))


def is_conv_i8_rvv(node: Node) -> bool:
    """conv2d_i8 for hhbc_conv2d_i8_rvv: one group, foldable, a window that fits the border patch."""
    p = node.params
    ic = node.inputs[0].shape[-1]
    return (int(p["groups"]) == 1 and foldable_i8(node)
            and int(p["kernel_h"]) * int(p["kernel_w"]) * ic <= CONV_PATCH_BYTES)


def is_depthwise_i8_rvv(node: Node) -> bool:
    """depthwise_conv2d_i8 with multiplier 1, foldable."""
    return node.output.shape[-1] == node.inputs[0].shape[-1] and foldable_i8(node)


def is_pool_i8_rvv(node: Node) -> bool:
    """pool2d_i8: max, TFLite average and ONNX whole-window average (not the ONNX float-sum flavour)."""
    return node.params["kind"] == "max" or node.params["rounding"] != "onnx_float"


def is_add_i8_rvv(node: Node) -> bool:
    """add_i8 (ADD, SUB) in TFLite's arithmetic whose operands have innermost stride 0 or 1."""
    shape = node.params["shape"]
    last = int(shape["ndim"]) - 1
    return (not int(node.params["onnx"]) and int(shape["a_stride"][last]) in (0, 1)
            and int(shape["b_stride"][last]) in (0, 1))
