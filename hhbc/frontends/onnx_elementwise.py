"""hhbc's converters for ONNX elementwise and indexing ops that TVM's importer misses or
emits as Relax no hhbc kernel runs (Celu, Shrink, Softplus, Tile, Gather, Gelu, Mish).

Same signature as the overrides in onnx.py: `convert(importer, bb, inputs, attrs, opset)`.
"""

from __future__ import annotations

import numpy as np

from hhbc.errors import HhbcError
from hhbc.frontends.onnx_ops import const_value, node_label


def _f32(value: float):
    from tvm import relax

    return relax.const(np.float32(value), "float32")


def softplus(importer, bb, inputs, attrs, opset):
    """One relax.nn.softplus (hhbc's unary kernel: max(x, 0) + log1p(exp(-|x|)))."""
    from tvm import relax

    return relax.op.nn.softplus(inputs[0])


def celu(importer, bb, inputs, attrs, opset):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), as hhbc's unary kind (see lower)."""
    from tvm import relax

    alpha = float(attrs.get("alpha", 1.0))
    if alpha == 0.0:
        raise HhbcError(f"{node_label(importer)}: Celu with alpha 0")
    x = inputs[0]
    e = bb.normalize(relax.op.exp(relax.op.divide(x, _f32(alpha))))
    neg = relax.op.minimum(relax.op.multiply(relax.op.subtract(e, _f32(1.0)), _f32(alpha)), _f32(0.0))
    return relax.op.add(relax.op.nn.relu(x), neg)


def shrink(importer, bb, inputs, attrs, opset):
    """x < -l ? x + b : x > l ? x - b : 0 as d + sign(d) * (l - b), d = x - clip(x, -l, l)."""
    from tvm import relax

    lambd, bias = float(attrs.get("lambd", 0.5)), float(attrs.get("bias", 0.0))
    x = inputs[0]
    d = bb.normalize(relax.op.subtract(x, relax.op.clip(x, -lambd, lambd)))
    if lambd == bias:
        return d
    return relax.op.add(d, relax.op.multiply(relax.op.sign(d), _f32(lambd - bias)))


def gelu_expr(x, approximate: bool):
    """GELU composed of kernels hhbc has: 0.5 x (1 + erf(x / sqrt 2)), or with the tanh
    approximation 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). (TFLite's GELU too.)"""
    from tvm import relax

    if approximate:
        cube = relax.op.multiply(relax.op.multiply(x, x), x)
        inner = relax.op.multiply(relax.op.add(x, relax.op.multiply(cube, _f32(0.044715))),
                                  _f32(np.sqrt(2.0 / np.pi)))
        half = relax.op.add(relax.op.multiply(relax.op.tanh(inner), _f32(0.5)), _f32(0.5))
    else:
        half = relax.op.add(relax.op.multiply(relax.op.erf(relax.op.multiply(x, _f32(0.5 ** 0.5))), _f32(0.5)),
                            _f32(0.5))
    return relax.op.multiply(x, half)


def gelu(importer, bb, inputs, attrs, opset):
    """Gelu (opset 20): approximate "none" or "tanh"."""
    mode = attrs.get("approximate", b"none")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("none", "tanh"):
        raise HhbcError(f"{node_label(importer)}: Gelu approximate '{mode}'")
    return gelu_expr(inputs[0], mode == "tanh")


def mish(importer, bb, inputs, attrs, opset):
    """Mish (opset 18): x * tanh(softplus(x)), as PyTorch exports it before opset 18."""
    from tvm import relax

    x = inputs[0]
    return relax.op.multiply(x, relax.op.tanh(relax.op.nn.softplus(x)))


def tile(importer, bb, inputs, attrs, opset):
    """relax.tile with constant repeats (lowered to a strided copy)."""
    from tvm import relax

    repeats = const_value(inputs[1])
    if repeats is None:
        raise HhbcError(f"{node_label(importer)}: Tile repeats must be constant")
    if (repeats < 0).any():
        raise HhbcError(f"{node_label(importer)}: Tile with negative repeats {repeats.tolist()}")
    return relax.op.tile(inputs[0], [int(r) for r in repeats])


def gather(importer, bb, inputs, attrs, opset):
    """One relax.take. Unlike TVM's converter this adds no index arithmetic around it:
    constant indices are normalised here (and checked), indices computed at run time (an
    Embedding's int64 input) by hhbc's gather kernel, which also clamps them to the axis."""
    from tvm import relax

    data, indices = inputs[0], inputs[1]
    shape = [int(d) for d in data.ty.shape]
    axis = int(attrs.get("axis", 0))
    if not -len(shape) <= axis < len(shape):
        raise HhbcError(f"{node_label(importer)}: axis {axis} for a rank-{len(shape)} input")
    axis %= len(shape)
    idx = const_value(indices)
    if idx is not None:
        dim = shape[axis]
        bad = idx[(idx < -dim) | (idx >= dim)]
        if bad.size:
            raise HhbcError(f"{node_label(importer)}: index {int(bad.flat[0])} out of range for an axis of {dim}")
        indices = relax.const(np.where(idx < 0, idx + dim, idx).astype(np.int64), "int64")
    elif str(indices.ty.dtype) not in ("int32", "int64"):
        raise HhbcError(f"{node_label(importer)}: indices of type {indices.ty.dtype}")
    return relax.op.take(data, indices, axis=axis, mode="clip")   # as the kernel: clamped


OVERRIDES = {"Softplus": softplus, "Celu": celu, "Shrink": shrink, "Tile": tile, "Gather": gather,
             "Gelu": gelu, "Mish": mish}
