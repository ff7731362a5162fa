"""Compile-time constant layouts of the C906 int8 kernels (kernels/c906/*_i8.c).

conv2d_i8 and depthwise_conv2d_i8 on the C906 read one int32 block through their
`multiplier` pointer (layout in kernels/c906/hhbc_c906_i8.h): a 4-word head (OC, "any left
shift"), then OC multipliers, OC folded biases (bias - input_zp * the sum of the channel's
weights: the input zero point never enters the MAC loop) and OC shift words, each
right | left << 5 | (right > 0) << 31 (vssra reads bits 0..4, the kernel's negfix is the
word itself: only its sign bit counts; left shifts are the word >> 5): three words per
channel. Per-tensor quantization is expanded to one entry per channel. The weights: conv
[G][KH][KW][ICg][OCg] (packing.conv_gkkio), depthwise as the reference has them ([KH][KW][C]).
"""

from __future__ import annotations

import numpy as np

from hhbc.codegen.packing import conv_gkkio, consts_as_is
from hhbc.errors import HhbcError
from hhbc.lower.graph import Node


def requant_block_arrays(multiplier, shift, bias, input_zp: int, weight_sums: np.ndarray,
                         where: str = "conv2d_i8") -> np.ndarray:
    """The int32 requantization block for OC = len(weight_sums) output channels; multiplier
    and shift have OC entries or one (per tensor), bias OC entries or None,
    weight_sums[oc] = the sum of output channel oc's int8 weights over all its taps; `where`
    names the layer in the error for a shift outside -31..31."""
    oc = weight_sums.shape[0]
    mult = np.broadcast_to(np.asarray(multiplier, np.int64).reshape(-1), (oc,))
    shift = np.broadcast_to(np.asarray(shift, np.int64).reshape(-1), (oc,))
    bias = np.zeros(oc, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    folded = bias - int(input_zp) * weight_sums.astype(np.int64)
    # the folded bias is the MACs' start value; its int32 wrap-around is harmless (the
    # true accumulator fits int32 and the MACs wrap the same way)
    folded = ((folded + 2**31) % 2**32) - 2**31
    if shift.size and (shift.min() < -31 or shift.max() > 31):
        raise HhbcError(f"{where}: requantization shift {int(shift.min())}..{int(shift.max())} "
                        "is outside -31..31")
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    words = right | (left << 5) | np.where(right > 0, 1 << 31, 0)
    words = ((words + 2**31) % 2**32) - 2**31
    head = np.array([oc, int(left.any()), 0, 0], np.int64)
    return np.concatenate([head, mult, folded, words]).astype(np.int32)


def requant_block(node: Node, weight_sums: np.ndarray) -> np.ndarray:
    """requant_block_arrays of a conv2d_i8 / depthwise_conv2d_i8 node (TFLite flavour)."""
    bias = node.consts["bias"].data if "bias" in node.consts else None
    return requant_block_arrays(node.consts["multiplier"].data, node.consts["shift"].data, bias,
                                int(node.params["input_zp"]), weight_sums, node.layer or node.describe())


def conv_i8_c906(node: Node) -> dict[str, np.ndarray]:
    """conv2d_i8: weight [G][KH][KW][ICg][OCg], multiplier -> the requantization block."""
    packed = conv_gkkio(node)
    w = np.asarray(node.consts["weight"].data, np.int64)   # [OC][KH][KW][ICg]
    packed["multiplier"] = requant_block(node, w.reshape(w.shape[0], -1).sum(axis=1))
    return _without_folded(packed)


def depthwise_i8_c906(node: Node) -> dict[str, np.ndarray]:
    """depthwise_conv2d_i8 (multiplier 1): weight [KH][KW][C] as is, multiplier -> the block."""
    packed = consts_as_is(node)
    w = np.asarray(node.consts["weight"].data, np.int64)   # [KH][KW][C]
    packed["multiplier"] = requant_block(node, w.reshape(-1, w.shape[-1]).sum(axis=0))
    return _without_folded(packed)


def _without_folded(packed: dict) -> dict:
    """bias and shift live in the requantization block: not in flash a second time (NULL)."""
    packed["bias"] = packed["shift"] = None
    return packed
