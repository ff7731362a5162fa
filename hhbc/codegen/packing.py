"""Compile-time weight layouts and shape predicates shared by the vector kernel variants.

A vector kernel's row in the kernel table names one packer (how its constants are laid out
in weights.c) and one predicate (which nodes it takes). Packing is pure numpy on the
node's constants; nothing is reordered at run time.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hhbc.lower.graph import Node

Packer = Callable[[Node], dict[str, np.ndarray]]


def consts_as_is(node: Node) -> dict[str, np.ndarray]:
    """Every constant in the reference layout."""
    return {k: t.data for k, t in node.consts.items()}


def conv_gkkio(node: Node) -> dict[str, np.ndarray]:
    """conv2d weight [OC][KH][KW][ICg] -> [G][KH][KW][ICg][OCg]: output channels contiguous,
    so one vector load fetches the weights of a strip of output channels for one tap and
    input channel, at any VLEN. A 1x1 convolution is then the GEMM matrix [IC][OC]."""
    packed = consts_as_is(node)
    w = node.consts["weight"].data
    groups = int(node.params["groups"])
    oc, kh, kw, icg = w.shape
    packed["weight"] = np.ascontiguousarray(
        w.reshape(groups, oc // groups, kh, kw, icg).transpose(0, 2, 3, 4, 1))
    return packed


def dense_kn(node: Node) -> dict[str, np.ndarray]:
    """dense weight [N][K] -> [K][N]: output features contiguous (the vector axis)."""
    packed = consts_as_is(node)
    packed["weight"] = np.ascontiguousarray(node.consts["weight"].data.T)
    return packed


def is_pointwise(node: Node) -> bool:
    """1x1, stride 1, no padding, one group: a plain GEMM over the pixels."""
    p = node.params
    return (p["kernel_h"] == 1 and p["kernel_w"] == 1 and p["stride_h"] == 1 and p["stride_w"] == 1
            and p["pad_top"] == 0 and p["pad_left"] == 0 and p["groups"] == 1)


def is_depthwise_multiplier1(node: Node) -> bool:
    """Depthwise with one output channel per input channel (the vector kernels' case)."""
    return node.output.shape[-1] == node.inputs[0].shape[-1]


def always(node: Node) -> bool:
    return True
