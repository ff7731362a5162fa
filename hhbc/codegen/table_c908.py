"""Kernel table rows of the c908 variant: int8 kernels on the XuanTie C908's XTheadVdot
dot-product instruction (th.vmaqa.vx, 4 int8 MACs per 32-bit lane), kernels/c908/.
Only targets whose registry entry lists "xtheadvdot" in vector_extensions put "c908" in
their variant chain (target c908); everything else falls through to rvv, then ref.

Packed layout (pack_vmaqa), documented with the kernels in kernels/c908/conv2d_i8.c:
weight [KH][G][OC][4] int8 with G = ceil(KW * IC / 4): each 32-bit element holds the
weights of 4 consecutive (kw, ic) reduction indices of one output channel, zero padded;
bias int32 with the input zero point folded in (bias - input_zp * sum w).
"""

from __future__ import annotations

import numpy as np

from hhbc.codegen.kernel_impl import KernelImpl
from hhbc.codegen.packing import consts_as_is, is_depthwise_multiplier1, is_pointwise
from hhbc.lower.graph import Node

I8 = ("int8", "int8")
HEADERS = ("include/hhbc_kernels_i8.h", "include/hhbc_fixedpoint.h", "c908/hhbc_c908_i8.h")
PATCH_BYTES = 2048   # HHBC_C908_PATCH in kernels/c908/conv2d_i8.c: the largest window
DW_PADDED_BYTES = 8192    # HHBC_C908_DW_PADDED in kernels/c908/depthwise_conv2d_i8.c
DW_MAX_TAPS = 64          # its tap offset table


def vmaqa_weights(w: np.ndarray) -> np.ndarray:
    """int8 weight [OC][KH][KW][IC] -> [KH][G][OC][4], G = ceil(KW * IC / 4), zero padded."""
    oc, kh, kw, ic = w.shape
    row = kw * ic
    g = (row + 3) // 4
    rows = np.zeros((oc, kh, 4 * g), dtype=np.int8)
    rows[:, :, :row] = w.reshape(oc, kh, row)
    return np.ascontiguousarray(rows.reshape(oc, kh, g, 4).transpose(1, 2, 0, 3))


def folded_bias(w: np.ndarray, bias: np.ndarray | None, input_zp: int) -> np.ndarray:
    """bias - input_zp * sum of each output channel's weights, int32 (wrapping as the
    kernels' int32 accumulators do)."""
    oc = w.shape[0]
    total = w.reshape(oc, -1).astype(np.int64).sum(axis=1)
    b = np.zeros(oc, dtype=np.int64) if bias is None else bias.astype(np.int64)
    return ((b - int(input_zp) * total) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def pack_vmaqa(node: Node) -> dict[str, np.ndarray]:
    """conv2d_i8 ([OC][KH][KW][IC]) or dense_i8 ([N][K]) weights for the c908 kernels."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    if w.ndim == 2:
        w = w.reshape(w.shape[0], 1, 1, w.shape[1])
    packed["weight"] = vmaqa_weights(w)
    if "bias" in node.consts:
        packed["bias"] = folded_bias(w, node.consts["bias"].data, node.params["input_zp"])
    return packed


def vmaqa_depthwise_weights(w: np.ndarray) -> np.ndarray:
    """int8 depthwise weight [KH][KW][C] -> [T][C][4], T = ceil(KH * KW / 4): the 4 taps of a
    group side by side in one 32-bit lane per channel, zero for the taps past KH * KW."""
    kh, kw, c = w.shape
    taps = kh * kw
    t = (taps + 3) // 4
    flat = np.zeros((4 * t, c), dtype=np.int8)
    flat[:taps] = w.reshape(taps, c)
    return np.ascontiguousarray(flat.reshape(t, 4, c).transpose(0, 2, 1))


def pack_vmaqa_depthwise(node: Node) -> dict[str, np.ndarray]:
    """depthwise_conv2d_i8 weights [KH][KW][C] for the c908 kernel, zero point folded into the bias."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    packed["weight"] = vmaqa_depthwise_weights(w)
    if "bias" in node.consts:
        per_oc = np.ascontiguousarray(w.reshape(-1, w.shape[-1]).T)   # [C][taps]
        packed["bias"] = folded_bias(per_oc, node.consts["bias"].data, node.params["input_zp"])
    return packed


def _depthwise(node: Node) -> bool:
    """Channel multiplier 1; the zero-point-padded input rows of one output row fit the
    kernel's stack copy."""
    p = node.params
    _, oh, ow, c = node.output.shape
    span = (int(p["kernel_h"]) - 1) * int(p["dilation_h"]) + 1
    wp = (ow - 1) * int(p["stride_w"]) + (int(p["kernel_w"]) - 1) * int(p["dilation_w"]) + 1
    return (is_depthwise_multiplier1(node) and span * wp * c <= DW_PADDED_BYTES
            and int(p["kernel_h"]) * int(p["kernel_w"]) <= DW_MAX_TAPS and _foldable(node))


def _foldable(node: Node) -> bool:
    """The zero point can be folded: into the bias there is, or there is nothing to fold."""
    return "bias" in node.consts or int(node.params["input_zp"]) == 0


def _conv_kxk(node: Node) -> bool:
    """One group, rows of KW * IC contiguous input bytes (dilation_w 1), small windows."""
    p = node.params
    ic = node.inputs[0].shape[-1]
    row_bytes = 4 * ((int(p["kernel_w"]) * ic + 3) // 4)
    return (int(p["groups"]) == 1 and int(p["dilation_w"]) == 1
            and int(p["kernel_h"]) * row_bytes <= PATCH_BYTES and _foldable(node))


ROWS: list[KernelImpl] = [
    KernelImpl("conv2d_i8", "c908", "hhbc_conv2d_1x1_i8_c908", "unary", ("c908/conv2d_i8.c",),
               "hhbc_conv2d_i8_params", supports=lambda n: is_pointwise(n) and _foldable(n),
               pack=pack_vmaqa, headers=HEADERS, dtypes=I8),
    KernelImpl("conv2d_i8", "c908", "hhbc_conv2d_i8_c908", "unary", ("c908/conv2d_i8.c",),
               "hhbc_conv2d_i8_params", supports=_conv_kxk, pack=pack_vmaqa, headers=HEADERS, dtypes=I8),
    KernelImpl("depthwise_conv2d_i8", "c908", "hhbc_depthwise_conv2d_i8_c908", "unary",
               ("c908/depthwise_conv2d_i8.c",), "hhbc_conv2d_i8_params", supports=_depthwise,
               pack=pack_vmaqa_depthwise, headers=HEADERS, dtypes=I8),
    KernelImpl("dense_i8", "c908", "hhbc_dense_i8_c908", "unary", ("c908/conv2d_i8.c",),
               "hhbc_dense_i8_params", supports=_foldable, pack=pack_vmaqa, headers=HEADERS, dtypes=I8),
]
